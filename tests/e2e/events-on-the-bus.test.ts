/**
 * The outcome events, read where a consumer reads them: a test rule on the order bus delivers every
 * `order-middleware` event to an SQS queue, read through the SDK. Each fact of an order's life is on
 * the bus exactly once, with its stable `eventId` (`{orderId}/{detail-type}`).
 */
import {
  type BusEvent,
  type BusObserver,
  givenALocalCloud,
  givenAQueueOnTheOrderBus,
  givenThePartnerApiFaults,
  type TestCloud,
  theOrderOnceItsWorkflowsEnd,
  theOrderReaches,
  whenTheBusHasDelivered,
  whenThePartnerSays,
  whenThePartnerSendsAnOrder,
} from '../steps/local-cloud';

let t: TestCloud;
let bus: BusObserver;
beforeAll(async () => {
  t = await givenALocalCloud();
  bus = await givenAQueueOnTheOrderBus(t);
}, 120_000);
afterAll(async () => {
  await bus?.close();
  await t?.stop();
});
afterEach(async () => {
  await givenThePartnerApiFaults(t, undefined);
});

/**
 * Once the order's workflows have ended and the bus has delivered all it was given: the detail-types
 * the queue got for the order, sorted, each event's id checked to be the stable one.
 */
async function theFactsOnTheBus(orderId: string): Promise<string[]> {
  await theOrderOnceItsWorkflowsEnd(t, orderId);
  await whenTheBusHasDelivered(t);
  const events = await bus.eventsOf(orderId);
  for (const event of events) {
    expect({ source: event.source, eventId: event.detail.eventId }).toEqual({
      source: 'order-middleware',
      eventId: `${orderId}/${event['detail-type']}`,
    });
    expect(event.detail.schemaVersion).toBe('1.0');
  }
  return events.map((event: BusEvent) => event['detail-type']).sort();
}

test('accepted then released by the courier: OrderAccepted and OrderReleasedToKitchen, once each', async () => {
  const sent = await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001' });
  const orderId = sent.webhookBody.orderId as string;
  await theOrderReaches(t, orderId, 'ACCEPTED');
  expect((await whenThePartnerSays(t, 'doordash', sent.partnerOrderId, 'release')).webhookStatus).toBe(202);
  await theOrderReaches(t, orderId, 'RELEASED');

  expect(await theFactsOnTheBus(orderId)).toEqual([
    'OrderAccepted',
    'OrderReceived',
    'OrderReleasedToKitchen',
  ]);
  const [released] = (await bus.eventsOf(orderId)).filter(
    (e) => e['detail-type'] === 'OrderReleasedToKitchen',
  );
  expect(released!.detail).toMatchObject({ orderId, releasedBy: 'courier' });
}, 80_000);

test('denied (the store is offline): OrderRejected once, with its reason', async () => {
  const sent = await whenThePartnerSendsAnOrder(t, {
    partner: 'grubhub',
    storeId: 'store-002',
    ignoreStoreState: true,
  });
  const orderId = sent.webhookBody.orderId as string;
  await theOrderReaches(t, orderId, 'REJECTED');

  expect(await theFactsOnTheBus(orderId)).toEqual(['OrderReceived', 'OrderRejected']);
  const [rejected] = (await bus.eventsOf(orderId)).filter((e) => e['detail-type'] === 'OrderRejected');
  expect(rejected!.detail).toMatchObject({ orderId, reason: 'STORE_OFFLINE' });
}, 60_000);

test('cancelled by the partner while waiting, cancel sent twice: OrderCancelled once', async () => {
  const sent = await whenThePartnerSendsAnOrder(t, { partner: 'ubereats', storeId: 'store-001' });
  const orderId = sent.webhookBody.orderId as string;
  await theOrderReaches(t, orderId, 'ACCEPTED');
  expect((await whenThePartnerSays(t, 'ubereats', sent.partnerOrderId, 'cancel')).webhookStatus).toBe(202);
  await theOrderReaches(t, orderId, 'CANCELLED');
  expect((await whenThePartnerSays(t, 'ubereats', sent.partnerOrderId, 'cancel')).webhookStatus).toBe(202);

  expect(await theFactsOnTheBus(orderId)).toEqual(['OrderAccepted', 'OrderCancelled', 'OrderReceived']);
  const [cancelled] = (await bus.eventsOf(orderId)).filter((e) => e['detail-type'] === 'OrderCancelled');
  expect(cancelled!.detail).toMatchObject({ orderId, cancelledBy: 'partner' });
}, 80_000);

test('failed (the partner would not take the accept): OrderFailed once, never OrderAccepted', async () => {
  await givenThePartnerApiFaults(t, { errorRate: 1, endpoints: ['accept'] });
  const sent = await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001' });
  const orderId = sent.webhookBody.orderId as string;
  await theOrderReaches(t, orderId, 'FAILED', 30_000);

  expect(await theFactsOnTheBus(orderId)).toEqual(['OrderFailed', 'OrderReceived']);
  const [failed] = (await bus.eventsOf(orderId)).filter((e) => e['detail-type'] === 'OrderFailed');
  expect(failed!.detail).toMatchObject({ orderId, reason: 'PARTNER_UNAVAILABLE' });
}, 80_000);
