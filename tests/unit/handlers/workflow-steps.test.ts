/**
 * The workflow's Lambda steps, against a real DynamoDB (dynalite, with the tables and the owed-work
 * index of resources/data.yml) and the project's POS and partner simulators over HTTP. Each step
 * answers what the next state needs or throws the error the state machine's Retry/Catch names; an
 * ending and what it owes are one write; what a step cannot pay stays owed on the order record.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { demoStore } from '../../../functions/lib/domain/demo-stores';
import type { CanonicalOrder, OrderRecord } from '../../../functions/lib/schemas/order';
import { doorDashWebhook } from '../domain/fixtures';
import { OrdersTable, startTestTables, tableDefinitions } from './dynamo-tables';
import {
  canonicalOrderFrom,
  IDEMPOTENCY_TABLE,
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

const tables = await startTestTables();
const apis = await LocalApis.start();
const RETRY_BASE_SECONDS = 60;
const HORIZON_SECONDS = 900;
setHandlerEnv({
  ...apis.env,
  OWED_RETRY_BASE_SECONDS: String(RETRY_BASE_SECONDS),
  OWED_RETRY_MAX_SECONDS: '3600',
  POS_LATE_WRITE_HORIZON_SECONDS: String(HORIZON_SECONDS),
});
const validate = (await import('../../../functions/validate-order')).handler;
const createPosOrder = (await import('../../../functions/create-pos-order')).handler;
const accept = (await import('../../../functions/accept-order')).handler;
const deny = (await import('../../../functions/deny-order')).handler;
const waitForCourier = (await import('../../../functions/wait-for-courier')).handler;
const releaseToKitchen = (await import('../../../functions/release-to-kitchen')).handler;
const voidPosOrder = (await import('../../../functions/void-pos-order')).handler;
const reconcile = (await import('../../../functions/reconcile-orders')).handler;
const settleStopped = (await import('../../../functions/settle-stopped-workflow')).handler;
// The partner's cancel and release as the webhooks apply them: the writes the steps then meet.
const { cancelOrder, requestRelease } = await import('../../../functions/lib/services/courier');

const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const bus = mockClient(EventBridgeClient);
const orders = new OrdersTable(tables.doc, ORDERS_TABLE);

const doorDashOrder = (partnerOrderId: string) =>
  canonicalOrderFrom('doordash', {
    ...doorDashWebhook(),
    order: { ...doorDashWebhook().order, id: partnerOrderId },
  });
const order: CanonicalOrder = await doorDashOrder('dd-9001');
const { orderId } = order;
const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:order-workflow:run-1';
const ctx = () => lambdaContext('order-middleware-test-step');

/** The order as the intake and the claim left it, plus what a test needs. */
const given = async (overrides: Partial<OrderRecord> = {}, of: CanonicalOrder = order) => {
  const record = orderRecord(of, { claimedBy: EXECUTION, ...overrides });
  await orders.putOne(record);
  return record;
};

const OWED_ATTRIBUTES = [
  'owesPosVoid',
  'owesPartner',
  'owesEvent',
  'owedQueue',
  'owedAt',
  'owedSince',
  'owedAttempts',
];
const owedPartOf = (record: OrderRecord) =>
  Object.fromEntries(Object.entries(record).filter(([key]) => OWED_ATTRIBUTES.includes(key)));
const events = (record: OrderRecord) => record.timeline.map((entry) => entry.event);
const lineOf = (record: OrderRecord, event: string) => record.timeline.find((entry) => entry.event === event);
/** The detail-types of every PutEvents the functions sent, failed tries included. */
const putOnTheBus = () =>
  bus.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries?.[0]?.DetailType);
const detailOf = (n: number) =>
  JSON.parse(bus.commandCalls(PutEventsCommand)[n]?.args[0].input.Entries?.[0]?.Detail ?? '{}');

const denial = (message: string) => ({
  Error: 'OrderDenied',
  Cause: JSON.stringify({ errorType: 'OrderDenied', errorMessage: message, trace: [] }),
});

afterAll(async () => {
  await apis.close();
  await tables.close();
});

beforeEach(async () => {
  await tables.clear();
  apis.reset();
  for (const mock of [sfn, ssm, bus]) mock.reset();
  ssm
    .on(GetParameterCommand)
    .callsFake(({ Name }) => ({ Parameter: { Name, Value: ssmParameters()[Name] } }));
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
});

describe('validate-order', () => {
  async function storesTableHolds(
    storeId: string,
    change: { status?: 'online' | 'offline' | 'paused'; soldOut?: string; prepMinutes?: number } = {},
  ) {
    const store = demoStore(storeId)!;
    if (change.status) store.status = change.status;
    if (change.prepMinutes !== undefined) store.prepMinutes = change.prepMinutes;
    for (const item of store.menu) if (item.sku === change.soldOut) item.available = false;
    await tables.doc.send(
      new PutCommand({
        TableName: STORES_TABLE,
        Item: { pk: `STORE#${storeId}`, ...store },
      }),
    );
  }

  it('passes an order the store can make, priced from the menu, with the store’s prep minutes', async () => {
    await storesTableHolds('store-001', { prepMinutes: 25 });

    const result = await validate({ orderId, order }, ctx());

    expect(result.prepMinutes).toBe(25);
    expect(result.order).toMatchObject({ orderId, storeId: 'store-001', subtotal: 1775, total: 1935 });
    expect(result.order.items.map((item) => [item.sku, item.name, item.unitPrice])).toEqual([
      ['TACO-AL-PASTOR', 'Al Pastor Taco', 450],
      ['DRINK-HORCHATA', 'Horchata', 375],
    ]);
  });

  it.each([
    ['offline', { status: 'offline' as const }, 'STORE_OFFLINE'],
    ['paused', { status: 'paused' as const }, 'STORE_PAUSED'],
    ['out of horchata', { soldOut: 'DRINK-HORCHATA' }, 'ITEM_UNAVAILABLE'],
  ])('denies when the store is %s, naming the reason', async (_, change, reason) => {
    await storesTableHolds('store-001', change);

    const error = await stepError(validate({ orderId, order }, ctx()));

    expect(error.name).toBe('OrderDenied');
    expect(error.message.startsWith(`${reason}:`)).toBe(true);
  });

  it('denies an order for a store we do not have as INVALID_ORDER', async () => {
    await storesTableHolds('store-001');

    const error = await stepError(validate({ orderId, order: { ...order, storeId: 'store-404' } }, ctx()));

    expect(error).toMatchObject({ name: 'OrderDenied', message: expect.stringMatching(/^INVALID_ORDER/) });
  });
});

describe('create-pos-order', () => {
  const idempotencyItems = async () =>
    (await tables.doc.send(new ScanCommand({ TableName: IDEMPOTENCY_TABLE }))).Items ?? [];

  it('holds the order in the POS under our order id and records the POS number on the order', async () => {
    await given();

    const result = await createPosOrder({ orderId, order }, ctx());

    const held = apis.posOrdersOf(orderId);
    expect(held).toEqual([{ posOrderId: expect.any(String), status: 'held' }]);
    expect(result).toEqual({ posReference: held[0]?.posOrderId });
    const posOrder = apis.posOrder(result.posReference);
    expect(posOrder).toMatchObject({ idempotencyKey: orderId, reference: orderId, storeId: 'store-001' });
    expect(posOrder?.request.total).toBe(1935);
    const stored = await orders.read(orderId);
    expect(stored).toMatchObject({ status: 'RECEIVED', posReference: result.posReference });
    expect(lineOf(stored, 'held-in-pos')?.detail).toBe(result.posReference);
  });

  it('keeps an idempotency record keyed by the order id alone, expiring after 48 hours', async () => {
    await given();
    const before = Math.floor(Date.now() / 1000);

    await createPosOrder({ orderId, order }, ctx());
    const after = Math.ceil(Date.now() / 1000);

    const ttl = tableDefinitions('order-middleware', 'test').find((t) => t.logicalId === 'IdempotencyTable')
      ?.properties.TimeToLiveSpecification as { AttributeName: string };
    expect(ttl.AttributeName).toBe('expiration');
    const [item, ...others] = await idempotencyItems();
    expect(others).toHaveLength(0);
    const [held] = apis.posOrdersOf(orderId);
    expect(item).toMatchObject({ status: 'COMPLETED', data: { posReference: held?.posOrderId } });
    expect(item?.expiration).toBeGreaterThanOrEqual(before + 48 * 3600);
    expect(item?.expiration).toBeLessThanOrEqual(after + 48 * 3600);

    // Another order content under the same order id is the same record: the key is the order id.
    const changed = { ...order, notes: 'a different delivery of the same order', total: 1936 };
    expect(await createPosOrder({ orderId, order: changed }, ctx())).toEqual({
      posReference: held?.posOrderId,
    });
    expect((await idempotencyItems()).map((i) => i.id)).toEqual([item?.id]);

    // Another order id is another record.
    const other = await doorDashOrder('dd-9002');
    await given({}, other);
    await createPosOrder({ orderId: other.orderId, order: other }, ctx());
    expect(await idempotencyItems()).toHaveLength(2);
  });

  it('answers a re-run from the stored result without calling the POS again', async () => {
    await given();
    const first = await createPosOrder({ orderId, order }, ctx());

    const again = await createPosOrder({ orderId, order }, ctx());

    expect(again).toEqual(first);
    expect(apis.callsTo('POST', '/pos/v1/stores/store-001/orders')).toHaveLength(1);
    expect(apis.posOrder(first.posReference)?.createRequests).toBe(1);
  });

  it('throws PosUnavailable when the POS answers 503, leaving nothing that would stop the retry', async () => {
    await given();
    apis.posFails(['create'], 503);

    const error = await stepError(createPosOrder({ orderId, order }, ctx()));

    expect(error.name).toBe('PosUnavailable');
    expect((await orders.read(orderId)).posReference).toBeUndefined();
    expect(await idempotencyItems()).toHaveLength(0);

    apis.healPos();
    const retried = await createPosOrder({ orderId, order }, ctx());
    expect(apis.posOrdersOf(orderId)).toEqual([{ posOrderId: retried.posReference, status: 'held' }]);
  });

  it.each([400, 401, 403, 422])(
    'throws PosRefused, not a retried PosUnavailable, when the POS refuses the create with %i',
    async (status) => {
      await given();
      apis.posFails(['create'], status);

      const error = await stepError(createPosOrder({ orderId, order }, ctx()));

      expect(error.name).toBe('PosRefused');
      expect(error.message).toContain(`answered ${status}`);
      expect((await orders.read(orderId)).posReference).toBeUndefined();
    },
  );

  it.each([408, 429, 500, 503])('keeps %i a PosUnavailable the workflow retries', async (status) => {
    await given();
    apis.posFails(['create'], status);

    const error = await stepError(createPosOrder({ orderId, order }, ctx()));

    expect(error.name).toBe('PosUnavailable');
  });

  it('throws OrderCancelled when the partner cancelled meanwhile, voiding nothing itself', async () => {
    await given();
    await cancelOrder(orderId);
    const cancelled = await orders.read(orderId);

    const error = await stepError(createPosOrder({ orderId, order }, ctx()));

    expect(error.name).toBe('OrderCancelled');
    expect(apis.callsTo('POST', /\/void$/)).toHaveLength(0);
    expect(apis.posOrdersOf(orderId)).toEqual([{ posOrderId: expect.any(String), status: 'held' }]);
    // The void stays owed by the cancel's own write, for the void-pos-order step to pay.
    expect(await orders.read(orderId)).toEqual(cancelled);
    expect(cancelled).toMatchObject({ status: 'CANCELLED', owesPosVoid: true, owedQueue: 'owed' });
  });
});

describe('accept-order', () => {
  const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

  it('accepts with the partner, carrying the POS reference and pickup time, and marks the order ACCEPTED', async () => {
    const pickupAt = inMinutes(10);
    await given({ posReference: 'pos-1' });
    apis.partnerHolds(order);

    const result = await accept({ orderId, order: { ...order, pickupAt }, posReference: 'pos-1' }, ctx());

    expect(apis.partnerView(order)).toMatchObject({ state: 'accepted', posReference: 'pos-1', pickupAt });
    const stored = await orders.read(orderId);
    expect(stored).toMatchObject({ status: 'ACCEPTED', posReference: 'pos-1' });
    expect(lineOf(stored, 'accepted')?.detail).toBe('POS pos-1');
    expect(result.orderId).toBe(orderId);
    expect(result.detail).toMatchObject({ orderId, posReference: 'pos-1', pickupAt });
  });

  it('answers courierWaitSeconds until the pickup time', async () => {
    await given({ posReference: 'pos-1' });
    apis.partnerHolds(order);

    const result = await accept(
      { orderId, order: { ...order, pickupAt: inMinutes(10) }, posReference: 'pos-1' },
      ctx(),
    );

    expect(result.courierWaitSeconds).toBeGreaterThanOrEqual(598);
    expect(result.courierWaitSeconds).toBeLessThanOrEqual(600);
  });

  it('caps the courier wait at the stage’s limit, and uses the limit without a pickup time', async () => {
    await given({ posReference: 'pos-1' });
    apis.partnerHolds(order);
    // Due within the hour, but later than the stage's 15-minute limit.
    const later = await accept(
      { orderId, order: { ...order, pickupAt: inMinutes(40) }, posReference: 'pos-1' },
      ctx(),
    );
    const { pickupAt: _, ...withoutPickup } = order;
    const none = await accept({ orderId, order: withoutPickup, posReference: 'pos-1' }, ctx());

    expect(later.courierWaitSeconds).toBe(MAX_COURIER_WAIT_SECONDS);
    expect(none.courierWaitSeconds).toBe(MAX_COURIER_WAIT_SECONDS);
  });

  it('waits for a scheduled order until its kitchen must start: the pickup less the store’s prep minutes', async () => {
    await given({ posReference: 'pos-1' });
    apis.partnerHolds(order);

    const result = await accept(
      { orderId, order: { ...order, pickupAt: inMinutes(180) }, posReference: 'pos-1', prepMinutes: 20 },
      ctx(),
    );

    // 180 minutes to pickup, 20 of them the kitchen's: 160 minutes.
    expect(result.courierWaitSeconds).toBeGreaterThanOrEqual(9598);
    expect(result.courierWaitSeconds).toBeLessThanOrEqual(9600);
  });

  it('throws PartnerUnavailable when the partner API answers 503, and the order stays RECEIVED', async () => {
    await given({ posReference: 'pos-1' });
    apis.partnerHolds(order);
    apis.partnerFails(['accept'], 503);

    const error = await stepError(accept({ orderId, order, posReference: 'pos-1' }, ctx()));

    expect(error.name).toBe('PartnerUnavailable');
    expect((await orders.read(orderId)).status).toBe('RECEIVED');
  });

  it('throws OrderCancelled when the order was cancelled meanwhile, and calls no void itself', async () => {
    const { posOrderId } = apis.posHolds(order);
    await given({ posReference: posOrderId });
    apis.partnerHolds(order);
    await cancelOrder(orderId);
    const cancelled = await orders.read(orderId);

    const error = await stepError(accept({ orderId, order, posReference: posOrderId }, ctx()));

    expect(error.name).toBe('OrderCancelled');
    expect(apis.posCalls).toEqual([]);
    expect(apis.posOrder(posOrderId)?.status).toBe('held');
    expect(await orders.read(orderId)).toEqual(cancelled);
  });
});

describe('deny-order', () => {
  it('rejects a denied order with its reason, denies it to the partner, and owes nothing', async () => {
    await given();
    apis.partnerHolds(order);

    const result = await deny({ orderId, error: denial('STORE_OFFLINE: store store-001 is offline') }, ctx());

    expect(result).toMatchObject({
      detailType: 'OrderRejected',
      owed: false,
      detail: { orderId, reason: 'STORE_OFFLINE' },
    });
    const stored = await orders.read(orderId);
    expect(stored).toMatchObject({ status: 'REJECTED', denyReason: 'STORE_OFFLINE' });
    expect(owedPartOf(stored)).toEqual({});
    expect(await orders.owedWork()).toEqual([]);
    expect(apis.partnerView(order)).toMatchObject({ state: 'denied', denyReason: 'STORE_OFFLINE' });
    expect(apis.callsTo('POST', '/doordash/v1/orders/dd-9001/deny')).toHaveLength(1);
    // Never held in the POS: nothing to void, nothing to look up.
    expect(apis.posCalls).toEqual([]);
  });

  it('fails an order the POS never confirmed, voids the order its lost answer made (found by our id) and denies POS_UNAVAILABLE', async () => {
    await given();
    const lost = apis.posHolds(order);
    apis.partnerHolds(order);

    const result = await deny(
      { orderId, error: { Error: 'PosUnavailable', Cause: 'POS answered 503' } },
      ctx(),
    );

    expect(result).toMatchObject({
      detailType: 'OrderFailed',
      owed: false,
      detail: { reason: 'POS_UNAVAILABLE' },
    });
    expect(apis.callsTo('GET', '/pos/v1/orders')).toEqual([
      { method: 'GET', path: '/pos/v1/orders', query: { reference: orderId }, body: undefined },
    ]);
    expect(apis.callsTo('POST', `/pos/v1/orders/${lost.posOrderId}/void`).map((c) => c.body)).toEqual([
      { reference: orderId },
    ]);
    expect(apis.posOrder(lost.posOrderId)?.status).toBe('voided');
    expect(apis.partnerView(order)).toMatchObject({ state: 'denied', denyReason: 'POS_UNAVAILABLE' });
    const stored = await orders.read(orderId);
    expect(stored).toMatchObject({ status: 'FAILED', denyReason: 'POS_UNAVAILABLE' });
    expect(owedPartOf(stored)).toEqual({});
    expect(lineOf(stored, 'ending-settled')?.detail).toBe(
      'POS order voided; partner told (deny POS_UNAVAILABLE)',
    );
  });

  it('fails an order the POS refused as invalid with INVALID_ORDER, voids any POS order under our id, and does not count it against the POS', async () => {
    await given();
    await tables.doc.send(
      new PutCommand({
        TableName: STORES_TABLE,
        Item: { pk: 'STORE#store-001', ...demoStore('store-001')! },
      }),
    );
    const lost = apis.posHolds(order);
    apis.partnerHolds(order);
    const refused = {
      Error: 'PosRefused',
      Cause: JSON.stringify({
        errorType: 'PosRefused',
        errorMessage: 'INVALID_ORDER: POS POST /pos/v1/stores/store-001/orders answered 422: {}',
        trace: [],
      }),
    };

    const result = await deny({ orderId, error: refused }, ctx());

    expect(result).toMatchObject({
      detailType: 'OrderFailed',
      owed: false,
      detail: { reason: 'INVALID_ORDER' },
    });
    expect(apis.posOrder(lost.posOrderId)?.status).toBe('voided');
    expect(apis.partnerView(order)).toMatchObject({ state: 'denied', denyReason: 'INVALID_ORDER' });
    expect(await orders.read(orderId)).toMatchObject({ status: 'FAILED', denyReason: 'INVALID_ORDER' });
    const { Item: store } = await tables.doc.send(
      new GetCommand({ TableName: STORES_TABLE, Key: { pk: 'STORE#store-001' } }),
    );
    expect(store?.posHealth).toBeUndefined();
  });

  it.each(['PartnerUnavailable', 'PartnerRefused'])(
    'denies PARTNER_UNAVAILABLE when the partner stayed %s before accepting, voiding the held order by its number',
    async (failure) => {
      const held = apis.posHolds(order);
      await given({ posReference: held.posOrderId });
      apis.partnerHolds(order);

      const result = await deny({ orderId, error: { Error: failure } }, ctx());

      expect(result).toMatchObject({ detailType: 'OrderFailed', owed: false });
      expect(apis.partnerView(order)).toMatchObject({ state: 'denied', denyReason: 'PARTNER_UNAVAILABLE' });
      expect(apis.posOrder(held.posOrderId)?.status).toBe('voided');
      expect(apis.callsTo('GET', '/pos/v1/orders')).toHaveLength(0);
      expect(await orders.read(orderId)).toMatchObject({
        status: 'FAILED',
        denyReason: 'PARTNER_UNAVAILABLE',
      });
    },
  );

  it('reports FAILED (not a denial) to the partner for an order it had already accepted', async () => {
    const held = apis.posHolds(order);
    await given({ status: 'ACCEPTED', posReference: held.posOrderId });
    apis.partnerHolds(order, 'accepted');

    const result = await deny({ orderId, error: { Error: 'PosUnavailable' } }, ctx());

    expect(result).toMatchObject({ detailType: 'OrderFailed', owed: false });
    expect(apis.partnerView(order)).toMatchObject({
      state: 'cancelled',
      updates: [expect.objectContaining({ status: 'FAILED' })],
      calls: expect.objectContaining({ deny: 0, status: 1 }),
    });
    expect(apis.posOrder(held.posOrderId)?.status).toBe('voided');
    expect((await orders.read(orderId)).status).toBe('FAILED');
  });

  it('writes the ending even when the partner answers 404, keeping the partner notice owed on the queue', async () => {
    const held = apis.posHolds(order);
    await given({ posReference: held.posOrderId });
    // The partner does not know the order (yet): its API answers 404 to the deny.
    const startedAt = Date.now();

    const result = await deny({ orderId, error: { Error: 'PosUnavailable' } }, ctx());

    expect(result).toMatchObject({ detailType: 'OrderFailed', owed: true });
    expect(apis.posOrder(held.posOrderId)?.status).toBe('voided');
    const stored = await orders.read(orderId);
    expect(stored.status).toBe('FAILED');
    expect(owedPartOf(stored)).toEqual({
      owesPartner: { call: 'deny', reason: 'POS_UNAVAILABLE' },
      owedQueue: 'owed',
      owedAt: expect.any(String),
      owedSince: expect.any(String),
      owedAttempts: 1,
    });
    expect(Date.parse(stored.owedAt!)).toBeGreaterThanOrEqual(startedAt + RETRY_BASE_SECONDS * 1000);
    const owedLine = lineOf(stored, 'compensation-owed')?.detail ?? '';
    expect(owedLine).toContain('POS order voided');
    expect(owedLine).toContain('deny POS_UNAVAILABLE');
    expect(owedLine).toContain('404');
    expect(await orders.owedWork()).toEqual([{ orderId, owedAt: stored.owedAt, owedAttempts: 1 }]);
  });

  it('pays the owed notice on the re-run once the partner knows the order, and leaves the queue', async () => {
    const held = apis.posHolds(order);
    await given({ posReference: held.posOrderId });
    const input = { orderId, error: { Error: 'PosUnavailable' } };
    expect((await deny(input, ctx())).owed).toBe(true);
    apis.partnerHolds(order);
    apis.calls.length = 0;

    const result = await deny(input, ctx());

    expect(result).toMatchObject({ detailType: 'OrderFailed', owed: false });
    expect(apis.partnerView(order)).toMatchObject({ state: 'denied', denyReason: 'POS_UNAVAILABLE' });
    // The void was paid the first time and is not paid again.
    expect(apis.posCalls).toEqual([]);
    const stored = await orders.read(orderId);
    expect(owedPartOf(stored)).toEqual({});
    expect(await orders.owedWork()).toEqual([]);
    expect(events(stored).filter((event) => event === 'failed')).toHaveLength(1);
    expect(lineOf(stored, 'compensation-done')?.detail).toBe('partner told (deny POS_UNAVAILABLE)');
  });

  it('tells the partner FAILED when it refuses the deny with 409 because it holds the order as accepted', async () => {
    const held = apis.posHolds(order);
    await given({ posReference: held.posOrderId });
    // Our accept reached the partner; its answer did not reach us.
    apis.partnerHolds(order, 'accepted');

    const result = await deny({ orderId, error: { Error: 'PartnerUnavailable' } }, ctx());

    expect(result).toMatchObject({ detailType: 'OrderFailed', owed: false });
    expect(apis.callsTo('POST', '/doordash/v1/orders/dd-9001/deny')).toHaveLength(1);
    expect(apis.partnerView(order)).toMatchObject({
      state: 'cancelled',
      updates: [expect.objectContaining({ status: 'FAILED' })],
    });
    expect(owedPartOf(await orders.read(orderId))).toEqual({});
  });

  it('throws OrderCancelled when the partner cancelled first, changing nothing', async () => {
    await given({ posReference: apis.posHolds(order).posOrderId });
    apis.partnerHolds(order);
    await cancelOrder(orderId);
    const cancelled = await orders.read(orderId);

    const error = await stepError(deny({ orderId, error: { Error: 'PosUnavailable' } }, ctx()));

    expect(error.name).toBe('OrderCancelled');
    expect(await orders.read(orderId)).toEqual(cancelled);
    expect(apis.calls).toEqual([]);
  });
});

describe('void-pos-order', () => {
  it('voids a cancelled order’s POS order by its number and settles the cancel', async () => {
    const held = apis.posHolds(order);
    await given({ status: 'ACCEPTED', posReference: held.posOrderId });
    await cancelOrder(orderId);

    expect(await voidPosOrder({ orderId }, ctx())).toEqual({ owed: false });

    expect(apis.posCalls).toEqual([
      {
        method: 'POST',
        path: `/pos/v1/orders/${held.posOrderId}/void`,
        query: {},
        body: { reference: orderId },
      },
    ]);
    expect(apis.posOrder(held.posOrderId)?.status).toBe('voided');
    const stored = await orders.read(orderId);
    expect(stored.status).toBe('CANCELLED');
    expect(owedPartOf(stored)).toEqual({});
    expect(await orders.owedWork()).toEqual([]);
  });

  it('finds the POS order by our order id when its number was never learned, and voids it', async () => {
    await given();
    // The create landed in the POS; its answer (the number) never reached us.
    const lost = apis.posHolds(order);
    await cancelOrder(orderId);

    expect(await voidPosOrder({ orderId }, ctx())).toEqual({ owed: false });

    expect(apis.callsTo('GET', '/pos/v1/orders').map((call) => call.query)).toEqual([{ reference: orderId }]);
    expect(apis.posOrder(lost.posOrderId)?.status).toBe('voided');
    expect(owedPartOf(await orders.read(orderId))).toEqual({});
  });

  it('pays the void a cancelled create left behind: the step threw OrderCancelled, the void step finds it', async () => {
    await given();
    await cancelOrder(orderId);
    expect((await stepError(createPosOrder({ orderId, order }, ctx()))).name).toBe('OrderCancelled');

    await voidPosOrder({ orderId }, ctx());

    expect(apis.posOrdersOf(orderId)).toEqual([{ posOrderId: expect.any(String), status: 'voided' }]);
    expect(owedPartOf(await orders.read(orderId))).toEqual({});
  });

  it('throws CompensationOwed when the POS is down, keeping the void owed on the order', async () => {
    const held = apis.posHolds(order);
    await given({ status: 'ACCEPTED', posReference: held.posOrderId });
    await cancelOrder(orderId);
    apis.posFails(['void', 'lookup'], 503);

    const error = await stepError(voidPosOrder({ orderId }, ctx()));

    expect(error.name).toBe('CompensationOwed');
    expect(apis.posOrder(held.posOrderId)?.status).toBe('held');
    const stored = await orders.read(orderId);
    expect(stored).toMatchObject({
      status: 'CANCELLED',
      owesPosVoid: true,
      owedQueue: 'owed',
      owedAttempts: 1,
    });
    expect(lineOf(stored, 'compensation-owed')?.detail).toContain('POS void');
    expect(await orders.owedWork()).toEqual([{ orderId, owedAt: stored.owedAt, owedAttempts: 1 }]);

    apis.healPos();
    expect(await voidPosOrder({ orderId }, ctx())).toEqual({ owed: false });
    expect(apis.posOrder(held.posOrderId)?.status).toBe('voided');
    expect(owedPartOf(await orders.read(orderId))).toEqual({});
  });

  it('calls the POS not at all when the order owes nothing (a re-run after the void was paid)', async () => {
    await given({ status: 'ACCEPTED', posReference: apis.posHolds(order).posOrderId });
    await cancelOrder(orderId);
    await voidPosOrder({ orderId }, ctx());
    apis.calls.length = 0;

    expect(await voidPosOrder({ orderId }, ctx())).toEqual({ owed: false });

    expect(apis.calls).toEqual([]);
  });

  it('keeps the void owed while a late POS write may still land, without counting it as a failure', async () => {
    await given();
    // Cancelled a minute ago, the create's answer lost: the POS shows nothing under our id yet.
    await cancelOrder(orderId, new Date(Date.now() - 60_000));

    expect(await voidPosOrder({ orderId }, ctx())).toEqual({ owed: false });

    expect(apis.callsTo('GET', '/pos/v1/orders')).toHaveLength(1);
    const stored = await orders.read(orderId);
    expect(stored).toMatchObject({ owesPosVoid: true, owedQueue: 'owed', owedAttempts: 0 });
    expect(events(stored)).not.toContain('compensation-owed');
    expect(await orders.owedWork()).toEqual([{ orderId, owedAt: stored.owedAt, owedAttempts: 0 }]);
  });

  it('pays the void but leaves an OrderCancelled the bus refused owed, the order still on the queue', async () => {
    const held = apis.posHolds(order);
    await given({ status: 'ACCEPTED', posReference: held.posOrderId });
    bus.on(PutEventsCommand).rejectsOnce(new Error('ServiceUnavailable'));
    await expect(cancelOrder(orderId)).rejects.toThrow('ServiceUnavailable');

    expect(await voidPosOrder({ orderId }, ctx())).toEqual({ owed: false });

    expect(apis.posOrder(held.posOrderId)?.status).toBe('voided');
    // The workflow does not publish the cancel's event (that would put it twice on the bus when
    // the cancel's own request is still publishing it): the cancel's retry or the reconciler will.
    expect(putOnTheBus()).toEqual(['OrderCancelled']);
    const stored = await orders.read(orderId);
    expect(owedPartOf(stored)).toEqual({
      owesEvent: 'OrderCancelled',
      owedQueue: 'owed',
      owedAt: expect.any(String),
      owedSince: expect.any(String),
      owedAttempts: 0,
    });
    expect(await orders.owedWork()).toEqual([{ orderId, owedAt: stored.owedAt, owedAttempts: 0 }]);
  });

  it('settles the void as "nothing was made" once the late-write horizon after the cancel has passed', async () => {
    await given();
    await cancelOrder(orderId, new Date(Date.now() - (HORIZON_SECONDS + 60) * 1000));

    expect(await voidPosOrder({ orderId }, ctx())).toEqual({ owed: false });

    const stored = await orders.read(orderId);
    expect(owedPartOf(stored)).toEqual({});
    expect(lineOf(stored, 'ending-settled')?.detail).toBe('no POS order was made');
    expect(await orders.owedWork()).toEqual([]);
  });
});

describe('wait-for-courier', () => {
  const TOKEN = 'token-from-step-functions';

  it('keeps the task token on the accepted order for the execution that claimed it', async () => {
    await given({ status: 'ACCEPTED', posReference: 'pos-1' });

    expect(
      await waitForCourier({ orderId, taskToken: TOKEN, workflowExecutionId: EXECUTION }, ctx()),
    ).toEqual({
      waiting: true,
    });

    const stored = await orders.read(orderId);
    expect(stored.taskToken).toBe(TOKEN);
    expect(events(stored)).toContain('waiting-for-courier');
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('refuses another execution’s token with OrderEnded, keeping the claiming execution’s token', async () => {
    await given({ status: 'ACCEPTED', posReference: 'pos-1' });
    await waitForCourier({ orderId, taskToken: TOKEN, workflowExecutionId: EXECUTION }, ctx());
    const waiting = await orders.read(orderId);

    const error = await stepError(
      waitForCourier(
        { orderId, taskToken: 'token-of-a-duplicate', workflowExecutionId: `${EXECUTION}-duplicate` },
        ctx(),
      ),
    );

    expect(error.name).toBe('OrderEnded');
    expect(await orders.read(orderId)).toEqual(waiting);
  });

  it('throws OrderCancelled when the partner cancelled before the wait began, keeping no token', async () => {
    await given({ status: 'ACCEPTED', posReference: 'pos-1' });
    await cancelOrder(orderId);

    const error = await stepError(
      waitForCourier({ orderId, taskToken: TOKEN, workflowExecutionId: EXECUTION }, ctx()),
    );

    expect(error.name).toBe('OrderCancelled');
    expect((await orders.read(orderId)).taskToken).toBeUndefined();
  });

  it.each(['REJECTED', 'FAILED'] as const)('throws OrderEnded for an order that ended %s', async (status) => {
    await given({ status });

    const error = await stepError(
      waitForCourier({ orderId, taskToken: TOKEN, workflowExecutionId: EXECUTION }, ctx()),
    );

    expect(error.name).toBe('OrderEnded');
  });

  it('resumes at once when the courier already arrived before the wait began', async () => {
    await given();
    // The courier's release came while the order was being prepared; then it was accepted.
    await requestRelease(orderId);
    apis.partnerHolds(order);
    await accept({ orderId, order, posReference: 'pos-1' }, ctx());

    await waitForCourier({ orderId, taskToken: TOKEN, workflowExecutionId: EXECUTION }, ctx());

    expect(sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input)).toEqual([
      { taskToken: TOKEN, output: JSON.stringify({ releasedBy: 'courier', releasing: false }) },
    ]);
  });
});

describe('release-to-kitchen', () => {
  const releaseInput = (
    posReference: string,
    release: Record<string, unknown> = { releasedBy: 'courier' },
  ) => ({
    orderId,
    posReference,
    partner: 'doordash',
    partnerOrderId: 'dd-9001',
    release,
  });
  const acceptedAndHeld = async () => {
    const held = apis.posHolds(order);
    await given({ status: 'ACCEPTED', posReference: held.posOrderId });
    apis.partnerHolds(order, 'accepted');
    return held;
  };

  it('marks the order releasing, fires it with our reference, tells the partner RELEASED, then writes RELEASED', async () => {
    const held = await acceptedAndHeld();

    const result = await releaseToKitchen(releaseInput(held.posOrderId), ctx());

    expect(result).toMatchObject({
      owed: false,
      detail: { orderId, posReference: held.posOrderId, releasedBy: 'courier' },
    });
    expect(apis.callsTo('POST', /\/fire$/)).toEqual([
      {
        method: 'POST',
        path: `/pos/v1/orders/${held.posOrderId}/fire`,
        query: {},
        body: { reference: orderId },
      },
    ]);
    expect(apis.posOrder(held.posOrderId)?.status).toBe('fired');
    expect(apis.partnerView(order)).toMatchObject({
      state: 'accepted',
      updates: [expect.objectContaining({ status: 'RELEASED' })],
    });
    const stored = await orders.read(orderId);
    expect(stored).toMatchObject({ status: 'RELEASED', releasingAt: expect.any(String) });
    expect(events(stored).slice(-2)).toEqual(['releasing-to-kitchen', 'released-to-kitchen']);
    expect(owedPartOf(stored)).toEqual({});
  });

  it('is marked releasing before the POS fires: a POS that will not fire leaves it ACCEPTED and uncancellable, and the retry releases it', async () => {
    const held = await acceptedAndHeld();
    apis.posFails(['fire'], 503);

    const error = await stepError(releaseToKitchen(releaseInput(held.posOrderId), ctx()));

    expect(error.name).toBe('PosUnavailable');
    expect(await orders.read(orderId)).toMatchObject({ status: 'ACCEPTED', releasingAt: expect.any(String) });
    await expect(cancelOrder(orderId)).rejects.toMatchObject({ name: 'OrderConflict' });

    apis.healPos();
    await releaseToKitchen(releaseInput(held.posOrderId), ctx());

    expect(apis.posOrder(held.posOrderId)?.status).toBe('fired');
    expect((await orders.read(orderId)).status).toBe('RELEASED');
  });

  it('skips its own mark when the courier’s release already marked the order', async () => {
    const held = await acceptedAndHeld();
    await requestRelease(orderId);

    await releaseToKitchen(releaseInput(held.posOrderId, { releasedBy: 'courier', releasing: true }), ctx());

    const stored = await orders.read(orderId);
    expect(stored.status).toBe('RELEASED');
    expect(events(stored).slice(-2)).toEqual(['courier-arriving', 'released-to-kitchen']);
  });

  it('says the timeout released the order when no courier signal came', async () => {
    const held = await acceptedAndHeld();

    const result = await releaseToKitchen(
      releaseInput(held.posOrderId, { Error: 'States.Timeout', Cause: 'Task timed out' }),
      ctx(),
    );

    expect(result.detail.releasedBy).toBe('timeout');
    expect(lineOf(await orders.read(orderId), 'released-to-kitchen')?.detail).toBe('by timeout');
  });

  it('still releases when the partner’s status endpoint is down, owing the partner RELEASED', async () => {
    const held = await acceptedAndHeld();
    apis.partnerFails(['status'], 503);

    const result = await releaseToKitchen(releaseInput(held.posOrderId), ctx());

    expect(result).toMatchObject({ owed: true, detail: { posReference: held.posOrderId } });
    expect(apis.posOrder(held.posOrderId)?.status).toBe('fired');
    const stored = await orders.read(orderId);
    expect(stored.status).toBe('RELEASED');
    expect(stored).toMatchObject({ owesPartner: { call: 'status', status: 'RELEASED' }, owedQueue: 'owed' });
    expect(stored.owesPosVoid).toBeUndefined();
    expect((await orders.owedWork()).map((owed) => owed.orderId)).toEqual([orderId]);

    // The reconciler tells the partner once it is back, and the order leaves the queue.
    apis.healPartner();
    expect(await reconcile({ everything: true }, ctx())).toEqual({
      checked: 1,
      settled: 1,
      stillOwed: 0,
      restarted: 0,
    });
    expect(apis.partnerView(order)?.updates.map((update) => update.status)).toEqual(['RELEASED']);
    expect(owedPartOf(await orders.read(orderId))).toEqual({});
  });

  // README "The guarantee": whatever fails stays owed with one `compensation-owed` line, and the
  // OrdersOwingWork alarm counts orders owing after failed tries (owedAttempts > 0).
  it('records the failed RELEASED notice as a failure: one attempt counted and a compensation-owed line', async () => {
    const held = await acceptedAndHeld();
    apis.partnerFails(['status'], 503);

    await releaseToKitchen(releaseInput(held.posOrderId), ctx());

    const stored = await orders.read(orderId);
    expect(stored.owedAttempts).toBe(1);
    expect(lineOf(stored, 'compensation-owed')?.detail).toContain('status RELEASED');
    expect(await orders.owedWork()).toEqual([{ orderId, owedAt: stored.owedAt, owedAttempts: 1 }]);
  });

  it.each([
    ['404: the POS has no order under our number', 'pos-999999'],
    ['409: the number belongs to another order', 'other'],
  ])('fires our own order, found by our id, when the fire answers %s', async (_, number) => {
    const someoneElses = apis.posHolds(await doorDashOrder('dd-7777'));
    const ours = apis.posHolds(order);
    const recorded = number === 'other' ? someoneElses.posOrderId : number;
    await given({ status: 'ACCEPTED', posReference: recorded });
    apis.partnerHolds(order, 'accepted');

    const result = await releaseToKitchen(releaseInput(recorded), ctx());

    expect(apis.posOrder(ours.posOrderId)?.status).toBe('fired');
    expect(apis.posOrder(someoneElses.posOrderId)?.status).toBe('held');
    expect(result.detail.posReference).toBe(ours.posOrderId);
    expect(await orders.read(orderId)).toMatchObject({ status: 'RELEASED', posReference: ours.posOrderId });
  });

  it('throws OrderCancelled when the cancel won, having paid the void instead of firing', async () => {
    const held = await acceptedAndHeld();
    await cancelOrder(orderId);

    const error = await stepError(releaseToKitchen(releaseInput(held.posOrderId), ctx()));

    expect(error.name).toBe('OrderCancelled');
    expect(apis.callsTo('POST', /\/fire$/)).toHaveLength(0);
    expect(apis.posOrder(held.posOrderId)?.status).toBe('voided');
    const stored = await orders.read(orderId);
    expect(stored.status).toBe('CANCELLED');
    expect(owedPartOf(stored)).toEqual({});
  });
});

describe('reconcile-orders', () => {
  /** An order that ended FAILED while the partner did not know it: its void paid, its deny owed. */
  async function failedOwingTheDeny(partnerOrderId: string) {
    const failed = await doorDashOrder(partnerOrderId);
    await given({ posReference: apis.posHolds(failed).posOrderId }, failed);
    expect((await deny({ orderId: failed.orderId, error: { Error: 'PosUnavailable' } }, ctx())).owed).toBe(
      true,
    );
    return failed;
  }
  /** Time passes: the order's next try is now `seconds` away (negative: overdue). */
  async function nextTryIn(orderIdOf: string, seconds: number) {
    await tables.doc.send(
      new UpdateCommand({
        TableName: ORDERS_TABLE,
        Key: { orderId: orderIdOf },
        UpdateExpression: 'SET owedAt = :at',
        ExpressionAttributeValues: { ':at': new Date(Date.now() + seconds * 1000).toISOString() },
      }),
    );
  }

  it('pays the owed work that is due and leaves what is not due yet', async () => {
    const due = await failedOwingTheDeny('dd-5001');
    const later = await failedOwingTheDeny('dd-5002');
    const cancelled = await doorDashOrder('dd-5003');
    const held = apis.posHolds(cancelled);
    await given({ status: 'ACCEPTED', posReference: held.posOrderId }, cancelled);
    await cancelOrder(cancelled.orderId);
    await nextTryIn(due.orderId, -60);
    await nextTryIn(cancelled.orderId, -1);
    await nextTryIn(later.orderId, 600);
    const laterBefore = await orders.read(later.orderId);
    for (const known of [due, later]) apis.partnerHolds(known);

    const result = await reconcile({}, ctx());

    expect(result).toEqual({ checked: 2, settled: 2, stillOwed: 0, restarted: 0 });
    expect(apis.partnerView(due)).toMatchObject({ state: 'denied', denyReason: 'POS_UNAVAILABLE' });
    expect(apis.posOrder(held.posOrderId)?.status).toBe('voided');
    for (const paid of [due, cancelled]) expect(owedPartOf(await orders.read(paid.orderId))).toEqual({});
    expect(apis.partnerView(later)?.calls.deny).toBe(0);
    expect(await orders.read(later.orderId)).toEqual(laterBefore);
    expect((await orders.owedWork()).map((owed) => owed.orderId)).toEqual([later.orderId]);
  });

  it('pays every owing order, due or not, when run with {"everything":true}', async () => {
    const first = await failedOwingTheDeny('dd-5001');
    const second = await failedOwingTheDeny('dd-5002');
    await nextTryIn(second.orderId, 3600);
    for (const known of [first, second]) apis.partnerHolds(known);

    const result = await reconcile({ everything: true }, ctx());

    expect(result).toEqual({ checked: 2, settled: 2, stillOwed: 0, restarted: 0 });
    for (const paid of [first, second]) {
      expect(apis.partnerView(paid)?.state).toBe('denied');
      expect(owedPartOf(await orders.read(paid.orderId))).toEqual({});
    }
    expect(await orders.owedWork()).toEqual([]);
  });

  it('publishes an outcome event still owed once it is due, as the ending made it, and clears it', async () => {
    const held = apis.posHolds(order);
    await given({ status: 'ACCEPTED', posReference: held.posOrderId });
    apis.partnerHolds(order, 'accepted');
    const cancelledAt = new Date(Date.now() - 30_000);
    bus.on(PutEventsCommand).rejectsOnce(new Error('ServiceUnavailable')).resolves({ FailedEntryCount: 0 });
    await expect(
      cancelOrder(orderId, cancelledAt, { by: 'operator', reason: 'the customer called' }),
    ).rejects.toThrow();
    expect(await reconcile({}, ctx())).toEqual({ checked: 0, settled: 0, stillOwed: 0, restarted: 0 });
    await nextTryIn(orderId, -1);

    const result = await reconcile({}, ctx());

    expect(result).toEqual({ checked: 1, settled: 1, stillOwed: 0, restarted: 0 });
    expect(putOnTheBus()).toEqual(['OrderCancelled', 'OrderCancelled']);
    // Who cancelled and when come from the record, not from the reconciler's run.
    expect(detailOf(1)).toMatchObject({
      eventId: `${orderId}/OrderCancelled`,
      orderId,
      cancelledBy: 'operator',
      occurredAt: cancelledAt.toISOString(),
    });
    const stored = await orders.read(orderId);
    expect(owedPartOf(stored)).toEqual({});
    expect(lineOf(stored, 'ending-settled')?.detail).toContain('OrderCancelled published');
    expect(apis.posOrder(held.posOrderId)?.status).toBe('voided');
    expect(apis.partnerView(order)?.state).toBe('cancelled');
    expect(await orders.owedWork()).toEqual([]);
  });

  it('keeps an outcome event the bus refuses again owed, one more attempt counted', async () => {
    await given({ status: 'ACCEPTED' });
    bus.on(PutEventsCommand).rejects(new Error('ServiceUnavailable'));
    await expect(
      cancelOrder(orderId, new Date(Date.now() - (HORIZON_SECONDS + 60) * 1000)),
    ).rejects.toThrow();
    await nextTryIn(orderId, -1);

    const result = await reconcile({}, ctx());

    expect(result).toEqual({ checked: 1, settled: 0, stillOwed: 1, restarted: 0 });
    const stored = await orders.read(orderId);
    expect(stored).toMatchObject({ owesEvent: 'OrderCancelled', owedQueue: 'owed', owedAttempts: 1 });
    // The void was paid (nothing was ever made in the POS); only the event is left.
    expect(stored.owesPosVoid).toBeUndefined();
    expect(lineOf(stored, 'compensation-owed')?.detail).toContain('event OrderCancelled');
  });

  it('keeps work that fails again owed, one more attempt counted and its next try later', async () => {
    const owing = await failedOwingTheDeny('dd-5001');
    await nextTryIn(owing.orderId, -60);
    const startedAt = Date.now();

    const result = await reconcile({}, ctx());

    expect(result).toEqual({ checked: 1, settled: 0, stillOwed: 1, restarted: 0 });
    const stored = await orders.read(owing.orderId);
    expect(stored).toMatchObject({
      owesPartner: { call: 'deny', reason: 'POS_UNAVAILABLE' },
      owedAttempts: 2,
    });
    expect(Date.parse(stored.owedAt!)).toBeGreaterThanOrEqual(startedAt + RETRY_BASE_SECONDS * 1000);
    // One line when the work first failed, not one per retry.
    expect(events(stored).filter((event) => event === 'compensation-owed')).toHaveLength(1);
  });

  /** An order taken `minutesAgo`, still RECEIVED; `claimedBy` when a workflow holds it. */
  async function takenMinutesAgo(partnerOrderId: string, minutesAgo: number, claimedBy?: string) {
    const taken = await doorDashOrder(partnerOrderId);
    const at = new Date(Date.now() - minutesAgo * 60_000).toISOString();
    const record = orderRecord(taken, { createdAt: at, updatedAt: at, ...(claimedBy && { claimedBy }) });
    await orders.putOne(record);
    return record;
  }

  it('starts again the workflow of an order taken minutes ago that no workflow ever claimed', async () => {
    const lost = await takenMinutesAgo('dd-6001', 5);
    const claimed = await takenMinutesAgo('dd-6002', 5, EXECUTION);
    const justTaken = await takenMinutesAgo('dd-6003', 0.5);

    const result = await reconcile({}, ctx());

    expect(result).toEqual({ checked: 0, settled: 0, stillOwed: 0, restarted: 1 });
    expect(putOnTheBus()).toEqual(['OrderReceived']);
    expect(detailOf(0)).toMatchObject({ orderId: lost.orderId, order: lost.order });
    // Nothing else changes: the new workflow claims the order as the first would have.
    for (const record of [lost, claimed, justTaken])
      expect(await orders.read(record.orderId)).toEqual(record);
  });

  it('finds an unclaimed order behind a batch of older ones still being prepared by their workflows', async () => {
    // A POS retrying for minutes keeps claimed orders RECEIVED: they must not hide a lost one.
    process.env.RECONCILE_BATCH_SIZE = '2';
    try {
      for (const id of ['dd-6101', 'dd-6102', 'dd-6103']) await takenMinutesAgo(id, 10, EXECUTION);
      const lost = await takenMinutesAgo('dd-6104', 5);

      const result = await reconcile({}, ctx());

      expect(result).toMatchObject({ restarted: 1 });
      expect(detailOf(0)).toMatchObject({ orderId: lost.orderId });
    } finally {
      delete process.env.RECONCILE_BATCH_SIZE;
    }
  });

  it('starts nothing again once the workflow has claimed the order, and fails when the bus refuses', async () => {
    const lost = await takenMinutesAgo('dd-6001', 5);
    bus.on(PutEventsCommand).rejects(new Error('ServiceUnavailable'));

    await expect(reconcile({}, ctx())).rejects.toThrow('ServiceUnavailable');

    // The next run finds it still unclaimed and tries again; once claimed, it is left alone.
    await orders.putOne({ ...lost, claimedBy: EXECUTION });
    bus.reset();
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0 });
    expect(await reconcile({}, ctx())).toMatchObject({ restarted: 0 });
    expect(putOnTheBus()).toEqual([]);
  });
});

describe('settle-stopped-workflow', () => {
  /** Step Functions' status change event for the order's workflow, as the default bus delivers it. */
  const stopped = (executionArn: string, status: 'FAILED' | 'TIMED_OUT' | 'ABORTED' = 'ABORTED') => ({
    version: '0',
    id: 'e-1',
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:order-workflow',
      status,
      input: JSON.stringify({ 'detail-type': 'OrderReceived', detail: { orderId, order } }),
      cause: status === 'ABORTED' ? null : 'a step broke',
    },
  });
  const acceptedAndHeld = async () => {
    const held = apis.posHolds(order);
    await given({ status: 'ACCEPTED', posReference: held.posOrderId });
    apis.partnerHolds(order, 'accepted');
    return held;
  };

  it('ends FAILED an accepted order its stopped execution left unended: POS voided, partner told, OrderFailed published', async () => {
    const held = await acceptedAndHeld();

    const result = await settleStopped(stopped(EXECUTION), ctx());

    expect(result).toEqual({ settled: true, owed: false });
    const stored = await orders.read(orderId);
    expect(stored).toMatchObject({ status: 'FAILED' });
    expect(lineOf(stored, 'failed')?.detail).toContain('ExecutionAborted');
    expect(owedPartOf(stored)).toEqual({});
    expect(apis.posOrder(held.posOrderId)?.status).toBe('voided');
    expect(apis.partnerView(order)).toMatchObject({ state: 'cancelled' });
    const published = bus
      .commandCalls(PutEventsCommand)
      .map((call) => call.args[0].input.Entries?.[0]?.DetailType);
    expect(published).toEqual(['OrderFailed']);
  });

  it('keeps OrderFailed owed when the bus refuses it and throws for Lambda’s retry, which publishes it once and clears it', async () => {
    const held = await acceptedAndHeld();
    bus.on(PutEventsCommand).rejectsOnce(new Error('ServiceUnavailable')).resolves({ FailedEntryCount: 0 });

    const error = await stepError(settleStopped(stopped(EXECUTION, 'TIMED_OUT'), ctx()));

    expect(error.message).toContain('ServiceUnavailable');
    const failed = await orders.read(orderId);
    expect(failed).toMatchObject({ status: 'FAILED', owesEvent: 'OrderFailed', owedQueue: 'owed' });
    // What could be paid was: the POS voided, the partner told.
    expect(failed.owesPosVoid).toBeUndefined();
    expect(failed.owesPartner).toBeUndefined();
    expect(apis.posOrder(held.posOrderId)?.status).toBe('voided');

    // Lambda runs the same event again.
    expect(await settleStopped(stopped(EXECUTION, 'TIMED_OUT'), ctx())).toEqual({
      settled: true,
      owed: false,
    });

    expect(putOnTheBus()).toEqual(['OrderFailed', 'OrderFailed']);
    expect(detailOf(1)).toMatchObject({ eventId: `${orderId}/OrderFailed`, reason: 'POS_UNAVAILABLE' });
    const settled = await orders.read(orderId);
    expect(owedPartOf(settled)).toEqual({});
    expect(await orders.owedWork()).toEqual([]);
    expect(apis.posCalls.filter((call) => call.path.endsWith('/void'))).toHaveLength(1);

    // A third delivery finds nothing owed and publishes nothing.
    expect(await settleStopped(stopped(EXECUTION, 'TIMED_OUT'), ctx())).toEqual({ settled: false });
    expect(putOnTheBus()).toHaveLength(2);
  });

  it('denies an order its execution claimed but stopped before accepting, with the partner told', async () => {
    await given({ status: 'RECEIVED' });
    apis.partnerHolds(order, 'pending');

    await settleStopped(stopped(EXECUTION, 'FAILED'), ctx());

    expect(await orders.read(orderId)).toMatchObject({ status: 'FAILED' });
    expect(apis.partnerView(order)).toMatchObject({ state: 'denied' });
  });

  it('leaves alone an order another execution owns, and one that already ended', async () => {
    await acceptedAndHeld();
    const other = 'arn:aws:states:us-east-1:123456789012:execution:order-workflow:run-2';

    expect(await settleStopped(stopped(other), ctx())).toEqual({ settled: false });
    expect(await orders.read(orderId)).toMatchObject({ status: 'ACCEPTED' });

    await orders.putOne({ ...(await orders.read(orderId)), status: 'RELEASED' });
    expect(await settleStopped(stopped(EXECUTION), ctx())).toEqual({ settled: false });
    expect(await orders.read(orderId)).toMatchObject({ status: 'RELEASED' });
    expect(bus.commandCalls(PutEventsCommand)).toHaveLength(0);
  });
});
