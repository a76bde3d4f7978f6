/** GET /orders/{orderId} names the workflow execution that claimed the order, so the console can open it. */
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { doorDashWebhook } from '../domain/fixtures';
import {
  answer,
  canonicalOrderFrom,
  httpEvent,
  lambdaContext,
  orderRecord,
  setHandlerEnv,
} from '../handlers/harness';

setHandlerEnv();
const getOrder = (await import('../../../functions/get-order')).handler;

const ddb = mockClient(DynamoDBDocumentClient);
const order = await canonicalOrderFrom('doordash', doorDashWebhook());
const EXECUTION =
  'arn:aws:states:us-east-1:000000000000:execution:order-middleware-test-order-workflow:run-1';

beforeEach(() => ddb.reset());

const askForOrder = async () =>
  answer(
    await getOrder(
      httpEvent({
        routeKey: 'GET /orders/{orderId}',
        rawPath: `/orders/${order.orderId}`,
        pathParameters: { orderId: order.orderId },
      }),
      lambdaContext(),
    ),
  );

it('names the workflow execution that claimed the order', async () => {
  ddb.on(GetCommand).resolves({ Item: orderRecord(order, { status: 'ACCEPTED', claimedBy: EXECUTION }) });

  const result = await askForOrder();

  expect(result.statusCode).toBe(200);
  expect(result.body.workflowExecutionArn).toBe(EXECUTION);
});

it('names none while no execution has claimed the order', async () => {
  ddb.on(GetCommand).resolves({ Item: orderRecord(order, { status: 'RECEIVED' }) });

  const result = await askForOrder();

  expect(result.statusCode).toBe(200);
  expect(result.body).not.toHaveProperty('workflowExecutionArn');
});
