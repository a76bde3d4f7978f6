import { createHash } from 'node:crypto';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { jest } from '@jest/globals';
/** POST /webhooks/{partner}/orders — what a partner gets back, and what the middleware keeps and announces. */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { orderIdFor } from '../../../functions/lib/domain/order';
import { ERROR_CODES } from '../../../functions/lib/schemas/http';
import type { OrderRecord } from '../../../functions/lib/schemas/order';
import {
  doorDashOrderThatGrows,
  doorDashWebhook,
  grubhubWebhook,
  uberEatsNotice,
  uberEatsOrder,
} from '../domain/fixtures';
import {
  answer,
  canonicalOrderFrom,
  EVENT_BUS_NAME,
  FakeApis,
  lambdaContext,
  ORDERS_TABLE,
  orderRecord,
  PARTNER_API_KEY,
  PARTNER_API_URL,
  SIGNING_SECRETS,
  SSM_PREFIX,
  STORES_TABLE,
  setHandlerEnv,
  signedWebhook,
  ssmParameters,
  webhookEvent,
} from './harness';

setHandlerEnv();
const { handler } = await import('../../../functions/receive-order');

const ddb = mockClient(DynamoDBDocumentClient);
const bus = mockClient(EventBridgeClient);
const ssm = mockClient(SSMClient);
const apis = new FakeApis();

const DOORDASH_ORDER_ID = orderIdFor('doordash', 'dd-9001');
const PARTNER_STORES: Record<string, string> = {
  'PARTNER#doordash#dd-881001': 'store-001',
  'PARTNER#ubereats#ue-7c1f0a52-store-001': 'store-001',
  'PARTNER#grubhub#4410021': 'store-001',
};

const receive = async (event: Parameters<typeof handler>[0]) => answer(await handler(event, lambdaContext()));
const puts = () => ddb.commandCalls(PutCommand).map((call) => call.args[0].input);
const published = () =>
  bus.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);
const conditionFailed = () => new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });

/** One pickup time, ten minutes ahead, for every order of this file: a re-delivery must hash the same. */
const PICKUP_AT = new Date(Date.now() + 10 * 60_000).toISOString();
const doorDashOrder = (pickupAt = PICKUP_AT) => {
  const payload = doorDashWebhook();
  payload.order.estimated_pickup_time = pickupAt;
  return payload;
};
const grubhubOrder = () => ({ ...grubhubWebhook(), pickup_time: PICKUP_AT });
const uberOrder = () => ({ ...uberEatsOrder(), estimated_ready_for_pickup_at: PICKUP_AT });

beforeAll(() => apis.install());
afterAll(() => apis.uninstall());

beforeEach(() => {
  ddb.reset();
  bus.reset();
  ssm.reset();
  apis.reset();
  ssm
    .on(GetParameterCommand)
    .callsFake(({ Name }) => ({ Parameter: { Name, Value: ssmParameters()[Name] } }));
  ddb.on(GetCommand, { TableName: STORES_TABLE }).callsFake(({ Key }) => {
    const storeId = PARTNER_STORES[Key.pk];
    return { Item: storeId ? { pk: Key.pk, storeId } : undefined };
  });
  ddb.on(GetCommand, { TableName: ORDERS_TABLE }).resolves({});
  ddb.on(PutCommand).resolves({});
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
});

function expectRefused(
  result: { statusCode: number; body: Record<string, unknown> },
  status: number,
  code: string,
) {
  expect(result.statusCode).toBe(status);
  expect(result.body).toEqual({ error: { code, message: expect.any(String) } });
  expect(puts()).toHaveLength(0);
  expect(published()).toHaveLength(0);
}

describe('refusals, cheapest first', () => {
  const tooLarge = JSON.stringify({ padding: 'x'.repeat(256 * 1024) });
  const badSignature = { authorization: 'Bearer not-the-token' };

  it('404 for a partner we do not know, before looking at anything else', async () => {
    const result = await receive(
      webhookEvent({
        partner: 'justeat',
        body: tooLarge,
        headers: { 'content-type': 'text/plain', ...badSignature },
      }),
    );
    expectRefused(result, 404, 'UNKNOWN_PARTNER');
  });

  it('413 for a body over 256 KB, before the content type or signature', async () => {
    const result = await receive(
      webhookEvent({
        partner: 'doordash',
        body: tooLarge,
        headers: { 'content-type': 'text/plain', ...badSignature },
      }),
    );
    expectRefused(result, 413, 'PAYLOAD_TOO_LARGE');
  });

  it('415 for a body that is not application/json, before the signature', async () => {
    const result = await receive(
      webhookEvent({
        partner: 'doordash',
        body: '{}',
        headers: { 'content-type': 'text/plain', ...badSignature },
      }),
    );
    expectRefused(result, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('401 for a wrong token, before reading the payload', async () => {
    const result = await receive(
      webhookEvent({
        partner: 'doordash',
        body: '{"not":"an order"',
        headers: { 'content-type': 'application/json; charset=utf-8', ...badSignature },
      }),
    );
    expectRefused(result, 401, 'UNAUTHORIZED');
  });

  it('401 for a Grubhub webhook signed outside the 5-minute replay window', async () => {
    const sixMinutesAgo = new Date(Date.now() - 6 * 60_000);
    expectRefused(
      await receive(signedWebhook('grubhub', grubhubOrder(), { now: sixMinutesAgo })),
      401,
      'UNAUTHORIZED',
    );
  });

  it('400 for a correctly signed body that is not JSON', async () => {
    const event = webhookEvent({
      partner: 'doordash',
      body: '{"order": ',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${SIGNING_SECRETS.doordash[0]}` },
    });
    expectRefused(await receive(event), 400, 'INVALID_PAYLOAD');
  });

  it('400 for a correctly signed order that is not an order', async () => {
    const payload = doorDashOrder() as { order: Record<string, unknown> };
    delete payload.order.categories;
    expectRefused(await receive(signedWebhook('doordash', payload)), 400, 'INVALID_PAYLOAD');
  });

  it('400 for an order from a store we do not serve', async () => {
    const payload = doorDashOrder();
    payload.order.store.merchant_supplied_id = 'dd-999999';
    expectRefused(await receive(signedWebhook('doordash', payload)), 400, 'INVALID_PAYLOAD');
  });
});

describe('a new DoorDash order', () => {
  it('is answered 202 with our order id and RECEIVED', async () => {
    const result = await receive(signedWebhook('doordash', doorDashOrder()));

    expect(result).toEqual({
      statusCode: 202,
      body: {
        orderId: DOORDASH_ORDER_ID,
        partner: 'doordash',
        partnerOrderId: 'dd-9001',
        status: 'RECEIVED',
      },
    });
  });

  it('is kept once, by a conditional put of the canonical order', async () => {
    await receive(signedWebhook('doordash', doorDashOrder()));

    expect(puts()).toHaveLength(1);
    const [put] = puts();
    expect(put).toMatchObject({
      TableName: ORDERS_TABLE,
      ConditionExpression: 'attribute_not_exists(orderId)',
    });
    expect(put?.Item).toMatchObject({
      orderId: DOORDASH_ORDER_ID,
      status: 'RECEIVED',
      storeId: 'store-001',
      order: { partnerOrderId: 'dd-9001', total: 1935 },
      orderHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('is announced once as OrderReceived, carrying the canonical order and not the partner payload', async () => {
    await receive(signedWebhook('doordash', doorDashOrder()));

    expect(published()).toHaveLength(1);
    const [entry] = published();
    expect(entry).toMatchObject({
      EventBusName: EVENT_BUS_NAME,
      Source: 'order-middleware',
      DetailType: 'OrderReceived',
    });
    const detail = JSON.parse(entry?.Detail ?? '{}');
    expect(detail).toMatchObject({ orderId: DOORDASH_ORDER_ID, partner: 'doordash', storeId: 'store-001' });
    expect(detail.order.items.map((item: { sku: string }) => item.sku)).toEqual([
      'TACO-AL-PASTOR',
      'DRINK-HORCHATA',
    ]);
    expect(entry?.Detail).not.toContain('merchant_supplied_id');
  });

  it('is accepted with the previous token during a secret rotation', async () => {
    const result = await receive(
      signedWebhook('doordash', doorDashOrder(), { secret: SIGNING_SECRETS.doordash[1] }),
    );
    expect(result.statusCode).toBe(202);
  });
});

describe('a signing secret rotated in SSM (README: a 5-minute cache, two values valid during a rotation)', () => {
  const parameter = `${SSM_PREFIX}/partners/doordash/signing-secrets`;
  /** Only Date is faked: the clock moves past the cache time without waiting for it. */
  const onlyDate = [
    'setTimeout',
    'clearTimeout',
    'setInterval',
    'clearInterval',
    'setImmediate',
    'clearImmediate',
    'nextTick',
    'queueMicrotask',
    'hrtime',
    'performance',
  ] as const;
  const later = (seconds: number) => jest.setSystemTime(Date.now() + seconds * 1000);
  /** The answer to a DoorDash order authorized with `token`, its pickup ten minutes from the (faked) now. */
  const statusWith = async (token: string) =>
    (
      await receive(
        signedWebhook('doordash', doorDashOrder(new Date(Date.now() + 600_000).toISOString()), {
          secret: token,
        }),
      )
    ).statusCode;

  afterEach(() => {
    jest.useRealTimers();
    clearCaches(); // the next tests read the harness's secrets afresh, not the rotated ones
  });

  it('is taken once the cache expires, the old token with it until the rotation ends', async () => {
    let stored = 'dd-token-before';
    ssm.on(GetParameterCommand, { Name: parameter }).callsFake(() => ({
      Parameter: { Name: parameter, Value: stored },
    }));
    jest.useFakeTimers({ doNotFake: [...onlyDate] });
    later(301); // whatever an earlier test cached has expired
    expect(await statusWith('dd-token-before')).toBe(202);

    stored = 'dd-token-after,dd-token-before'; // the rotation begins
    later(299);
    expect(await statusWith('dd-token-after')).toBe(401); // still the cached value
    later(2);
    expect(await statusWith('dd-token-after')).toBe(202);
    expect(await statusWith('dd-token-before')).toBe(202);

    stored = 'dd-token-after'; // the rotation ends
    later(301);
    expect(await statusWith('dd-token-before')).toBe(401);
    expect(await statusWith('dd-token-after')).toBe(202);
  });
});

describe('the same order again', () => {
  async function firstDelivery(): Promise<OrderRecord> {
    await receive(signedWebhook('doordash', doorDashOrder()));
    const stored = puts()[0]?.Item as OrderRecord;
    ddb.resetHistory();
    bus.resetHistory();
    return stored;
  }

  it('is answered 202 with the same body and announced no second time', async () => {
    const stored = await firstDelivery();
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb.on(GetCommand, { TableName: ORDERS_TABLE }).resolves({ Item: stored });

    const result = await receive(signedWebhook('doordash', doorDashOrder()));

    expect(result).toEqual({
      statusCode: 202,
      body: {
        orderId: DOORDASH_ORDER_ID,
        partner: 'doordash',
        partnerOrderId: 'dd-9001',
        status: 'RECEIVED',
      },
    });
    expect(published()).toHaveLength(0);
  });

  it('is announced again when its workflow never started (intake crashed after keeping it)', async () => {
    const stored = await firstDelivery();
    const longAgo = new Date(Date.now() - 5 * 60_000).toISOString();
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb.on(GetCommand, { TableName: ORDERS_TABLE }).resolves({ Item: { ...stored, createdAt: longAgo } });

    const result = await receive(signedWebhook('doordash', doorDashOrder()));

    expect(result.statusCode).toBe(202);
    expect(published().map((entry) => entry.DetailType)).toEqual(['OrderReceived']);
  });

  it('is 409 when the partner reuses the id for a different order', async () => {
    const stored = await firstDelivery();
    ddb.on(PutCommand).rejects(conditionFailed());
    ddb
      .on(GetCommand, { TableName: ORDERS_TABLE })
      .resolves({ Item: { ...stored, orderHash: 'f'.repeat(64) } });

    const result = await receive(signedWebhook('doordash', doorDashOrder()));

    expect(result).toEqual({
      statusCode: 409,
      body: { error: { code: 'ORDER_CONFLICT', message: expect.any(String) } },
    });
    expect(published()).toHaveLength(0);
  });
});

describe('when the bus is down', () => {
  it('takes the order back and answers 500, so the partner’s retry starts clean', async () => {
    bus.on(PutEventsCommand).rejects(new Error('EventBridge unavailable'));
    ddb.on(DeleteCommand).resolves({});

    const result = await receive(signedWebhook('doordash', doorDashOrder()));

    expect(result.statusCode).toBe(500);
    expect(result.body).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    expect(ERROR_CODES).toContain((result.body.error as { code: string }).code);
    expect(JSON.stringify(result.body)).not.toContain('EventBridge');
    const deletes = ddb.commandCalls(DeleteCommand).map((call) => call.args[0].input);
    expect(deletes).toEqual([
      expect.objectContaining({ TableName: ORDERS_TABLE, Key: { orderId: DOORDASH_ORDER_ID } }),
    ]);
  });

  it('treats a failed PutEvents entry like an outage', async () => {
    bus.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
    ddb.on(DeleteCommand).resolves({});

    const result = await receive(signedWebhook('doordash', doorDashOrder()));

    expect(result.statusCode).toBe(500);
    expect(ddb.commandCalls(DeleteCommand)).toHaveLength(1);
  });
});

describe('an Uber Eats notification', () => {
  const orderPath = '/ubereats/v1/orders/a1b2c3d4-0000-4000-8000-000000000001';
  /** The notice as Uber Eats sends it now: older events are refused as replays (401). */
  const noticeSentNow = () => ({ ...uberEatsNotice(), event_time: Math.floor(Date.now() / 1000) });

  it('fetches the order from the Uber Eats API with our API key, then keeps and announces it', async () => {
    apis.on('GET', `${PARTNER_API_URL}${orderPath}`, { status: 200, body: uberOrder() });

    const result = await receive(signedWebhook('ubereats', noticeSentNow()));

    expect(result).toEqual({
      statusCode: 202,
      body: {
        orderId: orderIdFor('ubereats', 'a1b2c3d4-0000-4000-8000-000000000001'),
        partner: 'ubereats',
        partnerOrderId: 'a1b2c3d4-0000-4000-8000-000000000001',
        status: 'RECEIVED',
      },
    });
    const [fetchCall] = apis.callsTo('GET', orderPath);
    expect(JSON.stringify(fetchCall?.headers)).toContain(PARTNER_API_KEY);
    expect(puts()[0]?.Item).toMatchObject({ order: { total: 1935, items: expect.any(Array) } });
    expect(published()).toHaveLength(1);
  });

  it.each([
    [503, 'down for maintenance'],
    [429, 'rate-limiting us'],
    [599, 'unreachable'],
  ])(
    'answers 503 and keeps nothing while the Uber Eats API answers %i (%s), so Uber Eats retries',
    async (status) => {
      apis.on('GET', `${PARTNER_API_URL}${orderPath}`, { status, body: { error: 'maintenance' } });

      const result = await receive(signedWebhook('ubereats', noticeSentNow()));

      expectRefused(result, 503, 'PARTNER_UNAVAILABLE');
    },
  );

  it('is refused 400 and keeps nothing when Uber Eats does not know the order (404)', async () => {
    apis.on('GET', `${PARTNER_API_URL}${orderPath}`, {
      status: 404,
      body: { code: 'not_found', message: 'order not found' },
    });

    const result = await receive(signedWebhook('ubereats', noticeSentNow()));

    expectRefused(result, 400, 'INVALID_PAYLOAD');
    expect(apis.callsTo('GET', orderPath)).toHaveLength(1);
  });

  it('is refused 400 and keeps nothing when what Uber Eats serves is not an order', async () => {
    apis.on('GET', `${PARTNER_API_URL}${orderPath}`, { status: 200, body: { hello: 'world' } });
    expectRefused(await receive(signedWebhook('ubereats', noticeSentNow())), 400, 'INVALID_PAYLOAD');
  });

  it('is refused 400 and keeps nothing when the fetched order carries another id than the notice', async () => {
    apis.on('GET', `${PARTNER_API_URL}${orderPath}`, {
      status: 200,
      body: { ...uberOrder(), id: 'ffffffff-0000-4000-8000-000000000009' },
    });
    const result = await receive(signedWebhook('ubereats', noticeSentNow()));
    expectRefused(result, 400, 'INVALID_PAYLOAD');
    expect((result.body.error as { message: string }).message).toMatch(
      /ffffffff-0000-4000-8000-000000000009/,
    );
  });

  it('is refused 400 and keeps nothing when the fetched order is for another store than the notice', async () => {
    apis.on('GET', `${PARTNER_API_URL}${orderPath}`, {
      status: 200,
      body: { ...uberOrder(), store: { id: 'ue-2b9d44e1-store-002' } },
    });
    PARTNER_STORES['PARTNER#ubereats#ue-2b9d44e1-store-002'] = 'store-002';
    try {
      const result = await receive(signedWebhook('ubereats', noticeSentNow()));
      expectRefused(result, 400, 'INVALID_PAYLOAD');
    } finally {
      delete PARTNER_STORES['PARTNER#ubereats#ue-2b9d44e1-store-002'];
    }
  });

  it('is refused 401 when signed with a secret Uber Eats does not hold', async () => {
    const result = await receive(signedWebhook('ubereats', noticeSentNow(), { secret: 'guessed' }));
    expectRefused(result, 401, 'UNAUTHORIZED');
    expect(apis.calls).toHaveLength(0);
  });
});

describe('a Grubhub order', () => {
  it('signed just now is received', async () => {
    const result = await receive(signedWebhook('grubhub', grubhubOrder()));
    expect(result.body).toMatchObject({ partner: 'grubhub', partnerOrderId: 'gh-77', status: 'RECEIVED' });
    // The hash of what was ordered, written out from its definition (SHA-256 of the business
    // fields as JSON, keys sorted, no spaces) with the fixture's values, not computed by the code.
    const business =
      '{"currency":"USD","items":[{"modifiers":[{"name":"Guacamole","price":250,"sku":"SIDE-GUAC"},' +
      '{"name":"No onions","price":0}],"name":"Al Pastor Taco","notes":"extra lime","quantity":2,' +
      '"sku":"TACO-AL-PASTOR","unitPrice":450},{"modifiers":[],"name":"Horchata","quantity":1,' +
      `"sku":"DRINK-HORCHATA","unitPrice":375}],"partner":"grubhub","partnerOrderId":"gh-77","pickupAt":"${PICKUP_AT}",` +
      '"storeId":"store-001","subtotal":1775,"tax":160,"total":1935}';
    expect(puts()[0]?.Item).toMatchObject({
      storeId: 'store-001',
      total: 1935,
      orderHash: createHash('sha256').update(business, 'utf8').digest('hex'),
    });
  });
});

describe('what the order itself says', () => {
  it('an order too large once canonical (a ~20 KB DoorDash order of multiplied options) is 400 ORDER_TOO_LARGE, nothing kept', async () => {
    const payload = doorDashOrderThatGrows();
    payload.order.estimated_pickup_time = PICKUP_AT;
    expectRefused(await receive(signedWebhook('doordash', payload)), 400, 'ORDER_TOO_LARGE');
  });

  it.each([
    ['30 days ahead', new Date(Date.now() + 30 * 24 * 3600_000).toISOString()],
    ['in 1969', '1969-07-20T20:17:40Z'],
    ['an hour ago', new Date(Date.now() - 3600_000).toISOString()],
  ])('a pickup %s is refused 400, nothing kept', async (_, pickupAt) => {
    const result = await receive(signedWebhook('doordash', doorDashOrder(pickupAt)));
    expectRefused(result, 400, 'INVALID_PAYLOAD');
    expect((result.body.error as { message: string }).message).toMatch(/pickup/);
  });

  it('a re-delivery of an order kept before its pickup time passed is still answered 202, not refused', async () => {
    const pickupAt = new Date(Date.now() - 3600_000).toISOString();
    const kept = orderRecord(await canonicalOrderFrom('doordash', doorDashOrder(pickupAt)), {
      status: 'ACCEPTED',
      claimedBy: 'execution-1',
    });
    ddb.on(GetCommand, { TableName: ORDERS_TABLE }).resolves({ Item: kept });

    const result = await receive(signedWebhook('doordash', doorDashOrder(pickupAt)));

    expect(result).toEqual({
      statusCode: 202,
      body: {
        orderId: DOORDASH_ORDER_ID,
        partner: 'doordash',
        partnerOrderId: 'dd-9001',
        status: 'RECEIVED',
      },
    });
    expect(puts()).toHaveLength(0);
    expect(published()).toHaveLength(0);
  });

  it('a late order under a kept id but with other content is refused for its pickup (400 comes before 409)', async () => {
    const pickupAt = new Date(Date.now() - 3600_000).toISOString();
    const kept = orderRecord(await canonicalOrderFrom('doordash', doorDashOrder(pickupAt)), {
      orderHash: 'f'.repeat(64),
    });
    ddb.on(GetCommand, { TableName: ORDERS_TABLE }).resolves({ Item: kept });
    expectRefused(await receive(signedWebhook('doordash', doorDashOrder(pickupAt))), 400, 'INVALID_PAYLOAD');
  });

  it('a negative quantity (which would show a negative total) is refused 400, nothing kept', async () => {
    const payload = doorDashOrder();
    payload.order.categories[0]!.items[0]!.quantity = -2;
    payload.order.subtotal = -2 * 700 + 375;
    expectRefused(await receive(signedWebhook('doordash', payload)), 400, 'INVALID_PAYLOAD');
  });

  it('hostile notes are kept without control characters or HTML', async () => {
    const payload = {
      ...grubhubOrder(),
      special_instructions: 'Leave at door\n<img src=x onerror=alert(1)>\u0000ok',
    };
    const result = await receive(signedWebhook('grubhub', payload));
    expect(result.statusCode).toBe(202);
    expect(puts()[0]?.Item).toMatchObject({ order: { notes: 'Leave at door ok' } });
  });
});
