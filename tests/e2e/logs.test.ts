/**
 * CloudWatch Logs as an operator reads them after an order (the console does the same): the Express
 * preparation's path from its machine's log group — Express executions have no GetExecutionHistory —
 * and the function lines carrying the order id. Through the public AWS APIs only, so it runs on
 * every target.
 */
import {
  CloudWatchLogsClient,
  type FilteredLogEvent,
  FilterLogEventsCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeStateMachineCommand, GetExecutionHistoryCommand, InvalidArn } from '@aws-sdk/client-sfn';
import { theExpressRunsOf } from '../steps/express-logs';
import {
  eventually,
  givenALocalCloud,
  stepFunctionsOf,
  type TestCloud,
  theOrderReaches,
  whenThePartnerSendsAnOrder,
} from '../steps/local-cloud';

let t: TestCloud;
let logs: CloudWatchLogsClient;
beforeAll(async () => {
  t = await givenALocalCloud();
  logs = new CloudWatchLogsClient(t.aws);
}, 120_000);
afterAll(async () => {
  logs?.destroy();
  await t?.stop();
});

async function filter(logGroupIdentifier: string, filterPattern: string): Promise<FilteredLogEvent[]> {
  const { events = [] } = await logs.send(new FilterLogEventsCommand({ logGroupIdentifier, filterPattern }));
  return events;
}

test('after one order, its Prepare path is in the Express log group and its function lines carry its order id', async () => {
  const sent = await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001' });
  const orderId = sent.webhookBody.orderId as string;
  await theOrderReaches(t, orderId, 'ACCEPTED');

  // The log group is found as the console finds it: from the machine's logging configuration.
  const machine = await stepFunctionsOf(t).send(
    new DescribeStateMachineCommand({ stateMachineArn: t.resource('OrderPrepare') }),
  );
  expect(machine.loggingConfiguration).toMatchObject({ level: 'ALL', includeExecutionData: false });
  const [prepare] = await eventually(async () => {
    const runs = await theExpressRunsOf(t, 'OrderPrepare', orderId);
    return runs.length === 1 && runs[0]?.ended ? runs : undefined;
  }, 'the Prepare execution to end in its log group');
  const path = prepare!.events;

  const entered = path
    .filter((event) => event.type.endsWith('StateEntered'))
    .map((event) => event.details.name);
  expect(entered).toEqual(expect.arrayContaining(['ValidateOrder', 'CreatePosOrder', 'AcceptOrder']));
  expect(path[0]).toMatchObject({
    type: 'ExecutionStarted',
    id: '1',
    previous_event_id: '0',
    redrive_count: '0',
  });
  expect(path.map((event) => Number(event.id))).toEqual(path.map((_, index) => index + 1));
  expect(JSON.stringify(path)).not.toContain('store-001'); // execution data off: no inputs or outputs

  // GetExecutionHistory has nothing for an Express execution, as on AWS.
  await expect(
    stepFunctionsOf(t).send(new GetExecutionHistoryCommand({ executionArn: prepare!.executionArn })),
  ).rejects.toBeInstanceOf(InvalidArn);

  // The function that accepted the order logged it with the order id as correlation id.
  const lambda = new LambdaClient(t.aws);
  try {
    const accept = await lambda.send(
      new GetFunctionCommand({ FunctionName: t.resource('AcceptOrderLambdaFunction') }),
    );
    const functionGroup = accept.Configuration?.LoggingConfig?.LogGroup ?? '';
    expect(functionGroup).toBe(`/aws/lambda/${t.resource('AcceptOrderLambdaFunction')}`);
    const lines = await filter(functionGroup, `{ $.correlation_id = "${orderId}" }`);
    expect(lines.map((line) => JSON.parse(line.message ?? '{}').message)).toContain('order accepted');
    expect(lines[0]?.logStreamName).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
  } finally {
    lambda.destroy();
  }
});
