/**
 * One order as the console shows it: the order record (`GET /orders/{orderId}`), its three
 * executions with their paths, the facts it published, and the function log lines carrying its id.
 *
 * The Standard parent is named on the record (`workflowExecutionArn`) and read with
 * `GetExecutionHistory`. Its Express children have no history API on AWS: their ARNs come from the
 * parent's history (a `.sync:2` task's output carries `ExecutionArn`) or, while a child still runs,
 * from the Express log group searched for the order id (the runs are named by it); their events come
 * from the machine's log group (`DescribeStateMachine` → `loggingConfiguration`, `FilterLogEvents`
 * by `execution_arn`).
 */
import {
  type CloudWatchLogsClient,
  paginateDescribeLogGroups,
  paginateFilterLogEvents,
} from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  DescribeStateMachineCommand,
  type HistoryEvent,
  paginateGetExecutionHistory,
} from '@aws-sdk/client-sfn';
import {
  type AslDefinition,
  type ConsoleEvent,
  type ExecutionStatus,
  eventsFromHistory,
  eventsFromLogs,
  executionPath,
} from './executions';
import type { Answer, ConsoleSystem } from './system';

export type ExecutionRole = 'workflow' | 'prepare' | 'finish';

export interface ConsoleExecution {
  role: ExecutionRole;
  type: 'STANDARD' | 'EXPRESS';
  executionArn: string;
  stateMachineArn: string;
  status: ExecutionStatus;
  startDate: string;
  stopDate?: string;
  definition: AslDefinition;
  events: ConsoleEvent[];
  path: string[];
  currentState?: string;
  failedState?: string;
  source: 'history' | 'logs';
  /** Why the events could not be read (no log group configured, the logs API refused), when so. */
  eventsUnavailable?: string;
}

export interface BusEvent {
  detailType: string;
  time: string;
  detail: Record<string, unknown>;
}

export interface FunctionLogLine {
  timestamp: string;
  functionName: string;
  level: string;
  message: string;
}

interface OrderView {
  orderId: string;
  partner: string;
  partnerOrderId: string;
  storeId: string;
  workflowExecutionArn?: string;
  timeline: Array<{ at: string; event: string; detail?: string }>;
}

/** `GET /api/orders/{orderId}`: the order's answer when it is not 200 (404 passes through). */
export async function orderDetail(system: ConsoleSystem, orderId: string): Promise<Answer> {
  const order = await system.api('GET', `/orders/${encodeURIComponent(orderId)}`);
  if (order.status !== 200) return order;
  const view = order.body as OrderView;
  const since = Date.parse(view.timeline[0]?.at ?? '') || undefined;
  const [executions, logs] = await Promise.all([
    orderExecutions(system, view),
    functionLogLines(system, orderId, since),
  ]);
  return { status: 200, body: { order: view, executions, busEvents: busEventsOf(view), logs } };
}

// ── executions ───────────────────────────────────────────────────────────────

const machineCache = new Map<string, { at: number; machine: Promise<Machine> }>();
const MACHINE_TTL_MS = 60_000;

interface Machine {
  definition: AslDefinition;
  type: 'STANDARD' | 'EXPRESS';
  /** The log group its executions are written to, when it logs. */
  logGroupName?: string;
  level: string;
}

/** A machine's definition and logging, read once a minute at most (they change only with a deploy). */
function machineOf(system: ConsoleSystem, stateMachineArn: string): Promise<Machine> {
  const key = `${system.endpoints.awsEndpoint ?? ''} ${stateMachineArn}`;
  const cached = machineCache.get(key);
  if (cached && Date.now() - cached.at < MACHINE_TTL_MS) return cached.machine;
  const machine = system.sfn.send(new DescribeStateMachineCommand({ stateMachineArn })).then((described) => {
    const arn = described.loggingConfiguration?.destinations?.[0]?.cloudWatchLogsLogGroup?.logGroupArn;
    const logGroupName = arn ? logGroupNameOf(arn) : undefined;
    return {
      definition: JSON.parse(described.definition ?? '{}') as AslDefinition,
      type: described.type === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
      level: described.loggingConfiguration?.level ?? 'OFF',
      ...(logGroupName && { logGroupName }),
    } satisfies Machine;
  });
  machine.catch(() => machineCache.delete(key));
  machineCache.set(key, { at: Date.now(), machine });
  return machine;
}

/** `arn:aws:logs:<region>:<account>:log-group:<name>:*` → `<name>`. */
export function logGroupNameOf(logGroupArn: string): string | undefined {
  const match = /:log-group:(.+?)(:\*)?$/.exec(logGroupArn);
  return match?.[1];
}

async function orderExecutions(system: ConsoleSystem, view: OrderView): Promise<ConsoleExecution[]> {
  const workflowArn = view.workflowExecutionArn;
  if (!workflowArn) return []; // no execution has claimed the order yet
  let described: DescribeExecutionCommandOutput;
  let history: HistoryEvent[];
  try {
    [described, history] = await Promise.all([
      system.sfn.send(new DescribeExecutionCommand({ executionArn: workflowArn })),
      readHistory(system, workflowArn),
    ]);
  } catch (error) {
    // Step Functions keeps a Standard execution's history 90 days after it ends; the order stays.
    if ((error as Error).name === 'ExecutionDoesNotExist') return [];
    throw error;
  }
  const stateMachineArn = described.stateMachineArn ?? system.endpoints.stateMachines.workflow;
  const machine = await machineOf(system, stateMachineArn);
  const events = eventsFromHistory(history);
  const workflow: ConsoleExecution = {
    role: 'workflow',
    type: 'STANDARD',
    executionArn: workflowArn,
    stateMachineArn,
    status: (described.status ?? 'RUNNING') as ExecutionStatus,
    startDate: isoOf(described.startDate),
    ...(described.stopDate && { stopDate: isoOf(described.stopDate) }),
    definition: machine.definition,
    events,
    ...pathOf(machine.definition, events),
    source: 'history',
  };
  const children = await childExecutions(system, view.orderId, history, events, workflow.startDate);
  return [workflow, ...children];
}

async function readHistory(system: ConsoleSystem, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  // Execution data is needed: the children's ARNs are in the .sync:2 tasks' outputs.
  for await (const page of paginateGetExecutionHistory(
    { client: system.sfn },
    { executionArn, includeExecutionData: true, maxResults: 1000 },
  )) {
    events.push(...(page.events ?? []));
  }
  return events;
}

function pathOf(definition: AslDefinition, events: ConsoleEvent[]) {
  const { status: _status, ...path } = executionPath(definition, events);
  return path;
}

/** A child as the parent's history names it: what its `.sync:2` task answered or failed with. */
interface ChildRun {
  role: 'prepare' | 'finish';
  executionArn: string;
  stateMachineArn: string;
  status?: ExecutionStatus;
  startDate?: string;
  stopDate?: string;
}

/** The children the parent's history names, the newest run per role (a retried task runs one again). */
export function childRunsFromHistory(
  history: readonly HistoryEvent[],
  machines: { prepare: string; finish: string },
): ChildRun[] {
  const runs = new Map<'prepare' | 'finish', ChildRun>();
  for (const event of history) {
    const text =
      event.type === 'TaskSucceeded'
        ? event.taskSucceededEventDetails?.output
        : event.type === 'TaskFailed'
          ? event.taskFailedEventDetails?.cause
          : event.type === 'TaskSubmitted'
            ? event.taskSubmittedEventDetails?.output
            : undefined;
    const child = parseJson(text) as Record<string, unknown> | undefined;
    const executionArn = child?.ExecutionArn;
    if (typeof executionArn !== 'string') continue;
    const stateMachineArn =
      typeof child?.StateMachineArn === 'string' ? child.StateMachineArn : machineOfExecution(executionArn);
    const role = roleOf(stateMachineArn, executionArn, machines);
    if (!role) continue;
    const known = runs.get(role)?.executionArn === executionArn ? runs.get(role) : undefined;
    runs.set(role, {
      ...known,
      role,
      executionArn,
      stateMachineArn: machines[role],
      ...(typeof child?.Status === 'string' && { status: child.Status as ExecutionStatus }),
      ...(child?.StartDate !== undefined && { startDate: isoOf(child.StartDate as number) }),
      ...(child?.StopDate !== undefined && { stopDate: isoOf(child.StopDate as number) }),
    });
  }
  return [...runs.values()];
}

/** `arn:…:express:<machine>:<name>:<id>` → `arn:…:stateMachine:<machine>`. */
function machineOfExecution(executionArn: string): string {
  const parts = executionArn.split(':');
  return [...parts.slice(0, 5), 'stateMachine', parts[6] ?? ''].join(':');
}

function roleOf(
  stateMachineArn: string,
  executionArn: string,
  machines: { prepare: string; finish: string },
): 'prepare' | 'finish' | undefined {
  const name = (arn: string) => arn.split(':')[6];
  for (const role of ['prepare', 'finish'] as const) {
    if (stateMachineArn === machines[role] || name(executionArn) === name(machines[role])) return role;
  }
  return undefined;
}

async function childExecutions(
  system: ConsoleSystem,
  orderId: string,
  history: readonly HistoryEvent[],
  parentEvents: readonly ConsoleEvent[],
  parentStart: string,
): Promise<ConsoleExecution[]> {
  const { stateMachines } = system.endpoints;
  const runs = childRunsFromHistory(history, stateMachines);
  // A child the parent entered but that has not answered yet is found in its log group by the order id.
  const entered = new Set(parentEvents.filter((e) => e.type === 'TaskStateEntered').map((e) => e.stateName));
  for (const [role, state] of [
    ['prepare', 'Prepare'],
    ['finish', 'Finish'],
  ] as const) {
    if (!entered.has(state) || runs.some((run) => run.role === role)) continue;
    const running = await runningChild(system, role, orderId, parentStart);
    if (running) runs.push(running);
  }
  return Promise.all(runs.map((run) => expressExecution(system, run, Date.parse(parentStart))));
}

async function runningChild(
  system: ConsoleSystem,
  role: 'prepare' | 'finish',
  orderId: string,
  since: string,
): Promise<ChildRun | undefined> {
  const stateMachineArn = system.endpoints.stateMachines[role];
  const machine = await machineOf(system, stateMachineArn);
  if (!machine.logGroupName) return undefined;
  const messages = await logMessages(
    system.logs,
    machine.logGroupName,
    `"${orderId}"`,
    Date.parse(since),
  ).catch(() => [] as LogMessage[]);
  const machineName = stateMachineArn.split(':')[6];
  const arns = messages
    .map(({ message }) => (parseJson(message) as { execution_arn?: string } | undefined)?.execution_arn)
    .filter((arn): arn is string => typeof arn === 'string' && arn.split(':')[6] === machineName);
  const executionArn = arns.at(-1);
  return executionArn ? { role, executionArn, stateMachineArn } : undefined;
}

/** A child's events from its machine's log group; it started after its parent, so the search starts there. */
async function expressExecution(
  system: ConsoleSystem,
  run: ChildRun,
  after: number,
): Promise<ConsoleExecution> {
  const machine = await machineOf(system, run.stateMachineArn);
  let events: ConsoleEvent[] = [];
  let unavailable: string | undefined;
  if (!machine.logGroupName || machine.level === 'OFF') {
    unavailable = `${run.stateMachineArn.split(':')[6]} does not log its executions (level ${machine.level})`;
  } else {
    try {
      const pattern = `{ $.execution_arn = "${run.executionArn}" }`;
      const messages = await logMessages(system.logs, machine.logGroupName, pattern, after);
      events = eventsFromLogs(messages.map(({ message }) => message));
    } catch (error) {
      unavailable = `CloudWatch Logs answered ${(error as Error).name}: ${(error as Error).message}`;
    }
  }
  const { status: ended, ...path } = executionPath(machine.definition, events);
  const first = events[0]?.timestamp;
  const last = events.at(-1);
  return {
    role: run.role,
    type: 'EXPRESS',
    executionArn: run.executionArn,
    stateMachineArn: run.stateMachineArn,
    status: run.status ?? ended ?? 'RUNNING',
    startDate: run.startDate ?? first ?? new Date().toISOString(),
    ...((run.stopDate ?? (ended && last?.timestamp)) && { stopDate: run.stopDate ?? last?.timestamp }),
    definition: machine.definition,
    events,
    ...path,
    source: 'logs',
    ...(unavailable && { eventsUnavailable: unavailable }),
  };
}

/** Every message of a log group that matches the pattern (from `startTime` on), oldest first. */
async function logMessages(
  logs: CloudWatchLogsClient,
  logGroupName: string,
  filterPattern: string,
  startTime: number | undefined,
  limit = 2_000,
): Promise<LogMessage[]> {
  const messages: LogMessage[] = [];
  for await (const page of paginateFilterLogEvents(
    { client: logs },
    { logGroupName, filterPattern, ...(startTime && { startTime }) },
  )) {
    for (const { message, timestamp } of page.events ?? []) {
      if (message) messages.push({ message, ...(timestamp !== undefined && { timestamp }) });
    }
    if (messages.length >= limit) break;
  }
  return messages;
}

interface LogMessage {
  message: string;
  /** When it was logged, epoch ms. */
  timestamp?: number;
}

// ── the facts it published ───────────────────────────────────────────────────

/**
 * Which timeline entry goes with which published fact. Best effort: the bus keeps no history a
 * client can read, and the Express logs carry no execution data, so the facts are those the
 * order's own record says happened (each written in the step that publishes it), with the common
 * detail fields every order event carries.
 */
const FACTS: Record<string, string> = {
  received: 'OrderReceived',
  accepted: 'OrderAccepted',
  rejected: 'OrderRejected',
  'released-to-kitchen': 'OrderReleasedToKitchen',
  cancelled: 'OrderCancelled',
  failed: 'OrderFailed',
};

export function busEventsOf(view: OrderView): BusEvent[] {
  return view.timeline.flatMap((entry) => {
    const detailType = FACTS[entry.event];
    if (!detailType) return [];
    const detail: Record<string, unknown> = {
      eventId: `${view.orderId}/${detailType}`,
      orderId: view.orderId,
      partner: view.partner,
      partnerOrderId: view.partnerOrderId,
      storeId: view.storeId,
      ...(entry.detail && { note: entry.detail }),
    };
    return [{ detailType, time: entry.at, detail }];
  });
}

// ── function log lines ───────────────────────────────────────────────────────

const MAX_LOG_LINES = 500;

/** The lines carrying the order id in every function's log group, oldest first. */
async function functionLogLines(
  system: ConsoleSystem,
  orderId: string,
  since: number | undefined,
): Promise<FunctionLogLine[]> {
  const prefix = system.endpoints.functionLogGroupPrefix;
  let groups: string[];
  try {
    groups = [];
    for await (const page of paginateDescribeLogGroups(
      { client: system.logs },
      { logGroupNamePrefix: prefix },
    )) {
      for (const group of page.logGroups ?? []) if (group.logGroupName) groups.push(group.logGroupName);
    }
  } catch {
    return []; // no CloudWatch Logs to read (an endpoint without it): the page shows no lines
  }
  // A minute of slack: the webhook's first lines come before the record's first timeline entry.
  const startTime = since === undefined ? undefined : since - 60_000;
  const perGroup = await Promise.all(
    groups.map(async (group) => {
      const functionName = group.slice('/aws/lambda/'.length);
      const messages = await logMessages(system.logs, group, `"${orderId}"`, startTime, MAX_LOG_LINES).catch(
        () => [] as LogMessage[],
      );
      return messages.map((logged) => logLineOf(functionName, logged));
    }),
  );
  return perGroup
    .flat()
    .sort((a, b) => a.timestamp.localeCompare(b.timestamp))
    .slice(-MAX_LOG_LINES);
}

/** A Powertools JSON line (level, message, timestamp), or a plain line as it came, when it was logged. */
export function logLineOf(
  functionName: string,
  { message, timestamp: loggedAt }: LogMessage,
): FunctionLogLine {
  const logged = new Date(loggedAt ?? 0).toISOString();
  const line = parseJson(message) as Record<string, unknown> | undefined;
  if (!line || typeof line !== 'object') {
    return { timestamp: logged, functionName, level: 'INFO', message: message.trim() };
  }
  const timestamp = typeof line.timestamp === 'string' ? new Date(line.timestamp).toISOString() : undefined;
  return {
    timestamp: timestamp ?? logged,
    functionName,
    level: typeof line.level === 'string' ? line.level : 'INFO',
    message: typeof line.message === 'string' ? line.message : message.trim(),
  };
}

function parseJson(text: string | undefined): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isoOf(value: Date | number | string | undefined): string {
  if (value instanceof Date) return value.toISOString();
  // The .sync:2 output's dates are epoch milliseconds as AWS serialises them in task output.
  if (typeof value === 'number') return new Date(value).toISOString();
  return value ? new Date(value).toISOString() : new Date(0).toISOString();
}
