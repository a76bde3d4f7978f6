/**
 * What the console draws for one execution, from its ASL definition and its events: the states it
 * went through (`path`), the state it is in now (`currentState`), and the state where it failed
 * (`failedState`). The events come from `GetExecutionHistory` (Standard) or from the machine's
 * CloudWatch log group (Express, which has no history API on AWS); both are first turned into one
 * shape here. Pure: no AWS, no I/O.
 */

/** One event as the console shows it (the table beside the graph). */
export interface ConsoleEvent {
  id: number;
  previousEventId?: number;
  /** ISO time. */
  timestamp: string;
  type: string;
  /** The state the event belongs to: named by `*StateEntered`/`*StateExited`, else the state last entered. */
  stateName?: string;
  error?: string;
  cause?: string;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionPath {
  path: string[];
  currentState?: string;
  failedState?: string;
  /** From the execution's own ending event, when the events hold one. */
  status?: ExecutionStatus;
}

/** An ASL definition, only as far as this module reads it. */
export interface AslDefinition {
  StartAt?: string;
  States?: Record<string, { Type?: string }>;
}

const ENDINGS: Record<string, ExecutionStatus> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionTimedOut: 'TIMED_OUT',
  ExecutionAborted: 'ABORTED',
};

/** `GetExecutionHistory` event as the SDK answers it (`timestamp` a Date, details under `<type>EventDetails`). */
export interface HistoryEventLike {
  id?: number;
  previousEventId?: number;
  timestamp?: Date | string | number;
  type?: string;
  /** And its details, under `<type>EventDetails` (`taskFailedEventDetails`, `stateEnteredEventDetails`…). */
}

/** An Express execution's event as Step Functions writes it to CloudWatch Logs (level ALL). */
export interface ExpressLogEventLike {
  id?: string | number;
  previous_event_id?: string | number;
  event_timestamp?: string | number;
  type?: string;
  details?: Record<string, unknown>;
  execution_arn?: string;
}

const isoOf = (value: Date | string | number | undefined): string => {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number') return new Date(value).toISOString();
  if (typeof value === 'string' && /^\d+$/.test(value)) return new Date(Number(value)).toISOString();
  return value ? new Date(value).toISOString() : new Date(0).toISOString();
};

const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** Names the state of each event by the last `*StateEntered` before it, as the console's table does. */
function attributeStates(events: ConsoleEvent[]): ConsoleEvent[] {
  let current: string | undefined;
  return events.map((event) => {
    if (event.stateName && event.type.endsWith('StateEntered')) current = event.stateName;
    const named = event.stateName ?? (event.type.startsWith('Execution') ? undefined : current);
    if (event.type.endsWith('StateExited')) current = undefined;
    return named === undefined ? event : { ...event, stateName: named };
  });
}

function consoleEvent(
  id: number,
  previousEventId: number | undefined,
  timestamp: string,
  type: string,
  details: Record<string, unknown> | undefined,
): ConsoleEvent {
  const stateName = text(details?.name);
  const error = text(details?.error);
  const cause = text(details?.cause);
  return {
    id,
    ...(previousEventId !== undefined && { previousEventId }),
    timestamp,
    type,
    ...(stateName !== undefined && { stateName }),
    ...(error !== undefined && { error }),
    ...(cause !== undefined && { cause }),
  };
}

/** History events (Standard) in the console's shape, in id order. */
export function eventsFromHistory(history: readonly HistoryEventLike[]): ConsoleEvent[] {
  const events = history.map((raw) => {
    const type = raw.type ?? 'Unknown';
    const fields = raw as Record<string, unknown>;
    const detailsKey = Object.keys(fields).find((key) => key.endsWith('EventDetails'));
    const details = detailsKey ? (fields[detailsKey] as Record<string, unknown>) : undefined;
    return consoleEvent(Number(raw.id ?? 0), raw.previousEventId, isoOf(raw.timestamp), type, details);
  });
  return attributeStates(events.sort((a, b) => a.id - b.id));
}

/**
 * Express log events in the console's shape, in id order. A log line that is not an execution
 * event (or not JSON) is left out; the same event read twice (overlapping log pages) counts once.
 */
export function eventsFromLogs(messages: readonly string[]): ConsoleEvent[] {
  const byId = new Map<number, ConsoleEvent>();
  for (const message of messages) {
    let raw: ExpressLogEventLike;
    try {
      raw = JSON.parse(message) as ExpressLogEventLike;
    } catch {
      continue;
    }
    if (typeof raw !== 'object' || raw === null || typeof raw.type !== 'string' || raw.id === undefined)
      continue;
    const id = Number(raw.id);
    const previous = raw.previous_event_id === undefined ? undefined : Number(raw.previous_event_id);
    byId.set(id, consoleEvent(id, previous, isoOf(raw.event_timestamp), raw.type, raw.details));
  }
  return attributeStates([...byId.values()].sort((a, b) => a.id - b.id));
}

/**
 * The path through the machine: each state of the definition in the order it was entered (a state
 * entered again, by a loop, appears again); the state it waits in while it runs (entered, not left);
 * and, once it failed, timed out or was aborted, the state it was in then — a Fail state, or a
 * task whose error nothing caught.
 */
export function executionPath(definition: AslDefinition, events: readonly ConsoleEvent[]): ExecutionPath {
  const states = definition.States ?? {};
  const path: string[] = [];
  let open: string | undefined;
  let lastEntered: string | undefined;
  let status: ExecutionStatus | undefined;
  for (const event of events) {
    const name = event.stateName;
    if (event.type.endsWith('StateEntered') && name !== undefined && name in states) {
      path.push(name);
      open = name;
      lastEntered = name;
    } else if (event.type.endsWith('StateExited') && name !== undefined && name === open) {
      open = undefined;
    } else if (ENDINGS[event.type]) {
      status = ENDINGS[event.type];
    }
  }
  const result: ExecutionPath = { path, ...(status && { status }) };
  if (status === undefined) {
    if (open !== undefined) result.currentState = open;
    return result;
  }
  if (status !== 'SUCCEEDED') {
    // A Fail state is left by no StateExited event; a task whose error was not caught neither.
    const failed = open ?? (lastEntered && states[lastEntered]?.Type === 'Fail' ? lastEntered : undefined);
    if (failed !== undefined) result.failedState = failed;
  }
  return result;
}
