/**
 * Reliability of the wait for the courier: release and cancel repeated, late, unknown, racing each
 * other and the pickup-time timeout, and a local cloud restarted while orders wait. What the kitchen
 * checks first: each order is fired exactly once or voided, never both.
 */
import { randomUUID } from 'node:crypto';
import { orderIdFor } from '../../functions/lib/domain/order';
import { signWebhook } from '../../functions/lib/domain/signatures';
import { devPartnerSecrets } from '../../local/simulators/partner/index';
import {
  eventually,
  givenALocalCloud,
  givenThePartnerApiFaults,
  givenThePosFaults,
  onlyInProcess,
  type TestCloud,
  theOrder,
  theOrderReaches,
  theOrderRecord,
  thePosOrders,
  theWorkflowExecutionsOf,
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

/**
 * A new order for store-001, waiting for its courier (ACCEPTED and holding its task token); its
 * pickup far enough ahead that no wait or restart of a slow machine reaches it.
 */
async function givenAWaitingOrder(partner = 'doordash', pickupInSeconds = 600) {
  const sent = await whenThePartnerSendsAnOrder(t, { partner, storeId: 'store-001', pickupInSeconds });
  expect(sent.webhookStatus).toBe(202);
  const orderId = sent.webhookBody.orderId as string;
  await eventually(async () => {
    const order = (await theOrder(t, orderId)).body;
    return order?.timeline.some((e: { event: string }) => e.event === 'waiting-for-courier')
      ? order
      : undefined;
  }, `order ${orderId} to wait for its courier`);
  return { partner, partnerOrderId: sent.partnerOrderId, orderId };
}

/** Once the order's workflow has ended: the order and its POS orders, settled. */
async function theSettledOrder(orderId: string) {
  await eventually(
    async () => {
      const runs = await theWorkflowExecutionsOf(t, orderId);
      return runs.length > 0 && runs.every((run) => run.status !== 'RUNNING') ? runs : undefined;
    },
    `the workflow of ${orderId} to end`,
    30_000,
  );
  return { order: (await theOrder(t, orderId)).body, pos: await thePosOrders(t, orderId) };
}

const kitchenReleases = (order: { timeline: { event: string; detail?: string }[] }) =>
  order.timeline.filter((entry) => entry.event === 'released-to-kitchen');

describe('release', () => {
  test('twice: the kitchen gets the order once, the second release is 202 and changes nothing', async () => {
    const { partner, partnerOrderId, orderId } = await givenAWaitingOrder();
    const first = await whenThePartnerSays(t, partner, partnerOrderId, 'release');
    expect(first.webhookStatus).toBe(202);
    await theOrderReaches(t, orderId, 'RELEASED');
    const again = await whenThePartnerSays(t, partner, partnerOrderId, 'release');
    expect(again.webhookStatus).toBe(202);
    expect(again.webhookBody).toMatchObject({ orderId, status: 'RELEASED' });

    const { order, pos } = await theSettledOrder(orderId);
    expect(order.status).toBe('RELEASED');
    expect(kitchenReleases(order)).toHaveLength(1);
    expect(pos).toEqual([expect.objectContaining({ status: 'fired', createRequests: 1 })]);
  }, 80_000);

  test('for an order the middleware never received: 404', async () => {
    // Sent by hand: the simulator refuses to release an order it never sent, so it never calls.
    const partnerOrderId = randomUUID();
    const body = JSON.stringify({ event: { type: 'dasher_arriving' }, order: { id: partnerOrderId } });
    const secret = devPartnerSecrets().doordash.signing;
    const response = await fetch(`${t.httpUrl}/webhooks/doordash/orders/${partnerOrderId}/release`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signWebhook('doordash', body, secret, new Date()) },
      body,
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
    expect((await theOrder(t, orderIdFor('doordash', partnerOrderId))).status).toBe(404);
  });

  test('after a cancel: 409, and the cancelled order stays cancelled', async () => {
    const { partner, partnerOrderId, orderId } = await givenAWaitingOrder('grubhub');
    expect((await whenThePartnerSays(t, partner, partnerOrderId, 'cancel')).webhookStatus).toBe(202);
    await theOrderReaches(t, orderId, 'CANCELLED');
    const late = await whenThePartnerSays(t, partner, partnerOrderId, 'release');
    expect(late.webhookStatus).toBe(409);
    expect(late.webhookBody).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    const { order, pos } = await theSettledOrder(orderId);
    expect(order.status).toBe('CANCELLED');
    expect(pos).toEqual([expect.objectContaining({ status: 'voided' })]);
  }, 80_000);
});

test('the courier never signals: the pickup time releases the order, and a late release changes nothing', async () => {
  const { partner, partnerOrderId, orderId } = await givenAWaitingOrder('ubereats', 2);
  const released = await theOrderReaches(t, orderId, 'RELEASED', 25_000);
  expect(kitchenReleases(released)).toEqual([expect.objectContaining({ detail: 'by timeout' })]);
  await eventually(async () => {
    const pos = await thePosOrders(t, orderId);
    return pos[0]?.status === 'fired' ? pos : undefined;
  }, 'the POS order to be fired');

  const late = await whenThePartnerSays(t, partner, partnerOrderId, 'release');
  expect(late.webhookStatus).toBe(202);
  const { order, pos } = await theSettledOrder(orderId);
  expect(order.status).toBe('RELEASED');
  expect(kitchenReleases(order)).toEqual([expect.objectContaining({ detail: 'by timeout' })]);
  expect(pos).toEqual([expect.objectContaining({ status: 'fired', createRequests: 1 })]);
  expect(await theWorkflowExecutionsOf(t, orderId)).toEqual([
    expect.objectContaining({ status: 'SUCCEEDED' }),
  ]);
}, 100_000);

describe('cancel', () => {
  test('while the POS create is in flight: CANCELLED, the order the POS makes afterwards voided', async () => {
    await givenThePosFaults(t, { latencyMs: 1500, endpoints: ['create'] });
    const sent = await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001' });
    const orderId = sent.webhookBody.orderId as string;
    // Claimed by its workflow (validation is next, then the 1.5 s create): the create is on its way.
    await eventually(async () => (await theOrderRecord(t, orderId))?.claimedBy, `${orderId} to be claimed`);
    const cancel = await whenThePartnerSays(t, 'doordash', sent.partnerOrderId, 'cancel');
    expect(cancel).toEqual({ webhookStatus: 202, webhookBody: { orderId, status: 'CANCELLED' } });
    // The POS did not have it yet when the cancel was taken.
    expect(await thePosOrders(t, orderId)).toEqual([]);

    const { order, pos } = await theSettledOrder(orderId);
    expect(order.status).toBe('CANCELLED');
    expect(order.timeline.map((e: { event: string }) => e.event)).not.toContain('held-in-pos');
    expect(pos).toEqual([expect.objectContaining({ status: 'voided', createRequests: 1 })]);
    expect((await whatThePartnerSaw(t, 'doordash', sent.partnerOrderId)).state).toBe('cancelled');
  }, 60_000);

  test('while the POS holds it and the partner is being told: CANCELLED, the held POS order voided', async () => {
    await givenThePartnerApiFaults(t, { latencyMs: 1500, endpoints: ['accept'] });
    const sent = await whenThePartnerSendsAnOrder(t, { partner: 'grubhub', storeId: 'store-001' });
    const orderId = sent.webhookBody.orderId as string;
    await eventually(async () => {
      const pos = await thePosOrders(t, orderId);
      return pos.length > 0 ? pos : undefined;
    }, 'the POS to hold the order');
    const cancel = await whenThePartnerSays(t, 'grubhub', sent.partnerOrderId, 'cancel');
    expect(cancel).toEqual({ webhookStatus: 202, webhookBody: { orderId, status: 'CANCELLED' } });

    const { order, pos } = await theSettledOrder(orderId);
    expect(order.status).toBe('CANCELLED');
    // Held, never accepted: the cancel came while the partner was being told.
    const events = order.timeline.map((e: { event: string }) => e.event);
    expect(events).toContain('held-in-pos');
    expect(events).not.toContain('accepted');
    expect(pos).toEqual([expect.objectContaining({ status: 'voided', createRequests: 1 })]);
    expect((await whatThePartnerSaw(t, 'grubhub', sent.partnerOrderId)).state).toBe('cancelled');
  }, 60_000);

  test('while it waits for the courier: CANCELLED, the held POS order voided', async () => {
    const { partner, partnerOrderId, orderId } = await givenAWaitingOrder('ubereats');
    expect((await whenThePartnerSays(t, partner, partnerOrderId, 'cancel')).webhookStatus).toBe(202);
    const { order, pos } = await theSettledOrder(orderId);
    expect(order.status).toBe('CANCELLED');
    expect(pos).toEqual([expect.objectContaining({ status: 'voided' })]);
    const again = await whenThePartnerSays(t, partner, partnerOrderId, 'cancel');
    expect(again.webhookStatus).toBe(202);
  }, 60_000);

  test('after the release: 409, the kitchen keeps the order', async () => {
    const { partner, partnerOrderId, orderId } = await givenAWaitingOrder('doordash');
    await whenThePartnerSays(t, partner, partnerOrderId, 'release');
    await theOrderReaches(t, orderId, 'RELEASED');
    const late = await whenThePartnerSays(t, partner, partnerOrderId, 'cancel');
    expect(late.webhookStatus).toBe(409);
    const { order, pos } = await theSettledOrder(orderId);
    expect(order.status).toBe('RELEASED');
    expect(pos).toEqual([expect.objectContaining({ status: 'fired' })]);
  }, 80_000);
  // Cancel racing the release or the pickup-time timeout: tests/e2e/races.test.ts.
});

onlyInProcess(
  'restarts the local cloud',
  'a restart while orders wait for their courier: every one still releases, exactly once',
  async () => {
    const waiting = await Promise.all(['doordash', 'ubereats', 'grubhub'].map((p) => givenAWaitingOrder(p)));
    await t.restart();
    for (const { partner, partnerOrderId } of waiting) {
      expect((await whenThePartnerSays(t, partner, partnerOrderId, 'release')).webhookStatus).toBe(202);
    }
    for (const { orderId } of waiting) {
      await theOrderReaches(t, orderId, 'RELEASED');
      const { order, pos } = await theSettledOrder(orderId);
      expect(kitchenReleases(order)).toEqual([expect.objectContaining({ detail: 'by courier' })]);
      expect(pos).toEqual([expect.objectContaining({ status: 'fired', createRequests: 1 })]);
      expect(await theWorkflowExecutionsOf(t, orderId)).toEqual([
        expect.objectContaining({ status: 'SUCCEEDED' }),
      ]);
    }
  },
  200_000,
);
