/**
 * The path the console draws for an execution, from the project's own state machines and events
 * shaped as GetExecutionHistory answers them (Standard) and as Step Functions logs them (Express).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import {
  type AslDefinition,
  eventsFromHistory,
  eventsFromLogs,
  executionPath,
  type HistoryEventLike,
} from '../../../local/console/executions';

/** A machine's definition as the packaged template carries it (the `!GetAtt`/`!Ref` tags do not matter here). */
function definitionOf(name: string): AslDefinition {
  const text = readFileSync(`statemachines/${name}.asl.yml`, 'utf8').replace(/!(GetAtt|Ref) /g, '');
  return parse(text) as AslDefinition;
}

const workflow = definitionOf('order-workflow');
const prepare = definitionOf('order-prepare');
const finish = definitionOf('order-finish');

/** History events as the SDK answers them: ids in order, details under `<type>EventDetails`. */
function history(...events: Array<[type: string, details?: Record<string, unknown>]>): HistoryEventLike[] {
  return events.map(([type, details], i) => {
    const key = type.endsWith('StateEntered')
      ? 'stateEnteredEventDetails'
      : type.endsWith('StateExited')
        ? 'stateExitedEventDetails'
        : `${type[0]!.toLowerCase()}${type.slice(1)}EventDetails`;
    return {
      id: i + 1,
      previousEventId: i,
      timestamp: new Date(Date.UTC(2026, 10, 30, 12, 0, i)),
      type,
      ...(details && { [key]: details }),
    };
  });
}

/** Express log lines as Step Functions writes them at level ALL without execution data. */
function expressLog(...events: Array<[type: string, details?: Record<string, unknown>]>): string[] {
  return events.map(([type, details], i) =>
    JSON.stringify({
      id: String(i + 1),
      type,
      details: details ?? {},
      previous_event_id: String(i),
      event_timestamp: String(Date.UTC(2026, 10, 30, 12, 0, 0, i)),
      execution_arn:
        'arn:aws:states:us-east-1:000000000000:express:order-middleware-dev-order-prepare:ord_x:1',
      redrive_count: '0',
    }),
  );
}

describe('a Standard workflow from its history', () => {
  it('waits in WaitForCourier after Prepare, and names the state of each task event', () => {
    const events = eventsFromHistory(
      history(
        ['ExecutionStarted', { roleArn: 'arn:role' }],
        ['TaskStateEntered', { name: 'Prepare', input: '{}' }],
        ['TaskScheduled', { resource: 'startExecution.sync:2', resourceType: 'states' }],
        ['TaskStarted', { resource: 'startExecution.sync:2', resourceType: 'states' }],
        ['TaskSucceeded', { output: '{}' }],
        ['TaskStateExited', { name: 'Prepare', output: '{}' }],
        ['TaskStateEntered', { name: 'WaitForCourier', input: '{}' }],
        ['TaskScheduled', { resource: 'invoke.waitForTaskToken', resourceType: 'lambda' }],
        ['TaskStarted', { resource: 'invoke.waitForTaskToken', resourceType: 'lambda' }],
        ['TaskSubmitted', { output: '{}' }],
      ),
    );

    expect(events.map((e) => e.stateName)).toEqual([
      undefined,
      'Prepare',
      'Prepare',
      'Prepare',
      'Prepare',
      'Prepare',
      'WaitForCourier',
      'WaitForCourier',
      'WaitForCourier',
      'WaitForCourier',
    ]);
    expect(events[0]).toEqual({
      id: 1,
      previousEventId: 0,
      timestamp: '2026-11-30T12:00:00.000Z',
      type: 'ExecutionStarted',
    });
    expect(executionPath(workflow, events)).toEqual({
      path: ['Prepare', 'WaitForCourier'],
      currentState: 'WaitForCourier',
    });
  });

  it('released: the whole path, no current state, no failure', () => {
    const events = eventsFromHistory(
      history(
        ['ExecutionStarted'],
        ['TaskStateEntered', { name: 'Prepare' }],
        ['TaskStateExited', { name: 'Prepare' }],
        ['TaskStateEntered', { name: 'WaitForCourier' }],
        ['TaskStateExited', { name: 'WaitForCourier' }],
        ['TaskStateEntered', { name: 'Finish' }],
        ['TaskStateExited', { name: 'Finish' }],
        ['ExecutionSucceeded', { output: '{}' }],
      ),
    );

    expect(executionPath(workflow, events)).toEqual({
      path: ['Prepare', 'WaitForCourier', 'Finish'],
      status: 'SUCCEEDED',
    });
  });

  it('a child that failed: caught into Unsettled, which is the failed state', () => {
    const events = eventsFromHistory(
      history(
        ['ExecutionStarted'],
        ['TaskStateEntered', { name: 'Prepare' }],
        ['TaskFailed', { error: 'States.TaskFailed', cause: '{"Status":"FAILED"}' }],
        ['TaskStateExited', { name: 'Prepare' }],
        ['FailStateEntered', { name: 'Unsettled' }],
        ['ExecutionFailed', { error: 'OrderUnsettled', cause: 'owed work' }],
      ),
    );

    expect(events[2]).toMatchObject({
      stateName: 'Prepare',
      error: 'States.TaskFailed',
      cause: '{"Status":"FAILED"}',
    });
    expect(executionPath(workflow, events)).toEqual({
      path: ['Prepare', 'Unsettled'],
      failedState: 'Unsettled',
      status: 'FAILED',
    });
  });

  it('a task whose error nothing caught is the failed state; an abort marks where it stood', () => {
    const uncaught = eventsFromHistory(
      history(
        ['ExecutionStarted'],
        ['TaskStateEntered', { name: 'Prepare' }],
        ['TaskFailed', { error: 'StepFunctions.ExecutionLimitExceeded' }],
        ['ExecutionFailed', { error: 'StepFunctions.ExecutionLimitExceeded' }],
      ),
    );
    const aborted = eventsFromHistory(
      history(
        ['ExecutionStarted'],
        ['TaskStateEntered', { name: 'Prepare' }],
        ['TaskStateExited', { name: 'Prepare' }],
        ['TaskStateEntered', { name: 'WaitForCourier' }],
        ['ExecutionAborted', { error: 'Operator', cause: 'stopped' }],
      ),
    );

    expect(executionPath(workflow, uncaught)).toMatchObject({ failedState: 'Prepare', status: 'FAILED' });
    expect(executionPath(workflow, aborted)).toEqual({
      path: ['Prepare', 'WaitForCourier'],
      failedState: 'WaitForCourier',
      status: 'ABORTED',
    });
  });

  it('leaves out states its definition does not have (another machine, a nested state)', () => {
    const events = eventsFromHistory(
      history(
        ['ExecutionStarted'],
        ['TaskStateEntered', { name: 'Prepare' }],
        ['PassStateEntered', { name: 'Elsewhere' }],
      ),
    );

    expect(executionPath(workflow, events).path).toEqual(['Prepare']);
  });
});

describe('an Express child from its log group', () => {
  it('a denial: ClaimOrder, ValidateOrder, then the rejection path, succeeded', () => {
    const events = eventsFromLogs(
      expressLog(
        ['ExecutionStarted'],
        ['TaskStateEntered', { name: 'ClaimOrder' }],
        ['TaskScheduled', { resourceType: 'dynamodb', resource: 'updateItem' }],
        ['TaskSucceeded', { resourceType: 'dynamodb', resource: 'updateItem' }],
        ['TaskStateExited', { name: 'ClaimOrder' }],
        ['TaskStateEntered', { name: 'ValidateOrder' }],
        ['TaskFailed', { error: 'OrderDenied', cause: 'STORE_OFFLINE' }],
        ['TaskStateExited', { name: 'ValidateOrder' }],
        ['TaskStateEntered', { name: 'RejectOrder' }],
        ['TaskStateExited', { name: 'RejectOrder' }],
        ['ExecutionSucceeded'],
      ),
    );

    expect(events[6]).toMatchObject({ type: 'TaskFailed', stateName: 'ValidateOrder', error: 'OrderDenied' });
    expect(events[0]?.timestamp).toBe('2026-11-30T12:00:00.000Z');
    expect(executionPath(prepare, events)).toEqual({
      path: ['ClaimOrder', 'ValidateOrder', 'RejectOrder'],
      status: 'SUCCEEDED',
    });
  });

  it('orders events by id, reads each once, and skips lines that are not execution events', () => {
    const lines = expressLog(
      ['ExecutionStarted'],
      ['TaskStateEntered', { name: 'ReleaseToKitchen' }],
      ['TaskStateExited', { name: 'ReleaseToKitchen' }],
      ['TaskStateEntered', { name: 'PublishReleased' }],
    );
    const events = eventsFromLogs([
      lines[3]!,
      'not json',
      '{"message":"a function line"}',
      ...lines,
      lines[1]!,
    ]);

    expect(events.map((e) => e.id)).toEqual([1, 2, 3, 4]);
    expect(executionPath(finish, events)).toEqual({
      path: ['ReleaseToKitchen', 'PublishReleased'],
      currentState: 'PublishReleased',
    });
  });

  it('ends in the Fail state OutcomeOwed when the ending still owes work', () => {
    const events = eventsFromLogs(
      expressLog(
        ['ExecutionStarted'],
        ['TaskStateEntered', { name: 'ReleaseToKitchen' }],
        ['TaskFailed', { error: 'CompensationOwed' }],
        ['TaskStateExited', { name: 'ReleaseToKitchen' }],
        ['FailStateEntered', { name: 'OutcomeOwed' }],
        ['ExecutionFailed', { error: 'OutcomeOwed' }],
      ),
    );

    expect(executionPath(finish, events)).toEqual({
      path: ['ReleaseToKitchen', 'OutcomeOwed'],
      failedState: 'OutcomeOwed',
      status: 'FAILED',
    });
  });

  it('no events (nothing logged yet): an empty path', () => {
    expect(executionPath(prepare, eventsFromLogs([]))).toEqual({ path: [] });
  });
});
