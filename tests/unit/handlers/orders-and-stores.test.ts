/** GET /orders/{orderId} and the store routes, as the brand's operators and store managers use them. */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { demoStore } from '../../../functions/lib/domain/demo-stores';
import { OrderViewSchema } from '../../../functions/lib/schemas/order';
import type { Store } from '../../../functions/lib/schemas/store';
import { doorDashWebhook } from '../domain/fixtures';
import {
  answer,
  canonicalOrderFrom,
  httpEvent,
  lambdaContext,
  ORDERS_TABLE,
  orderRecord,
  STORES_TABLE,
  setHandlerEnv,
} from './harness';

setHandlerEnv();
const getOrder = (await import('../../../functions/get-order')).handler;
const stores = (await import('../../../functions/stores')).handler;

const ddb = mockClient(DynamoDBDocumentClient);
const bus = mockClient(EventBridgeClient);
const order = await canonicalOrderFrom('doordash', doorDashWebhook());

beforeEach(() => {
  ddb.reset();
  bus.reset();
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
});

const askForOrder = async (orderId: string) =>
  answer(
    await getOrder(
      httpEvent({
        routeKey: 'GET /orders/{orderId}',
        rawPath: `/orders/${orderId}`,
        pathParameters: { orderId },
      }),
      lambdaContext(),
    ),
  );

describe('GET /orders/{orderId}', () => {
  it('shows status, items, POS reference and timeline — without the task token or the customer', async () => {
    const accepted = orderRecord(order, {
      status: 'ACCEPTED',
      posReference: 'pos-1',
      taskToken: 'secret-ish-token',
      claimedBy: 'arn:aws:states:execution',
    });
    ddb
      .on(GetCommand, { TableName: ORDERS_TABLE, Key: { orderId: order.orderId } })
      .resolves({ Item: accepted });

    const result = await askForOrder(order.orderId);

    expect(result.statusCode).toBe(200);
    expect(OrderViewSchema.parse(result.body)).toBeTruthy();
    expect(result.body).toMatchObject({
      orderId: order.orderId,
      partner: 'doordash',
      partnerOrderId: 'dd-9001',
      storeId: 'store-001',
      status: 'ACCEPTED',
      total: 1935,
      posReference: 'pos-1',
      timeline: [expect.objectContaining({ event: 'received' })],
    });
    const text = JSON.stringify(result.body);
    for (const hidden of ['secret-ish-token', 'taskToken', 'Maria', 'customer', 'claimedBy']) {
      expect(text).not.toContain(hidden);
    }
  });

  it('is 404 for an order we do not have', async () => {
    ddb.on(GetCommand).resolves({});

    expect(await askForOrder(order.orderId.replace(/.$/, 'a'))).toEqual({
      statusCode: 404,
      body: { error: { code: 'NOT_FOUND', message: expect.any(String) } },
    });
  });

  it('is 404 without touching the table for something that is not an order id', async () => {
    const result = await askForOrder('..%2Fstores%2Fstore-001');

    expect(result.statusCode).toBe(404);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('is a JSON 404 without touching the table for a 2,043-character id', async () => {
    expect(await askForOrder('x'.repeat(2043))).toEqual({
      statusCode: 404,
      body: { error: { code: 'NOT_FOUND', message: 'no such order' } },
    });
    expect(ddb.calls()).toHaveLength(0);
  });
});

describe('store routes', () => {
  const storeItem = (store: Store) => ({ pk: `STORE#${store.storeId}`, ...store });
  const call = async (routeKey: string, pathParameters: Record<string, string>, body?: unknown) => {
    const rawPath = routeKey
      .split(' ')[1]!
      .replace(/\{(\w+)\}/g, (_, name: string) => pathParameters[name] ?? '');
    const event = httpEvent({
      routeKey,
      rawPath,
      pathParameters,
      body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    return answer(await stores(event, lambdaContext()));
  };

  it('GET shows the store’s status and menu, not its partner mappings', async () => {
    const store = demoStore('store-001')!;
    ddb
      .on(GetCommand, { TableName: STORES_TABLE, Key: { pk: 'STORE#store-001' } })
      .resolves({ Item: storeItem(store) });

    const result = await call('GET /stores/{storeId}', { storeId: 'store-001' });

    expect(result).toEqual({
      statusCode: 200,
      body: { storeId: 'store-001', name: store.name, status: 'online', version: 0, menu: store.menu },
    });
  });

  it('GET is 404 for a store we do not have', async () => {
    ddb.on(GetCommand).resolves({});
    expect((await call('GET /stores/{storeId}', { storeId: 'store-404' })).statusCode).toBe(404);
  });

  it('PUT status pauses the store by a conditional update on the version read and answers the store', async () => {
    const paused = { ...demoStore('store-001')!, status: 'paused' as const, version: 1 };
    ddb.on(GetCommand).resolves({ Item: storeItem(demoStore('store-001')!) });
    ddb.on(UpdateCommand).resolves({ Attributes: storeItem(paused) });

    const result = await call('PUT /stores/{storeId}/status', { storeId: 'store-001' }, { status: 'paused' });

    expect(result.statusCode).toBe(200);
    expect(result.body.status).toBe('paused');
    const update = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update).toMatchObject({
      TableName: STORES_TABLE,
      Key: { pk: 'STORE#store-001' },
      ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(#version) OR #version = :from)',
      ExpressionAttributeValues: expect.objectContaining({ ':status': 'paused', ':from': 0, ':version': 1 }),
    });
  });

  it.each([
    ['an unknown status', { status: 'closed-forever' }],
    ['no status', {}],
    ['a body that is not JSON', '{status:'],
  ])('PUT status is 400 for %s, and changes nothing', async (_, body) => {
    const result = await call('PUT /stores/{storeId}/status', { storeId: 'store-001' }, body);

    expect(result).toEqual({
      statusCode: 400,
      body: { error: { code: 'INVALID_PAYLOAD', message: expect.any(String) } },
    });
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('PUT status is 404 for a store we do not have', async () => {
    ddb.on(GetCommand).resolves({});
    expect(
      (await call('PUT /stores/{storeId}/status', { storeId: 'store-404' }, { status: 'online' })).statusCode,
    ).toBe(404);
  });

  it('PUT an item 86s it: that menu entry becomes unavailable', async () => {
    const store = demoStore('store-001')!;
    const index = store.menu.findIndex((item) => item.sku === 'DRINK-HORCHATA');
    const after = structuredClone(store);
    after.menu[index]!.available = false;
    ddb.on(GetCommand).resolves({ Item: storeItem(store) });
    ddb.on(UpdateCommand).resolves({ Attributes: storeItem(after) });

    const result = await call(
      'PUT /stores/{storeId}/items/{sku}',
      { storeId: 'store-001', sku: 'DRINK-HORCHATA' },
      { available: false },
    );

    expect(result.statusCode).toBe(200);
    expect((result.body.menu as Store['menu']).find((item) => item.sku === 'DRINK-HORCHATA')?.available).toBe(
      false,
    );
    const update = ddb.commandCalls(UpdateCommand)[0]?.args[0].input;
    expect(update?.UpdateExpression).toBe(
      `SET menu[${index}].available = :available, menu[${index}].version = :version REMOVE menu[${index}].#until`,
    );
    expect(update?.ConditionExpression).toContain(`menu[${index}].sku = :sku`);
    expect(update?.ExpressionAttributeValues).toEqual({
      ':available': false,
      ':sku': 'DRINK-HORCHATA',
      ':version': 1,
      ':from': 0,
    });
  });

  it('PUT an item is 404 for a sku not on the menu, and 400 without `available`', async () => {
    ddb.on(GetCommand).resolves({ Item: storeItem(demoStore('store-001')!) });

    const unknown = await call(
      'PUT /stores/{storeId}/items/{sku}',
      { storeId: 'store-001', sku: 'PIZZA' },
      { available: false },
    );
    const malformed = await call(
      'PUT /stores/{storeId}/items/{sku}',
      { storeId: 'store-001', sku: 'DRINK-HORCHATA' },
      {},
    );

    expect(unknown.statusCode).toBe(404);
    expect(malformed.statusCode).toBe(400);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('store routes, fed what an operator’s tools really send', () => {
  const longId = 'x'.repeat(2043);
  const invalid = {
    statusCode: 400,
    body: { error: { code: 'INVALID_PAYLOAD', message: expect.any(String) } },
  };
  const notFound = { statusCode: 404, body: { error: { code: 'NOT_FOUND', message: expect.any(String) } } };
  const storeItem = (store: Store) => ({ pk: `STORE#${store.storeId}`, ...store });

  /** A request as API Gateway delivers it: a body of a non-text Content-Type arrives base64-encoded. */
  const send = async (
    routeKey: string,
    pathParameters: Record<string, string>,
    body?: { bytes: Buffer; contentType: string },
  ) => {
    const rawPath = routeKey
      .split(' ')[1]!
      .replace(/\{(\w+)\}/g, (_, name: string) => pathParameters[name] ?? '');
    const text = body && /^(text\/|application\/json)/.test(body.contentType);
    const event = {
      ...httpEvent({
        routeKey,
        rawPath,
        pathParameters,
        ...(body ? { headers: { 'content-type': body.contentType } } : {}),
      }),
      ...(body ? { body: body.bytes.toString(text ? 'utf8' : 'base64'), isBase64Encoded: !text } : {}),
    };
    return answer(await stores(event, lambdaContext()));
  };
  const form = (text: string | Buffer) => ({
    bytes: Buffer.isBuffer(text) ? text : Buffer.from(text),
    contentType: 'application/x-www-form-urlencoded',
  });

  it('GET is 404 for an id that cannot be a store, without reading the table (its key would be too long)', async () => {
    expect(await send('GET /stores/{storeId}', { storeId: longId })).toEqual(notFound);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('PUTs are 400 for a store id or sku that cannot be one, without touching the table', async () => {
    const json = { bytes: Buffer.from('{"status":"paused"}'), contentType: 'application/json' };
    expect(await send('PUT /stores/{storeId}/status', { storeId: longId }, json)).toEqual(invalid);
    const available = { bytes: Buffer.from('{"available":false}'), contentType: 'application/json' };
    expect(
      await send('PUT /stores/{storeId}/items/{sku}', { storeId: longId, sku: 'TACO-POLLO' }, available),
    ).toEqual(invalid);
    expect(
      await send('PUT /stores/{storeId}/items/{sku}', { storeId: 'store-001', sku: longId }, available),
    ).toEqual(invalid);
    expect(ddb.calls()).toHaveLength(0);
  });

  it('PUT status reads a JSON body sent as curl does by default (form-urlencoded, so base64): 200', async () => {
    const paused = { ...demoStore('store-001')!, status: 'paused' as const };
    ddb.on(GetCommand).resolves({ Item: storeItem(demoStore('store-001')!) });
    ddb.on(UpdateCommand).resolves({ Attributes: storeItem(paused) });

    const result = await send(
      'PUT /stores/{storeId}/status',
      { storeId: 'store-001' },
      form('{"status":"paused"}'),
    );

    expect(result.statusCode).toBe(200);
    expect(result.body.status).toBe('paused');
    expect(ddb.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues).toMatchObject({
      ':status': 'paused',
    });
  });

  it('PUT item reads a JSON body whatever the Content-Type says, even none: 200', async () => {
    const store = demoStore('store-001')!;
    ddb.on(GetCommand).resolves({ Item: storeItem(store) });
    ddb.on(UpdateCommand).resolves({ Attributes: storeItem(store) });

    for (const contentType of [
      'application/x-www-form-urlencoded',
      'text/plain',
      'application/octet-stream',
      '',
    ]) {
      const bytes = Buffer.from('{"available":false}');
      const result = await send(
        'PUT /stores/{storeId}/items/{sku}',
        { storeId: 'store-001', sku: 'DRINK-HORCHATA' },
        { bytes, contentType },
      );
      expect(result.statusCode).toBe(200);
    }
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(4);
  });

  it.each([
    ['form fields, not JSON', form('status=paused')],
    ['bytes that are not UTF-8', form(Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x7d]))],
    ['no body at all', undefined],
  ])('PUT status is 400 for %s, and changes nothing', async (_, body) => {
    expect(await send('PUT /stores/{storeId}/status', { storeId: 'store-001' }, body)).toEqual(invalid);
    expect(ddb.calls()).toHaveLength(0);
  });
});
