/**
 * Reliability against a flaky POS, a partner API that is down, and stores that cannot take orders.
 * What a store manager checks first: one order is never two POS tickets, and an order that cannot
 * be placed is denied to the partner with the right reason instead of silently vanishing.
 */

import { theExpressRunsOf } from '../steps/express-logs';
import {
  call,
  describeOnlyInProcess,
  eventually,
  givenALocalCloud,
  givenThePartnerApiFaults,
  givenThePosFaults,
  onlyInProcess,
  type TestCloud,
  theOrderOnceItsWorkflowsEnd,
  theOrderReaches,
  theOrderSettles,
  thePosOrders,
  whatThePartnerSaw,
  whenThePartnerSays,
  whenThePartnerSendsAnOrder,
} from '../steps/local-cloud';

let t: TestCloud;
beforeAll(async () => {
  t = await givenALocalCloud();
}, 120_000);
afterAll(async () => {
  await t?.stop();
});
afterEach(async () => {
  await givenThePosFaults(t, undefined);
  await givenThePartnerApiFaults(t, undefined);
});

/** What the partner saw once it matches `expected` (the order record changes before the partner is told). */
async function thePartnerSees(partner: string, partnerOrderId: string, expected: Record<string, unknown>) {
  return eventually(
    async () => {
      const seen = await whatThePartnerSaw(t, partner, partnerOrderId);
      return Object.entries(expected).every(([key, value]) => seen[key] === value) ? seen : undefined;
    },
    `${partner} order ${partnerOrderId} to show ${JSON.stringify(expected)}`,
  );
}

/** The POS orders of one reference once they match `done`. */
async function thePosOrdersSettle(orderId: string, done: (orders: any[]) => boolean) {
  return eventually(async () => {
    const orders = await thePosOrders(t, orderId);
    return done(orders) ? orders : undefined;
  }, `the POS orders of ${orderId} to settle`);
}

const PARTNERS = ['doordash', 'ubereats', 'grubhub'];

/**
 * The tries of the order's Express preparation that failed with `error`, read where AWS keeps an
 * Express run's history: its machine's log group (once every run of it has ended).
 */
async function failedTriesOf(orderId: string, error: string): Promise<number> {
  const runs = await eventually(async () => {
    const found = await theExpressRunsOf(t, 'OrderPrepare', orderId);
    return found.length > 0 && found.every((run) => run.ended) ? found : undefined;
  }, `the preparation of ${orderId} in its log group`);
  return runs
    .flatMap((run) => run.events)
    .filter((event) => event.type === 'TaskFailed' && event.details.error === error).length;
}

test('a POS that fails every create (with latency): each order ends FAILED POS_UNAVAILABLE, the partner denied, nothing in the POS', async () => {
  await givenThePosFaults(t, { errorRate: 1, latencyMs: 50, endpoints: ['create'] });
  const sent = await Promise.all(
    PARTNERS.map((partner) =>
      whenThePartnerSendsAnOrder(t, { partner, storeId: 'store-001', pickupInSeconds: 600 }),
    ),
  );
  expect(sent.map((order) => order.webhookStatus)).toEqual([202, 202, 202]);
  const settled = await Promise.all(
    sent.map((order) => theOrderOnceItsWorkflowsEnd(t, order.webhookBody.orderId, 45_000)),
  );
  for (const [i, { order, pos }] of settled.entries()) {
    const { partner, partnerOrderId } = sent[i]!;
    expect({ status: order.status, denyReason: order.denyReason }).toEqual({
      status: 'FAILED',
      denyReason: 'POS_UNAVAILABLE',
    });
    // Never accepted, so denied with the reason; the POS took none of the three tries.
    expect(await thePartnerSees(partner, partnerOrderId, { state: 'denied' })).toMatchObject({
      denyReason: 'POS_UNAVAILABLE',
    });
    expect(pos).toEqual([]);
    expect(await failedTriesOf(order.orderId, 'PosUnavailable')).toBe(3);
  }
}, 120_000);

test('a POS that fails the next two creates among six orders: every order retried to RELEASED, one POS order each', async () => {
  await givenThePosFaults(t, { failNext: 2, latencyMs: 50, endpoints: ['create'] });
  const sent = await Promise.all(
    Array.from({ length: 6 }, (_, i) =>
      whenThePartnerSendsAnOrder(t, {
        partner: PARTNERS[i % PARTNERS.length],
        storeId: 'store-001',
        pickupInSeconds: 600,
      }),
    ),
  );
  expect(sent.map((order) => order.webhookStatus)).toEqual(Array(6).fill(202));
  await Promise.all(sent.map((order) => theOrderReaches(t, order.webhookBody.orderId, 'ACCEPTED', 45_000)));
  // Exactly the two injected failures were met, and retried (no order needs more than three tries).
  const failures = await Promise.all(
    sent.map((order) => failedTriesOf(order.webhookBody.orderId, 'PosUnavailable')),
  );
  expect(failures.reduce((a, b) => a + b, 0)).toBe(2);
  await Promise.all(
    sent.map((order) => whenThePartnerSays(t, order.partner, order.partnerOrderId, 'release')),
  );
  const settled = await Promise.all(
    sent.map((order) => theOrderOnceItsWorkflowsEnd(t, order.webhookBody.orderId, 45_000)),
  );
  for (const { order, pos } of settled) {
    expect(order.status).toBe('RELEASED');
    expect(pos).toEqual([
      expect.objectContaining({ status: 'fired', posOrderId: order.posReference, createRequests: 1 }),
    ]);
  }
  const references = (await thePosOrders(t)).map((o) => o.reference);
  expect(new Set(references).size).toBe(references.length);
}, 150_000);

test('a POS that writes the order but loses its answer: the retry with the same key makes no second order', async () => {
  await givenThePosFaults(t, { dropResponseAfterWrite: 1 });
  const sent = await whenThePartnerSendsAnOrder(t, {
    partner: 'doordash',
    storeId: 'store-001',
    pickupInSeconds: 60,
  });
  const orderId = sent.webhookBody.orderId as string;
  // The first write's answer is lost; heal the POS as soon as that write shows, so the retry
  // (a jittered 0-1 s later) gets its answer. Polled tightly: a late heal only costs another retry.
  const deadline = Date.now() + 20_000;
  while ((await thePosOrders(t, orderId)).length === 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10));
  await givenThePosFaults(t, undefined);

  const order = await theOrderReaches(t, orderId, 'ACCEPTED', 30_000);
  const pos = await thePosOrders(t, orderId);
  expect(pos).toEqual([expect.objectContaining({ status: 'held', posOrderId: order.posReference })]);
  expect(pos[0].createRequests).toBeGreaterThanOrEqual(2);
  expect(await thePartnerSees('doordash', sent.partnerOrderId, { state: 'accepted' })).toMatchObject({
    posReference: order.posReference,
  });
}, 80_000);

describe('a store that cannot take the order', () => {
  test('an offline store: REJECTED STORE_OFFLINE, the partner denied with that reason, no POS order', async () => {
    const sent = await whenThePartnerSendsAnOrder(t, {
      partner: 'grubhub',
      storeId: 'store-002',
      ignoreStoreState: true,
    });
    expect(sent.webhookStatus).toBe(202);
    const order = await theOrderReaches(t, sent.webhookBody.orderId, 'REJECTED');
    expect(order.denyReason).toBe('STORE_OFFLINE');
    await thePartnerSees('grubhub', sent.partnerOrderId, { state: 'denied', denyReason: 'STORE_OFFLINE' });
    expect(await thePosOrders(t, order.orderId)).toEqual([]);
  }, 50_000);

  test('a paused store: REJECTED STORE_PAUSED, and orders flow again once it is back online', async () => {
    const paused = await call('PUT', `${t.httpUrl}/stores/store-001/status`, { status: 'paused' });
    expect(paused.status).toBe(200);
    try {
      const sent = await whenThePartnerSendsAnOrder(t, {
        partner: 'ubereats',
        storeId: 'store-001',
        ignoreStoreState: true,
      });
      const order = await theOrderReaches(t, sent.webhookBody.orderId, 'REJECTED');
      expect(order.denyReason).toBe('STORE_PAUSED');
      await thePartnerSees('ubereats', sent.partnerOrderId, { state: 'denied', denyReason: 'STORE_PAUSED' });
      expect(await thePosOrders(t, order.orderId)).toEqual([]);
    } finally {
      await call('PUT', `${t.httpUrl}/stores/store-001/status`, { status: 'online' });
    }
    const next = await whenThePartnerSendsAnOrder(t, {
      partner: 'ubereats',
      storeId: 'store-001',
      ignoreStoreState: true,
    });
    await theOrderReaches(t, next.webhookBody.orderId, 'ACCEPTED');
  }, 70_000);

  test("an 86'd item: REJECTED ITEM_UNAVAILABLE, no POS order; available again once restored", async () => {
    const eighty6 = await call('PUT', `${t.httpUrl}/stores/store-001/items/BURRITO-CARNE`, {
      available: false,
    });
    expect(eighty6.status).toBe(200);
    expect(eighty6.body.menu).toContainEqual(
      expect.objectContaining({ sku: 'BURRITO-CARNE', available: false }),
    );
    try {
      const sent = await whenThePartnerSendsAnOrder(t, {
        partner: 'doordash',
        storeId: 'store-001',
        items: [{ sku: 'BURRITO-CARNE', quantity: 1 }],
        ignoreStoreState: true,
      });
      const order = await theOrderReaches(t, sent.webhookBody.orderId, 'REJECTED');
      expect(order.denyReason).toBe('ITEM_UNAVAILABLE');
      await thePartnerSees('doordash', sent.partnerOrderId, {
        state: 'denied',
        denyReason: 'ITEM_UNAVAILABLE',
      });
      expect(await thePosOrders(t, order.orderId)).toEqual([]);
    } finally {
      await call('PUT', `${t.httpUrl}/stores/store-001/items/BURRITO-CARNE`, { available: true });
    }
    const next = await whenThePartnerSendsAnOrder(t, {
      partner: 'doordash',
      storeId: 'store-001',
      items: [{ sku: 'BURRITO-CARNE', quantity: 1 }],
      ignoreStoreState: true,
    });
    await theOrderReaches(t, next.webhookBody.orderId, 'ACCEPTED');
  }, 70_000);
});

test('the partner API down while accepting: retried, then the POS order is voided and the order FAILED', async () => {
  await givenThePartnerApiFaults(t, { errorRate: 1, endpoints: ['accept'] });
  const sent = await whenThePartnerSendsAnOrder(t, {
    partner: 'grubhub',
    storeId: 'store-001',
    pickupInSeconds: 60,
  });
  const order = await theOrderReaches(t, sent.webhookBody.orderId, 'FAILED', 30_000);
  // The partner, not the POS, would not take it: the reason says so.
  expect(order.denyReason).toBe('PARTNER_UNAVAILABLE');
  const seen = await thePartnerSees('grubhub', sent.partnerOrderId, { state: 'denied' });
  // The simulator counts only the calls it served, so the retries are read from the Express run:
  // the partner was asked three times (the first try and the stage's two retries).
  expect(await failedTriesOf(order.orderId, 'PartnerUnavailable')).toBe(3);
  expect(seen.denyReason).toBe('PARTNER_UNAVAILABLE');
  const pos = await thePosOrdersSettle(order.orderId, (orders) => orders[0]?.status === 'voided');
  expect(pos).toEqual([expect.objectContaining({ status: 'voided', createRequests: 1 })]);
}, 80_000);

test('a POS that will not fire: the order ends FAILED, never RELEASED, and the partner is told', async () => {
  const sent = await whenThePartnerSendsAnOrder(t, {
    partner: 'doordash',
    storeId: 'store-001',
    pickupInSeconds: 60,
  });
  const orderId = sent.webhookBody.orderId as string;
  await theOrderReaches(t, orderId, 'ACCEPTED');

  await givenThePosFaults(t, { errorRate: 1 });
  await whenThePartnerSays(t, 'doordash', sent.partnerOrderId, 'release');
  const failed = await theOrderSettles(t, orderId, ['FAILED'], 60_000);

  const events = failed.timeline.map((entry: { event: string }) => entry.event);
  expect(events).not.toContain('released-to-kitchen');
  expect(await thePosOrders(t, orderId)).toEqual([expect.objectContaining({ status: 'held' })]);
  const seen = await eventually(async () => {
    const partner = await whatThePartnerSaw(t, 'doordash', sent.partnerOrderId);
    return partner.updates.some((update: { status: string }) => update.status === 'FAILED')
      ? partner
      : undefined;
  }, 'the partner to hear FAILED');
  expect(seen.updates.map((update: { status: string }) => update.status)).not.toContain('RELEASED');
}, 110_000);

describeOnlyInProcess(
  "times the tries in the Express preparation's history, which AWS keeps only in CloudWatch logs",
  'a call slower than the 5 s client timeout is abandoned and retried',
  () => {
    /** The failed tries of one task of the order's Express preparation, with how long each ran. */
    function failedTriesOf(orderId: string, error: string) {
      const prepare = t.cloud.model.stateMachines.find((m) => m.logicalId === 'OrderPrepare')!;
      const [run] = t.cloud.stepFunctions
        .listExecutions(prepare.arn)
        .filter((execution) => JSON.parse(execution.input).orderId === orderId);
      const history = run?.history ?? [];
      return history.flatMap((event, i) => {
        if (event.type !== 'TaskFailed') return [];
        if ((event.taskFailedEventDetails as { error?: string }).error !== error) return [];
        const started = history.slice(0, i).findLast((e) => e.type === 'TaskStarted');
        return [{ ranSeconds: event.timestamp - (started?.timestamp ?? event.timestamp) }];
      });
    }

    const STATE_OF = { create: 'CreatePosOrder', accept: 'AcceptOrder' } as const;

    /**
     * Whether the order's first call to `endpoint` is surely in flight: its task started 2 s ago (its
     * Lambda has long since sent the request, cold start included) and 3 s before the client gives up.
     */
    function theFirstCallIsInFlight(orderId: string, endpoint: 'create' | 'accept'): boolean {
      const prepare = t.cloud.model.stateMachines.find((m) => m.logicalId === 'OrderPrepare')!;
      const [run] = t.cloud.stepFunctions
        .listExecutions(prepare.arn)
        .filter((execution) => JSON.parse(execution.input).orderId === orderId);
      const history = run?.history ?? [];
      const entered = history.findIndex(
        (e) => (e.stateEnteredEventDetails as { name?: string } | undefined)?.name === STATE_OF[endpoint],
      );
      const started = entered >= 0 ? history.slice(entered).find((e) => e.type === 'TaskStarted') : undefined;
      return started !== undefined && Date.now() - started.timestamp * 1000 >= 2000;
    }

    test.each([
      ['the POS create', 'pos', 'create', 'PosUnavailable'],
      ['the partner accept', 'partner', 'accept', 'PartnerUnavailable'],
    ] as const)(
      '%s answering after 5.5 s: one try abandoned at 5 s, the retry takes the order',
      async (_, system, endpoint, error) => {
        const slow = { latencyMs: 5500, endpoints: [endpoint] };
        if (system === 'pos') await givenThePosFaults(t, slow);
        else await givenThePartnerApiFaults(t, slow);
        const sent = await whenThePartnerSendsAnOrder(t, {
          partner: 'doordash',
          storeId: 'store-001',
          pickupInSeconds: 600,
        });
        const orderId = sent.webhookBody.orderId as string;
        // Heal once the first call is surely in flight (it keeps its 5.5 s); the retry is then quick.
        await eventually(
          async () => theFirstCallIsInFlight(orderId, endpoint) || undefined,
          `the first ${endpoint} call to be in flight`,
        );
        if (system === 'pos') await givenThePosFaults(t, undefined);
        else await givenThePartnerApiFaults(t, undefined);

        const order = await theOrderReaches(t, orderId, 'ACCEPTED', 30_000);
        const tries = failedTriesOf(orderId, error);
        expect(tries).toEqual([{ ranSeconds: expect.any(Number) }]);
        // Abandoned at the client's 5 s, not after the 5.5 s answer (nor at the Lambda's own timeout).
        expect(tries[0]!.ranSeconds).toBeGreaterThanOrEqual(4.9);
        expect(tries[0]!.ranSeconds).toBeLessThan(5.5);
        // The late answer and the retry are one effect: one POS order, the partner holding it accepted.
        const pos = await thePosOrders(t, orderId);
        expect(pos).toEqual([expect.objectContaining({ posOrderId: order.posReference, status: 'held' })]);
        expect(await thePartnerSees('doordash', sent.partnerOrderId, { state: 'accepted' })).toMatchObject({
          posReference: order.posReference,
        });
      },
      60_000,
    );
  },
);
