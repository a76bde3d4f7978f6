/**
 * The console in a real Chromium (playwright-core driving the Chromium that @sparticuz/chromium
 * ships inside its npm package, or CHROME_PATH's), against the local cloud, as an operator uses it:
 * an order placed on the Simulators page shows up on the live Orders page without a reload, its page
 * draws the Prepare path and the workflow waiting in WaitForCourier, and the Release button sends it
 * to the kitchen; an item 86'd on the Stores page gets the next order with it rejected.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  launchChromium,
  openConsolePage,
  orderRow,
  placeOrderOnSimulatorsPage,
  toggleItemOnStoresPage,
} from '../../local/console/browser';
import { type RunningConsole, startConsole } from '../../local/console/server';
import { consoleEndpointsOf } from '../steps/console';
import { givenALocalCloud, type TestCloud } from '../steps/local-cloud';

let t: TestCloud;
let consoleApp: RunningConsole;
let browser: Browser;
/** The Orders page, opened once and kept open: what it shows later arrived over its event stream. */
let ordersTab: Page;
/** A second tab where the operator plays the partner and changes stores. */
let operatorTab: Page;
const distDir = mkdtempSync(path.join(os.tmpdir(), 'console-dist-'));

/** Waits for a selector that only matches once the page shows what the test expects. */
const shows = (page: Page, selector: string) => page.locator(selector).first().waitFor();

beforeAll(async () => {
  [t, browser] = await Promise.all([givenALocalCloud(), launchChromium()]);
  consoleApp = await startConsole({
    endpoints: consoleEndpointsOf(t),
    port: 0,
    distDir,
    feedIntervalMs: 300,
  });
  ordersTab = await openConsolePage(browser, consoleApp.url, '/');
  operatorTab = await openConsolePage(browser, consoleApp.url, '/simulators');
  for (const page of [ordersTab, operatorTab]) page.setDefaultTimeout(15_000);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await consoleApp?.close();
  await t?.stop();
  rmSync(distDir, { recursive: true, force: true });
});

test('an order placed as a partner appears live on Orders, waits for its courier, and the Release button sends it to the kitchen', async () => {
  await ordersTab.getByTestId('live-state').filter({ hasText: 'live' }).waitFor();
  // Set on the open page: still there later only if the page was never reloaded.
  await ordersTab.evaluate(() => Object.assign(globalThis, { openedOnce: true }));

  const placed = await placeOrderOnSimulatorsPage(operatorTab, {
    partner: 'doordash',
    storeId: 'store-001',
    items: { 'TACO-AL-PASTOR': 2, 'CHIPS-SALSA': 1 },
    pickupInSeconds: 600,
  });
  const orderId = placed.orderId!;
  await orderRow(ordersTab, orderId).row.waitFor();

  expect(placed.webhookStatus).toBe(202);
  expect(await ordersTab.evaluate(() => (globalThis as { openedOnce?: boolean }).openedOnce)).toBe(true);
  expect(await orderRow(ordersTab, orderId).row.textContent()).toContain('doordash');
  // The POS's newest orders, refreshed while the Simulators page is open, come to show it.
  await operatorTab.getByTestId('pos-orders').getByText(orderId).waitFor();

  await orderRow(ordersTab, orderId).row.getByTestId('order-link').click();
  await ordersTab.getByTestId('current-state-workflow').filter({ hasText: 'WaitForCourier' }).waitFor();
  // The Prepare child's path, drawn from its own definition, up to the accept it published.
  await shows(
    ordersTab,
    '[data-testid=graph-prepare] [data-testid=state-PublishAccepted][data-mark=visited]',
  );
  const prepare = ordersTab.getByTestId('graph-prepare');
  const workflow = ordersTab.getByTestId('graph-workflow');

  for (const state of ['ClaimOrder', 'ValidateOrder', 'CreatePosOrder', 'AcceptOrder'])
    expect(await prepare.getByTestId(`state-${state}`).getAttribute('data-mark')).toBe('visited');
  expect(await prepare.getByTestId('state-RejectOrder').getAttribute('data-mark')).toBe('unvisited');
  expect(await workflow.getByTestId('state-Prepare').getAttribute('data-mark')).toBe('visited');
  expect(await workflow.getByTestId('state-WaitForCourier').getAttribute('data-mark')).toBe('current');
  expect(await workflow.getByTestId('state-Finish').getAttribute('data-mark')).toBe('unvisited');
  // One refresh reads the order, then its executions: while it moves, the graph can be a step ahead
  // of the status it shows until the next refresh.
  await ordersTab.getByTestId('order-status').filter({ hasText: 'ACCEPTED' }).waitFor();

  await ordersTab.getByTestId('release-button').click();
  await ordersTab.getByTestId('operator-answer').waitFor();
  await ordersTab.getByTestId('order-status').filter({ hasText: 'RELEASED' }).waitFor();

  expect(await ordersTab.getByTestId('operator-answer').textContent()).toMatch(/HTTP 20\d/);
  // Released by the button, not by the courier wait running out.
  expect(await ordersTab.getByTestId('order-timeline').textContent()).toMatch(
    /release-requested\s*by operator/,
  );
  await shows(ordersTab, '[data-testid=graph-workflow] [data-testid=state-Finish][data-mark=visited]');
}, 40_000);

test('an item 86d on Stores gets the next order with it rejected, as the Orders page shows', async () => {
  await ordersTab.getByTestId('nav-Orders').click();
  await ordersTab.getByTestId('live-state').filter({ hasText: 'live' }).waitFor();

  await toggleItemOnStoresPage(operatorTab, 'store-001', 'TACO-POLLO');
  const pollo = operatorTab.getByTestId('store-store-001').getByTestId('menu-item-TACO-POLLO');
  await pollo.getByTestId('item-availability').filter({ hasText: '86' }).waitFor();
  expect(await pollo.getByTestId('toggle-TACO-POLLO').textContent()).toBe('Un-86');
  // Sent even if the partner already shows it sold out: an order the customer placed before the push.
  const placed = await placeOrderOnSimulatorsPage(operatorTab, {
    partner: 'ubereats',
    storeId: 'store-001',
    items: { 'TACO-POLLO': 1 },
    ignoreStoreState: true,
  });
  await orderRow(ordersTab, placed.orderId!).status.filter({ hasText: 'REJECTED' }).waitFor();

  expect(await orderRow(ordersTab, placed.orderId!).row.textContent()).toContain('ubereats');
  // Sold again, so a shared target (E2E_TARGET=local) is left as it was found.
  await toggleItemOnStoresPage(operatorTab, 'store-001', 'TACO-POLLO');
}, 40_000);
