/**
 * The operator API through the local cloud, as an on-call engineer uses it: the order list with its
 * filters and cursor, an operator's cancel and release of a waiting order (and what the POS, the
 * partner and the bus then show), and a real dead-lettered OrderReceived event redriven.
 */
import { AwsError } from '../../local/cloud/aws-error';
import { iamModeFromEnv } from '../../local/cloud/index';
import {
  type BusObserver,
  call,
  eventually,
  givenALocalCloud,
  givenAQueueOnTheOrderBus,
  onlyInProcess,
  type TestCloud,
  theOrder,
  theOrderReaches,
  thePosOrders,
  whatThePartnerSaw,
  whenThePartnerSendsAnOrder,
} from '../steps/local-cloud';
import { queueNameOf } from '../steps/targets';

let t: TestCloud;
/** What the order bus carried, read through a test rule and queue as against AWS. */
let bus: BusObserver;

beforeAll(async () => {
  t = await givenALocalCloud();
  bus = await givenAQueueOnTheOrderBus(t);
}, 120_000);

afterAll(async () => {
  await bus?.close();
  await t?.stop();
});

const OUTCOMES = ['OrderCancelled', 'OrderReleasedToKitchen'];

/** The order's OrderCancelled and OrderReleasedToKitchen events, once one has reached the bus's queue. */
async function outcomesOf(orderId: string) {
  const events = await bus.eventsOfOnce(orderId, (seen) =>
    seen.some((event) => OUTCOMES.includes(event['detail-type'])),
  );
  return events
    .filter((event) => OUTCOMES.includes(event['detail-type']))
    .map((event) => ({ type: event['detail-type'], detail: event.detail }));
}

const api = (method: string, path: string, body?: unknown) => call(method, `${t.httpUrl}${path}`, body);

/** A new order from the partner that waits for its courier (the local stage waits at most 20 s). */
async function aWaitingOrder(partner = 'doordash') {
  const sent = await whenThePartnerSendsAnOrder(t, { partner, storeId: 'store-001', pickupInSeconds: 600 });
  const orderId = sent.webhookBody.orderId as string;
  await eventually(async () => {
    const { body } = await theOrder(t, orderId);
    return body?.status === 'ACCEPTED' &&
      body.timeline.some((e: { event: string }) => e.event === 'waiting-for-courier')
      ? body
      : undefined;
  }, `order ${orderId} to wait for its courier`);
  return { orderId, partner, partnerOrderId: sent.partnerOrderId };
}

test('lists orders by store, status and partner, newest first, a page at a time', async () => {
  const first = await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001' });
  // Only this test's orders (a shared target holds others'): `since` when the first was received.
  const since = (await theOrder(t, first.webhookBody.orderId)).body.timeline[0].at as string;
  const second = await whenThePartnerSendsAnOrder(t, { partner: 'grubhub', storeId: 'store-001' });
  const offline = await whenThePartnerSendsAnOrder(t, { partner: 'ubereats', storeId: 'store-002' });
  const [firstId, secondId, offlineId] = [first, second, offline].map(
    (sent) => sent.webhookBody.orderId as string,
  );
  await theOrderReaches(t, offlineId!, 'REJECTED');

  const page1 = await api('GET', `/orders?limit=1&since=${since}&storeId=store-001`);
  const page2 = await api(
    'GET',
    `/orders?cursor=${page1.body.cursor}&limit=1&since=${since}&storeId=store-001`,
  );
  const rejected = await api('GET', `/orders?since=${since}&status=REJECTED`);
  const fromGrubhub = await api('GET', `/orders?partner=grubhub&since=${since}`);
  const all = await api('GET', `/orders?since=${since}`);

  expect(page1.status).toBe(200);
  expect(page1.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual([secondId]);
  expect(page2.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual([firstId]);
  expect(rejected.body.orders).toEqual([
    expect.objectContaining({
      orderId: offlineId,
      storeId: 'store-002',
      partner: 'ubereats',
      status: 'REJECTED',
    }),
  ]);
  expect(fromGrubhub.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual([secondId]);
  expect(all.body.orders.map((o: { orderId: string }) => o.orderId)).toEqual([offlineId, secondId, firstId]);
  expect(all.body.orders[0]).toEqual({
    orderId: offlineId,
    partner: 'ubereats',
    partnerOrderId: offline.partnerOrderId,
    storeId: 'store-002',
    status: 'REJECTED',
    total: expect.any(Number),
    createdAt: expect.any(String),
    updatedAt: expect.any(String),
  });
  expect((await api('GET', '/orders?limit=0')).status).toBe(400);
});

test('an operator cancels a waiting order: CANCELLED, the POS order voided, the partner shows cancelled', async () => {
  const { orderId, partner, partnerOrderId } = await aWaitingOrder();

  const cancelled = await api('POST', `/orders/${orderId}/cancel`, { reason: 'kitchen fire' });

  expect(cancelled).toEqual({ status: 202, body: { orderId, status: 'CANCELLED' } });
  await eventually(async () => {
    const pos = await thePosOrders(t, orderId);
    return pos.length === 1 && pos[0].status === 'voided' ? pos : undefined;
  }, 'the POS order to be voided');
  await eventually(async () => {
    const seen = await whatThePartnerSaw(t, partner, partnerOrderId);
    return seen.state === 'cancelled' ? seen : undefined;
  }, 'the partner to show the order cancelled');
  const order = (await theOrder(t, orderId)).body;
  expect(order.status).toBe('CANCELLED');
  expect(order.timeline).toContainEqual(
    expect.objectContaining({ event: 'cancelled', detail: 'by operator: kitchen fire' }),
  );
  expect(await outcomesOf(orderId)).toEqual([
    { type: 'OrderCancelled', detail: expect.objectContaining({ cancelledBy: 'operator' }) },
  ]);
  expect((await api('POST', `/orders/${orderId}/release`)).status).toBe(409);
});

test('an operator releases a waiting order to the kitchen now: RELEASED, the POS order fired', async () => {
  const { orderId, partner, partnerOrderId } = await aWaitingOrder('grubhub');

  const released = await api('POST', `/orders/${orderId}/release`);

  expect(released).toEqual({ status: 202, body: { orderId, status: 'ACCEPTED' } });
  await theOrderReaches(t, orderId, 'RELEASED');
  expect(await thePosOrders(t, orderId)).toEqual([expect.objectContaining({ status: 'fired' })]);
  await eventually(async () => {
    const seen = await whatThePartnerSaw(t, partner, partnerOrderId);
    return seen.state === 'accepted' && seen.updates.length > 0 ? seen : undefined;
  }, 'the partner to be told RELEASED');
  expect(await outcomesOf(orderId)).toEqual([
    { type: 'OrderReleasedToKitchen', detail: expect.objectContaining({ releasedBy: 'operator' }) },
  ]);
  expect((await api('POST', `/orders/${orderId}/cancel`, { reason: 'too late' })).status).toBe(409);
});

onlyInProcess(
  "injects a Step Functions outage at the emulator's seam",
  'a dead-lettered OrderReceived, redriven, goes on to be accepted, and the DLQ is empty',
  async () => {
    const dlq = { name: queueNameOf(t.resource('OrderReceivedDLQ')) };
    const depth = async () =>
      (await api('GET', '/operations/dead-letters')).body.queues.find(
        (q: { name: string }) => q.name === dlq.name,
      )?.messages;
    // Step Functions refusing every start is injected at the emulator's seam, as an outage would be.
    const stepFunctions = t.cloud.stepFunctions;
    stepFunctions.eventBridgeTarget = async () => {
      throw new AwsError('ServiceUnavailable', 'Step Functions is unavailable (injected by the test)', 503);
    };
    let orderId: string;
    try {
      const sent = await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001' });
      orderId = sent.webhookBody.orderId;
      await eventually(
        async () => ((await depth()) === 1 ? 1 : undefined),
        'the event in the OrderReceived DLQ',
      );
    } finally {
      delete (stepFunctions as Partial<typeof stepFunctions>).eventBridgeTarget;
    }
    expect((await theOrder(t, orderId)).body.status).toBe('RECEIVED');
    const { body: peeked } = await api('GET', `/operations/dead-letters/${dlq.name}/messages`);
    expect(peeked.messages).toEqual([
      expect.objectContaining({
        attributes: expect.objectContaining({ EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts' }),
        event: expect.objectContaining({
          detailType: 'OrderReceived',
          detail: expect.objectContaining({ orderId }),
        }),
      }),
    ]);

    const redriven = await api('POST', `/operations/dead-letters/${dlq.name}/redrive`);

    expect(redriven).toEqual({ status: 202, body: { name: dlq.name, redriven: 1 } });
    await theOrderReaches(t, orderId, 'ACCEPTED');
    expect(await thePosOrders(t, orderId)).toHaveLength(1);
    expect(await depth()).toBe(0);
    expect((await api('POST', '/operations/dead-letters/not-ours/redrive')).status).toBe(404);
  },
);

describe('the IAM-authorized routes of the packaged template (LOCAL_IAM)', () => {
  const iam = iamModeFromEnv();
  /** The same request as `api` sends it, without a signature. */
  const unsigned = async (method: string, path: string) => {
    const response = await fetch(`${t.httpUrl}${path}`, { method });
    return { status: response.status, body: await response.json() };
  };

  (iam === 'off' ? test.skip : test)(
    'refuse an unsigned call with 403 Forbidden, as API Gateway does, and take the same call signed',
    async () => {
      for (const path of ['/orders?limit=1', '/stores/store-001', '/operations/dead-letters']) {
        expect(await unsigned('GET', path)).toEqual({ status: 403, body: { message: 'Forbidden' } });
        expect((await api('GET', path)).status).toBe(200);
      }
      // the webhooks are not IAM-authorized: an unsigned one reaches the function (and its own check)
      expect((await unsigned('POST', '/webhooks/doordash/orders')).status).not.toBe(403);
    },
  );
});
