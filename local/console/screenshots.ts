/**
 * `npm run console:screenshots`: the README's pictures of the console, taken from a real run — an
 * in-process local cloud with its simulators, the console on a free port, and Chromium clicking
 * through the same flows as the browser tests. Writes docs/console/{orders,order,stores,simulators,
 * dead-letters}.png.
 */
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { AwsError } from '../cloud/aws-error';
import { startToolCloud } from '../tools/cloud';
import {
  launchChromium,
  openConsolePage,
  orderRow,
  placeOrderOnSimulatorsPage,
  toggleItemOnStoresPage,
} from './browser';
import { localEndpoints } from './endpoints';
import { startConsole } from './server';

const OUT_DIR = path.resolve('docs', 'console');
const MAX_HEIGHT = 2800;
const started = Date.now();

async function shoot(page: Page, name: string): Promise<void> {
  // Let the layout settle (a last poll, fonts) before the picture. Not 'networkidle': the live
  // orders stream keeps the network busy for as long as the page is open.
  await page.waitForTimeout(400);
  const file = path.join(OUT_DIR, `${name}.png`);
  // The whole page, cut at a height a README reader scrolls past (the order's event tables run long).
  const height = await page.locator('body').evaluate((body) => body.scrollHeight);
  await page.screenshot({
    path: file,
    fullPage: true,
    clip: { x: 0, y: 0, width: 1440, height: Math.min(height, MAX_HEIGHT) },
  });
  console.log(
    `wrote ${path.relative(process.cwd(), file)} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
}

async function main(): Promise<void> {
  mkdirSync(OUT_DIR, { recursive: true });
  console.log('Starting the local cloud and the console…');
  const tools = await startToolCloud();
  const console_ = await startConsole({
    endpoints: localEndpoints(tools.cloud, { partnerUrl: tools.partnerUrl, posUrl: tools.posUrl }),
    port: 0,
    feedIntervalMs: 500,
  });
  const browser = await launchChromium();
  try {
    const orders = await openConsolePage(browser, console_.url, '/');
    const simulators = await openConsolePage(browser, console_.url, '/simulators');

    // An order from each partner; grubhub's, for the offline store-002, is rejected.
    await placeOrderOnSimulatorsPage(simulators, {
      partner: 'ubereats',
      storeId: 'store-001',
      items: { 'BURRITO-CARNE': 1 },
    });
    await placeOrderOnSimulatorsPage(simulators, {
      partner: 'grubhub',
      storeId: 'store-002',
      items: { 'TACO-VEG': 3 },
      // Grubhub may already show the store offline (the partner sync's sweep runs each minute).
      ignoreStoreState: true,
    });
    await orders.getByTestId('order-status').filter({ hasText: 'REJECTED' }).first().waitFor();
    // Last, so it still waits for its courier (the local stage waits at most 20 s) when its page is shot.
    const waiting = await placeOrderOnSimulatorsPage(simulators, {
      partner: 'doordash',
      storeId: 'store-001',
      items: { 'TACO-AL-PASTOR': 2, 'CHIPS-SALSA': 1, 'DRINK-HORCHATA': 1 },
      pickupInSeconds: 600,
    });
    await orderRow(orders, waiting.orderId!).status.filter({ hasText: 'ACCEPTED' }).waitFor();
    await shoot(orders, 'orders');

    await orderRow(orders, waiting.orderId!).row.getByTestId('order-link').click();
    await orders.waitForURL(`**/orders/${waiting.orderId}`, { timeout: 5000 });
    console.log(`opened the order (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    await orders.getByTestId('current-state-workflow').filter({ hasText: 'WaitForCourier' }).waitFor();
    await orders.locator('[data-testid=graph-prepare] [data-mark=visited]').first().waitFor();
    await shoot(orders, 'order');
    await shoot(simulators, 'simulators');

    await toggleItemOnStoresPage(simulators, 'store-001', 'TACO-POLLO');
    await simulators
      .getByTestId('store-store-001')
      .getByTestId('menu-item-TACO-POLLO')
      .getByTestId('item-availability')
      .filter({ hasText: '86' })
      .waitFor();
    // …and the partners told of it (the sync runs off the bus).
    await simulators
      .getByTestId('store-store-001')
      .getByTestId('partner-views')
      .filter({ hasText: 'TACO-POLLO' })
      .waitFor();
    await shoot(simulators, 'stores');

    // A real dead letter: while Step Functions refuses every start (an outage, injected at the local
    // emulator's seam as the operations e2e test does), the OrderReceived rule's retries run out.
    const stepFunctions = tools.cloud.stepFunctions;
    stepFunctions.eventBridgeTarget = async () => {
      throw new AwsError(
        'ServiceUnavailable',
        'Step Functions is unavailable (injected for the screenshot)',
        503,
      );
    };
    try {
      await placeOrderOnSimulatorsPage(simulators, {
        partner: 'grubhub',
        storeId: 'store-001',
        items: { 'TACO-CARNITAS': 2 },
      });
      await simulators.getByTestId('nav-Dead letters').click();
      const orderReceivedDlq = simulators.locator('[data-testid$="order-received-dlq"]');
      for (
        let tries = 0;
        !(await orderReceivedDlq.getByTestId('dlq-depth').textContent())?.includes('1');
        tries++
      ) {
        if (tries === 60) throw new Error('no dead letter after a minute');
        await simulators.waitForTimeout(1000);
        await simulators.getByRole('button', { name: 'Refresh' }).click();
      }
    } finally {
      delete (stepFunctions as Partial<typeof stepFunctions>).eventBridgeTarget;
    }
    await simulators
      .locator('[data-testid$="order-received-dlq"]')
      .getByRole('button', { name: 'Show messages' })
      .click();
    await simulators.locator('[data-testid^="dead-letter-messages-"] tbody tr').first().waitFor();
    await shoot(simulators, 'dead-letters');
  } catch (error) {
    // What each page showed when a step gave up, for whoever reads the error.
    for (const [index, page] of browser
      .contexts()
      .flatMap((context) => context.pages())
      .entries()) {
      const file = path.join(os.tmpdir(), `console-screenshots-failed-${index}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      console.error(`the page at ${page.url()} as it was: ${file}`);
    }
    throw error;
  } finally {
    await browser.close();
    await console_.close();
    await tools.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
