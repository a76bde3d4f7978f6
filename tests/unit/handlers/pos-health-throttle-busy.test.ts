/**
 * POS health, throttling and busy mode (issue 9, engineer C), through the handlers, against a real
 * DynamoDB (dynalite with the tables of resources/data.yml) and the project's POS and partner
 * simulators over HTTP. The store events go to a mocked EventBridge.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { demoStore } from '../../../functions/lib/domain/demo-stores';
import type { CanonicalOrder, OrderRecord } from '../../../functions/lib/schemas/order';
import type { Store } from '../../../functions/lib/schemas/store';
import { doorDashWebhook } from '../domain/fixtures';
import { OrdersTable, startTestTables } from './dynamo-tables';
import {
  canonicalOrderFrom,
  lambdaContext,
  MAX_COURIER_WAIT_SECONDS,
  ORDERS_TABLE,
  orderRecord,
  STORES_TABLE,
  setHandlerEnv,
  ssmParameters,
  stepError,
} from './harness';
import { LocalApis } from './local-apis';

const K = 3;
const tables = await startTestTables();
const apis = await LocalApis.start();
setHandlerEnv({ ...apis.env, POS_FAILURES_BEFORE_PAUSE: String(K) });
const storeSchedules = (await import('../../../functions/store-schedules')).handler;
const validate = (await import('../../../functions/validate-order')).handler;
const createPosOrder = (await import('../../../functions/create-pos-order')).handler;
const accept = (await import('../../../functions/accept-order')).handler;
const deny = (await import('../../../functions/deny-order')).handler;
const voidPosOrder = (await import('../../../functions/void-pos-order')).handler;
const { dynamo } = await import('../../../functions/lib/adapters/dynamo');
const { cancelOrder } = await import('../../../functions/lib/services/courier');

const ssm = mockClient(SSMClient);
const bus = mockClient(EventBridgeClient);
const orders = new OrdersTable(tables.doc, ORDERS_TABLE);
const ctx = () => lambdaContext('order-middleware-test-step');

/** A DoorDash order, ASAP unless it names a pickup time (the fixture's pickup lies in the past). */
async function orderNumbered(partnerOrderId: string, pickupAt?: string): Promise<CanonicalOrder> {
  const { estimated_pickup_time: _fixturePickup, ...order } = doorDashWebhook().order;
  return canonicalOrderFrom('doordash', {
    ...doorDashWebhook(),
    order: { ...order, id: partnerOrderId, ...(pickupAt ? { estimated_pickup_time: pickupAt } : {}) },
  });
}

async function storeIs(storeId: string, change: Partial<Store> = {}) {
  await tables.doc.send(
    new PutCommand({
      TableName: STORES_TABLE,
      Item: { pk: `STORE#${storeId}`, ...demoStore(storeId), ...change },
    }),
  );
}
async function storeNow(storeId: string): Promise<Store> {
  const { Item } = await tables.doc.send(
    new GetCommand({ TableName: STORES_TABLE, Key: { pk: `STORE#${storeId}` } }),
  );
  return Item as Store;
}
async function placesIn(storeId: string, window: string): Promise<string[]> {
  const { Item } = await tables.doc.send(
    new GetCommand({ TableName: STORES_TABLE, Key: { pk: `THROTTLE#${storeId}#${window}` } }),
  );
  return [...((Item?.orders as Set<string> | undefined) ?? [])].sort();
}
const storeEvents = () =>
  bus
    .commandCalls(PutEventsCommand)
    .flatMap((call) => call.args[0].input.Entries ?? [])
    .filter((entry) => entry.DetailType === 'StoreStatusChanged')
    .map((entry) => JSON.parse(entry.Detail ?? '{}'));
const posDown = (...storeIds: string[]) => {
  apis.pos.state.offlineStores = new Set(storeIds);
};
const probe = () => storeSchedules({}, ctx());
const given = async (order: CanonicalOrder, overrides: Partial<OrderRecord> = {}) => {
  await orders.putOne(orderRecord(order, { claimedBy: 'run-1', ...overrides }));
};
const posFailure = { Error: 'PosUnavailable', Cause: '{"errorMessage":"POS answered 503"}' };

afterAll(async () => {
  await apis.close();
  await tables.close();
});

beforeEach(async () => {
  await tables.clear();
  apis.reset();
  for (const mock of [ssm, bus]) mock.reset();
  ssm
    .on(GetParameterCommand)
    .callsFake(({ Name }) => ({ Parameter: { Name, Value: ssmParameters()[Name] } }));
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
  await storeIs('store-001');
  await storeIs('store-002');
});

describe('POS health probe (storeSchedules)', () => {
  it(`pauses a store by pos-health at the ${K}th failed probe in a row, not before, and tells the bus`, async () => {
    posDown('store-001');

    for (let run = 1; run < K; run++) await probe();
    const before = await storeNow('store-001');
    await probe();
    const after = await storeNow('store-001');

    expect(before).toMatchObject({ status: 'online', posHealth: { consecutiveFailures: K - 1 } });
    expect(after).toMatchObject({
      status: 'paused',
      reason: 'POS_UNAVAILABLE',
      changedBy: 'pos-health',
      posHealth: { consecutiveFailures: K },
    });
    expect(storeEvents()).toEqual([
      expect.objectContaining({ storeId: 'store-001', status: 'paused', changedBy: 'pos-health' }),
    ]);
    // The other store's POS answers: it was probed and left alone.
    expect(apis.callsTo('GET', '/pos/v1/stores/store-002/health')).toHaveLength(K);
    expect((await storeNow('store-002')).posHealth).toBeUndefined();
  });

  it('counts failures in a row only: an answer in between starts the count again', async () => {
    posDown('store-001');
    for (let run = 1; run < K; run++) await probe();
    posDown();
    await probe();
    posDown('store-001');
    for (let run = 1; run < K; run++) await probe();

    expect(await storeNow('store-001')).toMatchObject({
      status: 'online',
      posHealth: { consecutiveFailures: K - 1 },
    });
  });

  it('brings a store it paused back online when its POS answers, the count reset', async () => {
    posDown('store-001');
    for (let run = 0; run < K; run++) await probe();
    posDown();

    await probe();

    expect(await storeNow('store-001')).toMatchObject({
      status: 'online',
      changedBy: 'pos-health',
      posHealth: { consecutiveFailures: 0 },
    });
    expect(storeEvents().map((event) => event.status)).toEqual(['paused', 'online']);
  });

  it('never lifts an operator’s pause made during a POS-health pause', async () => {
    posDown('store-001');
    for (let run = 0; run < K; run++) await probe();
    const paused = await storeNow('store-001');
    await storeIs('store-001', {
      ...paused,
      status: 'paused',
      reason: 'deep clean',
      changedBy: 'operator',
      version: (paused.version ?? 0) + 1,
    });
    posDown();

    await probe();

    expect(await storeNow('store-001')).toMatchObject({
      status: 'paused',
      reason: 'deep clean',
      changedBy: 'operator',
    });
  });

  it('neither pauses nor brings back an offline store, whatever its POS says', async () => {
    posDown('store-002');
    for (let run = 0; run < K + 1; run++) await probe();
    posDown();
    await probe();

    expect(await storeNow('store-002')).toMatchObject({ status: 'offline' });
    expect(storeEvents()).toEqual([]);
  });
});

describe('an order that ends FAILED POS_UNAVAILABLE', () => {
  it(`counts against its store's POS; the ${K}th in a row pauses the store`, async () => {
    const failed: CanonicalOrder[] = [];
    for (let n = 1; n <= K; n++) failed.push(await orderNumbered(`dd-pos-${n}`));
    for (const order of failed) await given(order);

    for (const order of failed.slice(0, -1)) await deny({ orderId: order.orderId, error: posFailure }, ctx());
    const before = await storeNow('store-001');
    await deny({ orderId: failed.at(-1)!.orderId, error: posFailure }, ctx());

    expect(before).toMatchObject({ status: 'online', posHealth: { consecutiveFailures: K - 1 } });
    expect(await storeNow('store-001')).toMatchObject({
      status: 'paused',
      reason: 'POS_UNAVAILABLE',
      changedBy: 'pos-health',
    });
  });

  it('counts once, however often its ending step runs again', async () => {
    const order = await orderNumbered('dd-pos-again');
    await given(order);

    for (let run = 0; run < K; run++) await deny({ orderId: order.orderId, error: posFailure }, ctx());

    expect(await storeNow('store-001')).toMatchObject({
      status: 'online',
      posHealth: { consecutiveFailures: 1 },
    });
  });

  it('counts failures in a row only: an order the POS then takes starts the count again', async () => {
    const failing: CanonicalOrder[] = [];
    for (let n = 1; n <= K; n++) failing.push(await orderNumbered(`dd-flaky-${n}`));
    const taken = await orderNumbered('dd-flaky-taken');
    for (const order of [...failing, taken]) await given(order);
    for (const order of failing.slice(0, K - 1))
      await deny({ orderId: order.orderId, error: posFailure }, ctx());

    const validated = await validate({ orderId: taken.orderId, order: taken }, ctx());
    await createPosOrder(
      { orderId: taken.orderId, order: validated.order, posFailures: validated.posFailures },
      ctx(),
    );
    const afterSuccess = await storeNow('store-001');
    await deny({ orderId: failing.at(-1)!.orderId, error: posFailure }, ctx());

    expect(validated.posFailures).toBe(K - 1);
    expect(afterSuccess.posHealth).toEqual({ consecutiveFailures: 0 });
    expect(await storeNow('store-001')).toMatchObject({
      status: 'online',
      posHealth: { consecutiveFailures: 1 },
    });
  });

  it('a REJECTED order and a partner that stayed down count nothing against the POS', async () => {
    const rejected = await orderNumbered('dd-rejected');
    const partnerDown = await orderNumbered('dd-partner-down');
    await given(rejected);
    await given(partnerDown);

    await deny(
      {
        orderId: rejected.orderId,
        error: { Error: 'OrderDenied', Cause: '{"errorMessage":"ITEM_UNAVAILABLE: out of horchata"}' },
      },
      ctx(),
    );
    await deny({ orderId: partnerDown.orderId, error: { Error: 'PartnerUnavailable' } }, ctx());

    expect((await storeNow('store-001')).posHealth).toBeUndefined();
  });
});

describe('throttling', () => {
  const throttle = { ordersPerWindow: 1, windowMinutes: 30 };
  const windowOf = (at: Date) => new Date(Math.floor(at.getTime() / 1_800_000) * 1_800_000).toISOString();

  it('gives the first order the window of now and moves the next to the next window, telling it the new pickup', async () => {
    await storeIs('store-001', { throttle });
    const first = await orderNumbered('dd-t1');
    const second = await orderNumbered('dd-t2');
    const now = new Date();

    const one = await validate({ orderId: first.orderId, order: first }, ctx());
    const two = await validate({ orderId: second.orderId, order: second }, ctx());

    const thisWindow = windowOf(now);
    const nextWindow = new Date(Date.parse(thisWindow) + 1_800_000).toISOString();
    expect(one).toMatchObject({ throttleWindow: thisWindow });
    expect(one.order.pickupAt).toBeUndefined();
    expect(two).toMatchObject({ throttleWindow: nextWindow, order: { pickupAt: nextWindow } });
    expect(await placesIn('store-001', thisWindow)).toEqual([first.orderId]);
    expect(await placesIn('store-001', nextWindow)).toEqual([second.orderId]);
  });

  it('refuses STORE_BUSY when no window within the hour has room', async () => {
    await storeIs('store-001', { throttle });
    // 30-minute windows: the one of now and the two starting within the hour.
    for (let n = 1; n <= 3; n++) {
      const order = await orderNumbered(`dd-full-${n}`);
      await validate({ orderId: order.orderId, order }, ctx());
    }
    const late = await orderNumbered('dd-full-4');

    const error = await stepError(validate({ orderId: late.orderId, order: late }, ctx()));

    expect(error).toMatchObject({ name: 'OrderDenied', message: expect.stringMatching(/^STORE_BUSY:/) });
  });

  it('takes one place for an order however often its validation runs', async () => {
    await storeIs('store-001', { throttle: { ordersPerWindow: 2, windowMinutes: 30 } });
    const order = await orderNumbered('dd-rerun');

    const answers = [];
    for (let run = 0; run < 3; run++) answers.push(await validate({ orderId: order.orderId, order }, ctx()));

    expect(new Set(answers.map((a) => a.throttleWindow)).size).toBe(1);
    expect(await placesIn('store-001', answers[0]!.throttleWindow!)).toEqual([order.orderId]);
  });

  it('makes no DynamoDB call beyond the store read for a store without throttle', async () => {
    const order = await orderNumbered('dd-unthrottled');
    const send = jest.spyOn(dynamo, 'send');
    try {
      const answer = await validate({ orderId: order.orderId, order }, ctx());
      expect(answer.throttleWindow).toBeNull();
      expect(send).toHaveBeenCalledTimes(1);
    } finally {
      send.mockRestore();
    }
  });

  it('makes exactly one more for a throttled store with room', async () => {
    await storeIs('store-001', { throttle });
    const order = await orderNumbered('dd-one-more');
    const send = jest.spyOn(dynamo, 'send');
    try {
      await validate({ orderId: order.orderId, order }, ctx());
      expect(send).toHaveBeenCalledTimes(2);
    } finally {
      send.mockRestore();
    }
  });

  it('records the place on the order when it is held, and a FAILED ending gives it back', async () => {
    await storeIs('store-001', { throttle });
    const order = await orderNumbered('dd-give-back');
    await given(order);
    const { throttleWindow } = await validate({ orderId: order.orderId, order }, ctx());
    await createPosOrder({ orderId: order.orderId, order, throttleWindow }, ctx());
    expect(await orders.read(order.orderId)).toMatchObject({ throttleWindow });

    await deny({ orderId: order.orderId, error: posFailure }, ctx());

    expect(await placesIn('store-001', throttleWindow!)).toEqual([]);
  });

  it('gives the place back when the POS create failed before the hold (the window comes from the workflow)', async () => {
    await storeIs('store-001', { throttle });
    const order = await orderNumbered('dd-pos-down');
    await given(order);
    const { throttleWindow } = await validate({ orderId: order.orderId, order }, ctx());

    await deny({ orderId: order.orderId, error: posFailure, throttleWindow }, ctx());

    expect(await placesIn('store-001', throttleWindow!)).toEqual([]);
    expect(await orders.read(order.orderId)).toMatchObject({ status: 'FAILED' });
  });

  it('gives the place back when a cancel wins, once, so another order can have it', async () => {
    await storeIs('store-001', { throttle });
    const cancelled = await orderNumbered('dd-cancelled');
    await given(cancelled);
    const { throttleWindow } = await validate({ orderId: cancelled.orderId, order: cancelled }, ctx());
    await createPosOrder({ orderId: cancelled.orderId, order: cancelled, throttleWindow }, ctx());
    await cancelOrder(cancelled.orderId);

    await voidPosOrder({ orderId: cancelled.orderId }, ctx());
    await voidPosOrder({ orderId: cancelled.orderId }, ctx());

    expect(await placesIn('store-001', throttleWindow!)).toEqual([]);
    const next = await orderNumbered('dd-after-cancel');
    expect(await validate({ orderId: next.orderId, order: next }, ctx())).toMatchObject({ throttleWindow });
  });

  it('gives the place back when the hold loses to a cancel', async () => {
    await storeIs('store-001', { throttle });
    const order = await orderNumbered('dd-hold-lost');
    await given(order);
    const { throttleWindow } = await validate({ orderId: order.orderId, order }, ctx());
    await cancelOrder(order.orderId);

    const error = await stepError(createPosOrder({ orderId: order.orderId, order, throttleWindow }, ctx()));

    expect(error.name).toBe('OrderCancelled');
    expect(await placesIn('store-001', throttleWindow!)).toEqual([]);
  });
});

describe('busy mode', () => {
  it('validation answers the busy minutes; the accept tells the partner the later pickup and waits longer', async () => {
    await storeIs('store-001', { busy: { extraPrepMinutes: 20 } });
    const order = await orderNumbered('dd-busy');
    await given(order);
    apis.partnerHolds(order);

    const validated = await validate({ orderId: order.orderId, order }, ctx());
    const { posReference } = await createPosOrder({ orderId: order.orderId, order: validated.order }, ctx());
    const before = Date.now();
    const accepted = await accept(
      { orderId: order.orderId, order: validated.order, posReference, busyMinutes: validated.busyMinutes },
      ctx(),
    );

    expect(validated.busyMinutes).toBe(20);
    const told = apis.partnerView(order)?.pickupAt;
    expect(Date.parse(told!) - before).toBeGreaterThanOrEqual(20 * 60_000 - 1000);
    expect(Date.parse(told!) - before).toBeLessThan(21 * 60_000);
    expect((await orders.read(order.orderId)).pickupAt).toBe(told);
    expect(accepted.courierWaitSeconds).toBe(MAX_COURIER_WAIT_SECONDS + 20 * 60);
  });

  it('answers no busy minutes for a store that is not busy, and the accept sends no pickup for ASAP', async () => {
    const order = await orderNumbered('dd-not-busy');
    await given(order);
    apis.partnerHolds(order);

    const validated = await validate({ orderId: order.orderId, order }, ctx());
    const { posReference } = await createPosOrder({ orderId: order.orderId, order: validated.order }, ctx());
    await accept({ orderId: order.orderId, order: validated.order, posReference, busyMinutes: 0 }, ctx());

    expect(validated.busyMinutes).toBe(0);
    expect(apis.partnerView(order)?.pickupAt).toBeUndefined();
  });
});
