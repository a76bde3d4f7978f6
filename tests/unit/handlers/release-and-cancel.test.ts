/**
 * POST …/{partnerOrderId}/release and …/cancel — the partner says the courier is close, or
 * cancels. What the partner is answered, and what reaches the waiting workflow.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, TaskTimedOut } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import type { OrderRecord, OrderStatus } from '../../../functions/lib/schemas/order';
import { doorDashWebhook } from '../domain/fixtures';
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

setHandlerEnv();
const release = (await import('../../../functions/release-order')).handler;
const cancel = (await import('../../../functions/cancel-order')).handler;

const ddb = mockClient(DynamoDBDocumentClient);
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
const updates = () => ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
/** Updates whose condition held: what actually changed the order. */
let appliedUpdates: unknown[] = [];
const published = () =>
  bus.commandCalls(PutEventsCommand).flatMap((call) => call.args[0].input.Entries ?? []);

/** The orders table holds `stored`; a conditional update applies `change` and answers the new record. */
function ordersTableHolds(stored: OrderRecord | undefined, change: Partial<OrderRecord> = {}) {
  ddb.on(GetCommand, { TableName: ORDERS_TABLE }).resolves({ Item: stored });
  ddb.on(UpdateCommand, { TableName: ORDERS_TABLE }).callsFake((input) => {
    // Honour the parts of the condition the services write: the status list and a pending release.
    const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
    const allowed = Object.entries(values)
      .filter(([name]) => name.startsWith(':from'))
      .map(([, value]) => value);
    const needsNoRelease = String(input.ConditionExpression).includes(
      'attribute_not_exists(releaseRequestedAt)',
    );
    const needsNotReleasing = String(input.ConditionExpression).includes('attribute_not_exists(releasingAt)');
    if (
      !stored ||
      !allowed.includes(stored.status) ||
      (needsNoRelease && stored.releaseRequestedAt) ||
      (needsNotReleasing && stored.releasingAt)
    ) {
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    }
    appliedUpdates.push(input);
    // The attributes the update sets (#fN = :fN), as DynamoDB would answer ALL_NEW.
    const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
    const set = Object.fromEntries(
      Object.entries(names)
        .filter(([alias]) => /^#f\d+$/.test(alias))
        .map(([alias, name]) => [name, values[`:${alias.slice(1)}`]]),
    );
    return { Attributes: { ...stored, ...set, ...change } };
  });
}

beforeEach(() => {
  appliedUpdates = [];
  ddb.reset();
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
    ordersTableHolds(waiting, { releaseRequestedAt: new Date().toISOString() });

    const result = await callRelease();

    expect(result).toEqual({ statusCode: 202, body: { orderId: order.orderId, status: 'ACCEPTED' } });
    const resumed = sfn.commandCalls(SendTaskSuccessCommand).map((call) => call.args[0].input);
    expect(resumed).toEqual([
      { taskToken: TOKEN, output: JSON.stringify({ releasedBy: 'courier', releasing: true }) },
    ]);
    // The same write marks the order as being released, so a later cancel is refused.
    expect(appliedUpdates).toHaveLength(1);
    expect(updates()[0]?.ExpressionAttributeNames).toMatchObject({ '#f1': 'releasingAt' });
    expect(updates()[0]?.ConditionExpression).toContain('attribute_not_exists(releaseRequestedAt)');
  });

  it('is remembered when the order is not waiting yet, and applied when the wait begins', async () => {
    ordersTableHolds(record({ status: 'RECEIVED' }), { releaseRequestedAt: new Date().toISOString() });

    const result = await callRelease();

    expect(result).toEqual({ statusCode: 202, body: { orderId: order.orderId, status: 'RECEIVED' } });
    expect(updates()[0]?.ExpressionAttributeValues).toMatchObject({ ':f0': expect.any(String) });
    expect(updates()[0]?.ExpressionAttributeNames).toMatchObject({ '#f0': 'releaseRequestedAt' });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('does nothing twice: a second release of a waiting order is 202 and resumes nothing', async () => {
    const asked = record({
      status: 'ACCEPTED',
      taskToken: TOKEN,
      releaseRequestedAt: new Date().toISOString(),
    });
    ordersTableHolds(asked);

    expect((await callRelease()).statusCode).toBe(202);
    expect(appliedUpdates).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('is 202 and changes nothing once the order is RELEASED (by the courier or the timeout)', async () => {
    ordersTableHolds(record({ status: 'RELEASED', taskToken: TOKEN }));

    expect(await callRelease()).toEqual({
      statusCode: 202,
      body: { orderId: order.orderId, status: 'RELEASED' },
    });
    expect(appliedUpdates).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('is still 202 when the wait had just timed out and the token is spent', async () => {
    ordersTableHolds(record({ status: 'ACCEPTED', taskToken: TOKEN }), { releaseRequestedAt: 'now' });
    sfn.on(SendTaskSuccessCommand).rejects(new TaskTimedOut({ message: 'Task Timed Out', $metadata: {} }));

    expect((await callRelease()).statusCode).toBe(202);
  });

  it.each<OrderStatus>(['REJECTED', 'CANCELLED', 'FAILED'])('is 409 when the order is %s', async (status) => {
    ordersTableHolds(record({ status, taskToken: TOKEN }));

    const result = await callRelease();

    expect(result).toEqual({
      statusCode: 409,
      body: { error: { code: 'ORDER_CONFLICT', message: expect.any(String) } },
    });
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('is 409 when a cancel wins the race between our read and our write', async () => {
    ddb
      .on(GetCommand, { TableName: ORDERS_TABLE })
      .resolvesOnce({ Item: record({ status: 'ACCEPTED', taskToken: TOKEN }) })
      .resolves({ Item: record({ status: 'CANCELLED', taskToken: TOKEN }) });
    ddb.on(UpdateCommand).rejects(new ConditionalCheckFailedException({ message: 'no', $metadata: {} }));

    expect((await callRelease()).statusCode).toBe(409);
    expect(sfn.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
  });

  it('is 404 for an order we never received', async () => {
    ordersTableHolds(undefined);

    const result = await callRelease();

    expect(result).toEqual({
      statusCode: 404,
      body: { error: { code: 'NOT_FOUND', message: expect.any(String) } },
    });
  });

  it('is 400 when the body is about another order than the path', async () => {
    ordersTableHolds(record({ status: 'ACCEPTED', taskToken: TOKEN }));

    const result = await callRelease(webhook('release', 'dd-9001', 'dd-9002'));

    expect(result.statusCode).toBe(400);
    expect(updates()).toHaveLength(0);
  });
});

describe('cancel', () => {
  it('fails the waiting workflow’s task with OrderCancelled and announces OrderCancelled: 202', async () => {
    ordersTableHolds(record({ status: 'ACCEPTED', taskToken: TOKEN, posReference: 'pos-1' }), {
      status: 'CANCELLED',
    });

    const result = await callCancel();

    expect(result).toEqual({ statusCode: 202, body: { orderId: order.orderId, status: 'CANCELLED' } });
    expect(updates()[0]?.ExpressionAttributeValues).toMatchObject({ ':to': 'CANCELLED' });
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
    ordersTableHolds(record({ status: 'RECEIVED' }), { status: 'CANCELLED' });

    expect((await callCancel()).statusCode).toBe(202);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
    expect(published().map((entry) => entry.DetailType)).toEqual(['OrderCancelled']);
  });

  it('is 202 with no effect when the order is already CANCELLED', async () => {
    ordersTableHolds(record({ status: 'CANCELLED', taskToken: TOKEN }));

    expect(await callCancel()).toEqual({
      statusCode: 202,
      body: { orderId: order.orderId, status: 'CANCELLED' },
    });
    expect(appliedUpdates).toHaveLength(0);
    expect(published()).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it.each<OrderStatus>(['RELEASED', 'REJECTED', 'FAILED'])('is 409 once the order is %s', async (status) => {
    ordersTableHolds(record({ status }));

    const result = await callCancel();

    expect(result).toEqual({
      statusCode: 409,
      body: { error: { code: 'ORDER_CONFLICT', message: expect.any(String) } },
    });
    expect(published()).toHaveLength(0);
  });

  it('is 409 once the kitchen is being told, even before the order reads RELEASED', async () => {
    ordersTableHolds(
      record({ status: 'ACCEPTED', taskToken: TOKEN, releasingAt: '2026-11-26T12:00:00.000Z' }),
    );

    const result = await callCancel();

    expect(result.statusCode).toBe(409);
    expect(appliedUpdates).toHaveLength(0);
    expect(sfn.commandCalls(SendTaskFailureCommand)).toHaveLength(0);
  });

  it('is 404 for an order we never received', async () => {
    ordersTableHolds(undefined);
    expect((await callCancel()).statusCode).toBe(404);
  });

  it('is 401 with a wrong token, and reads no order', async () => {
    const forged = signedWebhook(
      'doordash',
      { event: { type: 'order_cancelled' }, order: { id: 'dd-9001' } },
      { action: { kind: 'cancel', partnerOrderId: 'dd-9001' }, secret: 'forged' },
    );

    expect((await callCancel(forged)).statusCode).toBe(401);
    expect(ddb.calls()).toHaveLength(0);
  });
});
