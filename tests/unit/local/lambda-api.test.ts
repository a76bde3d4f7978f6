import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  LambdaClient,
  ListFunctionsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-lambda';
import { type Edge, startEdge } from '../../../local/cloud/edge';
import { lambdaReadApi } from '../../../local/cloud/lambda/api';
import type { LocalFunction } from '../../../local/cloud/template';

const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:';
const fn = (name: string, extra: Partial<LocalFunction> = {}): LocalFunction => ({
  logicalId: `${name}LambdaFunction`,
  name: `order-middleware-local-${name}`,
  handler: `functions/${name}.handler`,
  runtime: 'nodejs22.x',
  memorySize: 1024,
  timeout: 10,
  environment: { ORDERS_TABLE: 'order-middleware-local-orders' },
  architecture: 'arm64',
  arn: `${ARN}order-middleware-local-${name}`,
  ...extra,
});
const functions = [
  fn('receiveOrder', { reservedConcurrency: 4 }),
  fn('acceptOrder'),
  fn('validateOrder', { deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:dlq' }),
];

let edge: Edge;
let lambda: LambdaClient;
beforeAll(async () => {
  edge = await startEdge({ port: 0, services: {}, lambdaApi: lambdaReadApi(functions) });
  lambda = new LambdaClient({
    endpoint: edge.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  lambda.destroy();
  await edge.close();
});

test('ListFunctions gives every function in AWS’s shape, paged with Marker and MaxItems', async () => {
  const first = await lambda.send(new ListFunctionsCommand({ MaxItems: 2 }));
  const rest = await lambda.send(new ListFunctionsCommand({ MaxItems: 2, Marker: first.NextMarker }));

  expect(first.Functions?.map((f) => f.FunctionName)).toEqual([
    'order-middleware-local-acceptOrder',
    'order-middleware-local-receiveOrder',
  ]);
  expect(rest.Functions?.map((f) => f.FunctionName)).toEqual(['order-middleware-local-validateOrder']);
  expect(rest.NextMarker).toBeUndefined();
  expect(first.Functions?.[0]).toMatchObject({
    FunctionArn: `${ARN}order-middleware-local-acceptOrder`,
    Runtime: 'nodejs22.x',
    Handler: 'functions/acceptOrder.handler',
    MemorySize: 1024,
    Timeout: 10,
    Architectures: ['arm64'],
    Environment: { Variables: { ORDERS_TABLE: 'order-middleware-local-orders' } },
    LoggingConfig: { LogGroup: '/aws/lambda/order-middleware-local-acceptOrder' },
    State: 'Active',
  });
});

test('GetFunction takes a name or an ARN and answers Configuration, Code and Concurrency', async () => {
  const byName = await lambda.send(
    new GetFunctionCommand({ FunctionName: 'order-middleware-local-receiveOrder' }),
  );
  const byArn = await lambda.send(
    new GetFunctionCommand({ FunctionName: `${ARN}order-middleware-local-validateOrder` }),
  );
  const configuration = await lambda.send(
    new GetFunctionConfigurationCommand({ FunctionName: 'order-middleware-local-acceptOrder' }),
  );

  expect(byName.Configuration?.FunctionName).toBe('order-middleware-local-receiveOrder');
  expect(byName.Concurrency).toEqual({ ReservedConcurrentExecutions: 4 });
  expect(byName.Code?.RepositoryType).toBe('S3');
  expect(byArn.Configuration?.DeadLetterConfig).toEqual({
    TargetArn: 'arn:aws:sqs:us-east-1:000000000000:dlq',
  });
  expect(configuration.FunctionName).toBe('order-middleware-local-acceptOrder');
});

test('an unknown function is a 404 ResourceNotFoundException naming its ARN', async () => {
  const call = lambda.send(new GetFunctionCommand({ FunctionName: 'order-middleware-local-nope' }));

  await expect(call).rejects.toBeInstanceOf(ResourceNotFoundException);
  await expect(call).rejects.toThrow(`Function not found: ${ARN}order-middleware-local-nope`);
  await expect(
    lambda.send(
      new GetFunctionCommand({ FunctionName: 'order-middleware-local-acceptOrder', Qualifier: '7' }),
    ),
  ).rejects.toBeInstanceOf(ResourceNotFoundException);
});
