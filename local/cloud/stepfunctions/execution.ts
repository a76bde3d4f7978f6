import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  type RunOptions,
} from 'aws-local-stepfunctions';
import type { LoadedDefinition, TaskState } from './definition';
import { DataLimitExceeded, ExecutionStopped, statesTimeout, TaskFailure } from './errors';
import { data, type HistoryEvent, newEvent } from './history';
import type { ExecutionEnd, ExecutionStart, ExecutionStatus, JournalEntry, TokenWait } from './journal';
import { secondsAt } from './reference-path';
import {
  callDynamo,
  functionNameOf,
  historyResource,
  type Integrations,
  invokeFunction,
  lambdaInvokeResult,
  payloadOf,
  putEvents,
} from './resources';
import { type Callbacks, mintToken } from './tokens';

export interface ExecutionRecord extends ExecutionStart {
  status: ExecutionStatus;
  stopDate?: number;
  output?: string;
  error?: string;
  cause?: string;
  history: HistoryEvent[];
}

/** Where a restarted execution picks up: the state it was in, that state's input, its token wait. */
export interface ResumePoint {
  state: string;
  input: unknown;
  wait?: TokenWait;
}

/** What an execution needs from the service around it. */
export interface ExecutionHost {
  region: string;
  integrations: Integrations;
  callbacks: Callbacks;
  /** Appends to the execution's journal (Standard executions with a dataDir only). */
  journal?: (entry: JournalEntry) => void;
  startChild(
    parent: ExecutionRecord,
    parameters: unknown,
    pattern: 'request' | 'sync' | 'sync2',
  ): Promise<unknown>;
  onTransition(record: ExecutionRecord): void;
  /** Every history event as it is recorded (the machine's CloudWatch log group takes it from here). */
  onEvent?(record: ExecutionRecord, event: HistoryEvent): void;
  onFinished(record: ExecutionRecord): void;
}

/** Step Functions' quota on a state's input or output, a task's result and an execution's input: 256 KiB. */
export const PAYLOAD_LIMIT_BYTES = 256 * 1024;
/** A Standard execution fails when its history would grow past 25,000 events (Express keeps none). */
export const HISTORY_LIMIT_EVENTS = 25_000;

type EngineEvent = {
  type: string;
  state?: { name: string; type: string; input: unknown; output?: unknown };
} & {
  index?: number;
  parentState?: { name: string };
};

type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * One execution on the engine: provides the context object (task tokens), runs every Task
 * through our integrations with our timeouts and heartbeats, and turns the engine's event log
 * plus the task events into AWS-shaped history, journalled as it happens.
 */
export class Execution {
  done: Promise<ExecutionRecord>;
  private abortEngine = () => {};
  private pendingToken: string | undefined;
  private resumeWait: TokenWait | undefined;
  private skipNextEntered = false;
  private readonly openTokens = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly stateInputs = new Map<string, unknown>();
  private sealed = false;
  /** A resumed token wait, open from the moment `start` returns so no SendTaskSuccess is lost. */
  private reopened: { token: string; answer: Promise<unknown> } | undefined;
  /** Rejects every in-flight task handler when the execution halts, so the engine settles too. */
  private readonly halted: Promise<never>;
  private rejectHalted: (error: Error) => void = () => {};
  private suspended = false;
  private stopReason: { error?: string; cause?: string } | undefined;
  /** A failure no Catch may handle, found outside a task (an oversized state, a full history). */
  private terminal: { error: string; cause: string } | undefined;

  constructor(
    readonly record: ExecutionRecord,
    private readonly loaded: LoadedDefinition,
    private readonly host: ExecutionHost,
  ) {
    this.done = Promise.resolve(record);
    this.halted = new Promise<never>((_, reject) => {
      this.rejectHalted = reject;
    });
    this.halted.catch(() => {});
  }

  /** Runs from the start, or — after a restart — from where the journal says it was. */
  start(resume?: ResumePoint): void {
    if (this.record.history.length === 0) {
      this.emit('ExecutionStarted', {
        ...data('input', JSON.parse(this.record.input)),
        roleArn: this.record.roleArn,
      });
    }
    this.skipNextEntered = resume !== undefined;
    this.resumeWait = resume?.wait;
    const input = resume ? resume.input : JSON.parse(this.record.input);
    if (resume?.wait) this.reopen(resume.wait, input);
    const run = this.loaded.machineFrom(resume?.state).run(input, {
      context: this.contextObject(),
      overrides: { taskResourceLocalHandlers: this.taskHandlers() },
    });
    this.abortEngine = run.abort;
    const followed = this.follow(run.eventLogs as AsyncGenerator<EngineEvent>);
    this.done = Promise.allSettled([run.result, followed]).then(([result]) => this.finish(result));
  }

  /** StopExecution: ends as ABORTED with the given error and cause. */
  stop(error?: string, cause?: string): void {
    this.stopReason = { error, cause };
    this.emit('ExecutionAborted', { error, cause });
    this.halt();
  }

  /** Shutdown: stops running without recording an end, so a restart resumes it. */
  suspend(): void {
    this.suspended = true;
    this.halt();
  }

  private reopen(wait: TokenWait, stateInput: unknown): void {
    const task = this.loaded.tasks.get(wait.state);
    const heartbeatMs = task ? heartbeatSecondsOf(task, stateInput) * 1000 || undefined : undefined;
    const answer = this.host.callbacks.wait(wait.token, heartbeatMs, heartbeatTimeout);
    answer.catch(() => {}); // observed by the task once the engine reaches it
    this.openTokens.add(wait.token);
    this.reopened = { token: wait.token, answer };
  }

  private halt(): void {
    this.sealed = true;
    this.rejectHalted(new ExecutionStopped());
    for (const timer of this.timers) clearTimeout(timer);
    for (const token of this.openTokens) this.host.callbacks.cancel(token, new ExecutionStopped());
    this.abortEngine();
  }

  private contextObject() {
    const execution = this;
    const { executionArn, name, roleArn, startDate, stateMachineArn } = this.record;
    return {
      Execution: {
        Id: executionArn,
        Name: name,
        RoleArn: roleArn,
        StartTime: new Date(startDate).toISOString(),
      },
      StateMachine: { Id: stateMachineArn, Name: stateMachineArn.split(':').pop() },
      Task: {
        // Read while the engine evaluates a Task's Parameters, just before it calls that Task's handler.
        get Token() {
          execution.pendingToken ??= execution.resumeWait?.token ?? mintToken(executionArn);
          return execution.pendingToken;
        },
      },
    };
  }

  private taskHandlers(): TaskHandlers {
    const handlers: TaskHandlers = {};
    for (const task of this.loaded.tasks.values()) {
      handlers[task.name] = (parameters) =>
        Promise.race([this.runTask(task, parameters), this.halted]) as ReturnType<TaskHandlers[string]>;
    }
    return handlers;
  }

  private async follow(events: AsyncGenerator<EngineEvent>): Promise<void> {
    for await (const event of events) this.onEngineEvent(event);
  }

  private onEngineEvent(event: EngineEvent): void {
    const { state } = event;
    if (event.type === 'StateEntered' && state) {
      this.stateInputs.set(state.name, state.input);
      if (this.skipNextEntered) {
        this.skipNextEntered = false; // the journal already holds this entry
        return;
      }
      const entered: Record<string, unknown> = { name: state.name, ...data('input', state.input) };
      this.emit(`${state.type}StateEntered`, entered);
      this.host.onTransition(this.record);
      const input = entered.input as string;
      if (oversized(input)) this.failTerminally(DataLimitExceeded.input(state.name, byteLength(input)));
    } else if (event.type === 'StateExited' && state) {
      const exited: Record<string, unknown> = { name: state.name, ...data('output', state.output) };
      this.emit(`${state.type}StateExited`, exited);
      const output = exited.output as string;
      if (oversized(output)) this.failTerminally(DataLimitExceeded.output(state.name, byteLength(output)));
    } else if (event.type.startsWith('MapIteration') && event.parentState) {
      this.emit(event.type, { name: event.parentState.name, index: event.index });
    }
  }

  private async runTask(task: TaskState, parameters: unknown): Promise<unknown> {
    const token = this.takeToken(task.name);
    const resumed = this.resumeWait?.token === token ? this.resumeWait : undefined;
    this.resumeWait = undefined;
    await nextTurn(); // lets the event-log consumer record this state's entry before the task events
    if (this.sealed) throw new ExecutionStopped();
    const input = this.stateInputs.get(task.name);
    const timeoutMs = resumed
      ? Math.max(0, (resumed.timeoutAt ?? Infinity) - Date.now())
      : taskTimeoutMs(task, input);
    const heartbeatMs = heartbeatSecondsOf(task, input) * 1000 || undefined;
    const events = new TaskEvents(this, task, timeoutMs, heartbeatMs);
    if (!resumed) events.scheduled(parameters);
    try {
      // The input after Parameters, then the result, each within the quota, or the execution fails.
      const sent = JSON.stringify(parameters ?? null);
      if (oversized(sent)) throw DataLimitExceeded.input(task.name, byteLength(sent));
      const output = await this.withTimeout(timeoutMs, token, () =>
        this.perform(task, parameters, { token, resumed, events, heartbeatMs, timeoutMs }),
      );
      const result = JSON.stringify(output ?? null);
      if (oversized(result)) throw DataLimitExceeded.result(task.name, byteLength(result));
      events.succeeded(output);
      return output;
    } catch (error) {
      throw events.failed(error);
    }
  }

  private takeToken(stateName: string): string {
    const token =
      this.pendingToken ??
      (this.resumeWait?.state === stateName ? this.resumeWait.token : mintToken(this.record.executionArn));
    this.pendingToken = undefined;
    return token;
  }

  private withTimeout<T>(timeoutMs: number, token: string, work: () => Promise<T>): Promise<T> {
    if (!Number.isFinite(timeoutMs)) return work();
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(async () => {
        const timeout = await statesTimeout('');
        this.host.callbacks.cancel(token, timeout);
        reject(timeout);
      }, timeoutMs);
      this.timers.add(timer);
      work()
        .then(resolve, reject)
        .finally(() => {
          clearTimeout(timer);
          this.timers.delete(timer);
        });
    });
  }

  private async perform(task: TaskState, parameters: unknown, attempt: TaskAttempt): Promise<unknown> {
    const { integrations } = this.host;
    const { resource } = task;
    switch (resource.service) {
      case 'lambda':
        if ('functionArn' in resource) return invokeFunction(integrations, resource.functionArn, parameters);
        if (resource.pattern === 'token') return this.invokeAndWait(task, parameters, attempt);
        return lambdaInvokeResult(
          await invokeFunction(integrations, functionNameOf(parameters), payloadOf(parameters)),
        );
      case 'events':
        return putEvents(integrations, parameters, [this.record.executionArn, this.record.stateMachineArn]);
      case 'dynamodb':
        return callDynamo(integrations, resource.action, parameters);
      case 'states':
        return this.host.startChild(this.record, parameters, resource.pattern);
    }
  }

  /**
   * `lambda:invoke.waitForTaskToken`: the wait is open before the function runs (it may answer
   * with SendTaskSuccess itself), and is journalled once the function took the token.
   */
  private async invokeAndWait(task: TaskState, parameters: unknown, attempt: TaskAttempt): Promise<unknown> {
    const { callbacks, integrations } = this.host;
    const { token, resumed, heartbeatMs } = attempt;
    const reopened = this.reopened?.token === token ? this.reopened.answer : undefined;
    this.reopened = undefined;
    const answer = reopened ?? callbacks.wait(token, heartbeatMs, heartbeatTimeout);
    answer.catch(() => {}); // observed below; the invoke may fail first
    this.openTokens.add(token);
    try {
      if (!resumed) {
        const invoked = await invokeFunction(integrations, functionNameOf(parameters), payloadOf(parameters));
        const timeoutAt = Number.isFinite(attempt.timeoutMs) ? Date.now() + attempt.timeoutMs : undefined;
        this.host.journal?.({ t: 'wait', wait: { state: task.name, token, timeoutAt } });
        attempt.events.submitted(lambdaInvokeResult(invoked));
      }
      return await answer;
    } catch (error) {
      callbacks.cancel(token, error as Error);
      throw error;
    } finally {
      this.openTokens.delete(token);
    }
  }

  /** Appends a history event (and journals it) unless the execution already ended or was halted. */
  emit(type: string, details?: object): void {
    if (this.sealed) return;
    const event = newEvent(this.record.history.at(-1), type, details);
    this.record.history.push(event);
    this.host.journal?.({ t: 'event', event });
    this.host.onEvent?.(this.record, event);
    // The last place is kept for the ExecutionFailed that the quota's failure records.
    if (this.record.type === 'STANDARD' && this.record.history.length >= HISTORY_LIMIT_EVENTS - 1)
      this.failTerminally({
        name: 'States.Runtime',
        message: `The execution reached the maximum number of history events (${HISTORY_LIMIT_EVENTS}).`,
      });
  }

  /** Ends the execution FAILED with an error that no Retry or Catch may handle. */
  private failTerminally(failure: { name: string; message: string }): void {
    if (this.terminal || this.sealed) return;
    this.terminal = { error: failure.name, cause: failure.message };
    this.halt();
  }

  private finish(result: PromiseSettledResult<unknown>): ExecutionRecord {
    if (this.suspended) return this.record;
    const end = this.endOf(result);
    this.sealed = false;
    if (end.status === 'SUCCEEDED') this.emit('ExecutionSucceeded', data('output', JSON.parse(end.output!)));
    if (end.status === 'FAILED') this.emit('ExecutionFailed', { error: end.error, cause: end.cause });
    if (end.status === 'TIMED_OUT') this.emit('ExecutionTimedOut', { error: end.error, cause: end.cause });
    this.sealed = true;
    for (const token of this.openTokens) this.host.callbacks.cancel(token, new ExecutionStopped());
    Object.assign(this.record, end);
    this.host.journal?.({ t: 'end', end });
    this.host.onFinished(this.record);
    return this.record;
  }

  private endOf(result: PromiseSettledResult<unknown>): ExecutionEnd {
    const stopDate = Date.now();
    if (this.terminal) return { status: 'FAILED', stopDate, ...this.terminal };
    if (this.stopReason) return { status: 'ABORTED', stopDate, ...this.stopReason };
    if (result.status === 'fulfilled')
      return { status: 'SUCCEEDED', stopDate, output: JSON.stringify(result.value) };
    const failure = result.reason;
    if (failure instanceof ExecutionTimeoutError)
      return { status: 'TIMED_OUT', stopDate, error: 'States.Timeout' };
    if (failure instanceof ExecutionAbortedError) return { status: 'ABORTED', stopDate };
    const cause = failure instanceof ExecutionError ? failure.cause : failure;
    return { status: 'FAILED', stopDate, ...errorAndCause(cause) };
  }
}

interface TaskAttempt {
  token: string;
  resumed: TokenWait | undefined;
  events: TaskEvents;
  heartbeatMs: number | undefined;
  timeoutMs: number;
}

/** A direct Lambda ARN is reported as `LambdaFunction*` events, service integrations as `Task*`. */
class TaskEvents {
  private readonly prefix: string;
  private readonly resource: Record<string, string>;

  constructor(
    private readonly execution: Execution,
    task: TaskState,
    private readonly timeoutMs: number,
    private readonly heartbeatMs: number | undefined,
  ) {
    const direct = 'functionArn' in task.resource;
    this.prefix = direct ? 'LambdaFunction' : 'Task';
    this.resource = direct ? { resource: task.resourceArn } : historyResource(task.resourceArn);
  }

  scheduled(parameters: unknown): void {
    const timing = {
      ...(Number.isFinite(this.timeoutMs) && { timeoutInSeconds: Math.ceil(this.timeoutMs / 1000) }),
      ...(this.heartbeatMs && { heartbeatInSeconds: this.heartbeatMs / 1000 }),
    };
    const payload =
      this.prefix === 'Task'
        ? { region: this.region(), ...data('parameters', parameters) }
        : data('input', parameters);
    this.execution.emit(`${this.prefix}Scheduled`, { ...this.resource, ...payload, ...timing });
    this.execution.emit(`${this.prefix}Started`, this.prefix === 'Task' ? this.resource : undefined);
  }

  submitted(output: unknown): void {
    this.execution.emit('TaskSubmitted', { ...this.resource, ...data('output', output) });
  }

  succeeded(output: unknown): void {
    this.execution.emit(`${this.prefix}Succeeded`, { ...this.resource, ...data('output', output) });
  }

  /** Records the failure and returns the error for the engine's Retry/Catch. */
  failed(error: unknown): unknown {
    if (error instanceof ExecutionStopped) return error;
    const { error: name, cause } = errorAndCause(error);
    const timedOut = name === 'States.Timeout' || name === 'States.HeartbeatTimeout';
    this.execution.emit(`${this.prefix}${timedOut ? 'TimedOut' : 'Failed'}`, {
      ...this.resource,
      error: name,
      cause,
    });
    return error;
  }

  private region(): string {
    return this.execution.record.executionArn.split(':')[3] ?? '';
  }
}

const heartbeatTimeout = () => new TaskFailure('States.HeartbeatTimeout', '');

const byteLength = (text: string | undefined) => (text === undefined ? 0 : Buffer.byteLength(text));
const oversized = (text: string | undefined) =>
  text !== undefined && text.length * 3 > PAYLOAD_LIMIT_BYTES && byteLength(text) > PAYLOAD_LIMIT_BYTES;

function taskTimeoutMs(task: TaskState, input: unknown): number {
  if (task.timeoutSeconds !== undefined) return task.timeoutSeconds * 1000;
  if (task.timeoutSecondsPath) return secondsAt(task.timeoutSecondsPath, input, 'TimeoutSecondsPath') * 1000;
  return Infinity; // AWS's default is 99999999 s: no timer
}

function heartbeatSecondsOf(task: TaskState, input: unknown): number {
  if (task.heartbeatSeconds !== undefined) return task.heartbeatSeconds;
  if (task.heartbeatSecondsPath) return secondsAt(task.heartbeatSecondsPath, input, 'HeartbeatSecondsPath');
  return 0;
}

const FAIL_STATE_DEFAULT_CAUSE = 'Execution failed because of a Fail state';

/** The engine's errors carry the ASL error as `name`; a Fail state may leave out Error and Cause. */
function errorAndCause(error: unknown): { error?: string; cause?: string } {
  if (!(error instanceof Error)) return { error: 'States.Runtime', cause: String(error) };
  if (error.constructor.name === 'FailStateError') {
    return {
      ...(error.name !== 'FailStateError' && { error: error.name }),
      ...(error.message !== FAIL_STATE_DEFAULT_CAUSE && { cause: error.message }),
    };
  }
  return { error: error.name, cause: error.message === error.name ? '' : error.message };
}
