/**
 * Store state end to end: an operator pauses a store or 86es an item with an `until` through the
 * store API; orders that still come in are refused for it; once `until` has passed the order is
 * taken again at once, and the minute's storeSchedules run (invoked directly here, as the local
 * cloud would on the minute) puts the store back online by `schedule` — and the changes reach the
 * order bus as StoreStatusChanged and ItemAvailabilityChanged with growing versions.
 *
 * The orders are sent with `ignoreStoreState`: the partner simulator sends them whatever the
 * marketplace shows (an order already on its way when the store paused), so it is the middleware's
 * own refusal that is tested here.
 */
import {
  type BusObserver,
  call,
  eventually,
  givenALocalCloud,
  givenAQueueOnTheOrderBus,
  type TestCloud,
  theOrderReaches,
  whenThePartnerSendsAnOrder,
  whenTheStoreSchedulesRun,
} from '../steps/local-cloud';

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

/** Every store event the bus has carried so far, in order. */
async function storeEventsSoFar() {
  return (await bus.everything())
    .filter((event) => ['StoreStatusChanged', 'ItemAvailabilityChanged'].includes(event['detail-type']))
    .map((event) => ({ type: event['detail-type'], detail: event.detail }));
}

const secondsFromNow = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
const sleepUntil = (iso: string) =>
  new Promise((resolve) => setTimeout(resolve, Math.max(0, Date.parse(iso) - Date.now() + 50)));
const store = async (storeId: string) => (await call('GET', `${t.httpUrl}/stores/${storeId}`)).body;

/** What storeSchedules does on the minute, now. */
function whenTheMinuteComes() {
  return whenTheStoreSchedulesRun<{ expired: { stores: number; items: number } }>(t);
}

/** An order for store-001 sent whatever the partner shows; its orderId. */
async function anOrderArrives(items: { sku: string; quantity: number }[]) {
  const sent = await whenThePartnerSendsAnOrder(t, {
    partner: 'doordash',
    storeId: 'store-001',
    items,
    ignoreStoreState: true,
  });
  expect(sent.webhookStatus).toBe(202);
  return sent.webhookBody.orderId as string;
}

test('a pause with until: orders are REJECTED STORE_PAUSED, then taken once until passes, and the schedule sets the store online', async () => {
  // Versions count from what the store was at (a shared target has seen other changes).
  const v = (await store('store-001')).version ?? 0;
  const until = secondsFromNow(6);
  const paused = await call('PUT', `${t.httpUrl}/stores/store-001/status`, {
    status: 'paused',
    reason: 'Kitchen short-staffed',
    until,
  });
  expect(paused.status).toBe(200);
  expect(await store('store-001')).toMatchObject({
    status: 'paused',
    reason: 'Kitchen short-staffed',
    until,
    changedBy: 'operator',
    version: v + 1,
  });

  const refused = await theOrderReaches(
    t,
    await anOrderArrives([{ sku: 'TACO-POLLO', quantity: 2 }]),
    'REJECTED',
  );
  expect(refused.denyReason).toBe('STORE_PAUSED');

  await sleepUntil(until);
  // Before the minute's job has run the record still says paused, but the pause is over: taken.
  await theOrderReaches(t, await anOrderArrives([{ sku: 'TACO-POLLO', quantity: 1 }]), 'ACCEPTED');

  // The minute may already have come on its own; either way the store ends online by schedule.
  await whenTheMinuteComes();
  const online = await store('store-001');
  expect(online).toMatchObject({ status: 'online', changedBy: 'schedule', version: v + 2 });
  expect(online).not.toHaveProperty('until');
  expect(online).not.toHaveProperty('reason');

  const storeEvents = await eventually(async () => {
    const events = await storeEventsSoFar();
    return events.filter((e) => e.type === 'StoreStatusChanged').length >= 2 ? events : undefined;
  }, 'both StoreStatusChanged events on the bus');
  expect(
    storeEvents
      .filter((e) => e.type === 'StoreStatusChanged' && e.detail.storeId === 'store-001')
      .map(({ detail }) => [detail.version, detail.status, detail.changedBy, detail.eventId]),
  ).toEqual([
    [v + 1, 'paused', 'operator', `store-001/StoreStatusChanged/${v + 1}`],
    [v + 2, 'online', 'schedule', `store-001/StoreStatusChanged/${v + 2}`],
  ]);
}, 60_000);

test('an 86 with until: orders for it are REJECTED ITEM_UNAVAILABLE, and it is back by itself', async () => {
  const veg = (view: { menu: { sku: string; version?: number }[] }) =>
    view.menu.find((item) => item.sku === 'TACO-VEG');
  const v = veg(await store('store-001'))?.version ?? 0;
  const until = secondsFromNow(4);
  const eightySixed = await call('PUT', `${t.httpUrl}/stores/store-001/items/TACO-VEG`, {
    available: false,
    until,
  });
  expect(eightySixed.status).toBe(200);
  expect(veg(await store('store-001'))).toMatchObject({ available: false, until, version: v + 1 });

  const refused = await theOrderReaches(
    t,
    await anOrderArrives([{ sku: 'TACO-VEG', quantity: 1 }]),
    'REJECTED',
  );
  expect(refused.denyReason).toBe('ITEM_UNAVAILABLE');

  await sleepUntil(until);
  await whenTheMinuteComes();
  const back = veg(await store('store-001'));
  expect(back).toMatchObject({ available: true, version: v + 2 });
  expect(back).not.toHaveProperty('until');

  const storeEvents = await eventually(async () => {
    const events = await storeEventsSoFar();
    return events.filter((e) => e.type === 'ItemAvailabilityChanged').length >= 2 ? events : undefined;
  }, 'both ItemAvailabilityChanged events on the bus');
  expect(
    storeEvents
      .filter((e) => e.type === 'ItemAvailabilityChanged' && e.detail.sku === 'TACO-VEG')
      .map(({ detail }) => [detail.version, detail.available, detail.changedBy]),
  ).toEqual([
    [v + 1, false, 'operator'],
    [v + 2, true, 'schedule'],
  ]);
}, 60_000);
