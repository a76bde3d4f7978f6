/**
 * POST …/{partnerOrderId}/release and …/cancel — the partner says the courier is close, or
 * cancels. What the partner is answered, and what reaches the waiting workflow. The orders table
 * is a real DynamoDB (dynalite, tables from resources/data.yml): the conditions that pick one
 * winner among cancel, release and timeout are DynamoDB's to evaluate, not the test's.
 */

import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { jest } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import type { OrderRecord, OrderStatus } from '../../../functions/lib/schemas/order';
import { doorDashWebhook } from '../domain/fixtures';
import { DynamoWatch, OrdersTable, startTestTables } from './dynamo-tables';
import {
  answer,
  canonicalOrderFrom,
  EVENT_BUS_NAME,
  lambdaContext,
  ORDERS_TABLE,
  orderRecord,
  setHandlerEnv,
  signedWebhook,
  ssmParameters,
} from './harness';

const tables = await startTestTables();
setHandlerEnv();
const release = (await import('../../../functions/release-order')).handler;
const cancel = (await import('../../../functions/cancel-order')).handler;
// The handlers' own DynamoDB client: what they send, and a write slipped in before theirs.
const dynamo = new DynamoWatch((await import('../../../functions/lib/adapters/dynamo')).dynamo);
const orders = new OrdersTable(tables.doc, ORDERS_TABLE);

const sfn = mockClient(SFNClient);
const bus = mockClient(EventBridgeClient);
const ssm = mockClient(SSMClient);

const TOKEN = 'task-token-of-the-waiting-workflow';
const order = await canonicalOrderFrom('doordash', doorDashWebhook());
const record = (overrides: Partial<OrderRecord> = {}) => orderRecord(order, overrides);

const webhook = (kind: 'release' | 'cancel', partnerOrderId = 'dd-9001', bodyOrderId = partnerOrderId) =>
  signedWebhook(
    'doordash',
    {
      event: { type: kind === 'release' ? 'dasher_arriving' : 'order_cancelled' },
      order: { id: bodyOrderId },
    },
    { action: { kind, partnerOrderId } },
  );

const callRelease = async (event = webhook('release')) => answer(await release(event, lambdaContext()));
const callCancel = async (event = webhook('cancel')) => answer(await cancel(event, lambdaContext()));
const published = () =>
  bus.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);

/** The orders table holds `stored` (nothing when undefined); answers it as it was put. */
async function ordersTableHolds(stored: OrderRecord | undefined): Promise<OrderRecord | undefined> {
  if (stored) await orders.putOne(stored);
  return stored;
}

/** Someone else's write to the order, straight to the table. */
const meanwhile = (change: Record<string, unknown>) => async () => {
  const names = Object.keys(change);
  await tables.doc.send(
    new UpdateCommand({
      TableName: ORDERS_TABLE,
      Key: { orderId: order.orderId },
      UpdateExpression: `SET ${names.map((_, i) => `#n${i} = :v${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#n${i}`, name])),
      ExpressionAttributeValues: Object.fromEntries(names.map((name, i) => [`:v${i}`, change[name]])),
    }),
  );
};

afterAll(() => tables.close());

beforeEach(async () => {
  await tables.clear();
  dynamo.reset();
  sfn.reset();
  bus.reset();
  ssm.reset();
  ssm
    .on(GetParameterCommand)
    .callsFake(({ Name }) => ({ Parameter: { Name, Value: ssmParameters()[Name] } }));
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
});

describe('release (the courier is close)', () => {
  it('resumes the waiting workflow with its stored task token: 202', async () => {
    const waiting = record({ status: 'ACCEPTED', taskToken: TOKEN, posReference: 'pos-1' });
    await ordersTableHolds(waiting);

    const result = await callRelease();

    expect(result).toEqual({ statusCode: 202, body: { orderId: order.orderId, status: 'ACCEPTED' } });
    const resumed = sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input);
    expect(resumed).toEqual([
      { taskToken: TOKEN, output: JSON.stringify({ releasedBy: 'courier', releasing: true }) },
    ]);
    // The same write marks the order as being released, so a later cancel is refused.
    const stored = await orders.read(order.orderId);
    expect(stored).toMatchObject({ status: 'ACCEPTED', releaseRequestedAt: expect.any(String) });
    expect(stored.releasingAt).toBe(stored.releaseRequestedAt);
    expect(dynamo.sent.filter((name) => name === 'UpdateItemCommand')).toHaveLength(1);
    expect((await callCancel()).statusCode).toBe(409);
  });

  it('is remembered when the order is not waiting yet, and applied when the wait begins', async () => {
    await ordersTableHolds(record({ status: 'RECEIVED' }));

    const result = await callRelease();

    expect(result).toEqual({ statusCode: 202, body: { orderId: order.orderId, status: 'RECEIVED' } });
    // Remembered, but not yet releasing: the kitchen release marks it once the order waits.
    const stored = await orders.read(order.orderId);
    expect(stored).toMatchObject({ status: 'RECEIVED', releaseRequestedAt: expect.any(String) });
    expect(stored.releasingAt).toBeUndefined();
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('resumes again when the partner repeats it: the first resume may have failed after our write', async () => {
    await ordersTableHolds(record({ status: 'ACCEPTED', taskToken: TOKEN, posReference: 'pos-1' }));
    sfn.on(SendTaskSuccessCommand).rejectsOnce(new Error('Rate exceeded')).resolves({});

    expect((await callRelease()).statusCode).toBe(500);
    const written = await orders.read(order.orderId);
    expect(written.releasingAt).toEqual(expect.any(String));

    // The partner retries: the record is not written twice, the workflow is resumed this time.
    expect((await callRelease()).statusCode).toBe(202);
    expect(await orders.read(order.orderId)).toEqual(written);
    expect(sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input.taskToken)).toEqual([
      TOKEN,
      TOKEN,
    ]);
  });

  it('is 202 and changes nothing once the order is RELEASED (by the courier or the timeout)', async () => {
    const released = await ordersTableHolds(record({ status: 'RELEASED', taskToken: TOKEN }));

    expect(await callRelease()).toEqual({
      statusCode: 202,
      body: { orderId: order.orderId, status: 'RELEASED' },
    });
    expect(await orders.read(order.orderId)).toEqual(released);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('is still 202 when the wait had just timed out and the token is spent', async () => {
    await ordersTableHolds(record({ status: 'ACCEPTED', taskToken: TOKEN }));
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    expect((await callRelease()).statusCode).toBe(202);
  });

  it.each<OrderStatus>(['REJECTED', 'CANCELLED', 'FAILED'])('is 409 when the order is %s', async (status) => {
    const ended = await ordersTableHolds(record({ status, taskToken: TOKEN }));

    const result = await callRelease();

    expect(result).toEqual({
      statusCode: 409,
      body: { error: { code: 'ORDER_CONFLICT', message: expect.any(String) } },
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect(await orders.read(order.orderId)).toEqual(ended);
  });

  it('is 409 when a cancel lands just before our write', async () => {
    await ordersTableHolds(record({ status: 'ACCEPTED', taskToken: TOKEN }));
    dynamo.beforeNext('UpdateItemCommand', meanwhile({ status: 'CANCELLED' }));

    expect((await callRelease()).statusCode).toBe(409);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    const stored = await orders.read(order.orderId);
    expect(stored.status).toBe('CANCELLED');
    expect(stored.releaseRequestedAt).toBeUndefined();
  });

  it('is 404 for an order we never received', async () => {
    await ordersTableHolds(undefined);

    const result = await callRelease();

    expect(result).toEqual({
      statusCode: 404,
      body: { error: { code: 'NOT_FOUND', message: expect.any(String) } },
    });
  });

  it('is 400 when the body is about another order than the path', async () => {
    const waiting = await ordersTableHolds(record({ status: 'ACCEPTED', taskToken: TOKEN }));

    const result = await callRelease(webhook('release', 'dd-9001', 'dd-9002'));

    expect(result.statusCode).toBe(400);
    expect(await orders.read(order.orderId)).toEqual(waiting);
  });
});

describe('cancel', () => {
  it('fails the waiting workflow’s task with OrderCancelled and announces OrderCancelled: 202', async () => {
    await ordersTableHolds(record({ status: 'ACCEPTED', taskToken: TOKEN, posReference: 'pos-1' }));

    const result = await callCancel();

    expect(result).toEqual({ statusCode: 202, body: { orderId: order.orderId, status: 'CANCELLED' } });
    // The void is owed by the very write that cancels, and the order is on the reconciler's queue.
    const stored = await orders.read(order.orderId);
    expect(stored).toMatchObject({
      status: 'CANCELLED',
      owesPosVoid: true,
      owedQueue: 'owed',
      owedAttempts: 0,
    });
    expect(stored.owesPartner).toBeUndefined();
    expect(await orders.owedWork()).toEqual([
      { orderId: order.orderId, owedAt: stored.owedAt, owedAttempts: 0 },
    ]);
    const failed = sfn.commandCalls(SendTaskFailureCommand).map((call) => call.args[0].input);
    expect(failed).toEqual([expect.objectContaining({ taskToken: TOKEN, error: 'OrderCancelled' })]);
    expect(published()).toEqual([
      expect.objectContaining({
        EventBusName: EVENT_BUS_NAME,
        Source: 'order-middleware',
        DetailType: 'OrderCancelled',
      }),
    ]);
    expect(JSON.parse(published()[0]?.Detail ?? '{}')).toMatchObject({
      orderId: order.orderId,
      partner: 'doordash',
      cancelledBy: 'partner',
    });
  });

  it('cancels an order still being prepared without a token: the workflow sees the status', async () => {
    await ordersTableHolds(record({ status: 'RECEIVED' }));

    expect((await callCancel()).statusCode).toBe(202);
    expect(await orders.read(order.orderId)).toMatchObject({ status: 'CANCELLED', owesPosVoid: true });
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    expect(published().map((entry) => entry.DetailType)).toEqual(['OrderCancelled']);
  });

  it('is 202 and changes nothing when the order is already CANCELLED, but tells a waiting workflow again', async () => {
    const cancelled = await ordersTableHolds(record({ status: 'CANCELLED', taskToken: TOKEN }));
    // The usual repeat: the workflow heard the first time and the token is spent.
    sfn.on(SendTaskFailureCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    expect(await callCancel()).toEqual({
      statusCode: 202,
      body: { orderId: order.orderId, status: 'CANCELLED' },
    });
    expect(await orders.read(order.orderId)).toEqual(cancelled);
    expect(published()).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(1);
  });

  it('reaches the waiting workflow on the partner’s retry when the first cancel could not tell it', async () => {
    await ordersTableHolds(record({ status: 'ACCEPTED', taskToken: TOKEN, posReference: 'pos-1' }));
    sfn.on(SendTaskFailureCommand).rejectsOnce(new Error('Rate exceeded')).resolves({});

    expect((await callCancel()).statusCode).toBe(500);
    expect(await orders.read(order.orderId)).toMatchObject({ status: 'CANCELLED' });

    expect((await callCancel()).statusCode).toBe(202);
    const told = sfn.commandCalls(SendTaskFailureCommand).map((call) => call.args[0].input);
    expect(told.map(({ taskToken, error }) => [taskToken, error])).toEqual([
      [TOKEN, 'OrderCancelled'],
      [TOKEN, 'OrderCancelled'],
    ]);
  });

  it.each<OrderStatus>(['RELEASED', 'REJECTED', 'FAILED'])('is 409 once the order is %s', async (status) => {
    const ended = await ordersTableHolds(record({ status }));

    const result = await callCancel();

    expect(result).toEqual({
      statusCode: 409,
      body: { error: { code: 'ORDER_CONFLICT', message: expect.any(String) } },
    });
    expect(published()).toHaveLength(0);
    expect(await orders.read(order.orderId)).toEqual(ended);
  });

  it('is 409 once the kitchen is being told, even before the order reads RELEASED', async () => {
    const releasing = await ordersTableHolds(
      record({ status: 'ACCEPTED', taskToken: TOKEN, releasingAt: '2026-11-26T12:00:00.000Z' }),
    );

    const result = await callCancel();

    expect(result.statusCode).toBe(409);
    expect(await orders.read(order.orderId)).toEqual(releasing);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('is 409 when the kitchen release marks the order just before our write', async () => {
    await ordersTableHolds(record({ status: 'ACCEPTED', taskToken: TOKEN }));
    dynamo.beforeNext('UpdateItemCommand', meanwhile({ releasingAt: new Date().toISOString() }));

    const result = await callCancel();

    expect(result.statusCode).toBe(409);
    expect((await orders.read(order.orderId)).status).toBe('ACCEPTED');
    expect(published()).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('is 404 for an order we never received', async () => {
    await ordersTableHolds(undefined);
    expect((await callCancel()).statusCode).toBe(404);
  });

  it('is 401 with a wrong token, and reads no order', async () => {
    const forged = signedWebhook(
      'doordash',
      { event: { type: 'order_cancelled' }, order: { id: 'dd-9001' } },
      { action: { kind: 'cancel', partnerOrderId: 'dd-9001' }, secret: 'forged' },
    );

    expect((await callCancel(forged)).statusCode).toBe(401);
    expect(dynamo.sent).toEqual([]);
  });
});

describe('cancel: OrderCancelled is owed by the cancel until the bus has it', () => {
  const waitingOrder = () =>
    ordersTableHolds(record({ status: 'ACCEPTED', taskToken: TOKEN, posReference: 'pos-1' }));
  const owedEventOf = (stored: OrderRecord) => ({
    owesEvent: stored.owesEvent,
    cancelledBy: stored.cancelledBy,
  });
  /** The bus answers as PutEvents does when an entry fails: 200, with the entry's error. */
  const theBusFailsTheEntry = () =>
    bus.on(PutEventsCommand).resolvesOnce({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service error' }],
    });

  it('publishes once and clears the debt in one more write; a second cancel publishes nothing', async () => {
    await waitingOrder();
    const heard: string[] = [];
    bus.on(PutEventsCommand).callsFake(() => {
      heard.push('the bus');
      return { FailedEntryCount: 0 };
    });
    sfn.on(SendTaskFailureCommand).callsFake(() => {
      heard.push('the workflow');
      return {};
    });

    expect((await callCancel()).statusCode).toBe(202);

    expect(published().map((entry) => entry.DetailType)).toEqual(['OrderCancelled']);
    // The bus first: the workflow's void step, told next, finds the event already paid.
    expect(heard).toEqual(['the bus', 'the workflow']);
    const stored = await orders.read(order.orderId);
    expect(owedEventOf(stored)).toEqual({ owesEvent: undefined, cancelledBy: 'partner' });
    // The void is still the workflow's to pay, so the order stays on the reconciler's queue.
    expect(stored).toMatchObject({ owesPosVoid: true, owedQueue: 'owed' });
    // The cancel's write, then the clear: nothing else.
    expect(dynamo.sent).toEqual(['UpdateItemCommand', 'UpdateItemCommand']);

    expect((await callCancel()).statusCode).toBe(202);
    expect(published()).toHaveLength(1);
    expect(await orders.read(order.orderId)).toEqual(stored);
  });

  it('keeps OrderCancelled owed on the order when the bus fails the entry, and answers 500 so the partner retries', async () => {
    await waitingOrder();
    theBusFailsTheEntry();

    const result = await callCancel();

    expect(result).toEqual({
      statusCode: 500,
      body: { error: { code: 'INTERNAL_ERROR', message: 'internal error' } },
    });
    const stored = await orders.read(order.orderId);
    expect(stored).toMatchObject({
      status: 'CANCELLED',
      owesEvent: 'OrderCancelled',
      cancelledBy: 'partner',
      owedQueue: 'owed',
    });
    expect(await orders.owedWork()).toEqual([
      { orderId: order.orderId, owedAt: stored.owedAt, owedAttempts: 0 },
    ]);
    // The waiting workflow is told all the same, and goes to pay the void.
    expect(sfn.commandCalls(SendTaskFailureCommand).map((call) => call.args[0].input.error)).toEqual([
      'OrderCancelled',
    ]);
  });

  it('publishes the owed event on the partner’s retry, once, and clears it', async () => {
    await waitingOrder();
    bus.on(PutEventsCommand).rejectsOnce(new Error('ServiceUnavailable')).resolves({ FailedEntryCount: 0 });
    expect((await callCancel()).statusCode).toBe(500);

    expect((await callCancel()).statusCode).toBe(202);

    // Two tries reached the bus; the second one took.
    expect(published().map((entry) => entry.DetailType)).toEqual(['OrderCancelled', 'OrderCancelled']);
    expect(JSON.parse(published()[1]?.Detail ?? '{}')).toMatchObject({
      eventId: `${order.orderId}/OrderCancelled`,
      cancelledBy: 'partner',
    });
    const stored = await orders.read(order.orderId);
    expect(stored.owesEvent).toBeUndefined();
    expect(stored).toMatchObject({ status: 'CANCELLED', owesPosVoid: true, owedQueue: 'owed' });

    expect((await callCancel()).statusCode).toBe(202);
    expect(published()).toHaveLength(2);
  });

  it('counts the cancel once, on the request whose write won, even when its put failed', async () => {
    const { metrics } = await import('../../../functions/lib/powertools');
    const counted = jest.spyOn(metrics, 'addMetric');
    try {
      await waitingOrder();
      bus.on(PutEventsCommand).rejectsOnce(new Error('ServiceUnavailable')).resolves({ FailedEntryCount: 0 });
      expect((await callCancel()).statusCode).toBe(500);
      expect((await callCancel()).statusCode).toBe(202);

      expect(counted.mock.calls.filter(([name]) => name === 'OrderCancelled')).toHaveLength(1);
    } finally {
      counted.mockRestore();
    }
  });

  it('takes the order off the queue when the event was the last thing owed (the void was paid meanwhile)', async () => {
    await waitingOrder();
    // The workflow's void step pays the void between the cancel's write and its clear, and keeps
    // the order queued because it still saw the event owed.
    dynamo.beforeNext('UpdateItemCommand', async () => undefined);
    dynamo.beforeNext('UpdateItemCommand', async () => {
      await tables.doc.send(
        new UpdateCommand({
          TableName: ORDERS_TABLE,
          Key: { orderId: order.orderId },
          UpdateExpression: 'REMOVE owesPosVoid',
        }),
      );
    });

    expect((await callCancel()).statusCode).toBe(202);

    const stored = await orders.read(order.orderId);
    for (const attribute of ['owesEvent', 'owesPosVoid', 'owedQueue', 'owedAt', 'owedSince', 'owedAttempts'])
      expect(stored).not.toHaveProperty(attribute);
    expect(await orders.owedWork()).toEqual([]);
  });
});
