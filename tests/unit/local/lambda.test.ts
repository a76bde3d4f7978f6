import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type FunctionConfig,
  LocalLambda,
  type LocalLambdaOptions,
  type QueueMessageAttribute,
} from '../../../local/cloud/lambda';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'lambda');
const region = 'us-east-1';
const accountId = '000000000000';

function fn(name: string, fixture: string, overrides: Partial<FunctionConfig> = {}): FunctionConfig {
  return {
    name,
    arn: `arn:aws:lambda:${region}:${accountId}:function:${name}`,
    bundlePath: join(fixtures, fixture),
    handlerExport: 'handler',
    environment: {},
    memorySize: 256,
    timeout: 10,
    ...overrides,
  };
}

let lambda: LocalLambda | undefined;
const logged: Array<{ functionName: string; line: string }> = [];

function start(functions: FunctionConfig[], options: Partial<LocalLambdaOptions> = {}): LocalLambda {
  lambda = new LocalLambda({
    functions,
    region,
    accountId,
    log: (functionName, line) => logged.push({ functionName, line }),
    ...options,
  });
  return lambda;
}

/** Busy-waits without yielding, so no worker message or exit is handled meanwhile. */
function holdMainThreadUntil(done: () => boolean, limitMs = 20_000): void {
  const giveUpAt = Date.now() + limitMs;
  while (!done()) if (Date.now() > giveUpAt) throw new Error('the worker never started its import');
}

function holdMainThreadFor(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {}
}

afterEach(async () => {
  await lambda?.close();
  lambda = undefined;
  logged.length = 0;
});

describe('environment', () => {
  test('each function sees only its own variables, the Lambda ones and the base env', async () => {
    const local = start(
      [
        fn('receive-order', 'env.mjs', { environment: { ORDERS_TABLE: 'orders-local' }, memorySize: 512 }),
        fn('release-order', 'env.mjs', { environment: { POS_API_URL: 'http://127.0.0.1:4020' } }),
      ],
      { baseEnv: { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' } },
    );

    const receive = (await local.invoke('receive-order', { mark: 'LEAKED' })).payload as Record<
      string,
      string
    >;
    const release = (await local.invoke('release-order', {})).payload as Record<string, string>;

    expect(receive).toMatchObject({
      ORDERS_TABLE: 'orders-local',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_LAMBDA_FUNCTION_NAME: 'receive-order',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '512',
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: '/aws/lambda/receive-order',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      _HANDLER: 'env.handler',
      LAMBDA_TASK_ROOT: fixtures,
    });
    expect(receive.AWS_LAMBDA_LOG_STREAM_NAME).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(receive.AWS_ACCESS_KEY_ID).toBeTruthy();
    expect(receive.AWS_SECRET_ACCESS_KEY).toBeTruthy();
    expect(receive.AWS_SESSION_TOKEN).toBeTruthy();
    expect(receive).not.toHaveProperty('POS_API_URL');
    expect(release).toMatchObject({
      POS_API_URL: 'http://127.0.0.1:4020',
      AWS_LAMBDA_FUNCTION_NAME: 'release-order',
    });
    expect(release).not.toHaveProperty('ORDERS_TABLE');
    expect(release).not.toHaveProperty('LEAKED');
    // Nothing leaks from the host process into a sandbox, nor back.
    expect(receive).not.toHaveProperty('JEST_WORKER_ID');
    expect(process.env).not.toHaveProperty('LEAKED');
    expect(process.env).not.toHaveProperty('ORDERS_TABLE');
  });

  test('credentials in the base env replace the dummy ones', async () => {
    const local = start([fn('receive-order', 'env.mjs')], {
      baseEnv: {
        AWS_ACCESS_KEY_ID: 'AKIDLOCAL',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SESSION_TOKEN: 'token',
      },
    });

    const env = (await local.invoke('receive-order', {})).payload as Record<string, string>;

    expect(env).toMatchObject({ AWS_ACCESS_KEY_ID: 'AKIDLOCAL', AWS_SECRET_ACCESS_KEY: 'secret' });
  });

  test('the handler gets a Lambda context and a trace id per invocation', async () => {
    const local = start([fn('validate-order', 'kitchen.mjs', { memorySize: 1024, timeout: 6 })]);

    const result = await local.invoke('validate-order', { action: 'context' });

    expect(result.error).toBeUndefined();
    const context = result.payload as Record<string, unknown>;
    expect(context).toMatchObject({
      awsRequestId: result.requestId,
      functionName: 'validate-order',
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:validate-order`,
      memoryLimitInMB: '1024',
      logGroupName: '/aws/lambda/validate-order',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(context.remainingMs).toBeGreaterThan(0);
    expect(context.remainingMs).toBeLessThanOrEqual(6000);
    expect(context.traceId).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$/);
  });
});

describe('invocation', () => {
  test('the payload crosses as JSON, and nothing returned is null', async () => {
    const local = start([fn('echo', 'kitchen.mjs')]);

    const echoed = await local.invoke('echo', { orderId: 'ord_1', total: 1250 });
    const nothing = await local.invoke('echo', { action: 'nothing' });

    expect(echoed.payload).toEqual({
      echo: { orderId: 'ord_1', total: 1250 },
      at: '1970-01-01T00:00:00.000Z',
    });
    expect(nothing.payload).toBeNull();
    expect(nothing.error).toBeUndefined();
  });

  test('module state is kept between warm invocations: one cold start, then warm', async () => {
    const local = start([fn('count', 'counter.mjs', { concurrency: 1 })]);

    const first = await local.invoke('count', {});
    const second = await local.invoke('count', {});
    const third = await local.invoke('count', {});

    expect([first.payload, second.payload, third.payload]).toEqual([
      { invocations: 1 },
      { invocations: 2 },
      { invocations: 3 },
    ]);
    expect([first.coldStart, second.coldStart, third.coldStart]).toEqual([true, false, false]);
    expect(first.initDurationMs).toBeGreaterThan(0);
    expect(second.initDurationMs).toBeUndefined();
    expect(first.billedDurationMs).toBe(Math.ceil(first.durationMs + (first.initDurationMs ?? 0)));
    expect(first.memorySize).toBe(256);
  });

  test('a function is found by name, by ARN and by qualified ARN', async () => {
    const local = start([fn('count', 'counter.mjs')]);
    const arn = `arn:aws:lambda:${region}:${accountId}:function:count`;

    expect(local.has('count')).toBe(true);
    expect(local.has(`${arn}:$LATEST`)).toBe(true);
    expect(local.has('fire-order')).toBe(false);
    expect((await local.invoke(arn, {})).payload).toEqual({ invocations: 1 });
    expect((await local.invoke(`${arn}:$LATEST`, {})).payload).toEqual({ invocations: 2 });
  });

  test('an unknown function is a ResourceNotFoundException', async () => {
    const local = start([fn('count', 'counter.mjs')]);

    await expect(local.invoke('fire-order', {})).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: `Function not found: arn:aws:lambda:${region}:${accountId}:function:fire-order`,
    });
  });

  test('the callback style returns through the callback', async () => {
    const local = start([fn('print-ticket', 'callback.mjs')]);

    const printed = await local.invoke('print-ticket', { ticket: 42 });
    const failed = await local.invoke('print-ticket', { fail: true });

    expect(printed.payload).toEqual({ ticket: 42 });
    expect(failed.error).toMatchObject({ errorType: 'Error', errorMessage: 'no courier' });
  });
});

describe('one invocation at a time per sandbox', () => {
  let workdir: string;
  beforeEach(() => {
    workdir = mkdtempSync(join(tmpdir(), 'local-lambda-'));
  });
  afterEach(() => rmSync(workdir, { recursive: true, force: true }));

  const journal = () => readFileSync(join(workdir, 'journal'), 'utf8').trim().split('\n');

  test('with concurrency 1 the next invocations wait, in order, until the first has ended', async () => {
    const local = start([fn('gate', 'gate.mjs', { concurrency: 1 })]);
    const gate = join(workdir, 'gate');
    const common = { journal: join(workdir, 'journal') };

    // The waiter gives up after a while; the opener can only run once it has.
    const [waiter, opener, ...followers] = await Promise.all([
      local.invoke('gate', { ...common, name: 'waiter', waitFor: gate, patienceMs: 300 }),
      local.invoke('gate', { ...common, name: 'opener', open: gate }),
      local.invoke('gate', { ...common, name: 'second' }),
      local.invoke('gate', { ...common, name: 'third' }),
    ]);

    expect(waiter.payload).toEqual({ name: 'waiter', opened: false });
    expect(opener.payload).toMatchObject({ name: 'opener' });
    expect(journal()).toEqual([
      'start waiter',
      'end waiter',
      'start opener',
      'end opener',
      'start second',
      'end second',
      'start third',
      'end third',
    ]);
    expect([waiter, opener, ...followers].map((result) => result.coldStart)).toEqual([
      true,
      false,
      false,
      false,
    ]);
  });

  test('with concurrency 2 the second runs while the first is still in flight', async () => {
    const local = start([fn('gate', 'gate.mjs', { concurrency: 2 })]);
    const gate = join(workdir, 'gate');
    const common = { journal: join(workdir, 'journal') };

    const [waiter, opener] = await Promise.all([
      local.invoke('gate', { ...common, name: 'waiter', waitFor: gate, patienceMs: 20_000 }),
      local.invoke('gate', { ...common, name: 'opener', open: gate }),
    ]);

    expect(waiter.payload).toEqual({ name: 'waiter', opened: true });
    expect(journal().indexOf('end opener')).toBeLessThan(journal().indexOf('end waiter'));
    expect([waiter.coldStart, opener.coldStart]).toEqual([true, true]);
  });
});

describe('failures', () => {
  test('a thrown error is a Lambda-shaped function error, not a rejection', async () => {
    const local = start([fn('validate-order', 'kitchen.mjs')]);

    const result = await local.invoke('validate-order', { action: 'deny', storeId: 'store-002' });

    expect(result.payload).toBeUndefined();
    expect(result.error).toMatchObject({
      errorType: 'OrderDenied',
      errorMessage: 'store store-002 is offline',
    });
    expect(result.error?.trace?.[0]).toBe('OrderDenied: store store-002 is offline');
    expect(
      logged.some(({ line }) => line.includes('ERROR\tInvoke Error') && line.includes('OrderDenied')),
    ).toBe(true);
  });

  test('a timeout ends the sandbox with Sandbox.Timedout and the next invocation gets a fresh one', async () => {
    const local = start([fn('slow-pos', 'kitchen.mjs', { timeout: 0.5, concurrency: 1 })]);
    await local.invoke('slow-pos', {});

    const waiting = await local.invoke('slow-pos', { action: 'sleep', ms: 60_000 });
    const spinning = await local.invoke('slow-pos', { action: 'spin' });
    const after = await local.invoke('slow-pos', { action: 'sleep', ms: 1 });

    for (const timedOut of [waiting, spinning]) {
      expect(timedOut.error).toEqual({
        errorType: 'Sandbox.Timedout',
        errorMessage: 'Task timed out after 0.50 seconds',
      });
      expect(timedOut.durationMs).toBe(500);
    }
    expect(after).toMatchObject({ payload: { slept: 1 }, coldStart: true });
  });

  test('a sandbox that exits fails its invocation with Runtime.ExitError and is replaced', async () => {
    const local = start([fn('fire-order', 'kitchen.mjs', { concurrency: 1 })]);

    const crashed = await local.invoke('fire-order', { action: 'exit' });
    const after = await local.invoke('fire-order', { orderId: 'ord_2' });

    expect(crashed.error?.errorType).toBe('Runtime.ExitError');
    expect(crashed.error?.errorMessage).toBe(
      `RequestId: ${crashed.requestId} Error: Runtime exited with error: exit status 3`,
    );
    expect(after).toMatchObject({ payload: { echo: { orderId: 'ord_2' } }, coldStart: true });
  });

  test('a bundle that cannot be imported fails with Runtime.ImportModuleError', async () => {
    const local = start([fn('broken', 'broken-import.mjs')]);

    const result = await local.invoke('broken', {});

    expect(result.error?.errorType).toBe('Runtime.ImportModuleError');
    expect(result.error?.errorMessage).toContain('does-not-exist.mjs');
  });

  test('a failed import is still Runtime.ImportModuleError when the worker has ended before its message is read', async () => {
    // Under load the worker can fail its import and exit while the main thread is busy; its last
    // message and its exit then arrive in the same turn. Holding the main thread reproduces that.
    const dir = mkdtempSync(join(tmpdir(), 'local-lambda-'));
    const importing = join(dir, 'importing');
    const local = start([
      fn('broken', 'import-fails-late.mjs', { environment: { IMPORT_STARTED_MARKER: importing } }),
    ]);

    const pending = local.invoke('broken', {});
    holdMainThreadUntil(() => existsSync(importing));
    holdMainThreadFor(500); // the worker posts its init error and exits meanwhile
    const result = await pending;
    rmSync(dir, { recursive: true, force: true });

    expect(result.error?.errorType).toBe('Runtime.ImportModuleError');
    expect(result.error?.errorMessage).toContain('does-not-exist.mjs');
  });

  test('a missing handler export fails with Runtime.HandlerNotFound', async () => {
    const local = start([fn('misnamed', 'counter.mjs', { handlerExport: 'main' })]);

    const result = await local.invoke('misnamed', {});

    expect(result.error).toMatchObject({
      errorType: 'Runtime.HandlerNotFound',
      errorMessage: 'counter.main is undefined or not exported',
    });
  });
});

describe('logs', () => {
  test('stdout and stderr lines reach the log, named by function', async () => {
    const local = start([fn('receive-order', 'kitchen.mjs')]);

    await local.invoke('receive-order', { action: 'log', orderId: 'ord_9' });
    await waitFor(() => logged.length >= 2);

    expect(logged).toContainEqual({
      functionName: 'receive-order',
      line: JSON.stringify({ level: 'INFO', message: 'order received', orderId: 'ord_9' }),
    });
    expect(logged).toContainEqual({ functionName: 'receive-order', line: 'a warning' });
  });
});

describe('async invocation', () => {
  test('a failing event is retried, then sent to the dead-letter queue with Lambda’s attributes', async () => {
    const sent: Array<{ queueArn: string; body: string; attributes: Record<string, QueueMessageAttribute> }> =
      [];
    const deadLetterArn = `arn:aws:sqs:${region}:${accountId}:deny-order-dlq`;
    const local = start([fn('deny-order', 'kitchen.mjs', { deadLetterArn })], {
      asyncRetryDelayMs: 5,
      sendToQueue: async (queueArn, body, attributes) => {
        sent.push({ queueArn, body, attributes });
      },
    });
    const event = { action: 'deny', storeId: 'store-002' };

    const { requestId } = await local.invokeAsync('deny-order', event);
    await local.drain();

    expect(local.stats()['deny-order']).toMatchObject({ invocations: 3, errors: 3 });
    expect(sent).toEqual([
      {
        queueArn: deadLetterArn,
        body: JSON.stringify(event),
        attributes: {
          RequestID: { DataType: 'String', StringValue: requestId },
          ErrorCode: { DataType: 'Number', StringValue: '200' },
          ErrorMessage: { DataType: 'String', StringValue: 'store store-002 is offline' },
        },
      },
    ]);
  });

  test('maximumRetryAttempts 0 dead-letters after the first failure', async () => {
    const sent: string[] = [];
    const local = start(
      [fn('deny-order', 'kitchen.mjs', { deadLetterArn: 'arn:dlq', maximumRetryAttempts: 0 })],
      {
        asyncRetryDelayMs: 5,
        sendToQueue: async (_queue, body) => {
          sent.push(body);
        },
      },
    );

    await local.invokeAsync('deny-order', { action: 'deny', storeId: 'store-001' });
    await local.drain();

    expect(local.stats()['deny-order']?.invocations).toBe(1);
    expect(sent).toHaveLength(1);
  });

  test('an event that succeeds on retry is not dead-lettered', async () => {
    const sent: string[] = [];
    const local = start(
      [fn('create-pos-order', 'kitchen.mjs', { deadLetterArn: 'arn:dlq', concurrency: 1 })],
      {
        asyncRetryDelayMs: 5,
        sendToQueue: async (_queue, body) => {
          sent.push(body);
        },
      },
    );

    await local.invokeAsync('create-pos-order', { action: 'fail-first-time' });
    await local.drain();

    expect(local.stats()['create-pos-order']).toMatchObject({ invocations: 2, errors: 1 });
    expect(sent).toEqual([]);
  });

  test('an unknown function is refused at once', async () => {
    const local = start([fn('count', 'counter.mjs')]);

    await expect(local.invokeAsync('fire-order', {})).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });
});

describe('stats', () => {
  test('count invocations, errors, cold starts and billed time per function', async () => {
    const local = start([
      fn('count', 'counter.mjs', { concurrency: 1, memorySize: 128, architecture: 'arm64' }),
      fn('validate-order', 'kitchen.mjs'),
    ]);

    const results = [await local.invoke('count', {}), await local.invoke('count', {})];
    const denied = await local.invoke('validate-order', { action: 'deny', storeId: 'store-002' });

    expect(local.stats()).toEqual({
      count: {
        invocations: 2,
        errors: 0,
        coldStarts: 1,
        billedMs: results.reduce((sum, r) => sum + r.billedDurationMs, 0),
        memorySize: 128,
        architecture: 'arm64',
      },
      'validate-order': {
        invocations: 1,
        errors: 1,
        coldStarts: 1,
        billedMs: denied.billedDurationMs,
        memorySize: 256,
        architecture: 'x86_64',
      },
    });
  });
});

describe('invoker (the edge adapter)', () => {
  test('maps invocation types to status codes and errors to Unhandled', async () => {
    const local = start([fn('validate-order', 'kitchen.mjs', { concurrency: 1 })], { asyncRetryDelayMs: 5 });
    const invoker = local.invoker();
    const body = (value: unknown) => Buffer.from(JSON.stringify(value));

    const ok = await invoker.invoke('validate-order', body({ orderId: 'ord_3' }), 'RequestResponse');
    const failed = await invoker.invoke(
      'validate-order',
      body({ action: 'deny', storeId: 's' }),
      'RequestResponse',
    );
    const queued = await invoker.invoke('validate-order', body({}), 'Event');
    const dryRun = await invoker.invoke('validate-order', body({}), 'DryRun');
    const unknown = await invoker.invoke('fire-order', body({}), 'RequestResponse');
    const unreadable = await invoker.invoke('validate-order', Buffer.from('{not json'), 'RequestResponse');
    const empty = await invoker.invoke('validate-order', Buffer.alloc(0), 'RequestResponse');
    await local.drain();

    expect(ok).toMatchObject({ statusCode: 200, executedVersion: '$LATEST' });
    expect(ok.functionError).toBeUndefined();
    expect(JSON.parse(ok.payload?.toString() ?? '')).toMatchObject({ echo: { orderId: 'ord_3' } });
    expect(failed).toMatchObject({ statusCode: 200, functionError: 'Unhandled' });
    expect(JSON.parse(failed.payload?.toString() ?? '')).toMatchObject({
      errorType: 'OrderDenied',
      errorMessage: 'store s is offline',
    });
    expect(queued.statusCode).toBe(202);
    expect(dryRun).toEqual({ statusCode: 204 });
    expect(unknown).toMatchObject({ statusCode: 404, error: { code: 'ResourceNotFoundException' } });
    expect(unreadable).toMatchObject({ statusCode: 400, error: { code: 'InvalidRequestContentException' } });
    expect(JSON.parse(empty.payload?.toString() ?? '')).toMatchObject({ echo: {} });
  });
});

async function waitFor(condition: () => boolean, attempts = 200): Promise<void> {
  for (let i = 0; i < attempts && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}
