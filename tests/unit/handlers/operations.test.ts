/**
 * The operator API (ARCHITECTURE section 7) on a real DynamoDB (dynalite, tables and indexes from
 * resources/data.yml) and, for dead letters, the project's local SQS: the order list with its
 * filters, order and cursors; operator cancel and release with the partner webhooks' rules and
 * races; the dead-letter queues' depth and redrive. EventBridge and Step Functions are mocked.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { orderIdFor } from '../../../functions/lib/domain/order';
import { createdDayOf, encodeCursor } from '../../../functions/lib/domain/order-list';
import type { OrderRecord, OrderStatus } from '../../../functions/lib/schemas/order';
import type { PartnerId } from '../../../functions/lib/schemas/partners/index';
import { type Edge, startEdge } from '../../../local/cloud/edge';
import { LocalSqs } from '../../../local/cloud/sqs';
import { doorDashWebhook } from '../domain/fixtures';
import { DynamoWatch, OrdersTable, startTestTables } from './dynamo-tables';
import {
  answer,
  canonicalOrderFrom,
  EVENT_BUS_NAME,
  httpEvent,
  lambdaContext,
  ORDERS_TABLE,
  orderRecord,
  setHandlerEnv,
} from './harness';

const tables = await startTestTables();
const sqsLocal = new LocalSqs({ accountId: '000000000000' });
const edge: Edge = await startEdge({ port: 0, services: { sqs: sqsLocal.api } });
sqsLocal.setEndpoint(edge.url);
const ORDER_DLQ = sqsLocal.createQueue('order-middleware-test-order-received-dlq');
const SYNC_DLQ = sqsLocal.createQueue('order-middleware-test-store-sync-dlq');
setHandlerEnv({ AWS_ENDPOINT_URL_SQS: edge.url, DEAD_LETTER_QUEUES: `${ORDER_DLQ},${SYNC_DLQ}` });
const listOrders = (await import('../../../functions/list-orders')).handler;
const operatorOrders = (await import('../../../functions/operator-orders')).handler;
const deadLetters = (await import('../../../functions/dead-letters')).handler;
const { waitForCourier } = await import('../../../functions/lib/services/courier');
const dynamo = new DynamoWatch((await import('../../../functions/lib/adapters/dynamo')).dynamo);
const orders = new OrdersTable(tables.doc, ORDERS_TABLE);
const sqs = new SQSClient({
  endpoint: edge.url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});

const sfn = mockClient(SFNClient);
const bus = mockClient(EventBridgeClient);

/** The Query inputs the handlers sent, as DynamoDB got them. */
const queries: Record<string, unknown>[] = [];
(await import('../../../functions/lib/adapters/dynamo')).dynamo.middlewareStack.add(
  (next, context) => async (args) => {
    if (context.commandName === 'QueryCommand') queries.push(args.input as Record<string, unknown>);
    return next(args);
  },
  { step: 'initialize', name: 'testQueryInputs' },
);

afterAll(async () => {
  await tables.close();
  await sqsLocal.close();
  await edge.close();
});

beforeEach(async () => {
  await tables.clear();
  dynamo.reset();
  queries.length = 0;
  sfn.reset();
  bus.reset();
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  bus.on(PutEventsCommand).callsFake(({ Entries = [] }) => ({
    FailedEntryCount: 0,
    Entries: Entries.map((_: unknown, i: number) => ({ EventId: `evt-${i}` })),
  }));
});

const published = () =>
  bus.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// ── the order list ───────────────────────────────────────────────────────

const template = await canonicalOrderFrom('doordash', doorDashWebhook());

/** An order as the intake keeps it (createdDay and total beside it), created `ago` ms before now. */
function listed(
  n: number,
  {
    ago,
    status = 'ACCEPTED',
    storeId = 'store-001',
    partner = 'doordash',
  }: { ago: number; status?: OrderStatus; storeId?: string; partner?: PartnerId },
): OrderRecord {
  const partnerOrderId = `list-${n}`;
  const orderId = orderIdFor(partner, partnerOrderId);
  const createdAt = new Date(Date.now() - ago).toISOString();
  return orderRecord(
    { ...template, orderId, partner, partnerOrderId, storeId, total: 1000 + n },
    { status, createdAt, createdDay: createdDayOf(createdAt), updatedAt: createdAt, total: 1000 + n },
  );
}

async function list(query: Record<string, string> = {}) {
  const result = await listOrders(
    { ...httpEvent({ routeKey: 'GET /orders', rawPath: '/orders' }), queryStringParameters: query },
    lambdaContext(),
  );
  return answer(result) as {
    statusCode: number;
    body: { orders: Record<string, unknown>[]; cursor?: string };
  };
}

/** Every page of a list, following its cursors. */
async function allPages(query: Record<string, string>) {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const page = await list({ ...query, ...(cursor ? { cursor } : {}) });
    expect(page.statusCode).toBe(200);
    pages.push(page.body.orders.map((order) => String(order.partnerOrderId)));
    cursor = page.body.cursor;
  } while (cursor && pages.length < 20);
  return pages;
}

describe('GET /orders', () => {
  it('lists every order newest first, through today and earlier days, a page at a time', async () => {
    await orders.put(
      listed(1, { ago: 3 * DAY }),
      listed(2, { ago: DAY + HOUR, status: 'RELEASED' }),
      listed(3, { ago: DAY + 2 * HOUR, status: 'CANCELLED' }),
      listed(4, { ago: 2 * 60_000, status: 'RECEIVED' }),
      listed(5, { ago: 60_000 }),
    );

    const pages = await allPages({ limit: '2' });

    expect(pages.flat()).toEqual(['list-5', 'list-4', 'list-2', 'list-3', 'list-1']);
    expect(pages.every((page) => page.length <= 2)).toBe(true);
    expect(queries.every((query) => query.IndexName === 'by-day' && query.ScanIndexForward === false)).toBe(
      true,
    );
    expect(dynamo.sent).not.toContain('ScanCommand');
  });

  it('answers only the list’s fields, as the indexes carry them', async () => {
    const record = listed(1, { ago: 60_000 });
    await orders.put(record);

    const { body } = await list();

    expect(body).toEqual({
      orders: [
        {
          orderId: record.orderId,
          partner: 'doordash',
          partnerOrderId: 'list-1',
          storeId: 'store-001',
          status: 'ACCEPTED',
          total: 1001,
          createdAt: record.createdAt,
          updatedAt: record.updatedAt,
        },
      ],
    });
    expect(dynamo.sent).toEqual(expect.arrayContaining(['QueryCommand']));
    expect(dynamo.sent).not.toContain('GetItemCommand');
  });

  it('filters by status on the by-status index', async () => {
    await orders.put(
      listed(1, { ago: 5 * DAY, status: 'CANCELLED' }),
      listed(2, { ago: 3 * HOUR }),
      listed(3, { ago: 2 * HOUR, status: 'CANCELLED' }),
      listed(4, { ago: HOUR, status: 'RELEASED' }),
    );

    const { body } = await list({ status: 'CANCELLED' });

    expect(body.orders.map((order) => order.partnerOrderId)).toEqual(['list-3', 'list-1']);
    expect(queries.map((query) => query.IndexName)).toEqual(['by-status']);
  });

  it('filters by store on the by-store index, and by partner with a filter', async () => {
    await orders.put(
      listed(1, { ago: 4 * HOUR, storeId: 'store-002' }),
      listed(2, { ago: 3 * HOUR, storeId: 'store-002', partner: 'grubhub' }),
      listed(3, { ago: 2 * HOUR }),
      listed(4, { ago: HOUR, storeId: 'store-002' }),
    );

    const byStore = await list({ storeId: 'store-002' });
    const byStoreAndPartner = await list({ storeId: 'store-002', partner: 'doordash' });
    const byPartner = await list({ partner: 'grubhub' });

    expect(byStore.body.orders.map((order) => order.partnerOrderId)).toEqual(['list-4', 'list-2', 'list-1']);
    expect(byStoreAndPartner.body.orders.map((order) => order.partnerOrderId)).toEqual(['list-4', 'list-1']);
    expect(byPartner.body.orders.map((order) => order.partnerOrderId)).toEqual(['list-2']);
    expect(queries[0]).toMatchObject({ IndexName: 'by-store' });
    expect(queries[1]).toMatchObject({ IndexName: 'by-store', FilterExpression: expect.any(String) });
  });

  it('filters by status and store together, both ways round', async () => {
    await orders.put(
      listed(1, { ago: 4 * HOUR, storeId: 'store-002' }),
      listed(2, { ago: 3 * HOUR }),
      listed(3, { ago: 2 * HOUR, status: 'RELEASED', storeId: 'store-002' }),
      listed(4, { ago: HOUR, status: 'RELEASED' }),
    );

    const waiting = await list({ status: 'ACCEPTED', storeId: 'store-002' });
    const released = await list({ status: 'RELEASED', storeId: 'store-002' });

    expect(waiting.body.orders.map((order) => order.partnerOrderId)).toEqual(['list-1']);
    expect(released.body.orders.map((order) => order.partnerOrderId)).toEqual(['list-3']);
    // The few waiting orders are read by status; the many ended ones by store.
    expect(queries.map((query) => query.IndexName)).toEqual(['by-status', 'by-store']);
  });

  it('follows a cursor through a filtered list whose pages are cut inside a DynamoDB page', async () => {
    const records = Array.from({ length: 9 }, (_, i) =>
      listed(i + 1, { ago: (i + 1) * 60_000, partner: i % 3 === 0 ? 'grubhub' : 'doordash' }),
    );
    await orders.put(...records);

    const pages = await allPages({ status: 'ACCEPTED', partner: 'doordash', limit: '2' });

    expect(pages).toEqual([
      ['list-2', 'list-3'],
      ['list-5', 'list-6'],
      ['list-8', 'list-9'],
    ]);
  });

  it('stops at `since`: nothing older, and no day before since’s is read', async () => {
    await orders.put(
      listed(1, { ago: 10 * DAY }),
      listed(2, { ago: 2 * DAY }),
      listed(3, { ago: 2 * HOUR }),
      listed(4, { ago: HOUR }),
    );
    const since = new Date(Date.now() - 3 * HOUR);

    const recent = await list({ since: since.toISOString() });
    // An offset other than Z is the same instant.
    const withOffset = await list({
      since: since.toISOString().replace('Z', '+00:00'),
      storeId: 'store-001',
    });

    expect(recent.body.orders.map((order) => order.partnerOrderId)).toEqual(['list-4', 'list-3']);
    expect(recent.body.cursor).toBeUndefined();
    const days = queries
      .filter((query) => query.IndexName === 'by-day')
      .map((query) => String((query.ExpressionAttributeValues as Record<string, string>)[':p']));
    expect(days.length).toBeGreaterThan(0);
    expect(days.every((day) => day >= createdDayOf(since))).toBe(true);
    expect(withOffset.body.orders.map((order) => order.partnerOrderId)).toEqual(['list-4', 'list-3']);
  });

  it.each([
    ['limit 0', { limit: '0' }],
    ['limit 101', { limit: '101' }],
    ['a limit that is no number', { limit: 'ten' }],
    ['an unknown status', { status: 'WAITING' }],
    ['an unknown partner', { partner: 'deliveroo' }],
    ['a store id that cannot be one', { storeId: 'store 1' }],
    ['since that is no ISO time', { since: 'yesterday' }],
    ['a parameter the list does not know', { store: 'store-001' }],
    ['a cursor that is no cursor', { cursor: 'not-a-cursor!' }],
    ['a cursor of another list', { status: 'ACCEPTED', cursor: encodeCursor({ day: '2026-11-30' }) }],
    [
      'a cursor for another partition',
      {
        status: 'ACCEPTED',
        cursor: encodeCursor({
          key: { orderId: 'ord_x', createdAt: '2026-11-30T00:00:00.000Z', status: 'RELEASED' },
        }),
      },
    ],
  ])('refuses %s: 400, before any query', async (_, query) => {
    const result = await list(query as Record<string, string>);

    expect(result.statusCode).toBe(400);
    expect(result.body).toMatchObject({ error: { code: 'INVALID_PAYLOAD' } });
    expect(queries).toEqual([]);
  });
});

// ── operator cancel and release ──────────────────────────────────────────

const TOKEN = 'task-token-of-the-waiting-workflow';
const order = await canonicalOrderFrom('doordash', doorDashWebhook());
const record = (overrides: Partial<OrderRecord> = {}) => orderRecord(order, overrides);

async function operator(action: 'cancel' | 'release', body?: unknown, orderId = order.orderId) {
  const result = await operatorOrders(
    httpEvent({
      routeKey: `POST /orders/{orderId}/${action}`,
      rawPath: `/orders/${orderId}/${action}`,
      pathParameters: { orderId },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      headers: { 'content-type': 'application/json' },
    }),
    lambdaContext(),
  );
  return answer(result);
}

const cancelFor = (reason = 'customer called the store') => operator('cancel', { reason });

/** Someone else's write to the order, straight to the table. */
const meanwhile = (change: Record<string, unknown>) => async () => {
  const current = await orders.read(order.orderId);
  await orders.putOne({ ...current, ...change } as OrderRecord);
};

describe('POST /orders/{orderId}/cancel', () => {
  it('cancels a waiting order: the void and a CANCELLED for the partner owed in the same write, the workflow told, OrderCancelled by operator', async () => {
    await orders.putOne(record({ status: 'ACCEPTED', taskToken: TOKEN, posReference: 'pos-1' }));

    const result = await cancelFor('store is out of masa');

    expect(result).toEqual({ statusCode: 202, body: { orderId: order.orderId, status: 'CANCELLED' } });
    const stored = await orders.read(order.orderId);
    expect(stored).toMatchObject({
      status: 'CANCELLED',
      owesPosVoid: true,
      owesPartner: { call: 'status', status: 'CANCELLED' },
      owedQueue: 'owed',
    });
    expect(stored.timeline.at(-1)).toMatchObject({
      event: 'cancelled',
      detail: 'by operator: store is out of masa',
    });
    // The cancel's write, then the one that clears OrderCancelled once it is on the bus.
    expect(dynamo.sent.filter((name) => name === 'UpdateItemCommand')).toHaveLength(2);
    expect(stored).toMatchObject({ cancelledBy: 'operator' });
    expect(stored.owesEvent).toBeUndefined();
    expect(sfn.commandCalls(SendTaskFailureCommand).map((call) => call.args[0].input)).toEqual([
      { taskToken: TOKEN, error: 'OrderCancelled', cause: 'An operator cancelled the order.' },
    ]);
    expect(published()).toEqual([
      expect.objectContaining({ DetailType: 'OrderCancelled', EventBusName: EVENT_BUS_NAME }),
    ]);
    expect(JSON.parse(published()[0]!.Detail!)).toMatchObject({
      orderId: order.orderId,
      cancelledBy: 'operator',
    });
  });

  it('cancels an order still preparing, which then owes the same', async () => {
    await orders.putOne(record({ status: 'RECEIVED' }));

    expect((await cancelFor()).body).toEqual({ orderId: order.orderId, status: 'CANCELLED' });
    expect(await orders.read(order.orderId)).toMatchObject({
      status: 'CANCELLED',
      owesPartner: { call: 'status', status: 'CANCELLED' },
    });
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('is answered 202 again for a cancelled order, with no second event (the workflow is told again: a spent token is no error)', async () => {
    await orders.putOne(record({ status: 'ACCEPTED', taskToken: TOKEN }));
    await cancelFor();

    const again = await cancelFor();

    expect(again).toEqual({ statusCode: 202, body: { orderId: order.orderId, status: 'CANCELLED' } });
    expect(published()).toHaveLength(1);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(2);
  });

  it.each(['RELEASED', 'REJECTED', 'FAILED'] as const)(
    'is refused for a %s order: 409, unchanged',
    async (status) => {
      await orders.putOne(record({ status }));

      const result = await cancelFor();

      expect(result).toMatchObject({ statusCode: 409, body: { error: { code: 'ORDER_CONFLICT' } } });
      expect((await orders.read(order.orderId)).status).toBe(status);
      expect(published()).toEqual([]);
    },
  );

  it('is refused once the release to the kitchen has begun: 409', async () => {
    const at = new Date().toISOString();
    await orders.putOne(
      record({ status: 'ACCEPTED', taskToken: TOKEN, releaseRequestedAt: at, releasingAt: at }),
    );

    expect((await cancelFor()).statusCode).toBe(409);
    expect((await orders.read(order.orderId)).status).toBe('ACCEPTED');
  });

  it('loses to a courier release that lands between its read and its write: 409, the order released', async () => {
    await orders.putOne(record({ status: 'ACCEPTED', taskToken: TOKEN }));
    const at = new Date().toISOString();
    dynamo.beforeNext('UpdateItemCommand', meanwhile({ releaseRequestedAt: at, releasingAt: at }));

    const result = await cancelFor();

    expect(result.statusCode).toBe(409);
    const stored = await orders.read(order.orderId);
    expect(stored).toMatchObject({ status: 'ACCEPTED', releasingAt: at });
    expect(stored.owesPartner).toBeUndefined();
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('against an operator release sent at the same moment, exactly one wins', async () => {
    await orders.putOne(record({ status: 'ACCEPTED', taskToken: TOKEN }));

    const [cancelled, released] = await Promise.all([cancelFor(), operator('release')]);

    const winners = [cancelled, released].filter((result) => result.statusCode === 202);
    expect(winners).toHaveLength(1);
    const stored = await orders.read(order.orderId);
    if (cancelled.statusCode === 202) {
      expect(released.statusCode).toBe(409);
      expect(stored.status).toBe('CANCELLED');
      expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    } else {
      expect(cancelled.statusCode).toBe(409);
      expect(stored).toMatchObject({ status: 'ACCEPTED', releasingAt: expect.any(String) });
      expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    }
  });

  it('leaves the partner webhook’s cancel as it was: by partner, nothing owed to the partner', async () => {
    const { cancelOrder } = await import('../../../functions/lib/services/courier');
    await orders.putOne(record({ status: 'ACCEPTED', taskToken: TOKEN }));

    await cancelOrder(order.orderId);

    const stored = await orders.read(order.orderId);
    expect(stored.timeline.at(-1)).toMatchObject({ event: 'cancelled', detail: 'by partner' });
    expect(stored.owesPartner).toBeUndefined();
    expect(JSON.parse(published()[0]!.Detail!)).toMatchObject({ cancelledBy: 'partner' });
  });

  it.each([
    ['no body', undefined],
    ['no reason', {}],
    ['an empty reason', { reason: '  ' }],
    ['a body that is not JSON', 'reason=because'],
  ])('refuses %s: 400, unchanged', async (_, body) => {
    await orders.putOne(record({ status: 'ACCEPTED', taskToken: TOKEN }));

    const result = await operator('cancel', body);

    expect(result).toMatchObject({ statusCode: 400, body: { error: { code: 'INVALID_PAYLOAD' } } });
    expect((await orders.read(order.orderId)).status).toBe('ACCEPTED');
  });

  it('answers 404 for an order it does not know, and for an id that cannot be one', async () => {
    expect((await cancelFor()).statusCode).toBe(404);
    expect((await operator('cancel', { reason: 'x' }, 'ord_NOT-AN-ID')).statusCode).toBe(404);
    expect(dynamo.sent.filter((name) => name === 'UpdateItemCommand')).toHaveLength(1);
  });
});

describe('POST /orders/{orderId}/release', () => {
  it('resumes a waiting order now, released by operator, and a cancel is refused from then on', async () => {
    await orders.putOne(record({ status: 'ACCEPTED', taskToken: TOKEN, posReference: 'pos-1' }));

    const result = await operator('release');

    expect(result).toEqual({ statusCode: 202, body: { orderId: order.orderId, status: 'ACCEPTED' } });
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input)).toEqual([
      { taskToken: TOKEN, output: JSON.stringify({ releasedBy: 'operator', releasing: true }) },
    ]);
    const stored = await orders.read(order.orderId);
    expect(stored).toMatchObject({ releaseRequestedBy: 'operator', releasingAt: expect.any(String) });
    expect(stored.timeline.at(-1)).toMatchObject({ event: 'release-requested', detail: 'by operator' });
    expect((await cancelFor()).statusCode).toBe(409);
  });

  it('is remembered before the order waits, and resumes the wait as soon as it begins', async () => {
    await orders.putOne(record({ status: 'RECEIVED', claimedBy: 'exec-1' }));

    const result = await operator('release');

    expect(result.body).toEqual({ orderId: order.orderId, status: 'RECEIVED' });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    await meanwhile({ status: 'ACCEPTED' })();
    await waitForCourier(order.orderId, TOKEN, 'exec-1');
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input)).toEqual([
      { taskToken: TOKEN, output: JSON.stringify({ releasedBy: 'operator', releasing: false }) },
    ]);
  });

  it('writes once: a second release is 202, the record unchanged, and resumes the waiting workflow again (a spent token is no error)', async () => {
    await orders.putOne(record({ status: 'ACCEPTED', taskToken: TOKEN }));
    await operator('release');
    const written = await orders.read(order.orderId);

    expect((await operator('release')).statusCode).toBe(202);
    expect(await orders.read(order.orderId)).toEqual(written);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(2);
  });

  it.each(['CANCELLED', 'REJECTED', 'FAILED'] as const)('is refused for a %s order: 409', async (status) => {
    await orders.putOne(record({ status }));

    expect((await operator('release')).statusCode).toBe(409);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('answers 404 for an unknown order', async () => {
    expect((await operator('release')).statusCode).toBe(404);
  });
});

// ── dead letters ─────────────────────────────────────────────────────────

const DLQ_NAME = 'order-middleware-test-order-received-dlq';

async function deadLetter(routeKey: string, name?: string) {
  const rawPath = name ? `/operations/dead-letters/${name}/redrive` : '/operations/dead-letters';
  return answer(
    await deadLetters(
      httpEvent({ routeKey, rawPath, ...(name === undefined ? {} : { pathParameters: { name } }) }),
      lambdaContext(),
    ),
  );
}

const orderReceived = (orderId: string) => ({
  version: '0',
  id: `evt-${orderId}`,
  'detail-type': 'OrderReceived',
  source: 'order-middleware',
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: [],
  detail: { schemaVersion: '1.0', orderId },
});

const dlqMessage = (body: unknown, QueueUrl = ORDER_DLQ) =>
  sqs.send(
    new SendMessageCommand({
      QueueUrl,
      MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
      MessageAttributes: {
        RULE_ARN: { DataType: 'String', StringValue: 'arn:aws:events:us-east-1:0:rule/x' },
      },
    }),
  );

describe('dead letters', () => {
  beforeEach(async () => {
    await sqsLocal.api.PurgeQueue!({ QueueUrl: ORDER_DLQ });
    await sqsLocal.api.PurgeQueue!({ QueueUrl: SYNC_DLQ });
  });

  it('lists every DLQ of the stack by name with its depth', async () => {
    await dlqMessage(orderReceived('ord_a'));
    await dlqMessage(orderReceived('ord_b'));

    const result = await deadLetter('GET /operations/dead-letters');

    expect(result).toEqual({
      statusCode: 200,
      body: {
        queues: [
          { name: DLQ_NAME, messages: 2 },
          { name: 'order-middleware-test-store-sync-dlq', messages: 0 },
        ],
      },
    });
  });

  it('redrives each dead-lettered event back on the bus as it was, then deletes it; a message that is no event stays', async () => {
    await dlqMessage(orderReceived('ord_a'));
    await dlqMessage(orderReceived('ord_b'));
    // An async Lambda target's on-failure record carries the event as its requestPayload.
    await dlqMessage({
      requestContext: { condition: 'RetriesExhausted' },
      requestPayload: orderReceived('ord_c'),
    });
    await dlqMessage('not an event');

    const result = await deadLetter('POST /operations/dead-letters/{name}/redrive', DLQ_NAME);

    expect(result).toEqual({ statusCode: 202, body: { name: DLQ_NAME, redriven: 3, left: 1 } });
    const entries = published();
    expect(entries.map((entry) => JSON.parse(entry.Detail!).orderId).sort()).toEqual([
      'ord_a',
      'ord_b',
      'ord_c',
    ]);
    for (const entry of entries)
      expect(entry).toMatchObject({
        EventBusName: EVENT_BUS_NAME,
        Source: 'order-middleware',
        DetailType: 'OrderReceived',
      });
    expect(sqsLocal.depth(DLQ_NAME)).toBe(1);
  });

  it('shows the messages of a DLQ — what failed and the event — and leaves them there', async () => {
    await dlqMessage(orderReceived('ord_a'));
    await dlqMessage('not an event');

    const peek = async (query: Record<string, string> = {}) =>
      answer(
        await deadLetters(
          {
            ...httpEvent({
              routeKey: 'GET /operations/dead-letters/{name}/messages',
              rawPath: `/operations/dead-letters/${DLQ_NAME}/messages`,
              pathParameters: { name: DLQ_NAME },
            }),
            queryStringParameters: query,
          },
          lambdaContext(),
        ),
      );
    const first = await peek();
    const again = await peek({ limit: '1' });

    expect(first).toEqual({
      statusCode: 200,
      body: {
        name: DLQ_NAME,
        messages: [
          {
            messageId: expect.any(String),
            sentAt: expect.any(String),
            receiveCount: 1,
            attributes: { RULE_ARN: 'arn:aws:events:us-east-1:0:rule/x' },
            event: {
              source: 'order-middleware',
              detailType: 'OrderReceived',
              detail: orderReceived('ord_a').detail,
            },
          },
          expect.objectContaining({ body: 'not an event' }),
        ],
      },
    });
    expect((again.body.messages as unknown[]).length).toBe(1);
    expect(sqsLocal.depth(DLQ_NAME)).toBe(2);
    expect((await peek({ limit: '11' })).statusCode).toBe(400);
  });

  it('puts large events back in calls within PutEvents’ 256 KB limit', async () => {
    const large = (orderId: string) => ({
      ...orderReceived(orderId),
      detail: { orderId, notes: 'x'.repeat(100_000) },
    });
    for (const orderId of ['ord_1', 'ord_2', 'ord_3', 'ord_4', 'ord_5']) await dlqMessage(large(orderId));

    const result = await deadLetter('POST /operations/dead-letters/{name}/redrive', DLQ_NAME);

    expect(result.body).toEqual({ name: DLQ_NAME, redriven: 5 });
    const calls = bus.commandCalls(PutEventsCommand).map((call) => call.args[0].input.Entries ?? []);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const entries of calls)
      expect(
        entries.reduce((sum, entry) => sum + Buffer.byteLength(entry.Detail ?? ''), 0),
      ).toBeLessThanOrEqual(256 * 1024);
    expect(sqsLocal.depth(DLQ_NAME)).toBe(0);
  });

  it('keeps a message whose event the bus did not take, for the next redrive', async () => {
    await dlqMessage(orderReceived('ord_a'));
    await dlqMessage(orderReceived('ord_b'));
    bus.on(PutEventsCommand).callsFake(({ Entries = [] }) => ({
      FailedEntryCount: 1,
      Entries: Entries.map((entry: { Detail: string }) =>
        JSON.parse(entry.Detail).orderId === 'ord_b'
          ? { ErrorCode: 'InternalFailure', ErrorMessage: 'try again' }
          : { EventId: 'evt' },
      ),
    }));

    const result = await deadLetter('POST /operations/dead-letters/{name}/redrive', DLQ_NAME);

    expect(result.body).toEqual({ name: DLQ_NAME, redriven: 1, left: 1 });
    expect(sqsLocal.depth(DLQ_NAME)).toBe(1);
  });

  it('answers 404 for a queue that is not one of the stack’s DLQs, and for a name no queue can have', async () => {
    sqsLocal.createQueue('someone-elses-queue');

    expect(
      (await deadLetter('POST /operations/dead-letters/{name}/redrive', 'someone-elses-queue')).statusCode,
    ).toBe(404);
    expect(
      (await deadLetter('POST /operations/dead-letters/{name}/redrive', 'no/such queue')).statusCode,
    ).toBe(404);
    expect(published()).toEqual([]);
  });
});
