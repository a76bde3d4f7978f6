/** The three state machines, read from their packaged definitions. */
import {
  type AslDefinition,
  type AslState,
  allStates,
  type CfnTemplate,
  PACKAGING_TIMEOUT_MS,
  packagedStack,
  resource,
  resourcesOfType,
  stateMachineDefinition,
} from './packaged-stack';

let template: CfnTemplate;
let stage: string;
let workflow: AslDefinition;
let prepare: AslDefinition;
let finish: AslDefinition;

beforeAll(async () => {
  ({ template, stage } = await packagedStack());
  workflow = stateMachineDefinition(template, 'OrderWorkflow');
  prepare = stateMachineDefinition(template, 'OrderPrepare');
  finish = stateMachineDefinition(template, 'OrderFinish');
}, PACKAGING_TIMEOUT_MS);

const MACHINES = {
  OrderWorkflow: { type: 'STANDARD', name: 'order-workflow' },
  OrderPrepare: { type: 'EXPRESS', name: 'order-prepare' },
  OrderFinish: { type: 'EXPRESS', name: 'order-finish' },
} as const;

const definitions = () => [workflow, prepare, finish];
const tasks = (definition: AslDefinition) => allStates(definition).filter(([, s]) => s.Type === 'Task');
const state = (definition: AslDefinition, name: string): AslState => {
  const found = definition.States[name];
  if (!found) throw new Error(`no state ${name}`);
  return found;
};

/** The states a run passes through when nothing goes wrong: Next from StartAt, never a Catch. */
function happyPath(definition: AslDefinition): string[] {
  const path: string[] = [];
  let name: string | undefined = definition.StartAt;
  while (name !== undefined && !path.includes(name)) {
    path.push(name);
    const current = state(definition, name) as { Next?: string; Default?: string };
    name = current.Next ?? current.Default;
  }
  return path;
}

describe('state machines', () => {
  it.each(Object.entries(MACHINES))('%s is %s and named for its stage', (id, { type, name }) => {
    const properties = resource(template, id).Properties ?? {};
    expect(properties.StateMachineType).toBe(type);
    expect(properties.StateMachineName).toBe(`order-middleware-${stage}-${name}`);
    expect(properties.LoggingConfiguration?.Destinations).toHaveLength(1);
  });

  it('log Express executions at ALL without execution data (their only history on AWS), the Standard one at ERROR', () => {
    const logging = (id: string) => resource(template, id).Properties?.LoggingConfiguration;
    expect(logging('OrderPrepare')).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(logging('OrderFinish')).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    expect(logging('OrderWorkflow')).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
  });

  it('are exactly three', () => {
    expect(resourcesOfType(template, 'AWS::StepFunctions::StateMachine')).toHaveLength(3);
  });

  it('give every Task a timeout, so no order hangs on a lost callback or a stuck call', () => {
    for (const definition of definitions()) {
      for (const [name, task] of tasks(definition)) {
        const hasTimeout = task.TimeoutSeconds !== undefined || task.TimeoutSecondsPath !== undefined;
        expect({ name, hasTimeout }).toEqual({ name, hasTimeout: true });
      }
    }
  });

  it('retry only named errors, with full jitter', () => {
    const retriers = definitions().flatMap((d) =>
      allStates(d).flatMap(([name, s]) => (s.Retry ?? []).map((retry) => ({ name, retry }))),
    );
    expect(retriers.length).toBeGreaterThan(10);
    for (const { name, retry } of retriers) {
      expect({ name, jitter: retry.JitterStrategy }).toEqual({ name, jitter: 'FULL' });
      expect(retry.ErrorEquals.length).toBeGreaterThan(0);
      expect(retry.ErrorEquals).not.toContain('States.ALL');
      expect(retry.ErrorEquals).not.toContain('States.TaskFailed');
    }
  });

  it('use JSONPath only: no JSONata, no Assign (the local engine cannot run them)', () => {
    for (const definition of definitions()) {
      expect([undefined, 'JSONPath']).toContain(definition.QueryLanguage);
      for (const [name, s] of allStates(definition)) {
        expect({ name, language: s.QueryLanguage ?? 'JSONPath' }).toEqual({ name, language: 'JSONPath' });
        expect(s.Assign).toBeUndefined();
        expect(s.Arguments).toBeUndefined();
        expect(s.Output).toBeUndefined();
      }
    }
  });
});

describe('order-workflow (STANDARD)', () => {
  it('runs the happy path in exactly three billed states: Prepare, WaitForCourier, Finish', () => {
    expect(happyPath(workflow)).toEqual(['Prepare', 'WaitForCourier', 'Finish']);
    expect(state(workflow, 'Finish').End).toBe(true);
  });

  it('prepares and finishes in nested Express runs it waits for', () => {
    for (const [name, child] of [
      ['Prepare', 'OrderPrepare'],
      ['Finish', 'OrderFinish'],
    ] as const) {
      const task = state(workflow, name);
      expect(task.Resource).toBe('arn:aws:states:::states:startExecution.sync:2');
      expect(task.Parameters?.StateMachineArn).toBe(`ref:${child}`);
    }
  });

  it('waits for the courier on a task token, for as long as the order says', () => {
    const wait = state(workflow, 'WaitForCourier');
    expect(wait.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(wait.Parameters?.FunctionName).toBe('getatt:WaitForCourierLambdaFunction.Arn');
    expect(wait.Parameters?.Payload?.['taskToken.$']).toBe('$$.Task.Token');
    expect(wait.TimeoutSecondsPath).toBe('$.courierWaitSeconds');
    expect(wait.TimeoutSeconds).toBeUndefined();
  });

  it('releases the order to the kitchen anyway when the courier never signals', () => {
    const onTimeout = state(workflow, 'WaitForCourier').Catch?.find((c) =>
      c.ErrorEquals.includes('States.Timeout'),
    );
    expect(onTimeout?.Next).toBe('Finish');
  });

  it('voids the POS order when the partner cancels during the wait', () => {
    const onCancel = state(workflow, 'WaitForCourier').Catch?.find((c) =>
      c.ErrorEquals.includes('OrderCancelled'),
    );
    expect(onCancel?.Next).toBe('VoidCancelledOrder');
    expect(state(workflow, 'VoidCancelledOrder').Parameters?.FunctionName).toBe(
      'getatt:VoidPosOrderLambdaFunction.Arn',
    );
  });

  it('fails, for the alarm, when a child fails: only work left owed or a broken step fails a child', () => {
    for (const name of ['Prepare', 'Finish']) {
      const caught = state(workflow, name).Catch?.find((c) => c.ErrorEquals.includes('States.TaskFailed'));
      expect(state(workflow, caught?.Next ?? '?')).toMatchObject({ Type: 'Fail', Error: 'OrderUnsettled' });
    }
  });

  it('ends quietly at the wait when the preparation ended the order normally (denied, failed, duplicate)', () => {
    const onEnded = state(workflow, 'WaitForCourier').Catch?.find((c) =>
      c.ErrorEquals.includes('OrderEnded'),
    );
    expect(state(workflow, onEnded?.Next ?? '?').Type).toBe('Succeed');
    // The wait step may only keep the token of the execution that claimed the order.
    expect(state(workflow, 'WaitForCourier').Parameters?.Payload).toMatchObject({
      'workflowExecutionId.$': '$$.Execution.Id',
    });
  });

  it('fails the execution when a cancelled order’s void is still owed after its retries', () => {
    const voiding = state(workflow, 'VoidCancelledOrder');
    expect(voiding.Retry?.flatMap((r) => r.ErrorEquals)).toContain('CompensationOwed');
    expect(voiding.Catch ?? []).toEqual([]);
  });
});

describe('order-prepare (EXPRESS)', () => {
  it('claims the order by a conditional write on the orders table, so a duplicate run ends as a duplicate', () => {
    const claim = state(prepare, prepare.StartAt);
    expect(claim.Resource).toBe('arn:aws:states:::dynamodb:updateItem');
    expect(claim.Parameters?.TableName).toBe('ref:OrdersTable');
    expect(claim.Parameters?.ConditionExpression).toContain('#status = :received');
    const onTaken = claim.Catch?.find((c) =>
      c.ErrorEquals.includes('DynamoDB.ConditionalCheckFailedException'),
    );
    // The record says whose claim it is: this run's own (its preparation ran again after the
    // accept) goes on to the wait; anyone else's is a duplicate, a normal ending.
    expect(onTaken?.Next).toBe('ReadClaim');
    expect(state(prepare, 'ReadClaim')).toMatchObject({
      Resource: 'arn:aws:states:::dynamodb:getItem',
      Parameters: { ConsistentRead: true },
      Next: 'AcceptedByThisRun',
    });
    const choice = state(prepare, 'AcceptedByThisRun') as {
      Choices?: Record<string, unknown>[];
      Default?: string;
    };
    expect(choice.Default).toBe('Duplicate');
    expect(choice.Choices?.[0]).toMatchObject({ Next: 'ResumeWait' });
    expect(JSON.stringify(choice.Choices?.[0])).toContain('"StringEqualsPath":"$.workflowExecutionId"');
    expect(state(prepare, 'ResumeWait')).toMatchObject({ Type: 'Pass', End: true });
    expect(state(prepare, 'Duplicate')).toMatchObject({
      Type: 'Pass',
      Parameters: { ended: 'Duplicate' },
      End: true,
    });
  });

  it('goes on to the wait when OrderAccepted cannot be published: the partner and the POS already have it', () => {
    const onLost = state(prepare, 'PublishAccepted').Catch?.find((c) => c.ErrorEquals.includes('States.ALL'));
    expect(state(prepare, onLost?.Next ?? '?')).toMatchObject({
      Type: 'Pass',
      OutputPath: '$.accepted',
      End: true,
    });
  });

  it('ends a denial that a cancel overtook as cancelled, not as a failed run', () => {
    const onCancel = state(prepare, 'RejectOrder').Catch?.find((c) =>
      c.ErrorEquals.includes('OrderCancelled'),
    );
    expect(onCancel?.Next).toBe('Cancelled');
  });

  it('validates, holds in the POS, accepts with the partner and publishes OrderAccepted, in that order', () => {
    expect(happyPath(prepare)).toEqual([
      'ClaimOrder',
      'ValidateOrder',
      'CreatePosOrder',
      'AcceptOrder',
      'PublishAccepted',
    ]);
    expect(state(prepare, 'ValidateOrder').Parameters?.FunctionName).toBe(
      'getatt:ValidateOrderLambdaFunction.Arn',
    );
    expect(state(prepare, 'CreatePosOrder').Parameters?.FunctionName).toBe(
      'getatt:CreatePosOrderLambdaFunction.Arn',
    );
    expect(state(prepare, 'AcceptOrder').Parameters?.FunctionName).toBe(
      'getatt:AcceptOrderLambdaFunction.Arn',
    );
  });

  it('sends a denial to the partner and ends the run in success, failing only when the ending is still owed', () => {
    const onDenied = state(prepare, 'ValidateOrder').Catch?.find((c) =>
      c.ErrorEquals.includes('OrderDenied'),
    );
    expect(happyPath({ ...prepare, StartAt: onDenied?.Next ?? '?' })).toEqual([
      'RejectOrder',
      'PublishRejected',
      'EndingPaid',
      'Ended',
    ]);
    expect(state(prepare, 'EndingPaid').Choices).toEqual([
      { Variable: '$.outcome.owed', BooleanEquals: true, Next: 'OutcomeOwed' },
    ]);
    expect(state(prepare, 'OutcomeOwed')).toMatchObject({ Type: 'Fail', Error: 'OutcomeOwed' });
  });

  it('retries the POS and the partner on their named outage errors', () => {
    const retried = (name: string) => state(prepare, name).Retry?.flatMap((r) => r.ErrorEquals) ?? [];
    expect(retried('CreatePosOrder')).toContain('PosUnavailable');
    expect(retried('AcceptOrder')).toContain('PartnerUnavailable');
  });
});

describe('outcome events', () => {
  const publishers = (definition: AslDefinition) =>
    tasks(definition).filter(([, s]) => s.Resource === 'arn:aws:states:::events:putEvents');

  it('are put on the order bus by the children directly, as order-middleware', () => {
    for (const definition of [prepare, finish]) {
      expect(publishers(definition).length).toBeGreaterThan(0);
      for (const [, task] of publishers(definition)) {
        const entries = task.Parameters?.Entries as Record<string, string>[];
        expect(entries).toHaveLength(1);
        expect(entries[0]).toMatchObject({ EventBusName: 'ref:OrderBus', Source: 'order-middleware' });
      }
    }
  });

  it('name OrderAccepted, OrderRejected and OrderReleasedToKitchen as fixed detail types', () => {
    const detailTypes = [prepare, finish].flatMap((d) =>
      publishers(d).map(
        ([, task]) => (task.Parameters?.Entries as Record<string, string>[] | undefined)?.[0]?.DetailType,
      ),
    );
    expect(detailTypes).toEqual(
      expect.arrayContaining(['OrderAccepted', 'OrderRejected', 'OrderReleasedToKitchen']),
    );
  });

  it('are published only after the kitchen has the order', () => {
    expect(happyPath(finish)).toEqual([
      'ReleaseToKitchen',
      'PublishReleased',
      'PartnerToldReleased',
      'Released',
    ]);
    expect(state(finish, 'ReleaseToKitchen').Parameters?.FunctionName).toBe(
      'getatt:ReleaseToKitchenLambdaFunction.Arn',
    );
  });

  it('leave the parent: the STANDARD workflow publishes nothing itself', () => {
    expect(publishers(workflow)).toHaveLength(0);
  });
});
