import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { LocalStepFunctions, stepFunctionsApi } from '../../../local/cloud/stepfunctions';
import {
  ACCOUNT,
  createMachine,
  eventually,
  fakeIntegrations,
  REGION,
  sleep,
  waitForCourierTask,
} from './stepfunctions-helpers';

/** Everything but Date: with these real, a test moves the clock without sleeping through it. */
const REAL_TIMERS = [
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'setImmediate',
  'clearImmediate',
  'nextTick',
  'queueMicrotask',
  'hrtime',
  'performance',
] as const;

let dataDir: string;
let open: LocalStepFunctions[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'sfn-restart-'));
});

afterEach(async () => {
  await Promise.all(open.map((service) => service.close()));
  open = [];
  rmSync(dataDir, { recursive: true, force: true });
});

function startService(functions: Parameters<typeof fakeIntegrations>[0]) {
  const integrations = fakeIntegrations(functions);
  const service = new LocalStepFunctions({ region: REGION, accountId: ACCOUNT, integrations, dataDir });
  open.push(service);
  return { service, integrations };
}

const orderWorkflow = {
  StartAt: 'Received',
  States: {
    Received: { Type: 'Pass', Next: 'WaitForCourier' },
    WaitForCourier: waitForCourierTask({ TimeoutSeconds: 30, ResultPath: '$.release', Next: 'Finish' }),
    Finish: { Type: 'Pass', End: true },
  },
};

test('an execution waiting on a token resumes after a restart with the same token', async () => {
  const tokens: string[] = [];
  const before = startService({
    waitForCourier: async (payload) => {
      tokens.push((payload as { taskToken: string }).taskToken);
      return { payload: {} };
    },
  });
  const arn = createMachine(before.service, 'order-workflow', orderWorkflow);
  const { executionArn } = before.service.startExecution({
    stateMachineArn: arn,
    input: '{"orderId":"o-1"}',
  });
  const token = await eventually(() => tokens[0]);
  await eventually(() =>
    before.service.describeExecution(executionArn).history.find((e) => e.type === 'TaskSubmitted'),
  );
  await before.service.close();

  const after = startService({});
  createMachine(after.service, 'order-workflow', orderWorkflow);
  const { resumed } = await after.service.resume();
  await stepFunctionsApi(after.service).SendTaskSuccess({
    taskToken: token,
    output: '{"releasedBy":"partner"}',
  });
  const done = await after.service.waitForExecution(executionArn);

  expect(resumed).toEqual([executionArn]);
  expect(done.status).toBe('SUCCEEDED');
  expect(JSON.parse(done.output!)).toEqual({ orderId: 'o-1', release: { releasedBy: 'partner' } });
  expect(after.integrations.calls.lambda).toHaveLength(0); // the function already has the token
  const types = done.history.map((event) => event.type);
  expect(types.filter((type) => type === 'ExecutionStarted')).toHaveLength(1);
  expect(types.filter((type) => type === 'TaskStateEntered')).toHaveLength(1);
  expect(done.history.map((event) => event.id)).toEqual(done.history.map((_, index) => index + 1));
});

test('the remaining timeout carries over a restart: a deadline passed while down fires at once', async () => {
  const tokens: string[] = [];
  const before = startService({
    waitForCourier: async (payload) => {
      tokens.push((payload as { taskToken: string }).taskToken);
      return { payload: {} };
    },
  });
  const longWait = {
    ...orderWorkflow,
    States: {
      ...orderWorkflow.States,
      WaitForCourier: waitForCourierTask({
        TimeoutSeconds: 60,
        Catch: [{ ErrorEquals: ['States.Timeout'], ResultPath: '$.timedOut', Next: 'Finish' }],
        Next: 'Finish',
      }),
    },
  };
  const arn = createMachine(before.service, 'long-wait', longWait);
  const { executionArn } = before.service.startExecution({
    stateMachineArn: arn,
    input: '{"orderId":"o-2"}',
  });
  await eventually(() => tokens[0]);
  const scheduled = await eventually(() =>
    before.service.describeExecution(executionArn).history.find((e) => e.type === 'TaskScheduled'),
  );
  await eventually(() =>
    before.service.describeExecution(executionArn).history.find((e) => e.type === 'TaskSubmitted'),
  );
  await before.service.close();

  // The clock (Date only; timers stay real) moves past the 60 s deadline while the service is down.
  jest.useFakeTimers({ doNotFake: [...REAL_TIMERS] });
  try {
    jest.setSystemTime(scheduled.timestamp * 1000 + 60_001);
    const after = startService({});
    await after.service.resume();
    // At once: a timer started afresh on resume would wait another 60 s.
    const done = await Promise.race([after.service.waitForExecution(executionArn), sleep(5_000)]);

    expect(done).toMatchObject({ status: 'SUCCEEDED' });
    const { output, history } = done as { output: string; history: { type: string }[] };
    expect(JSON.parse(output).timedOut.Error).toBe('States.Timeout');
    expect(history.map((event) => event.type)).toContain('TaskTimedOut');
  } finally {
    jest.useRealTimers();
  }
});

test('an execution interrupted inside a task re-enters that state with its input (the task runs again)', async () => {
  const before = startService({ createPosOrder: () => new Promise(() => {}) }); // never answers before the restart
  const definition = {
    StartAt: 'Claim',
    States: {
      Claim: { Type: 'Pass', Result: 'claimed', ResultPath: '$.claim', Next: 'CreatePosOrder' },
      CreatePosOrder: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: { FunctionName: 'createPosOrder', 'Payload.$': '$' },
        OutputPath: '$.Payload',
        End: true,
      },
    },
  };
  const arn = createMachine(before.service, 'prepare', definition);
  const { executionArn } = before.service.startExecution({
    stateMachineArn: arn,
    input: '{"orderId":"o-3"}',
  });
  await eventually(() => before.integrations.calls.lambda[0]);
  await before.service.close();

  const after = startService({
    createPosOrder: async (payload) => ({ payload: { pos: 'P-1', got: payload } }),
  });
  await after.service.resume();
  const done = await after.service.waitForExecution(executionArn);

  expect(after.integrations.calls.lambda).toEqual([
    { name: 'createPosOrder', payload: { orderId: 'o-3', claim: 'claimed' } },
  ]);
  expect(JSON.parse(done.output!)).toEqual({ pos: 'P-1', got: { orderId: 'o-3', claim: 'claimed' } });
});

test('finished executions are known after a restart: describe works and their tokens are TaskTimedOut', async () => {
  const tokens: string[] = [];
  const before = startService({
    waitForCourier: async (payload) => {
      tokens.push((payload as { taskToken: string }).taskToken);
      return { payload: {} };
    },
  });
  const arn = createMachine(before.service, 'order-workflow', orderWorkflow);
  const { executionArn } = before.service.startExecution({
    stateMachineArn: arn,
    input: '{"orderId":"o-4"}',
  });
  const token = await eventually(() => tokens[0]);
  await eventually(() =>
    before.service.describeExecution(executionArn).history.find((e) => e.type === 'TaskSubmitted'),
  );
  before.service.sendTaskSuccess(token, '{}');
  await before.service.waitForExecution(executionArn);
  await before.service.close();

  const after = startService({});
  const { resumed } = await after.service.resume();
  const api = stepFunctionsApi(after.service);

  expect(resumed).toEqual([]);
  expect(await api.DescribeExecution({ executionArn })).toMatchObject({ status: 'SUCCEEDED' });
  await expect(api.SendTaskSuccess({ taskToken: token, output: '{}' })).rejects.toMatchObject({
    code: 'TaskTimedOut',
  });
});
