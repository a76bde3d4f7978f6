/**
 * The workflow's Lambda steps. Each answers what the next state needs or throws an error by the
 * name the state machine's Retry/Catch expects; the POS and the partner see exactly one call each.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { demoStore } from '../../../functions/lib/domain/demo-stores';
import type { CanonicalOrder, OrderRecord } from '../../../functions/lib/schemas/order';
import { doorDashWebhook } from '../domain/fixtures';
import {
  canonicalOrderFrom,
  FakeApis,
  IDEMPOTENCY_TABLE,
  lambdaContext,
  MAX_COURIER_WAIT_SECONDS,
  ORDERS_TABLE,
  orderRecord,
  PARTNER_API_URL,
  POS_API_KEY,
  POS_API_URL,
  STORES_TABLE,
  setHandlerEnv,
  ssmParameters,
  stepError,
} from './harness';

setHandlerEnv();
const validate = (await import('../../../functions/validate-order')).handler;
const createPosOrder = (await import('../../../functions/create-pos-order')).handler;
const accept = (await import('../../../functions/accept-order')).handler;
const deny = (await import('../../../functions/deny-order')).handler;
const waitForCourier = (await import('../../../functions/wait-for-courier')).handler;
const releaseToKitchen = (await import('../../../functions/release-to-kitchen')).handler;
const voidPosOrder = (await import('../../../functions/void-pos-order')).handler;

const ddb = mockClient(DynamoDBDocumentClient);
const idempotencyTable = mockClient(DynamoDBClient);
const sfn = mockClient(SFNClient);
const ssm = mockClient(SSMClient);
const apis = new FakeApis();

const order: CanonicalOrder = await canonicalOrderFrom('doordash', doorDashWebhook());
const { orderId } = order;
const record = (overrides: Partial<OrderRecord> = {}) => orderRecord(order, overrides);
const ctx = () => lambdaContext('order-middleware-test-step');

const POS_CREATE = `${POS_API_URL}/pos/v1/stores/store-001/orders`;
const POS_FIRE = `${POS_API_URL}/pos/v1/orders/pos-1/fire`;
const POS_VOID = `${POS_API_URL}/pos/v1/orders/pos-1/void`;
const PARTNER_ORDER = `${PARTNER_API_URL}/doordash/v1/orders/dd-9001`;

const updates = () => ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'condition', $metadata: {} });

/** The orders table: a conditional update succeeds with `after`, or fails and a read finds `current`. */
function ordersTable({ after, current }: { after?: OrderRecord; current?: OrderRecord }) {
  if (after) ddb.on(UpdateCommand, { TableName: ORDERS_TABLE }).resolves({ Attributes: after });
  else ddb.on(UpdateCommand, { TableName: ORDERS_TABLE }).rejects(conditionFailed());
  ddb.on(GetCommand, { TableName: ORDERS_TABLE }).resolves({ Item: current ?? after });
}

function storesTableHolds(
  storeId: string,
  change: { status?: 'online' | 'offline' | 'paused'; soldOut?: string } = {},
) {
  const store = demoStore(storeId)!;
  if (change.status) store.status = change.status;
  for (const item of store.menu) if (item.sku === change.soldOut) item.available = false;
  ddb.on(GetCommand, { TableName: STORES_TABLE, Key: { pk: `STORE#${storeId}` } }).resolves({
    Item: { pk: `STORE#${storeId}`, ...store },
  });
}

beforeAll(() => apis.install());
afterAll(() => apis.uninstall());

beforeEach(() => {
  for (const mock of [ddb, idempotencyTable, sfn, ssm]) mock.reset();
  apis.reset();
  ssm
    .on(GetParameterCommand)
    .callsFake(({ Name }) => ({ Parameter: { Name, Value: ssmParameters()[Name] } }));
  ddb.on(GetCommand).resolves({});
  idempotencyTable.on(PutItemCommand).resolves({});
  idempotencyTable.on(UpdateItemCommand).resolves({});
  idempotencyTable.on(DeleteItemCommand).resolves({});
  sfn.on(SendTaskSuccessCommand).resolves({});
  apis.on('POST', POS_CREATE, (call) => ({
    status: 201,
    body: { posOrderId: 'pos-1', reference: (call.body as { reference: string }).reference, status: 'held' },
  }));
  apis.on('POST', POS_FIRE, { status: 200, body: { posOrderId: 'pos-1', status: 'fired' } });
  apis.on('POST', POS_VOID, { status: 200, body: { status: 'voided' } });
  apis.on('POST', /\/doordash\/v1\/orders\/dd-9001\/(accept|deny|status)$/, { status: 200, body: {} });
});

describe('validate-order', () => {
  it('passes an order the store can make, priced from the menu', async () => {
    storesTableHolds('store-001');

    const result = await validate({ orderId, order }, ctx());

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
    storesTableHolds('store-001', change);

    const error = await stepError(validate({ orderId, order }, ctx()));

    expect(error.name).toBe('OrderDenied');
    expect(error.message.startsWith(`${reason}:`)).toBe(true);
  });

  it('denies an order for a store we do not have as INVALID_ORDER', async () => {
    const error = await stepError(validate({ orderId, order: { ...order, storeId: 'store-404' } }, ctx()));
    expect(error).toMatchObject({ name: 'OrderDenied', message: expect.stringMatching(/^INVALID_ORDER/) });
  });
});

describe('create-pos-order', () => {
  it('holds the order in the POS with our order id as the idempotency key, and records the reference', async () => {
    ordersTable({ after: record({ posReference: 'pos-1' }) });

    const result = await createPosOrder({ orderId, order }, ctx());

    expect(result).toEqual({ posReference: 'pos-1' });
    const creates = apis.callsTo('POST', '/pos/v1/stores/store-001/orders');
    expect(creates).toHaveLength(1);
    expect(creates[0]?.headers['idempotency-key']).toBe(orderId);
    expect(creates[0]?.headers['x-pos-api-key']).toBe(POS_API_KEY);
    expect(creates[0]?.body).toMatchObject({ reference: orderId, total: 1935, items: expect.any(Array) });
    expect(updates()[0]?.ExpressionAttributeValues).toMatchObject({ ':from0': 'RECEIVED', ':f0': 'pos-1' });
  });

  it('guards the step with an idempotency record in the idempotency table', async () => {
    ordersTable({ after: record({ posReference: 'pos-1' }) });

    await createPosOrder({ orderId, order }, ctx());

    const put = idempotencyTable.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(put?.TableName).toBe(IDEMPOTENCY_TABLE);
    expect(idempotencyTable.commandCalls(UpdateItemCommand)[0]?.args[0].input.TableName).toBe(
      IDEMPOTENCY_TABLE,
    );
  });

  it('answers a re-run from the stored result without calling the POS again', async () => {
    const stored = {
      id: `order-middleware-test-step#${orderId}`,
      expiration: Math.floor(Date.now() / 1000) + 3600,
      status: 'COMPLETED',
      data: { posReference: 'pos-1' },
    };
    idempotencyTable
      .on(PutItemCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'exists', $metadata: {}, Item: marshall(stored) }),
      );

    const result = await createPosOrder({ orderId, order }, ctx());

    expect(result).toEqual({ posReference: 'pos-1' });
    expect(apis.calls).toHaveLength(0);
  });

  it('throws PosUnavailable when the POS answers 503, so the state machine retries', async () => {
    apis.on('POST', POS_CREATE, {
      status: 503,
      body: { error: { code: 'STORE_OFFLINE', message: 'offline' } },
    });

    const error = await stepError(createPosOrder({ orderId, order }, ctx()));

    expect(error.name).toBe('PosUnavailable');
    expect(updates()).toHaveLength(0);
  });

  it('voids the held order and throws OrderCancelled when the partner cancelled meanwhile', async () => {
    ordersTable({ current: record({ status: 'CANCELLED' }) });

    const error = await stepError(createPosOrder({ orderId, order }, ctx()));

    expect(error.name).toBe('OrderCancelled');
    expect(apis.callsTo('POST', '/pos/v1/orders/pos-1/void')).toHaveLength(1);
  });
});

describe('accept-order', () => {
  const inMinutes = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

  it('accepts with the partner, carrying the POS reference and pickup time, and marks the order ACCEPTED', async () => {
    const pickupAt = inMinutes(10);
    ordersTable({ after: record({ status: 'ACCEPTED', posReference: 'pos-1' }) });

    const result = await accept({ orderId, order: { ...order, pickupAt }, posReference: 'pos-1' }, ctx());

    expect(apis.callsTo('POST', '/doordash/v1/orders/dd-9001/accept')[0]?.body).toEqual({
      merchant_supplied_id: 'pos-1',
      order_status: 'success',
      estimated_pickup_time: pickupAt,
    });
    expect(updates()[0]?.ExpressionAttributeValues).toMatchObject({
      ':from0': 'RECEIVED',
      ':to': 'ACCEPTED',
    });
    expect(result.orderId).toBe(orderId);
    expect(result.detail).toMatchObject({ orderId, posReference: 'pos-1', pickupAt });
  });

  it('answers courierWaitSeconds until the pickup time', async () => {
    ordersTable({ after: record({ status: 'ACCEPTED', posReference: 'pos-1' }) });

    const result = await accept(
      { orderId, order: { ...order, pickupAt: inMinutes(10) }, posReference: 'pos-1' },
      ctx(),
    );

    expect(result.courierWaitSeconds).toBeGreaterThanOrEqual(598);
    expect(result.courierWaitSeconds).toBeLessThanOrEqual(600);
  });

  it('caps the courier wait at the stage’s limit, and uses the limit without a pickup time', async () => {
    ordersTable({ after: record({ status: 'ACCEPTED', posReference: 'pos-1' }) });
    const far = await accept(
      { orderId, order: { ...order, pickupAt: inMinutes(180) }, posReference: 'pos-1' },
      ctx(),
    );
    const { pickupAt: _, ...withoutPickup } = order;
    const none = await accept({ orderId, order: withoutPickup, posReference: 'pos-1' }, ctx());

    expect(far.courierWaitSeconds).toBe(MAX_COURIER_WAIT_SECONDS);
    expect(none.courierWaitSeconds).toBe(MAX_COURIER_WAIT_SECONDS);
  });

  it('throws PartnerUnavailable when the partner API answers 503', async () => {
    apis.on('POST', `${PARTNER_ORDER}/accept`, { status: 503 });

    const error = await stepError(accept({ orderId, order, posReference: 'pos-1' }, ctx()));

    expect(error.name).toBe('PartnerUnavailable');
    expect(updates()).toHaveLength(0);
  });

  it('voids the POS order and throws OrderCancelled when the partner cancelled meanwhile', async () => {
    ordersTable({ current: record({ status: 'CANCELLED', posReference: 'pos-1' }) });

    const error = await stepError(accept({ orderId, order, posReference: 'pos-1' }, ctx()));

    expect(error.name).toBe('OrderCancelled');
    expect(apis.callsTo('POST', '/pos/v1/orders/pos-1/void')).toHaveLength(1);
  });
});

describe('deny-order', () => {
  const denial = (message: string) => ({
    Error: 'OrderDenied',
    Cause: JSON.stringify({ errorType: 'OrderDenied', errorMessage: message, trace: [] }),
  });

  it('rejects a denied order with its reason and tells the partner why', async () => {
    ordersTable({ after: record({ status: 'REJECTED', denyReason: 'STORE_OFFLINE' }) });

    const result = await deny({ orderId, error: denial('STORE_OFFLINE: store store-001 is offline') }, ctx());

    expect(updates()[0]?.ExpressionAttributeValues).toMatchObject({
      ':to': 'REJECTED',
      ':f0': 'STORE_OFFLINE',
    });
    expect(apis.callsTo('POST', '/doordash/v1/orders/dd-9001/deny')[0]?.body).toMatchObject({
      order_status: 'fail',
      failure_reason: 'store_closed',
    });
    expect(result).toMatchObject({
      detailType: 'OrderRejected',
      detail: { orderId, reason: 'STORE_OFFLINE' },
    });
  });

  it('fails an order the POS never took after retries, voids any held POS order and denies POS_UNAVAILABLE', async () => {
    ordersTable({
      after: record({ status: 'FAILED', posReference: 'pos-1', denyReason: 'POS_UNAVAILABLE' }),
    });

    const result = await deny(
      { orderId, error: { Error: 'PosUnavailable', Cause: 'POS answered 503' } },
      ctx(),
    );

    expect(updates()[0]?.ExpressionAttributeValues).toMatchObject({
      ':to': 'FAILED',
      ':f0': 'POS_UNAVAILABLE',
    });
    expect(apis.callsTo('POST', '/pos/v1/orders/pos-1/void')).toHaveLength(1);
    expect(apis.callsTo('POST', '/doordash/v1/orders/dd-9001/deny')[0]?.body).toMatchObject({
      failure_reason: 'pos_unavailable',
    });
    expect(result).toMatchObject({ detailType: 'OrderFailed', detail: { reason: 'POS_UNAVAILABLE' } });
  });

  it('reports FAILED (not a denial) to the partner for an order it had already accepted', async () => {
    const accepted = record({ status: 'FAILED', posReference: 'pos-1' });
    accepted.timeline.push({ at: new Date().toISOString(), event: 'accepted', detail: 'POS pos-1' });
    ordersTable({ after: accepted });

    await deny({ orderId, error: { Error: 'PosUnavailable' } }, ctx());

    expect(apis.callsTo('POST', '/doordash/v1/orders/dd-9001/status')[0]?.body).toEqual({
      order_status: 'failed',
    });
    expect(apis.callsTo('POST', '/doordash/v1/orders/dd-9001/deny')).toHaveLength(0);
  });

  it('throws OrderCancelled when the partner cancelled first, voiding the held order', async () => {
    ordersTable({ current: record({ status: 'CANCELLED', posReference: 'pos-1' }) });

    const error = await stepError(deny({ orderId, error: { Error: 'PosUnavailable' } }, ctx()));

    expect(error.name).toBe('OrderCancelled');
    expect(apis.callsTo('POST', '/pos/v1/orders/pos-1/void')).toHaveLength(1);
  });
});

describe('wait-for-courier', () => {
  const TOKEN = 'token-from-step-functions';

  it('keeps the task token on the accepted order and leaves the workflow waiting', async () => {
    ordersTable({ after: record({ status: 'ACCEPTED', taskToken: TOKEN }) });

    expect(await waitForCourier({ orderId, taskToken: TOKEN }, ctx())).toEqual({ waiting: true });
    expect(updates()[0]).toMatchObject({
      ExpressionAttributeNames: expect.objectContaining({ '#f0': 'taskToken' }),
      ExpressionAttributeValues: expect.objectContaining({ ':from0': 'ACCEPTED', ':f0': TOKEN }),
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('resumes at once when the courier already arrived before the wait began', async () => {
    ordersTable({
      after: record({ status: 'ACCEPTED', taskToken: TOKEN, releaseRequestedAt: new Date().toISOString() }),
    });

    await waitForCourier({ orderId, taskToken: TOKEN }, ctx());

    expect(sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input.taskToken)).toEqual([
      TOKEN,
    ]);
  });

  it('throws OrderCancelled when the partner cancelled before the wait began', async () => {
    ordersTable({ current: record({ status: 'CANCELLED' }) });

    expect((await stepError(waitForCourier({ orderId, taskToken: TOKEN }, ctx()))).name).toBe(
      'OrderCancelled',
    );
  });
});

describe('release-to-kitchen', () => {
  const accepted = () => record({ status: 'RELEASED', posReference: 'pos-1' });

  /** The orders table as the release sees it: marked while ACCEPTED, then RELEASED. */
  function releasingOrder() {
    ddb.on(UpdateCommand, { TableName: ORDERS_TABLE }).callsFake((input) => ({
      Attributes: record({
        status: input.ExpressionAttributeValues?.[':to'] === 'RELEASED' ? 'RELEASED' : 'ACCEPTED',
        posReference: 'pos-1',
      }),
    }));
  }

  it('marks the order as releasing, fires it in the POS, then marks it RELEASED and tells the partner', async () => {
    releasingOrder();

    const result = await releaseToKitchen(
      { orderId, posReference: 'pos-1', release: { releasedBy: 'courier' } },
      ctx(),
    );

    expect(updates()).toHaveLength(2);
    expect(updates()[0]?.ExpressionAttributeValues).toMatchObject({ ':from0': 'ACCEPTED' });
    expect(updates()[0]?.ExpressionAttributeNames).toMatchObject({ '#f0': 'releasingAt' });
    expect(updates()[1]?.ExpressionAttributeValues).toMatchObject({
      ':from0': 'ACCEPTED',
      ':to': 'RELEASED',
    });
    expect(apis.callsTo('POST', '/pos/v1/orders/pos-1/fire')).toHaveLength(1);
    expect(apis.callsTo('POST', '/doordash/v1/orders/dd-9001/status')[0]?.body).toEqual({
      order_status: 'preparing',
    });
    expect(result.detail).toMatchObject({ orderId, posReference: 'pos-1', releasedBy: 'courier' });
  });

  it('skips the marking write when the courier’s release already marked the order', async () => {
    releasingOrder();

    await releaseToKitchen(
      { orderId, posReference: 'pos-1', release: { releasedBy: 'courier', releasing: true } },
      ctx(),
    );

    expect(updates()).toHaveLength(1);
    expect(updates()[0]?.ExpressionAttributeValues).toMatchObject({
      ':from0': 'ACCEPTED',
      ':to': 'RELEASED',
    });
    expect(apis.callsTo('POST', '/pos/v1/orders/pos-1/fire')).toHaveLength(1);
  });

  it('says the timeout released the order when no courier signal came', async () => {
    ordersTable({ after: accepted() });

    const result = await releaseToKitchen(
      { orderId, posReference: 'pos-1', release: { Error: 'States.Timeout', Cause: 'Task timed out' } },
      ctx(),
    );

    expect(result.detail.releasedBy).toBe('timeout');
  });

  it('still releases when the partner’s status endpoint is down: the kitchen has the order', async () => {
    ordersTable({ after: accepted() });
    apis.on('POST', `${PARTNER_ORDER}/status`, { status: 500 });

    const result = await releaseToKitchen(
      { orderId, posReference: 'pos-1', release: { releasedBy: 'courier' } },
      ctx(),
    );

    expect(result.detail.releasedBy).toBe('courier');
  });

  it('throws PosUnavailable when the POS will not fire, leaving the order unreleased, and fires on the retry', async () => {
    releasingOrder();
    apis.on('POST', POS_FIRE, { status: 503 });
    expect(
      (await stepError(releaseToKitchen({ orderId, posReference: 'pos-1', release: {} }, ctx()))).name,
    ).toBe('PosUnavailable');
    expect(updates().some((update) => update.ExpressionAttributeValues?.[':to'] === 'RELEASED')).toBe(false);

    ddb.reset();
    ordersTable({ current: accepted() });
    apis.on('POST', POS_FIRE, { status: 200, body: { posOrderId: 'pos-1', status: 'fired' } });
    await releaseToKitchen({ orderId, posReference: 'pos-1', release: {} }, ctx());

    expect(apis.callsTo('POST', '/pos/v1/orders/pos-1/fire')).toHaveLength(2);
  });

  it('voids the POS order and throws OrderCancelled when the cancel won the race', async () => {
    ordersTable({ current: record({ status: 'CANCELLED', posReference: 'pos-1' }) });

    const error = await stepError(
      releaseToKitchen({ orderId, posReference: 'pos-1', release: { releasedBy: 'courier' } }, ctx()),
    );

    expect(error.name).toBe('OrderCancelled');
    expect(apis.callsTo('POST', '/pos/v1/orders/pos-1/fire')).toHaveLength(0);
    expect(apis.callsTo('POST', '/pos/v1/orders/pos-1/void')).toHaveLength(1);
  });
});

describe('void-pos-order', () => {
  it('takes a cancelled order’s held POS order back off', async () => {
    ddb
      .on(GetCommand, { TableName: ORDERS_TABLE })
      .resolves({ Item: record({ status: 'CANCELLED', posReference: 'pos-1' }) });

    expect(await voidPosOrder({ orderId }, ctx())).toEqual({ voided: true });
    expect(apis.callsTo('POST', '/pos/v1/orders/pos-1/void')).toHaveLength(1);
  });

  it('calls the POS not at all when nothing was held', async () => {
    ddb.on(GetCommand, { TableName: ORDERS_TABLE }).resolves({ Item: record({ status: 'CANCELLED' }) });

    await voidPosOrder({ orderId }, ctx());

    expect(apis.calls).toHaveLength(0);
  });
});
