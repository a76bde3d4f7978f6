import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient, ResourceNotFoundException } from '@aws-sdk/client-lambda';
import {
  DescribeExecutionCommand,
  ExecutionDoesNotExist,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { AwsError, type ServiceApi } from '../../../local/cloud/aws-error';
import { type Edge, type LambdaInvoker, startEdge } from '../../../local/cloud/edge';
import { signedHeaders } from '../../../local/cloud/sigv4';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const clientConfig = (edge: Edge) => ({ endpoint: edge.url, region: 'us-east-1', credentials });

const started: Array<{ input: unknown }> = [];
const stepfunctions: ServiceApi = {
  StartExecution: async (input) => {
    started.push({ input });
    return {
      executionArn: `${input.stateMachineArn.replace(':stateMachine:', ':execution:')}:${input.name}`,
      startDate: new Date(1_700_000_000_000),
    };
  },
  DescribeExecution: async (input) => {
    throw new AwsError('ExecutionDoesNotExist', `Execution does not exist: '${input.executionArn}'`);
  },
};
const events: ServiceApi = {
  PutEvents: async (input) => ({
    FailedEntryCount: 0,
    Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `e-${i}` })),
  }),
  Broken: async () => {
    throw new Error('a bug in the emulator');
  },
};

const invocations: Array<{ name: string; payload: string; type: string }> = [];
const lambda: LambdaInvoker = {
  async invoke(name, payload, type) {
    invocations.push({ name, payload: payload.toString(), type });
    if (name === 'missing')
      throw new AwsError('ResourceNotFoundException', `Function not found: ${name}`, 404);
    if (name === 'reported-missing') {
      return {
        statusCode: 404,
        error: { code: 'ResourceNotFoundException', message: `Function not found: ${name}` },
      };
    }
    if (type !== 'RequestResponse') return { statusCode: type === 'Event' ? 202 : 204 };
    if (name === 'fails')
      return {
        statusCode: 200,
        payload: Buffer.from('{"errorType":"Boom","errorMessage":"it broke"}'),
        functionError: 'Unhandled',
      };
    return {
      statusCode: 200,
      payload: Buffer.from(JSON.stringify({ echoed: JSON.parse(payload.toString()) })),
    };
  },
};

const measured: string[] = [];
let edge: Edge;
beforeAll(async () => {
  edge = await startEdge({
    port: 0,
    services: { stepfunctions, events },
    lambda,
    onRequest: (s, op) => measured.push(`${s}.${op}`),
  });
});
afterAll(() => edge.close());

test('routes Step Functions calls by X-Amz-Target and turns Date results into SDK dates', async () => {
  const sfn = new SFNClient(clientConfig(edge));
  const out = await sfn.send(
    new StartExecutionCommand({
      stateMachineArn: 'arn:aws:states:us-east-1:000000000000:stateMachine:order-workflow',
      name: 'x1',
      input: '{}',
    }),
  );
  expect(out.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:order-workflow:x1');
  expect(out.startDate).toEqual(new Date(1_700_000_000_000));
  expect(started).toHaveLength(1);
  expect(measured).toContain('stepfunctions.StartExecution');
});

test('an AwsError reaches the SDK as its named exception', async () => {
  const sfn = new SFNClient(clientConfig(edge));
  const call = sfn.send(
    new DescribeExecutionCommand({ executionArn: 'arn:aws:states:us-east-1:000000000000:execution:m:nope' }),
  );
  await expect(call).rejects.toBeInstanceOf(ExecutionDoesNotExist);
  await expect(call).rejects.toMatchObject({ $metadata: { httpStatusCode: 400 } });
});

test('routes EventBridge (JSON 1.1) calls', async () => {
  const bridge = new EventBridgeClient(clientConfig(edge));
  const out = await bridge.send(
    new PutEventsCommand({
      Entries: [{ Source: 'order-middleware', DetailType: 'OrderReceived', Detail: '{}' }],
    }),
  );
  expect(out.Entries).toEqual([{ EventId: 'e-0' }]);
});

async function post(target: string, body: string, contentType = 'application/x-amz-json-1.1') {
  const res = await fetch(edge.url, {
    method: 'POST',
    headers: { 'X-Amz-Target': target, 'Content-Type': contentType },
    body,
  });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    errorType: res.headers.get('x-amzn-errortype'),
    body: await res.json(),
  };
}

test('unknown operations answer UnknownOperationException naming them; unknown services a 501 naming the service', async () => {
  expect(await post('AWSEvents.NoSuchThing', '{}')).toMatchObject({
    status: 400,
    errorType: 'UnknownOperationException',
    body: {
      __type: 'UnknownOperationException',
      message: expect.stringContaining('events NoSuchThing is not emulated'),
    },
  });
  expect(await post('Kinesis_20131202.PutRecord', '{}')).toMatchObject({
    status: 501,
    errorType: 'ServiceNotEmulated',
    body: { message: expect.stringContaining("does not emulate the AWS service 'Kinesis_20131202'") },
  });
  // inherited object keys are not operations
  expect(await post('AWSEvents.toString', '{}')).toMatchObject({
    status: 400,
    errorType: 'UnknownOperationException',
  });
});

test('a malformed JSON body answers SerializationException in the request content type', async () => {
  const answer = await post(
    'AWSStepFunctions.StartExecution',
    '{"stateMachineArn":',
    'application/x-amz-json-1.0',
  );
  expect(answer).toMatchObject({
    status: 400,
    type: 'application/x-amz-json-1.0',
    body: { __type: 'SerializationException' },
  });
});

test('an emulator bug is a 500 InternalFailure, not a hung request', async () => {
  const answer = await post('AWSEvents.Broken', '{}');
  expect(answer).toMatchObject({
    status: 500,
    body: { __type: 'InternalFailure', message: 'a bug in the emulator' },
  });
});

describe('Lambda Invoke', () => {
  const client = () => new LambdaClient(clientConfig(edge));

  test('RequestResponse returns the function payload', async () => {
    const out = await client().send(
      new InvokeCommand({
        FunctionName: 'order-middleware-local-receiveOrder',
        Payload: Buffer.from('{"n":1}'),
      }),
    );
    expect(out.StatusCode).toBe(200);
    expect(out.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(out.Payload!).toString())).toEqual({ echoed: { n: 1 } });
    expect(invocations.at(-1)).toEqual({
      name: 'order-middleware-local-receiveOrder',
      payload: '{"n":1}',
      type: 'RequestResponse',
    });
  });

  test('a failed function reports FunctionError Unhandled with its error payload', async () => {
    const out = await client().send(new InvokeCommand({ FunctionName: 'fails', Payload: Buffer.from('{}') }));
    expect(out.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(out.Payload!).toString())).toMatchObject({ errorType: 'Boom' });
  });

  test('Event answers 202 and DryRun 204', async () => {
    const event = await client().send(
      new InvokeCommand({ FunctionName: 'a', InvocationType: 'Event', Payload: Buffer.from('{}') }),
    );
    const dryRun = await client().send(new InvokeCommand({ FunctionName: 'a', InvocationType: 'DryRun' }));
    expect([event.StatusCode, dryRun.StatusCode]).toEqual([202, 204]);
    expect(invocations.slice(-2).map((i) => i.type)).toEqual(['Event', 'DryRun']);
  });

  test('a function ARN is reduced to its name', async () => {
    await client().send(
      new InvokeCommand({
        FunctionName: 'arn:aws:lambda:us-east-1:000000000000:function:by-arn',
        Payload: Buffer.from('{}'),
      }),
    );
    expect(invocations.at(-1)?.name).toBe('by-arn');
  });

  test.each(['missing', 'reported-missing'])(
    'an unknown function (%s) is ResourceNotFoundException (404)',
    async (name) => {
      const call = client().send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from('{}') }));
      await expect(call).rejects.toBeInstanceOf(ResourceNotFoundException);
      await expect(call).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
    },
  );
});

/** A call as the AWS CLI or SDK sends it: SigV4-signed for `service` with the local credentials. */
async function signedCall(
  at: Edge,
  service: string,
  request: { method?: string; path?: string; headers?: Record<string, string>; body?: string },
) {
  const url = `${at.url}${request.path ?? '/'}`;
  const method = request.method ?? 'POST';
  const headers = await signedHeaders(method, url, request.headers ?? {}, request.body, { service });
  const res = await fetch(url, {
    method,
    headers,
    ...(request.body !== undefined && { body: request.body }),
  });
  return {
    status: res.status,
    type: res.headers.get('content-type'),
    errorType: res.headers.get('x-amzn-errortype'),
    text: await res.text(),
  };
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

describe('routing by the SigV4 credential scope', () => {
  let withSqs: Edge;
  const sqsCalls: string[] = [];
  beforeAll(async () => {
    withSqs = await startEdge({
      port: 0,
      version: '9.9.9',
      services: {
        stepfunctions,
        sqs: {
          GetQueueUrl: async (input) => {
            sqsCalls.push(input.QueueName);
            return { QueueUrl: `http://127.0.0.1/000000000000/${input.QueueName}` };
          },
        },
      },
      lambda,
    });
  });
  afterAll(() => withSqs.close());

  test('STS GetCallerIdentity (query protocol, as the AWS CLI sends it) answers the local root, in XML — not an SQS error', async () => {
    const answer = await signedCall(withSqs, 'sts', {
      headers: FORM,
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });

    expect(answer.status).toBe(200);
    expect(answer.type).toBe('text/xml');
    expect(answer.text).toMatch(
      /^<GetCallerIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:root<\/Arn><UserId>000000000000<\/UserId><Account>000000000000<\/Account><\/GetCallerIdentityResult><ResponseMetadata><RequestId>[0-9a-f-]{36}<\/RequestId><\/ResponseMetadata><\/GetCallerIdentityResponse>$/,
    );
    expect(sqsCalls).toEqual([]);
  });

  test('an STS action it does not emulate is a 501 naming it, in STS’s XML error shape', async () => {
    const answer = await signedCall(withSqs, 'sts', {
      headers: FORM,
      body: 'Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::000000000000:role/x&RoleSessionName=s',
    });

    expect(answer.status).toBe(501);
    expect(answer.text).toContain('<Code>NotImplemented</Code>');
    expect(answer.text).toContain('STS AssumeRole is not emulated');
  });

  test('a query-protocol call for a service it does not emulate names that service, in XML, and reaches no other', async () => {
    const answer = await signedCall(withSqs, 'cloudformation', {
      headers: FORM,
      body: 'Action=ListStacks&Version=2010-05-15',
    });

    expect(answer.status).toBe(501);
    expect(answer.type).toBe('text/xml');
    expect(answer.text).toContain('<Code>ServiceNotEmulated</Code>');
    expect(answer.text).toContain(
      "does not emulate the AWS service 'cloudformation'; it emulates lambda, sqs, states, sts.",
    );
    expect(sqsCalls).toEqual([]);
  });

  test('a JSON-protocol call for a service it does not emulate is a JSON 501 naming that service', async () => {
    const answer = await signedCall(withSqs, 'logs', {
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'Logs_20140328.DescribeLogGroups',
      },
      body: '{}',
    });

    expect(answer).toMatchObject({ status: 501, errorType: 'ServiceNotEmulated' });
    expect(JSON.parse(answer.text)).toEqual({
      __type: 'ServiceNotEmulated',
      message:
        "The local cloud does not emulate the AWS service 'logs'; it emulates lambda, sqs, states, sts.",
    });
  });

  test('the scope decides the service: an X-Amz-Target of another service is refused, not run', async () => {
    const answer = await signedCall(withSqs, 'sqs', {
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'AWSStepFunctions.StartExecution',
      },
      body: '{"stateMachineArn":"arn:aws:states:us-east-1:000000000000:stateMachine:m","name":"n"}',
    });

    expect(answer).toMatchObject({ status: 400, errorType: 'UnknownOperationException' });
    expect(JSON.parse(answer.text).message).toContain('is not an operation of sqs');
    expect(started.filter((s) => (s.input as { name?: string }).name === 'n')).toEqual([]);
  });

  test('SQS still answers its query protocol, signed (AWS CLI 2.9) or placed by its Version when unsigned', async () => {
    const signed = await signedCall(withSqs, 'sqs', {
      headers: FORM,
      body: 'Action=GetQueueUrl&Version=2012-11-05&QueueName=signed-q',
    });
    const unsigned = await fetch(withSqs.url, {
      method: 'POST',
      headers: FORM,
      body: 'Action=GetQueueUrl&Version=2012-11-05&QueueName=unsigned-q',
    });

    expect(signed.status).toBe(200);
    expect(signed.text).toContain('<QueueUrl>http://127.0.0.1/000000000000/signed-q</QueueUrl>');
    expect(unsigned.status).toBe(200);
    expect(sqsCalls).toEqual(['signed-q', 'unsigned-q']);
  });

  test('a Lambda REST call it does not emulate names Lambda and what it asked for', async () => {
    const answer = await signedCall(withSqs, 'lambda', {
      method: 'GET',
      path: '/2015-03-31/functions/fn/policy',
    });

    expect(answer).toMatchObject({ status: 501, errorType: 'UnknownOperationException' });
    expect(JSON.parse(answer.text).message).toBe(
      'Lambda GET /2015-03-31/functions/fn/policy is not emulated by the local cloud (it answers Invoke, ListFunctions, GetFunction and GetFunctionConfiguration)',
    );
  });

  test('GET /_localstack/health answers in LocalStack’s shape, every emulated service running', async () => {
    const res = await fetch(`${withSqs.url}/_localstack/health`);

    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      services: { lambda: 'running', sqs: 'running', stepfunctions: 'running', sts: 'running' },
      edition: 'community',
      version: '9.9.9',
    });
  });
});
