/**
 * Lambda's quotas and async settings as AWS applies them: 6 MB each way for a synchronous invoke,
 * 1 MB for an Event one, an EventInvokeConfig's maximum event age, and the on-failure destination's
 * invocation record (which is not the DLQ's bare event).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type Edge, startEdge } from '../../../local/cloud/edge';
import { type FunctionConfig, LocalLambda, type QueueMessageAttribute } from '../../../local/cloud/lambda';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'lambda');
const region = 'us-east-1';
const accountId = '000000000000';
const MB = 1024 * 1024;

const fn = (name: string, overrides: Partial<FunctionConfig> = {}): FunctionConfig => ({
  name,
  arn: `arn:aws:lambda:${region}:${accountId}:function:${name}`,
  bundlePath: join(fixtures, 'sized-answer.mjs'),
  handlerExport: 'handler',
  environment: {},
  memorySize: 256,
  timeout: 10,
  ...overrides,
});

interface Sent {
  queueArn: string;
  body: string;
  attributes: Record<string, QueueMessageAttribute>;
}

let lambda: LocalLambda | undefined;
let edge: Edge | undefined;
const sent: Sent[] = [];

function start(functions: FunctionConfig[], asyncRetryDelayMs = 5): LocalLambda {
  lambda = new LocalLambda({
    functions,
    region,
    accountId,
    asyncRetryDelayMs,
    log: () => {},
    sendToQueue: async (queueArn, body, attributes) => {
      sent.push({ queueArn, body, attributes });
    },
  });
  return lambda;
}

async function client(local: LocalLambda): Promise<LambdaClient> {
  edge = await startEdge({ port: 0, services: {}, lambda: local.invoker() });
  return new LambdaClient({
    endpoint: edge.url,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

/** An event whose JSON is `bytes` long. */
const eventOf = (bytes: number, extra: Record<string, unknown> = {}) => {
  const shell = JSON.stringify({ ...extra, pad: '' }).length;
  return { ...extra, pad: 'p'.repeat(bytes - shell) };
};

afterEach(async () => {
  await edge?.close();
  edge = undefined;
  await lambda?.close();
  lambda = undefined;
  sent.length = 0;
});

describe('synchronous payloads', () => {
  test('a request over 6 MB is refused with 413 RequestEntityTooLargeException and never runs', async () => {
    const local = start([fn('create-pos-order')]);
    const lambdaClient = await client(local);

    const refused = await lambdaClient
      .send(
        new InvokeCommand({
          FunctionName: 'create-pos-order',
          Payload: Buffer.from(JSON.stringify(eventOf(6 * MB + 1))),
        }),
      )
      .catch(
        (error: unknown) => error as { name: string; message: string; $metadata: { httpStatusCode: number } },
      );

    expect(refused).toMatchObject({
      name: 'RequestEntityTooLargeException',
      $metadata: { httpStatusCode: 413 },
    });
    expect((refused as Error).message).toContain('6291456 bytes');
    await expect(local.invoke('create-pos-order', eventOf(6 * MB + 1))).rejects.toMatchObject({
      name: 'RequestEntityTooLargeException',
      status: 413,
    });
    expect(local.stats()['create-pos-order']?.invocations).toBe(0);
  });

  test('a request of exactly 6 MB runs', async () => {
    const local = start([fn('create-pos-order')]);

    const result = await local.invoke('create-pos-order', eventOf(6 * MB));

    expect(result.error).toBeUndefined();
    expect(result.payload).toMatchObject({ received: 6 * MB });
  });

  test('an answer over 6 MB is a Function.ResponseSizeTooLarge function error, not the answer', async () => {
    const local = start([fn('release-to-kitchen')]);
    const lambdaClient = await client(local);

    const direct = await local.invoke('release-to-kitchen', { answerBytes: 6 * MB + 10 });
    const viaSdk = await lambdaClient.send(
      new InvokeCommand({
        FunctionName: 'release-to-kitchen',
        Payload: Buffer.from(JSON.stringify({ answerBytes: 6 * MB + 10 })),
      }),
    );

    expect(direct.payload).toBeUndefined();
    expect(direct.error).toMatchObject({ errorType: 'Function.ResponseSizeTooLarge' });
    expect(viaSdk.FunctionError).toBe('Unhandled');
    expect(JSON.parse(Buffer.from(viaSdk.Payload ?? []).toString('utf8'))).toMatchObject({
      errorType: 'Function.ResponseSizeTooLarge',
      errorMessage: expect.stringContaining('Response payload size exceeded maximum allowed payload size'),
    });
    expect((await local.invoke('release-to-kitchen', { answerBytes: 5 * MB })).error).toBeUndefined();
  });
});

describe('Event payloads', () => {
  test('an Event invocation over 1 MB is refused with 413; one of 1 MB is accepted', async () => {
    const local = start([fn('sync-store-to-partners')]);
    const lambdaClient = await client(local);
    const invokeEvent = (bytes: number) =>
      lambdaClient.send(
        new InvokeCommand({
          FunctionName: 'sync-store-to-partners',
          InvocationType: 'Event',
          Payload: Buffer.from(JSON.stringify(eventOf(bytes))),
        }),
      );

    await expect(invokeEvent(MB + 1)).rejects.toMatchObject({
      name: 'RequestEntityTooLargeException',
      message: `${MB + 1} byte payload is too large for the Event invocation type (limit ${MB} bytes)`,
      $metadata: { httpStatusCode: 413 },
    });
    await expect(local.invokeAsync('sync-store-to-partners', eventOf(MB + 1))).rejects.toMatchObject({
      name: 'RequestEntityTooLargeException',
    });
    expect((await invokeEvent(MB)).StatusCode).toBe(202);
    await local.drain();
    expect(local.stats()['sync-store-to-partners']?.invocations).toBe(1);
  });
});

describe('EventInvokeConfig', () => {
  const queue = `arn:aws:sqs:${region}:${accountId}:store-sync-dlq`;

  test('an on-failure destination gets Lambda’s invocation record with the event inside', async () => {
    const local = start([fn('sync-store-to-partners', { onFailureArn: queue, maximumRetryAttempts: 1 })]);
    const event = { fail: 'store-002', storeId: 'store-002' };

    const { requestId } = await local.invokeAsync('sync-store-to-partners', event);
    await local.drain();

    expect(local.stats()['sync-store-to-partners']?.invocations).toBe(2);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.queueArn).toBe(queue);
    expect(JSON.parse(sent[0]?.body ?? '')).toEqual({
      version: '1.0',
      timestamp: expect.any(String),
      requestContext: {
        requestId,
        functionArn: `arn:aws:lambda:${region}:${accountId}:function:sync-store-to-partners:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: 2,
      },
      requestPayload: event,
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: expect.objectContaining({ errorMessage: 'oven store-002 is cold' }),
    });
  });

  test('a retry that would start after MaximumEventAgeInSeconds is not made: the event goes out as EventAgeExceeded', async () => {
    const local = start(
      [fn('sync-store-to-partners', { onFailureArn: queue, maximumEventAgeInSeconds: 60 })],
      // The first retry would wait 90 s, past the 60 s the event may live.
      90_000,
    );

    await local.invokeAsync('sync-store-to-partners', { fail: 'store-001' });
    await local.drain();

    expect(local.stats()['sync-store-to-partners']?.invocations).toBe(1);
    expect(JSON.parse(sent[0]?.body ?? '').requestContext).toMatchObject({
      condition: 'EventAgeExceeded',
      approximateInvokeCount: 1,
    });
  });
});
