/**
 * What Step Functions writes to a state machine's CloudWatch log group (its LoggingConfiguration):
 * one JSON log event per history event, filtered by level, with the execution's input and output
 * left out unless `includeExecutionData` — the shape an Express execution's path is read from on
 * AWS, where it has no GetExecutionHistory:
 * `{"id","type","details","previous_event_id","event_timestamp","execution_arn","redrive_count"}`,
 * ids and times as strings, the time in epoch milliseconds.
 */
import { randomBytes } from 'node:crypto';
import type { HistoryEvent } from './history';

export type LogLevel = 'ALL' | 'ERROR' | 'FATAL' | 'OFF';

/** The AWS API shape of a state machine's logging configuration. */
export interface LoggingConfiguration {
  level: LogLevel;
  includeExecutionData: boolean;
  destinations?: Array<{ cloudWatchLogsLogGroup: { logGroupArn: string } }>;
}

export const LOGGING_OFF: LoggingConfiguration = { level: 'OFF', includeExecutionData: false };

const FATAL_TYPES = new Set(['ExecutionFailed', 'ExecutionTimedOut', 'ExecutionAborted']);
/** ERROR logs every failure, timeout and abort, of the execution or of one of its steps. */
const ERROR_TYPE = /(Failed|TimedOut|Aborted)$/;
const DATA_FIELDS = ['input', 'output', 'parameters', 'inputDetails', 'outputDetails'];

export function logs(level: LogLevel, type: string): boolean {
  if (level === 'ALL') return true;
  if (level === 'ERROR') return ERROR_TYPE.test(type);
  if (level === 'FATAL') return FATAL_TYPES.has(type);
  return false;
}

/** One history event as Step Functions' log event (the message text). */
export function logEventOf(event: HistoryEvent, executionArn: string, includeExecutionData: boolean): string {
  const detailsKey = Object.keys(event).find((key) => key.endsWith('EventDetails'));
  const details = { ...((detailsKey ? event[detailsKey] : {}) as Record<string, unknown>) };
  if (!includeExecutionData) for (const field of DATA_FIELDS) delete details[field];
  return JSON.stringify({
    id: String(event.id),
    type: event.type,
    details,
    previous_event_id: String(event.previousEventId),
    event_timestamp: String(Math.round(event.timestamp * 1000)),
    execution_arn: executionArn,
    redrive_count: '0',
  });
}

/** `arn:aws:logs:<region>:<account>:log-group:<name>[:*]` → name. */
export function logGroupNameOf(logGroupArn: string): string | undefined {
  return /:log-group:(.+?)(:\*)?$/.exec(logGroupArn)?.[1];
}

/** This process's part of the stream names, as each AWS host writes its own streams. */
const WRITER_ID = randomBytes(4).toString('hex');

/** `states/<machine>/<yyyy-mm-dd-hh-mm>/<writer>`: a stream per machine, minute and writer. */
export function logStreamNameOf(machineName: string, at: number): string {
  const minute = new Date(at).toISOString().slice(0, 16).replace('T', '-').replace(':', '-');
  return `states/${machineName}/${minute}/${WRITER_ID}`;
}
