import { randomUUID } from 'node:crypto';
import { AwsError } from '../aws-error';
import { positiveFromEnv } from '../env';
import { type LoadedDefinition, loadDefinition } from './definition';
import { statesTimeout, TaskFailure } from './errors';
import { Execution, type ExecutionHost, type ExecutionRecord, type ResumePoint } from './execution';
import {
  LOGGING_OFF,
  type LoggingConfiguration,
  logEventOf,
  logGroupNameOf,
  logStreamNameOf,
  logs,
} from './execution-logs';
import type { HistoryEvent } from './history';
import { type ExecutionStart, type ExecutionStatus, Journal, type JournalEntry } from './journal';
import type { Integrations } from './resources';
import { type ServiceEvent, statusChangeEvent } from './status-events';
import { Callbacks, executionOfToken } from './tokens';

export type StateMachineType = 'STANDARD' | 'EXPRESS';

export interface StateMachineRecord {
  stateMachineArn: string;
  name: string;
  type: StateMachineType;
  definition: string;
  roleArn: string;
  creationDate: number;
  loggingConfiguration: LoggingConfiguration;
}

export interface LocalStepFunctionsOptions {
  region: string;
  accountId: string;
  integrations: Integrations;
  /** Where Standard executions are journalled so they survive a restart; none: memory only. */
  dataDir?: string;
  /** Writes a CloudWatch Logs event: the history events a machine's LoggingConfiguration asks for. */
  log?: (logGroupName: string, logStreamName: string, message: string, timestamp: number) => void;
  /** Receives Standard executions' status change events, for the default event bus. */
  sendEvent?: (event: ServiceEvent) => void;
  /** Finished Standard executions kept whole in memory (with a dataDir); default RETAINED_EXECUTIONS. */
  retainedExecutions?: number;
}

/** What ListExecutions shows of an execution; all that is kept in memory of an evicted one. */
export type ExecutionSummary = Pick<
  ExecutionRecord,
  'executionArn' | 'stateMachineArn' | 'name' | 'type' | 'status' | 'startDate' | 'stopDate'
>;

export interface StartExecutionRequest {
  stateMachineArn: string;
  name?: string;
  /** JSON text, as the API carries it; `{}` when absent. */
  input?: string;
}

export interface MachineStats {
  executionsStarted: number;
  executionsSucceeded: number;
  executionsFailed: number;
  executionsTimedOut: number;
  executionsAborted: number;
  /** Each state entered counts one (Standard bills per state transition). */
  stateTransitions: number;
  /** Sum of finished Express executions' durations (Express bills per duration). */
  expressDurationMs: number;
}

/** Finished Express executions kept for describe/list; Express history is not durable on AWS either. */
const EXPRESS_RETAINED = 1000;
/**
 * Finished Standard executions kept whole (record and history) in memory; older ones keep only
 * their summary and are read back from their journal when asked for, so a long `npm start` does not
 * grow with every order. `LOCAL_SFN_RETAINED_EXECUTIONS` overrides it.
 */
const RETAINED_EXECUTIONS = 500;
/** Step Functions keeps a Standard execution's history for 90 days after it closes. */
const STANDARD_RETENTION_MS = 90 * 24 * 3600 * 1000;
// biome-ignore lint/suspicious/noControlCharactersInRegex: AWS names may not contain control characters
const NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

/**
 * The local Step Functions: state machines, executions on aws-local-stepfunctions, task tokens,
 * history, and a journal that lets Standard executions survive a restart (`resume()`).
 */
export class LocalStepFunctions {
  private readonly machines = new Map<string, StateMachineRecord & { loaded: LoadedDefinition }>();
  /** In start order; an evicted execution's entry is replaced by its summary in place (same order). */
  private readonly executions = new Map<string, Execution | ExecutionSummary>();
  private readonly finishedExpress: string[] = [];
  /** Finished Standard executions still held whole, oldest first: the next ones to evict. */
  private readonly finishedStandard: string[] = [];
  private readonly retained: number;
  private readonly definitions = new Map<string, LoadedDefinition>();
  private readonly counters = new Map<string, MachineStats>();
  private readonly callbacks = new Callbacks();
  private readonly journal: Journal | undefined;

  constructor(private readonly options: LocalStepFunctionsOptions) {
    this.journal = options.dataDir ? new Journal(options.dataDir) : undefined;
    this.retained =
      options.retainedExecutions ?? positiveFromEnv('LOCAL_SFN_RETAINED_EXECUTIONS', RETAINED_EXECUTIONS);
    void statesTimeout('').catch(() => {}); // warm the engine's timeout class before the first timeout
  }

  createStateMachine(request: {
    name: string;
    definition: string;
    roleArn: string;
    type?: StateMachineType;
    loggingConfiguration?: LoggingConfiguration;
  }) {
    const { name, definition, roleArn, type = 'STANDARD', loggingConfiguration = LOGGING_OFF } = request;
    checkLogging(loggingConfiguration);
    if (!NAME.test(name)) throw new AwsError('InvalidName', `Invalid State Machine Name: '${name}'`);
    if (type !== 'STANDARD' && type !== 'EXPRESS')
      throw new AwsError('ValidationException', `Invalid type ${type}`);
    const stateMachineArn = this.arn('stateMachine', name);
    const existing = this.machines.get(stateMachineArn);
    if (existing) {
      if (existing.definition === definition && existing.type === type && existing.roleArn === roleArn)
        return existing;
      throw new AwsError('StateMachineAlreadyExists', `State Machine Already Exists: '${stateMachineArn}'`);
    }
    const machine = {
      stateMachineArn,
      name,
      type,
      definition,
      roleArn,
      creationDate: Date.now(),
      loggingConfiguration,
    };
    this.machines.set(stateMachineArn, { ...machine, loaded: this.load(definition) });
    return machine;
  }

  listStateMachines(): StateMachineRecord[] {
    return [...this.machines.values()];
  }

  describeStateMachine(stateMachineArn: string): StateMachineRecord {
    return this.machine(stateMachineArn);
  }

  /**
   * StartExecution. A Standard execution's name is unique: the same name and input while it runs
   * answers with that execution (AWS's idempotency); otherwise ExecutionAlreadyExists.
   */
  startExecution(request: StartExecutionRequest): ExecutionRecord {
    const machine = this.machine(request.stateMachineArn);
    const name = request.name ?? randomUUID();
    if (!NAME.test(name)) throw new AwsError('InvalidName', `Invalid Execution Name: '${name}'`);
    const input = request.input ?? '{}';
    checkJson(input);
    const executionArn =
      machine.type === 'EXPRESS'
        ? `${this.arn('express', machine.name)}:${name}:${randomUUID()}`
        : `${this.arn('execution', machine.name)}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      const record = existing instanceof Execution ? existing.record : undefined;
      if (record?.status === 'RUNNING' && record.input === input) return record;
      throw new AwsError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const start: ExecutionStart = {
      executionArn,
      stateMachineArn: machine.stateMachineArn,
      name,
      type: machine.type,
      input,
      startDate: Date.now(),
      roleArn: machine.roleArn,
      definition: machine.definition,
    };
    this.journalOf(start)?.({ t: 'start', start });
    const execution = this.register({ ...start, status: 'RUNNING', history: [] }, machine.loaded);
    this.count(machine.stateMachineArn, 'executionsStarted');
    execution.start();
    if (machine.type === 'STANDARD') this.options.sendEvent?.(statusChangeEvent(execution.record));
    return execution.record;
  }

  /** StartSyncExecution: Express only; answers when the execution ends. */
  async startSyncExecution(request: StartExecutionRequest): Promise<ExecutionRecord> {
    if (this.machine(request.stateMachineArn).type !== 'EXPRESS') {
      throw new AwsError(
        'StateMachineTypeNotSupported',
        'This operation is supported only by EXPRESS state machines',
      );
    }
    return this.waitForExecution(this.startExecution(request).executionArn);
  }

  /** What an EventBridge rule target does: StartExecution with a generated name and the event as input. */
  async eventBridgeTarget(stateMachineArn: string, input: unknown): Promise<{ executionArn: string }> {
    return {
      executionArn: this.startExecution({ stateMachineArn, input: JSON.stringify(input) }).executionArn,
    };
  }

  describeExecution(executionArn: string): ExecutionRecord {
    return this.record(executionArn);
  }

  /** ListExecutions, newest first: what is listed is held in memory, evicted executions included. */
  listExecutionSummaries(stateMachineArn: string, statusFilter?: ExecutionStatus): ExecutionSummary[] {
    this.machine(stateMachineArn);
    return [...this.executions.values()]
      .map((execution) => (execution instanceof Execution ? execution.record : execution))
      .filter(
        (record) =>
          record.stateMachineArn === stateMachineArn && (!statusFilter || record.status === statusFilter),
      )
      .sort((a, b) => b.startDate - a.startDate);
  }

  /** The same executions as whole records (for tools and tests); evicted ones are read back from disk. */
  listExecutions(stateMachineArn: string, statusFilter?: ExecutionStatus): ExecutionRecord[] {
    return this.listExecutionSummaries(stateMachineArn, statusFilter).map((summary) =>
      this.record(summary.executionArn),
    );
  }

  /** Resolves with the record once the execution has ended (or the service closed). */
  waitForExecution(executionArn: string): Promise<ExecutionRecord> {
    const execution = this.execution(executionArn);
    return execution instanceof Execution ? execution.done : Promise.resolve(this.record(executionArn));
  }

  stopExecution(executionArn: string, error?: string, cause?: string): ExecutionRecord {
    const execution = this.execution(executionArn);
    if (!(execution instanceof Execution)) return this.record(executionArn); // evicted: already ended
    if (execution.record.status === 'RUNNING') execution.stop(error, cause);
    return execution.record;
  }

  sendTaskSuccess(taskToken: string, output: string): void {
    this.callbacks.succeed(taskToken, output, (token) => this.closedTokenError(token));
  }

  sendTaskFailure(taskToken: string, error = '', cause = ''): void {
    this.callbacks.fail(taskToken, error, cause, (token) => this.closedTokenError(token));
  }

  sendTaskHeartbeat(taskToken: string): void {
    this.callbacks.heartbeat(taskToken, (token) => this.closedTokenError(token));
  }

  /** Counters per state machine ARN, since this service started. */
  stats(): Record<string, MachineStats> {
    return Object.fromEntries(this.counters);
  }

  /** How many executions are held whole in memory, and how many only as a summary (evicted). */
  memoryStats(): { executionsInMemory: number; executionsEvicted: number } {
    let executionsInMemory = 0;
    for (const execution of this.executions.values())
      if (execution instanceof Execution) executionsInMemory++;
    return { executionsInMemory, executionsEvicted: this.executions.size - executionsInMemory };
  }

  /**
   * After a restart: every journalled Standard execution is known again; one that was waiting
   * on a token waits again with the same token and the rest of its timeout; one interrupted
   * elsewhere re-enters the state it was in with that state's input (a Task runs again).
   * Finished ones are known by their summaries (the journal's index), their journals read only
   * when asked for; those closed more than 90 days before `now` are gone, as on AWS.
   */
  async resume(now = Date.now()): Promise<{ resumed: string[] }> {
    const resumed: string[] = [];
    const journal = this.journal;
    if (!journal) return { resumed };
    const finished = journal.readFinished();
    const arnsOf = (summaries: ExecutionSummary[]) => summaries.map((summary) => summary.executionArn);
    const expires = (summary: ExecutionSummary) => (summary.stopDate ?? now) <= now - STANDARD_RETENTION_MS;
    const kept = finished.filter((summary) => !expires(summary));
    if (kept.length < finished.length) journal.forget(arnsOf(finished.filter(expires)), kept);
    for (const summary of kept) this.executions.set(summary.executionArn, summary);
    for (const entries of journal.readAllBut(arnsOf(finished))) {
      const start = (entries[0] as Extract<JournalEntry, { t: 'start' }>).start;
      if (this.executions.has(start.executionArn)) continue;
      const loaded = this.load(start.definition);
      const { record, point } = replay(start, entries, loaded.topLevelStates);
      if (record.status !== 'RUNNING') {
        // It ended just before the local cloud stopped, too late for the index: indexed now.
        journal.finished(summaryOf(record));
        this.executions.set(record.executionArn, summaryOf(record));
        continue;
      }
      this.register(record, loaded).start(point);
      resumed.push(start.executionArn);
    }
    return { resumed };
  }

  /** Stops timers and suspends running executions (their journals stay open for `resume()`). */
  async close(): Promise<void> {
    const running = [...this.executions.values()].filter(
      (execution): execution is Execution =>
        execution instanceof Execution && execution.record.status === 'RUNNING',
    );
    for (const execution of running) execution.suspend();
    await Promise.all(running.map((execution) => execution.done));
  }

  private register(record: ExecutionRecord, loaded: LoadedDefinition): Execution {
    const execution = new Execution(record, loaded, this.hostFor(record));
    this.executions.set(record.executionArn, execution);
    return execution;
  }

  private hostFor(record: ExecutionStart): ExecutionHost {
    return {
      region: this.options.region,
      integrations: this.options.integrations,
      callbacks: this.callbacks,
      journal: this.journalOf(record),
      startChild: (parent, parameters, pattern) => this.startChild(parent, parameters, pattern),
      onTransition: (execution) => this.count(execution.stateMachineArn, 'stateTransitions'),
      onEvent: (execution, event) => this.logEvent(execution, event),
      onFinished: (execution) => this.onFinished(execution),
    };
  }

  private journalOf(start: ExecutionStart): ((entry: JournalEntry) => void) | undefined {
    const journal = this.journal;
    if (!journal || start.type !== 'STANDARD') return undefined;
    return (entry) => journal.append(start.executionArn, entry);
  }

  /** Writes the event to the machine's log group when its LoggingConfiguration's level asks for it. */
  private logEvent(record: ExecutionRecord, event: HistoryEvent): void {
    const machine = this.machines.get(record.stateMachineArn);
    const config = machine?.loggingConfiguration;
    const groupArn = config?.destinations?.[0]?.cloudWatchLogsLogGroup.logGroupArn;
    if (!this.options.log || !machine || !config || !groupArn || !logs(config.level, event.type)) return;
    const group = logGroupNameOf(groupArn);
    const at = Math.round(event.timestamp * 1000);
    if (group)
      this.options.log(
        group,
        logStreamNameOf(machine.name, at),
        logEventOf(event, record.executionArn, config.includeExecutionData),
        at,
      );
  }

  private onFinished(record: ExecutionRecord): void {
    const field = FINISHED_COUNTER[record.status];
    if (field) this.count(record.stateMachineArn, field);
    if (record.type !== 'EXPRESS') {
      this.options.sendEvent?.(statusChangeEvent(record));
      if (!this.journal) return; // memory only: nothing to read an evicted execution back from
      this.journal.finished(summaryOf(record));
      this.finishedStandard.push(record.executionArn);
      if (this.finishedStandard.length > this.retained) this.evict(this.finishedStandard.shift()!);
      return;
    }
    this.count(
      record.stateMachineArn,
      'expressDurationMs',
      (record.stopDate ?? Date.now()) - record.startDate,
    );
    this.finishedExpress.push(record.executionArn);
    if (this.finishedExpress.length > EXPRESS_RETAINED) this.executions.delete(this.finishedExpress.shift()!);
  }

  /** Replaces a finished Standard execution by its summary, in place; its journal keeps the rest. */
  private evict(executionArn: string): void {
    const execution = this.executions.get(executionArn);
    if (!(execution instanceof Execution) || !this.journal) return;
    this.executions.set(executionArn, summaryOf(execution.record));
  }

  /** The whole record: held in memory, or rebuilt from the journal of an evicted execution. */
  private record(executionArn: string): ExecutionRecord {
    const execution = this.execution(executionArn);
    if (execution instanceof Execution) return execution.record;
    const entries = this.journal?.read(executionArn);
    if (!entries) throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    const start = (entries[0] as Extract<JournalEntry, { t: 'start' }>).start;
    return replay(start, entries, NO_STATES).record;
  }

  /**
   * `states:startExecution` (+ `.sync`, `.sync:2`). A failed child fails the parent's task with
   * `States.TaskFailed` and the child's DescribeExecution as the cause, as on AWS.
   */
  private async startChild(
    _parent: ExecutionRecord,
    parameters: unknown,
    pattern: 'request' | 'sync' | 'sync2',
  ) {
    const { StateMachineArn, Input, Name } = (parameters ?? {}) as Record<string, unknown>;
    let child: ExecutionRecord;
    try {
      child = this.startExecution({
        stateMachineArn: String(StateMachineArn),
        name: typeof Name === 'string' ? Name : undefined,
        input: typeof Input === 'string' ? Input : JSON.stringify(Input ?? {}),
      });
    } catch (error) {
      const code = error instanceof AwsError ? error.code : 'StepFunctionsException';
      throw new TaskFailure(`StepFunctions.${code}Exception`, (error as Error).message);
    }
    if (pattern === 'request') return { ExecutionArn: child.executionArn, StartDate: child.startDate };
    const ended = await this.waitForExecution(child.executionArn);
    if (ended.status === 'RUNNING')
      throw new TaskFailure('States.TaskFailed', `Child ${ended.executionArn} suspended`);
    const described = describeForTask(ended, pattern === 'sync2');
    if (ended.status !== 'SUCCEEDED') throw new TaskFailure('States.TaskFailed', JSON.stringify(described));
    return described;
  }

  private closedTokenError(token: string): AwsError {
    const executionArn = executionOfToken(token);
    if (executionArn && this.executions.has(executionArn)) {
      return new AwsError('TaskTimedOut', 'Task Timed Out: the task for this token has already been closed');
    }
    return new AwsError('InvalidToken', 'Invalid Token');
  }

  private load(definition: string): LoadedDefinition {
    let loaded = this.definitions.get(definition);
    if (!loaded) {
      loaded = loadDefinition(definition);
      this.definitions.set(definition, loaded);
    }
    return loaded;
  }

  private machine(stateMachineArn: string) {
    if (!/^arn:aws[\w-]*:states:[\w-]+:\d{12}:stateMachine:[^:]+$/.test(stateMachineArn ?? '')) {
      throw new AwsError('InvalidArn', `Invalid Arn: '${stateMachineArn}'`);
    }
    const machine = this.machines.get(stateMachineArn);
    if (!machine)
      throw new AwsError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
    return machine;
  }

  private execution(executionArn: string): Execution | ExecutionSummary {
    if (
      !/^arn:aws[\w-]*:states:[\w-]+:\d{12}:(execution|express):[^:]+:[^:]+(:[^:]+)?$/.test(
        executionArn ?? '',
      )
    ) {
      throw new AwsError('InvalidArn', `Invalid Arn: '${executionArn}'`);
    }
    const execution = this.executions.get(executionArn);
    if (!execution)
      throw new AwsError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
    return execution;
  }

  private arn(kind: string, name: string): string {
    return `arn:aws:states:${this.options.region}:${this.options.accountId}:${kind}:${name}`;
  }

  private count(stateMachineArn: string, field: keyof MachineStats, by = 1): void {
    let stats = this.counters.get(stateMachineArn);
    if (!stats) {
      stats = { ...EMPTY_STATS };
      this.counters.set(stateMachineArn, stats);
    }
    stats[field] += by;
  }
}

const NO_STATES: ReadonlySet<string> = new Set();

const EMPTY_STATS: MachineStats = {
  executionsStarted: 0,
  executionsSucceeded: 0,
  executionsFailed: 0,
  executionsTimedOut: 0,
  executionsAborted: 0,
  stateTransitions: 0,
  expressDurationMs: 0,
};

const FINISHED_COUNTER: Partial<Record<ExecutionStatus, keyof MachineStats>> = {
  SUCCEEDED: 'executionsSucceeded',
  FAILED: 'executionsFailed',
  TIMED_OUT: 'executionsTimedOut',
  ABORTED: 'executionsAborted',
};

/** CreateStateMachine's checks of a logging configuration: one destination, needed above OFF. */
function checkLogging(config: LoggingConfiguration): void {
  if (!['ALL', 'ERROR', 'FATAL', 'OFF'].includes(config.level))
    throw new AwsError('InvalidLoggingConfiguration', `Invalid logging level ${config.level}`);
  const destinations = config.destinations ?? [];
  if (destinations.length > 1)
    throw new AwsError('InvalidLoggingConfiguration', 'Logging configuration takes at most one destination');
  const arn = destinations[0]?.cloudWatchLogsLogGroup?.logGroupArn;
  if (config.level !== 'OFF' && (!arn || !logGroupNameOf(arn)))
    throw new AwsError(
      'InvalidLoggingConfiguration',
      'Invalid Logging Configuration: Log Destination is required unless the level is OFF',
    );
}

function checkJson(input: string): void {
  // StartExecution's input is capped like a state's: 256 KiB (AWS's 262,144-byte length constraint).
  if (Buffer.byteLength(input) > 262_144)
    throw new AwsError(
      'ValidationException',
      "1 validation error detected: Value at 'input' failed to satisfy constraint: Member must have length less than or equal to 262144",
    );
  try {
    JSON.parse(input);
  } catch {
    throw new AwsError('InvalidExecutionInput', 'Invalid execution input: not JSON');
  }
}

/** DescribeExecution as the `.sync` task result: `.sync:2` parses Input/Output, `.sync` keeps text. */
function describeForTask(record: ExecutionRecord, parsed: boolean) {
  const json = (text: string | undefined) => (parsed && text !== undefined ? JSON.parse(text) : text);
  return {
    ExecutionArn: record.executionArn,
    StateMachineArn: record.stateMachineArn,
    Name: record.name,
    Status: record.status,
    StartDate: record.startDate,
    StopDate: record.stopDate,
    Input: json(record.input),
    InputDetails: { Included: true },
    ...(record.output !== undefined && { Output: json(record.output), OutputDetails: { Included: true } }),
    ...(record.error !== undefined && { Error: record.error }),
    ...(record.cause !== undefined && { Cause: record.cause }),
  };
}

/** What ListExecutions shows of an execution: all that is kept in memory of an evicted one. */
function summaryOf(record: ExecutionRecord): ExecutionSummary {
  const { executionArn, stateMachineArn, name, type, status, startDate, stopDate } = record;
  return { executionArn, stateMachineArn, name, type, status, startDate, stopDate };
}

/** Rebuilds an execution from its journal, and where to pick it up if it was still running. */
function replay(start: ExecutionStart, entries: JournalEntry[], topLevel: ReadonlySet<string>) {
  const record: ExecutionRecord = { ...start, status: 'RUNNING', history: [] };
  let point: ResumePoint | undefined;
  for (const entry of entries) {
    if (entry.t === 'event') {
      record.history.push(entry.event);
      const entered = entry.event.stateEnteredEventDetails as { name: string; input: string } | undefined;
      if (entered && topLevel.has(entered.name))
        point = { state: entered.name, input: JSON.parse(entered.input) };
      if (/^(Task|LambdaFunction)(Succeeded|Failed|TimedOut)$/.test(entry.event.type) && point)
        point.wait = undefined;
    } else if (entry.t === 'wait' && point?.state === entry.wait.state) {
      point.wait = entry.wait;
    } else if (entry.t === 'end') {
      Object.assign(record, entry.end);
    }
  }
  return { record, point };
}
