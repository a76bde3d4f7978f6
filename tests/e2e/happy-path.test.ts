import { theExpressRunsOf } from '../steps/express-logs';
import {
  eventually,
  givenALocalCloud,
  type TestCloud,
  theOrder,
  theOrderReaches,
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

/** The orders the happy paths below released, for the check of their Express runs. */
const releasedOrders: string[] = [];

describe.each(['doordash', 'ubereats', 'grubhub'])(
  'a %s order, accepted then released by the courier',
  (partner) => {
    test('reaches the kitchen exactly once, with the partner told at each step', async () => {
      const sent = await whenThePartnerSendsAnOrder(t, {
        partner,
        storeId: 'store-001',
        pickupInSeconds: 60,
      });
      expect(sent.webhookStatus).toBe(202);
      expect(sent.webhookBody).toEqual({
        orderId: expect.stringMatching(/^ord_/),
        partner,
        partnerOrderId: sent.partnerOrderId,
        status: 'RECEIVED',
      });
      const orderId = sent.webhookBody.orderId as string;

      const accepted = await theOrderReaches(t, orderId, 'ACCEPTED');
      const held = await thePosOrders(t, orderId);
      expect(held).toEqual([expect.objectContaining({ status: 'held', storeId: 'store-001' })]);
      expect(accepted.posReference).toBe(held[0].posOrderId);
      expect(await whatThePartnerSaw(t, partner, sent.partnerOrderId)).toMatchObject({
        state: 'accepted',
        posReference: held[0].posOrderId,
      });

      const release = await whenThePartnerSays(t, partner, sent.partnerOrderId, 'release');
      expect(release.webhookStatus).toBe(202);
      const released = await theOrderReaches(t, orderId, 'RELEASED');
      // RELEASED is recorded first (it decides the race with a cancel), then the POS fires.
      const fired = await eventually(async () => {
        const orders = await thePosOrders(t, orderId);
        return orders.every((o) => o.status === 'fired') ? orders : undefined;
      }, 'the POS order to fire');
      expect(fired).toEqual([expect.objectContaining({ status: 'fired', createRequests: 1 })]);
      releasedOrders.push(orderId);
      expect(released.timeline.map((e: { event: string }) => e.event)).toEqual(
        expect.arrayContaining([
          'received',
          'held-in-pos',
          'accepted',
          'waiting-for-courier',
          'courier-arriving',
          'released-to-kitchen',
        ]),
      );
    });
  },
);

test('the Express runs of each released order carry its order id as their name, so their logs lead to it', async () => {
  expect(releasedOrders).toHaveLength(3);
  for (const orderId of releasedOrders)
    for (const machine of ['OrderPrepare', 'OrderFinish']) {
      const runs = await eventually(async () => {
        const found = await theExpressRunsOf(t, machine, orderId);
        return found.length > 0 && found.every((run) => run.ended) ? found : undefined;
      }, `the ${machine} run of ${orderId} in its log group`);
      expect(runs.map((run) => run.events.at(-1)?.type)).toEqual(['ExecutionSucceeded']);
    }
});

test('GET /orders of an unknown order is a JSON 404', async () => {
  const answer = await theOrder(t, 'ord_aaaaaaaaaaaaaaaaaaaaaaaaaa');
  expect(answer.status).toBe(404);
  expect(answer.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
});
