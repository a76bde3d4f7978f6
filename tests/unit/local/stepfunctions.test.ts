import { AwsError } from '../../../local/cloud/aws-error';
import { LocalStepFunctions, stepFunctionsApi } from '../../../local/cloud/stepfunctions';
import {
  ACCOUNT,
  createMachine,
  eventually,
  fakeIntegrations,
  REGION,
  runToEnd,
  sleep,
  waitForCourierTask,
} from './stepfunctions-helpers';

const fn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

let services: LocalStepFunctions[] = [];
function newService(functions: Parameters<typeof fakeIntegrations>[0] = {}) {
  const integrations = fakeIntegrations(functions);
  const service = new LocalStepFunctions({ region: REGION, accountId: ACCOUNT, integrations });
  services.push(service);
  return { service, integrations, api: stepFunctionsApi(service) };
}

afterEach(async () => {
  await Promise.all(services.map((service) => service.close()));
  services = [];
});

const isDetails = (value: unknown): value is Record<string, string> =>
  typeof value === 'object' && value !== null;

const historyTypes = (history: Array<{ type: string }>) => history.map((event) => event.type);

describe('running a state machine', () => {
  test('Pass, Choice and a lambda:invoke Task produce the output and AWS-shaped history', async () => {
    const { service, integrations } = newService({
      price: async (p) => ({ payload: { total: (p as { n: number }).n * 3 } }),
    });
    const arn = createMachine(service, 'pricing', {
      StartAt: 'AddTax',
      States: {
        AddTax: { Type: 'Pass', Result: 3, ResultPath: '$.n', Next: 'Big?' },
        'Big?': {
          Type: 'Choice',
          Choices: [{ Variable: '$.n', NumericGreaterThan: 2, Next: 'Price' }],
          Default: 'Free',
        },
        Price: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: fn('price'), 'Payload.$': '$' },
          ResultSelector: { 'total.$': '$.Payload.total', 'status.$': '$.StatusCode' },
          End: true,
        },
        Free: { Type: 'Succeed' },
      },
    });

    const done = await runToEnd(service, arn, { orderId: 'o-1' });

    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!)).toEqual({ total: 9, status: 200 });
    expect(integrations.calls.lambda).toEqual([{ name: fn('price'), payload: { orderId: 'o-1', n: 3 } }]);
    expect(historyTypes(done.history)).toEqual([
      'ExecutionStarted',
      'PassStateEntered',
      'PassStateExited',
      'ChoiceStateEntered',
      'ChoiceStateExited',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'ExecutionSucceeded',
    ]);
    expect(service.stats()[arn]).toMatchObject({
      executionsStarted: 1,
      executionsSucceeded: 1,
      stateTransitions: 3,
    });
  });

  test('a function error is retried, then caught with the errorType as Error', async () => {
    const { service, integrations } = newService({
      createPosOrder: async () => ({ error: { errorType: 'PosUnavailable', errorMessage: 'POS offline' } }),
    });
    const arn = createMachine(service, 'pos', {
      StartAt: 'CreatePosOrder',
      States: {
        CreatePosOrder: {
          Type: 'Task',
          Resource: 'arn:aws:states:::lambda:invoke',
          Parameters: { FunctionName: fn('createPosOrder'), 'Payload.$': '$' },
          Retry: [{ ErrorEquals: ['PosUnavailable'], IntervalSeconds: 0, MaxAttempts: 2 }],
          Catch: [{ ErrorEquals: ['PosUnavailable'], ResultPath: '$.failure', Next: 'DenyOrder' }],
          End: true,
        },
        DenyOrder: { Type: 'Pass', End: true },
      },
    });

    const done = await runToEnd(service, arn, { orderId: 'o-2' });

    expect(integrations.calls.lambda).toHaveLength(3);
    const output = JSON.parse(done.output!);
    expect(output.failure.Error).toBe('PosUnavailable');
    expect(JSON.parse(output.failure.Cause)).toMatchObject({
      errorType: 'PosUnavailable',
      errorMessage: 'POS offline',
    });
    expect(historyTypes(done.history).filter((type) => type === 'TaskFailed')).toHaveLength(3);
  });

  test('an uncaught task error fails the execution with that error and cause', async () => {
    const { service, api } = newService();
    const arn = createMachine(service, 'missing-fn', {
      StartAt: 'Call',
      States: { Call: { Type: 'Task', Resource: fn('nowhere'), End: true } },
    });

    const done = await runToEnd(service, arn);

    expect(done.status).toBe('FAILED');
    expect(done.error).toBe('Lambda.ResourceNotFoundException');
    const described = await api.DescribeExecution({ executionArn: done.executionArn });
    expect(described).toMatchObject({ status: 'FAILED', error: 'Lambda.ResourceNotFoundException' });
    expect(typeof described.startDate).toBe('number');
    expect(historyTypes(done.history)).toContain('LambdaFunctionFailed');
  });
});

describe('callback tasks (waitForTaskToken)', () => {
  function courierMachine(service: LocalStepFunctions, task: object = {}) {
    return createMachine(service, `courier-${services.length}`, {
      StartAt: 'WaitForCourier',
      States: {
        WaitForCourier: waitForCourierTask({
          ResultPath: '$.release',
          Catch: [
            { ErrorEquals: ['OrderCancelled'], ResultPath: '$.cancelled', Next: 'Cancelled' },
            {
              ErrorEquals: ['States.Timeout', 'States.HeartbeatTimeout'],
              ResultPath: '$.timedOut',
              Next: 'Finish',
            },
          ],
          Next: 'Finish',
          ...task,
        }),
        Finish: { Type: 'Pass', End: true },
        Cancelled: { Type: 'Succeed' },
      },
    });
  }

  function withCourierLambda() {
    const tokens: string[] = [];
    const env = newService({
      waitForCourier: async (payload) => {
        tokens.push((payload as { taskToken: string }).taskToken);
        return { payload: { stored: true } };
      },
    });
    return { ...env, tokens, firstToken: () => eventually(() => tokens[0]) };
  }

  test('SendTaskSuccess continues with its output; history has Scheduled, Started, Submitted, Succeeded', async () => {
    const { service, api, firstToken } = withCourierLambda();
    const arn = courierMachine(service);
    const { executionArn } = await api.StartExecution({ stateMachineArn: arn, input: '{"orderId":"o-3"}' });

    await api.SendTaskSuccess({ taskToken: await firstToken(), output: '{"releasedBy":"partner"}' });
    const done = await service.waitForExecution(executionArn);

    expect(JSON.parse(done.output!)).toEqual({ orderId: 'o-3', release: { releasedBy: 'partner' } });
    const { events } = await api.GetExecutionHistory({ executionArn });
    const task = events.filter(
      (event: { type: string }) => event.type.startsWith('Task') && !event.type.includes('State'),
    );
    expect(historyTypes(task)).toEqual(['TaskScheduled', 'TaskStarted', 'TaskSubmitted', 'TaskSucceeded']);
    const [scheduled, , submitted, succeeded] = task.map((event) => Object.values(event).find(isDetails));
    expect(scheduled).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke.waitForTaskToken',
      region: REGION,
    });
    expect(JSON.parse(scheduled?.parameters ?? '').Payload.orderId).toBe('o-3');
    expect(JSON.parse(submitted?.output ?? '')).toMatchObject({ StatusCode: 200, Payload: { stored: true } });
    expect(JSON.parse(succeeded?.output ?? '')).toEqual({ releasedBy: 'partner' });
    for (const [index, event] of events.entries()) {
      expect(event).toMatchObject({ id: index + 1, previousEventId: index, timestamp: expect.any(Number) });
    }
  });

  test('SendTaskFailure fails the task with its error, which Catch routes', async () => {
    const { service, api, firstToken } = withCourierLambda();
    const { executionArn } = service.startExecution({
      stateMachineArn: courierMachine(service),
      input: '{"orderId":"o-4"}',
    });

    await api.SendTaskFailure({
      taskToken: await firstToken(),
      error: 'OrderCancelled',
      cause: 'partner cancelled',
    });
    const done = await service.waitForExecution(executionArn);

    expect(JSON.parse(done.output!).cancelled).toEqual({
      Error: 'OrderCancelled',
      Cause: 'partner cancelled',
    });
    expect(historyTypes(done.history)).toContain('TaskFailed');
  });

  test('heartbeats keep a task alive past HeartbeatSeconds; without them it fails States.HeartbeatTimeout', async () => {
    const { service, api, tokens } = withCourierLambda();
    // Beats every 0.5 s against a 2 s heartbeat: a slow machine has 1.5 s of margin per beat.
    const arn = courierMachine(service, { HeartbeatSeconds: 2 });
    const kept = service.startExecution({ stateMachineArn: arn, input: '{"orderId":"kept"}' });
    const lapsed = service.startExecution({ stateMachineArn: arn, input: '{"orderId":"lapsed"}' });
    const keptToken = await eventually(() => tokens[0]);

    for (let beat = 0; beat < 3; beat++) {
      await sleep(500);
      await api.SendTaskHeartbeat({ taskToken: keptToken });
    }
    await api.SendTaskSuccess({ taskToken: keptToken, output: '{}' });

    const keptDone = await service.waitForExecution(kept.executionArn);
    expect(JSON.parse(keptDone.output!)).not.toHaveProperty('timedOut');
    const lapsedDone = await service.waitForExecution(lapsed.executionArn);
    expect(JSON.parse(lapsedDone.output!).timedOut.Error).toBe('States.HeartbeatTimeout');
    const timedOut = lapsedDone.history.find((event) => event.type === 'TaskTimedOut');
    expect(timedOut?.taskTimedOutEventDetails).toMatchObject({ error: 'States.HeartbeatTimeout' });
  });

  test('TimeoutSecondsPath reads the state input; the timeout is States.Timeout, not States.TaskFailed', async () => {
    const { service, api, firstToken } = withCourierLambda();
    const arn = createMachine(service, 'courier-timeout', {
      StartAt: 'WaitForCourier',
      States: {
        WaitForCourier: waitForCourierTask({
          TimeoutSecondsPath: '$.courierWaitSeconds',
          Catch: [
            { ErrorEquals: ['States.TaskFailed'], Next: 'WronglyCaught' },
            { ErrorEquals: ['States.Timeout'], ResultPath: '$.timedOut', Next: 'ReleaseAnyway' },
          ],
          Next: 'ReleaseAnyway',
        }),
        WronglyCaught: { Type: 'Fail', Error: 'WronglyCaught' },
        ReleaseAnyway: { Type: 'Pass', End: true },
      },
    });
    const { executionArn } = service.startExecution({
      stateMachineArn: arn,
      input: JSON.stringify({ orderId: 'o-5', courierWaitSeconds: 1 }),
    });
    const token = await firstToken();

    const done = await service.waitForExecution(executionArn);

    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output!).timedOut.Error).toBe('States.Timeout');
    // The timeout is the one read from the input (1 s), as the scheduled task records it.
    const scheduled = done.history.find((event) => event.type === 'TaskScheduled');
    expect(scheduled?.taskScheduledEventDetails).toMatchObject({ timeoutInSeconds: 1 });
    expect(historyTypes(done.history)).toContain('TaskTimedOut');
    await expect(api.SendTaskSuccess({ taskToken: token, output: '{}' })).rejects.toMatchObject({
      code: 'TaskTimedOut',
    });
  });

  test('an unknown token is InvalidToken; the token of a completed task is TaskTimedOut', async () => {
    const { service, api, firstToken } = withCourierLambda();
    const { executionArn } = service.startExecution({
      stateMachineArn: courierMachine(service),
      input: '{"orderId":"o-6"}',
    });
    const token = await firstToken();

    await expect(api.SendTaskSuccess({ taskToken: 'not-a-token', output: '{}' })).rejects.toMatchObject({
      code: 'InvalidToken',
    });
    await api.SendTaskSuccess({ taskToken: token, output: '{}' });
    await service.waitForExecution(executionArn);

    await expect(api.SendTaskSuccess({ taskToken: token, output: '{}' })).rejects.toMatchObject({
      code: 'TaskTimedOut',
    });
    await expect(api.SendTaskHeartbeat({ taskToken: token })).rejects.toBeInstanceOf(AwsError);
  });

  test('StopExecution aborts a waiting execution and closes its token', async () => {
    const { service, api, firstToken } = withCourierLambda();
    const { executionArn } = service.startExecution({
      stateMachineArn: courierMachine(service),
      input: '{"orderId":"o-7"}',
    });
    const token = await firstToken();

    await api.StopExecution({ executionArn, error: 'Operator', cause: 'test' });
    const done = await service.waitForExecution(executionArn);

    expect(done).toMatchObject({ status: 'ABORTED', error: 'Operator', cause: 'test' });
    expect(historyTypes(done.history).at(-1)).toBe('ExecutionAborted');
    await expect(api.SendTaskSuccess({ taskToken: token, output: '{}' })).rejects.toMatchObject({
      code: 'TaskTimedOut',
    });
  });
});

describe('nested executions (states:startExecution.sync:2)', () => {
  function parentAndChild(service: LocalStepFunctions, child: object) {
    const childArn = createMachine(service, 'order-prepare', child, 'EXPRESS');
    const parentArn = createMachine(service, 'order-workflow', {
      StartAt: 'Prepare',
      States: {
        Prepare: {
          Type: 'Task',
          Resource: 'arn:aws:states:::states:startExecution.sync:2',
          Parameters: {
            StateMachineArn: childArn,
            Input: {
              'orderId.$': '$.orderId',
              'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
            },
          },
          OutputPath: '$.Output',
          Catch: [{ ErrorEquals: ['States.TaskFailed'], ResultPath: '$.failure', Next: 'Settled' }],
          End: true,
        },
        Settled: { Type: 'Succeed' },
      },
    });
    return { childArn, parentArn };
  }

  test('the child output becomes the task output (parsed JSON), and the child sees the parent id', async () => {
    const { service } = newService();
    const { childArn, parentArn } = parentAndChild(service, {
      StartAt: 'Accept',
      States: {
        Accept: {
          Type: 'Pass',
          Parameters: { 'accepted.$': '$.orderId', 'by.$': '$.AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID' },
          End: true,
        },
      },
    });

    const done = await runToEnd(service, parentArn, { orderId: 'o-8' });

    expect(JSON.parse(done.output!)).toEqual({ accepted: 'o-8', by: done.executionArn });
    expect(service.listExecutions(childArn)).toHaveLength(1);
    expect(service.stats()[childArn]).toMatchObject({ executionsSucceeded: 1, stateTransitions: 1 });
  });

  test('a failed child fails the parent task with States.TaskFailed and the child description as cause', async () => {
    const { service } = newService();
    const { parentArn } = parentAndChild(service, {
      StartAt: 'Deny',
      States: { Deny: { Type: 'Fail', Error: 'OrderDenied', Cause: 'STORE_OFFLINE' } },
    });

    const done = await runToEnd(service, parentArn, { orderId: 'o-9' });

    const failure = JSON.parse(done.output!).failure;
    expect(failure.Error).toBe('States.TaskFailed');
    expect(JSON.parse(failure.Cause)).toMatchObject({
      Status: 'FAILED',
      Error: 'OrderDenied',
      Cause: 'STORE_OFFLINE',
    });
  });

  test('StartSyncExecution runs an Express machine to the end; Standard machines are refused', async () => {
    const { service, api } = newService();
    const express = createMachine(
      service,
      'express',
      { StartAt: 'P', States: { P: { Type: 'Pass', End: true } } },
      'EXPRESS',
    );
    const standard = createMachine(service, 'standard', {
      StartAt: 'P',
      States: { P: { Type: 'Pass', End: true } },
    });

    const answer = await api.StartSyncExecution({ stateMachineArn: express, input: '{"a":1}' });

    expect(answer).toMatchObject({ status: 'SUCCEEDED', output: '{"a":1}', startDate: expect.any(Number) });
    await expect(api.StartSyncExecution({ stateMachineArn: standard })).rejects.toMatchObject({
      code: 'StateMachineTypeNotSupported',
    });
  });
});

describe('Map states', () => {
  test('a Task inside a Map runs per item through the same integrations', async () => {
    const { service } = newService({ price: async (p) => ({ payload: (p as { cents: number }).cents * 2 }) });
    const arn = createMachine(service, 'map', {
      StartAt: 'EachItem',
      States: {
        EachItem: {
          Type: 'Map',
          ItemsPath: '$.items',
          ItemProcessor: {
            StartAt: 'PriceItem',
            States: { PriceItem: { Type: 'Task', Resource: fn('price'), End: true } },
          },
          End: true,
        },
      },
    });

    const done = await runToEnd(service, arn, { items: [{ cents: 1 }, { cents: 5 }] });

    expect(JSON.parse(done.output!)).toEqual([2, 10]);
    expect(historyTypes(done.history).filter((type) => type === 'LambdaFunctionSucceeded')).toHaveLength(2);
    expect(historyTypes(done.history)).toContain('MapIterationSucceeded');
  });
});

describe('service integrations', () => {
  test('events:putEvents sends Detail as JSON text; a failed entry fails the task with EventBridge.FailedEntry', async () => {
    const { service, integrations } = newService();
    const arn = createMachine(service, 'publish', {
      StartAt: 'PublishAccepted',
      States: {
        PublishAccepted: {
          Type: 'Task',
          Resource: 'arn:aws:states:::events:putEvents',
          Parameters: {
            Entries: [
              {
                Source: 'order-middleware',
                DetailType: 'OrderAccepted',
                'Detail.$': '$',
                EventBusName: 'orders',
              },
            ],
          },
          End: true,
        },
      },
    });

    const ok = await runToEnd(service, arn, { orderId: 'o-10' });
    integrations.failEvents = true;
    const failed = await runToEnd(service, arn, { orderId: 'o-11' });

    expect(JSON.parse(ok.output!)).toMatchObject({ FailedEntryCount: 0 });
    expect(integrations.calls.events[0]?.[0]).toMatchObject({
      Detail: '{"orderId":"o-10"}',
      Resources: [ok.executionArn, arn],
    });
    expect(failed).toMatchObject({ status: 'FAILED', error: 'EventBridge.FailedEntry' });
  });

  test('dynamodb:updateItem errors reach Catch prefixed DynamoDB.', async () => {
    const { service, integrations } = newService();
    const arn = createMachine(service, 'claim', {
      StartAt: 'ClaimOrder',
      States: {
        ClaimOrder: {
          Type: 'Task',
          Resource: 'arn:aws:states:::dynamodb:updateItem',
          Parameters: { TableName: 'orders', Key: { orderId: { 'S.$': '$.orderId' } } },
          Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], Next: 'Duplicate' }],
          End: true,
        },
        Duplicate: { Type: 'Fail', Error: 'OrderDuplicate' },
      },
    });

    const claimed = await runToEnd(service, arn, { orderId: 'o-12' });
    integrations.dynamoError = 'ConditionalCheckFailedException';
    const duplicate = await runToEnd(service, arn, { orderId: 'o-12' });

    expect(integrations.calls.dynamodb[0]).toEqual({
      action: 'updateItem',
      params: { TableName: 'orders', Key: { orderId: { S: 'o-12' } } },
    });
    expect(JSON.parse(claimed.output!)).toEqual({ Attributes: { status: { S: 'CLAIMED' } } });
    expect(duplicate).toMatchObject({ status: 'FAILED', error: 'OrderDuplicate' });
  });
});

describe('definitions the local engine cannot run correctly are refused', () => {
  const task = {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { FunctionName: 'f' },
    End: true,
  };
  test.each([
    [
      'QueryLanguage JSONata',
      { QueryLanguage: 'JSONata', StartAt: 'A', States: { A: { Type: 'Pass', End: true } } },
    ],
    ['Assign', { StartAt: 'A', States: { A: { Type: 'Pass', Assign: { x: 1 }, End: true } } }],
    ['Arguments', { StartAt: 'A', States: { A: { ...task, Arguments: { FunctionName: 'f' } } } }],
    [
      'sqs:sendMessage',
      { StartAt: 'A', States: { A: { ...task, Resource: 'arn:aws:states:::sqs:sendMessage' } } },
    ],
  ])('%s', (feature, definition) => {
    const { service } = newService();
    const create = () => createMachine(service, 'refused', definition);
    expect(create).toThrow(expect.objectContaining({ code: 'InvalidDefinition' }));
    expect(create).toThrow(feature);
  });

  test('a state-level JSONata is refused naming the state', () => {
    const { service } = newService();
    expect(() =>
      createMachine(service, 'refused', {
        StartAt: 'A',
        States: { A: { Type: 'Pass', QueryLanguage: 'JSONata', End: true } },
      }),
    ).toThrow("state 'A' uses QueryLanguage JSONata");
  });
});

describe('the API', () => {
  test('StartExecution names: same name and input while running is the same execution, else ExecutionAlreadyExists', async () => {
    const { service, api } = newService({ waitForCourier: async () => ({ payload: {} }) });
    const arn = createMachine(service, 'named', {
      StartAt: 'W',
      States: { W: { ...waitForCourierTask(), End: true } },
    });

    const first = await api.StartExecution({
      stateMachineArn: arn,
      name: 'order-1',
      input: '{"orderId":"1"}',
    });
    const again = await api.StartExecution({
      stateMachineArn: arn,
      name: 'order-1',
      input: '{"orderId":"1"}',
    });

    expect(again.executionArn).toBe(first.executionArn);
    await expect(
      api.StartExecution({ stateMachineArn: arn, name: 'order-1', input: '{"orderId":"2"}' }),
    ).rejects.toMatchObject({
      code: 'ExecutionAlreadyExists',
    });
    const { executions } = await api.ListExecutions({ stateMachineArn: arn, statusFilter: 'RUNNING' });
    expect(executions).toEqual([
      expect.objectContaining({ name: 'order-1', status: 'RUNNING', startDate: expect.any(Number) }),
    ]);
  });

  test('errors use the AWS names', async () => {
    const { api } = newService();
    const missing = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:missing`;
    await expect(api.StartExecution({ stateMachineArn: missing })).rejects.toMatchObject({
      code: 'StateMachineDoesNotExist',
    });
    await expect(api.DescribeStateMachine({ stateMachineArn: 'nonsense' })).rejects.toMatchObject({
      code: 'InvalidArn',
    });
    await expect(
      api.DescribeExecution({ executionArn: `arn:aws:states:${REGION}:${ACCOUNT}:execution:m:none` }),
    ).rejects.toMatchObject({ code: 'ExecutionDoesNotExist' });
  });

  test('GetExecutionHistory pages with maxResults/nextToken and reverses', async () => {
    const { service, api } = newService();
    const arn = createMachine(service, 'paged', {
      StartAt: 'A',
      States: { A: { Type: 'Pass', Next: 'B' }, B: { Type: 'Pass', End: true } },
    });
    const { executionArn } = await runToEnd(service, arn);

    const first = await api.GetExecutionHistory({ executionArn, maxResults: 4 });
    const rest = await api.GetExecutionHistory({ executionArn, maxResults: 4, nextToken: first.nextToken });
    const reversed = await api.GetExecutionHistory({ executionArn, reverseOrder: true });

    expect([...first.events, ...rest.events].map((event) => event.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(rest.nextToken).toBeUndefined();
    expect(reversed.events[0]?.type).toBe('ExecutionSucceeded');
  });
});
