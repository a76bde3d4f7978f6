/**
 * Cost regression: each path of the README's cost table, driven through the local cloud, takes the
 * Standard state transitions and Express runs the table says — read from the order's own execution
 * histories (a transition is a state entered, as `npm run cost` counts it). The table is parsed from
 * README.md, so the README and what runs cannot drift apart unnoticed.
 */
import { readFileSync } from 'node:fs';
import {
  call,
  givenALocalCloud,
  givenThePosFaults,
  onlyInProcess,
  type TestCloud,
  theOrderOnceItsWorkflowsEnd,
  theOrderReaches,
  whenThePartnerSays,
  whenThePartnerSendsAnOrder,
} from '../steps/local-cloud';

/** `path → {standardTransitions, expressRuns}` from the README's "Cost per 1,000 orders" table. */
function theReadmeCostTable(): Map<string, { standardTransitions: number; expressRuns: number }> {
  const lines = readFileSync('README.md', 'utf8').split('\n');
  const header = lines.findIndex((line) => /^\| path \| Standard transitions \| Express runs \|/.test(line));
  if (header < 0)
    throw new Error('README.md has no cost table (| path | Standard transitions | Express runs | …)');
  const table = new Map<string, { standardTransitions: number; expressRuns: number }>();
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const [path, standard, express] = line
      .split('|')
      .slice(1)
      .map((cell) => cell.trim());
    table.set(path!, { standardTransitions: Number(standard), expressRuns: Number(express) });
  }
  return table;
}

let t: TestCloud;
beforeAll(async () => {
  t = await givenALocalCloud();
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

const machine = (logicalId: string) => {
  const found = t.cloud.model.stateMachines.find((m) => m.logicalId === logicalId);
  if (!found) throw new Error(`no ${logicalId} state machine in the template`);
  return found;
};

/** What one order's executions did: Standard states entered, and Express executions started. */
function theStepFunctionsUsageOf(orderId: string) {
  const ofOrder = (logicalId: string) =>
    t.cloud.stepFunctions.listExecutions(machine(logicalId).arn).filter((run) => run.input.includes(orderId));
  const standardTransitions = ofOrder('OrderWorkflow')
    .flatMap((run) => run.history)
    .filter((event) => event.type.endsWith('StateEntered')).length;
  const expressRuns = ofOrder('OrderPrepare').length + ofOrder('OrderFinish').length;
  return { standardTransitions, expressRuns };
}

type Sent = Awaited<ReturnType<typeof whenThePartnerSendsAnOrder>>;
const orderIdOf = (sent: Sent) => sent.webhookBody.orderId as string;

/** Each path as `npm run cost` drives it (local/cost.ts), answering the order it sent. */
const PATHS: Record<string, () => Promise<string>> = {
  'accepted-released': async () => {
    const sent = await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001' });
    await theOrderReaches(t, orderIdOf(sent), 'ACCEPTED');
    await whenThePartnerSays(t, sent.partner, sent.partnerOrderId, 'release');
    return orderIdOf(sent);
  },
  'denied-store-offline': async () =>
    orderIdOf(
      await whenThePartnerSendsAnOrder(t, {
        partner: 'ubereats',
        storeId: 'store-002',
        ignoreStoreState: true,
      }),
    ),
  'denied-item-unavailable': async () => {
    const sku = 'BURRITO-CARNE';
    const off = await call('PUT', `${t.httpUrl}/stores/store-001/items/${sku}`, { available: false });
    if (off.status !== 200) throw new Error(`86'ing ${sku} answered ${off.status}`);
    try {
      const sent = await whenThePartnerSendsAnOrder(t, {
        partner: 'grubhub',
        storeId: 'store-001',
        items: [{ sku, quantity: 1 }],
        ignoreStoreState: true,
      });
      await theOrderReaches(t, orderIdOf(sent), 'REJECTED');
      return orderIdOf(sent);
    } finally {
      await call('PUT', `${t.httpUrl}/stores/store-001/items/${sku}`, { available: true });
    }
  },
  'cancelled-while-waiting': async () => {
    const sent = await whenThePartnerSendsAnOrder(t, { partner: 'grubhub', storeId: 'store-001' });
    await theOrderReaches(t, orderIdOf(sent), 'ACCEPTED');
    await whenThePartnerSays(t, sent.partner, sent.partnerOrderId, 'cancel');
    return orderIdOf(sent);
  },
  'pos-retried-then-accepted': async () => {
    await givenThePosFaults(t, { failNext: 1, endpoints: ['create'] });
    try {
      const sent = await whenThePartnerSendsAnOrder(t, { partner: 'ubereats', storeId: 'store-001' });
      await theOrderReaches(t, orderIdOf(sent), 'ACCEPTED');
      await whenThePartnerSays(t, sent.partner, sent.partnerOrderId, 'release');
      return orderIdOf(sent);
    } finally {
      await givenThePosFaults(t, undefined);
    }
  },
  'released-by-timeout': async () =>
    orderIdOf(
      await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001', pickupInSeconds: 2 }),
    ),
};

const ENDINGS: Record<string, string> = {
  'accepted-released': 'RELEASED',
  'denied-store-offline': 'REJECTED',
  'denied-item-unavailable': 'REJECTED',
  'cancelled-while-waiting': 'CANCELLED',
  'pos-retried-then-accepted': 'RELEASED',
  'released-by-timeout': 'RELEASED',
};

onlyInProcess(
  'counts Express runs, which AWS lists only in their CloudWatch logs',
  'every path of the README cost table takes the Standard transitions and Express runs the table says',
  async () => {
    const table = theReadmeCostTable();
    expect([...table.keys()].sort()).toEqual(Object.keys(PATHS).sort());
    // One at a time: the POS fault and the 86'd item must touch only their own path's order.
    const measured: Record<string, { standardTransitions: number; expressRuns: number }> = {};
    const expected: Record<string, { standardTransitions: number; expressRuns: number }> = {};
    for (const [path, drive] of Object.entries(PATHS)) {
      const orderId = await drive();
      const { order } = await theOrderOnceItsWorkflowsEnd(t, orderId);
      expect({ path, status: order.status }).toEqual({ path, status: ENDINGS[path] });
      measured[path] = theStepFunctionsUsageOf(orderId);
      expected[path] = table.get(path)!;
    }
    expect(measured).toEqual(expected);
  },
  320_000,
);
