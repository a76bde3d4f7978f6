/**
 * The console in a real Chromium, driven as an operator clicks through it: shared by the browser
 * tests (tests/e2e/console-browser.test.ts) and the README screenshots (./screenshots.ts), so both
 * show the same flows. The browser comes from npm (@sparticuz/chromium ships its binary inside the
 * package); `CHROME_PATH` names an installed Chrome or Chromium instead.
 */
import chromium from '@sparticuz/chromium';
import { type Browser, type Page, chromium as playwright } from 'playwright-core';

export async function launchChromium(): Promise<Browser> {
  const installed = process.env.CHROME_PATH;
  return playwright.launch({
    executablePath: installed || (await chromium.executablePath()),
    // Debian's chromium (and any run as root) needs --no-sandbox; the npm build's args carry it already.
    args: installed ? ['--no-sandbox'] : chromium.args,
    headless: true,
  });
}

/** A page of the console at a size where the graph sits beside its events table. */
export async function openConsolePage(browser: Browser, consoleUrl: string, path = '/'): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 1000 }, baseURL: consoleUrl });
  await page.goto(path);
  return page;
}

export interface OrderToPlace {
  partner: string;
  storeId: string;
  /** Quantities by sku; empty: the partner picks items on sale. */
  items?: Record<string, number>;
  pickupInSeconds?: number;
  /** Send it although the partner shows the store paused or an item sold out (an order in flight). */
  ignoreStoreState?: boolean;
}

export interface PlacedOrder {
  partner: string;
  partnerOrderId: string;
  orderId?: string;
  webhookStatus: number;
}

/** Fills the Simulators page's form and sends the partner's new-order webhook; the simulator's answer. */
export async function placeOrderOnSimulatorsPage(page: Page, order: OrderToPlace): Promise<PlacedOrder> {
  await page.getByTestId('nav-Simulators').click();
  await page.getByTestId('sim-partner').selectOption(order.partner);
  await page.getByTestId('sim-store').selectOption(order.storeId);
  // The form keeps the last order's quantities (to send another like it): start from none.
  for (const input of await page.locator('[data-testid^="sim-qty-"]').all()) await input.fill('0');
  for (const [sku, quantity] of Object.entries(order.items ?? {}))
    await page.getByTestId(`sim-qty-${sku}`).fill(String(quantity));
  if (order.pickupInSeconds !== undefined)
    await page.getByTestId('sim-pickup').fill(String(order.pickupInSeconds));
  await page.getByTestId('sim-ignore-store-state').setChecked(order.ignoreStoreState ?? false);
  const answered = page.waitForResponse(
    (response) => response.url().endsWith('/api/simulators/orders') && response.request().method() === 'POST',
  );
  await page.getByTestId('sim-place').click();
  const response = await answered;
  const body = (await response.json()) as PlacedOrder & { webhookBody?: { orderId?: string } };
  if (response.status() !== 201)
    throw new Error(`the partner simulator answered ${response.status()}: ${JSON.stringify(body)}`);
  await page.getByTestId('sim-place-answer').waitFor();
  return { ...body, orderId: body.orderId ?? body.webhookBody?.orderId };
}

/** The Stores page's toggle of one menu item (86 it, or sell it again); waits for the store's answer. */
export async function toggleItemOnStoresPage(page: Page, storeId: string, sku: string): Promise<void> {
  await page.getByTestId('nav-Stores').click();
  const store = page.getByTestId(`store-${storeId}`);
  const answered = page.waitForResponse(
    (response) =>
      response.url().endsWith(`/api/stores/${storeId}/items/${sku}`) && response.request().method() === 'PUT',
  );
  await store.getByTestId(`toggle-${sku}`).click();
  const response = await answered;
  if (!response.ok())
    throw new Error(`the store route answered ${response.status()}: ${await response.text()}`);
}

/** The order's row on the Orders page and its status cell. */
export function orderRow(page: Page, orderId: string) {
  const row = page.getByTestId(`order-row-${orderId}`);
  return { row, status: row.getByTestId('order-status') };
}
