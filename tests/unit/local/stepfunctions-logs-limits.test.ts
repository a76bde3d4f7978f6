import { LocalLogs } from '../../../local/cloud/logs';
import { LocalStepFunctions, stepFunctionsApi } from '../../../local/cloud/stepfunctions';
import { HISTORY_LIMIT_EVENTS } from '../../../local/cloud/stepfunctions/execution';
import { ACCOUNT, fakeIntegrations, REGION, ROLE, runToEnd } from './stepfunctions-helpers';

const GROUP = '/aws/vendedlogs/states/kitchen-express';
const GROUP_ARN = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${GROUP}:*`;
const fn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;

let services: LocalStepFunctions[] = [];
function newService(functions: Parameters<typeof fakeIntegrations>[0] = {}) {
  const logs = new LocalLogs({ region: REGION, accountId: ACCOUNT });
  logs.ensureLogGroup(GROUP);
  const service = new LocalStepFunctions({
    region: REGION,
    accountId: ACCOUNT,
    integrations: fakeIntegrations(functions),
    log: (group, stream, message, timestamp) => logs.put(group, stream, message, timestamp),
  });
  services.push(service);
  return { service, logs, api: stepFunctionsApi(service) };
}

afterEach(async () => {
  await Promise.all(services.map((service) => service.close()));
  services = [];
});

const prepare = {
  StartAt: 'ValidateOrder',
  States: {
    ValidateOrder: {
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: fn('validate'), 'Payload.$': '$' },
      ResultSelector: { 'valid.$': '$.Payload.valid' },
      ResultPath: '$.validation',
      Next: 'Accepted',
    },
    Accepted: { Type: 'Pass', End: true },
  },
};

function expressMachine(service: LocalStepFunctions, level: 'ALL' | 'ERROR', includeExecutionData = false) {
  return service.createStateMachine({
    name: `prepare-${level.toLowerCase()}`,
    definition: JSON.stringify(prepare),
    roleArn: ROLE,
    type: 'EXPRESS',
    loggingConfiguration: {
      level,
      includeExecutionData,
      destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: GROUP_ARN } }],
    },
  }).stateMachineArn;
}

async function loggedEvents(logs: LocalLogs, executionArn: string) {
  const { events } = await logs.api.FilterLogEvents({
    logGroupName: GROUP,
    filterPattern: `{ $.execution_arn = "${executionArn}" }`,
  });
  return events.map((event) => ({ stream: event.logStreamName, ...JSON.parse(event.message) }));
}

describe('execution logs, as AWS writes them to the machine’s log group', () => {
  test('an Express execution at level ALL logs every history event, without its data', async () => {
    const { service, logs } = newService({ validate: async () => ({ payload: { valid: true } }) });
    const arn = expressMachine(service, 'ALL');

    const done = await runToEnd(service, arn, { orderId: 'o-1', customer: 'Ana' });
    const logged = await loggedEvents(logs, done.executionArn);

    expect(logged.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSucceeded',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(logged[0]).toMatchObject({
      id: '1',
      previous_event_id: '0',
      execution_arn: done.executionArn,
      redrive_count: '0',
      details: { roleArn: ROLE },
    });
    expect(logged[0].event_timestamp).toMatch(/^\d{13}$/);
    expect(logged[1]).toMatchObject({ id: '2', previous_event_id: '1', details: { name: 'ValidateOrder' } });
    expect(logged[2].details).toMatchObject({ resourceType: 'lambda', resource: 'invoke' });
    expect(JSON.stringify(logged)).not.toContain('Ana'); // execution data off: no input or output
    expect(logged[0].stream).toMatch(/^states\/prepare-all\/\d{4}-\d{2}-\d{2}-\d{2}-\d{2}\/[0-9a-f]{8}$/);
  });

  test('with execution data on, inputs and outputs are logged too', async () => {
    const { service, logs } = newService({ validate: async () => ({ payload: { valid: true } }) });
    const arn = expressMachine(service, 'ALL', true);

    const done = await runToEnd(service, arn, { orderId: 'o-2' });
    const [started] = await loggedEvents(logs, done.executionArn);

    expect(JSON.parse(started.details.input)).toEqual({ orderId: 'o-2' });
  });

  test('level ERROR logs only the failures', async () => {
    const { service, logs } = newService({
      validate: async () => ({ error: { errorType: 'PosUnavailable', errorMessage: 'POS down' } }),
    });
    const arn = expressMachine(service, 'ERROR');

    const done = await runToEnd(service, arn, { orderId: 'o-3' });
    const logged = await loggedEvents(logs, done.executionArn);

    expect(done.status).toBe('FAILED');
    expect(logged.map((e) => e.type)).toEqual(['TaskFailed', 'ExecutionFailed']);
    expect(logged[1].details).toMatchObject({ error: 'PosUnavailable' });
  });

  test('DescribeStateMachine gives the logging configuration it was created with', async () => {
    const { service, api } = newService();
    const arn = expressMachine(service, 'ALL');

    const described = await api.DescribeStateMachine({ stateMachineArn: arn });

    expect(described.loggingConfiguration).toEqual({
      level: 'ALL',
      includeExecutionData: false,
      destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: GROUP_ARN } }],
    });
  });

  test('a level above OFF without a log group is refused', () => {
    const { service } = newService();
    expect(() =>
      service.createStateMachine({
        name: 'no-destination',
        definition: JSON.stringify(prepare),
        roleArn: ROLE,
        loggingConfiguration: { level: 'ALL', includeExecutionData: false },
      }),
    ).toThrow(expect.objectContaining({ code: 'InvalidLoggingConfiguration' }));
  });
});

describe('Express executions have no history API, as on AWS', () => {
  test('GetExecutionHistory, DescribeExecution and StopExecution refuse an Express ARN; ListExecutions an Express machine', async () => {
    const { service, api } = newService({ validate: async () => ({ payload: { valid: true } }) });
    const arn = expressMachine(service, 'ALL');
    const done = await runToEnd(service, arn, {});
    const refusal = expect.objectContaining({
      code: 'InvalidArn',
      message: "Invalid Arn: 'Resource type not valid in this context: express'",
    });

    await expect(api.GetExecutionHistory({ executionArn: done.executionArn })).rejects.toEqual(refusal);
    await expect(api.DescribeExecution({ executionArn: done.executionArn })).rejects.toEqual(refusal);
    await expect(api.StopExecution({ executionArn: done.executionArn })).rejects.toEqual(refusal);
    await expect(api.DescribeStateMachineForExecution({ executionArn: done.executionArn })).rejects.toEqual(
      refusal,
    );
    await expect(api.ListExecutions({ stateMachineArn: arn })).rejects.toEqual(
      expect.objectContaining({ code: 'StateMachineTypeNotSupported' }),
    );
  });

  test('DescribeStateMachineForExecution answers for a Standard execution', async () => {
    const { service, api } = newService();
    const arn = service.createStateMachine({
      name: 'workflow',
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Succeed' } } }),
      roleArn: ROLE,
    }).stateMachineArn;
    const done = await runToEnd(service, arn, {});

    const described = await api.DescribeStateMachineForExecution({ executionArn: done.executionArn });

    expect(described).toMatchObject({ stateMachineArn: arn, name: 'workflow', roleArn: ROLE });
    expect(described.loggingConfiguration).toEqual({ level: 'OFF', includeExecutionData: false });
  });
});

describe('limits an order could reach', () => {
  const big = 'x'.repeat(256 * 1024);

  test('a task result over 256 KiB fails the execution with States.DataLimitExceeded, which States.ALL does not catch', async () => {
    const { service } = newService({ validate: async () => ({ payload: { valid: true, note: big } }) });
    const arn = service.createStateMachine({
      name: 'oversized-result',
      definition: JSON.stringify({
        StartAt: 'ValidateOrder',
        States: {
          ValidateOrder: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: fn('validate'), 'Payload.$': '$' },
            Retry: [{ ErrorEquals: ['States.ALL'], MaxAttempts: 2, IntervalSeconds: 0 }],
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
            End: true,
          },
          Caught: { Type: 'Succeed' },
        },
      }),
      roleArn: ROLE,
    }).stateMachineArn;

    const done = await runToEnd(service, arn, {});

    expect(done).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(done.cause).toContain("'ValidateOrder'");
    expect(done.history.map((e) => e.type)).not.toContain('SucceedStateEntered');
    expect(done.history.filter((e) => e.type === 'TaskScheduled')).toHaveLength(1); // no retry either
  });

  test('a Pass state whose output is over 256 KiB fails the execution before the next task runs', async () => {
    const { service } = newService({ validate: async () => ({ payload: { valid: true } }) });
    const arn = service.createStateMachine({
      name: 'oversized-state',
      definition: JSON.stringify({
        StartAt: 'Pad',
        States: {
          Pad: { Type: 'Pass', Result: big, ResultPath: '$.padding', Next: 'ValidateOrder' },
          ValidateOrder: {
            Type: 'Task',
            Resource: 'arn:aws:states:::lambda:invoke',
            Parameters: { FunctionName: fn('validate'), 'Payload.$': '$' },
            Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Caught' }],
            End: true,
          },
          Caught: { Type: 'Succeed' },
        },
      }),
      roleArn: ROLE,
    }).stateMachineArn;

    const done = await runToEnd(service, arn, {});

    expect(done).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(done.history.map((e) => e.type)).not.toContain('TaskScheduled');
    expect(done.history.at(-1)?.type).toBe('ExecutionFailed');
  });

  test(`a Standard execution fails when its history reaches ${HISTORY_LIMIT_EVENTS} events`, async () => {
    const { service } = newService();
    // A loop that never ends by itself: two events per state, so the quota comes after ~12,500 states.
    const arn = service.createStateMachine({
      name: 'endless',
      definition: JSON.stringify({
        StartAt: 'Again',
        States: {
          Again: { Type: 'Pass', Next: 'Done?' },
          'Done?': {
            Type: 'Choice',
            Choices: [{ Variable: '$.done', IsPresent: true, Next: 'Done' }],
            Default: 'Again',
          },
          Done: { Type: 'Succeed' },
        },
      }),
      roleArn: ROLE,
    }).stateMachineArn;

    const done = await runToEnd(service, arn, {});

    expect(done).toMatchObject({ status: 'FAILED', error: 'States.Runtime' });
    expect(done.history).toHaveLength(HISTORY_LIMIT_EVENTS);
    expect(done.history.at(-1)).toMatchObject({ type: 'ExecutionFailed', id: HISTORY_LIMIT_EVENTS });
  }, 60_000);

  test('StartExecution refuses an input over 256 KiB', () => {
    const { service } = newService();
    const arn = expressMachine(service, 'ALL');
    expect(() =>
      service.startExecution({ stateMachineArn: arn, input: JSON.stringify({ padding: big }) }),
    ).toThrow(expect.objectContaining({ code: 'ValidationException' }));
  });

  test('an unknown state machine is still StateMachineDoesNotExist for ListExecutions', async () => {
    const { api } = newService();
    await expect(
      api.ListExecutions({ stateMachineArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:none` }),
    ).rejects.toEqual(expect.objectContaining({ code: 'StateMachineDoesNotExist' }));
  });
});
