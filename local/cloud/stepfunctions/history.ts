import { AwsError } from '../aws-error';

/** One GetExecutionHistory event, AWS-shaped; timestamp in epoch seconds as the JSON protocol sends. */
export interface HistoryEvent {
  timestamp: number;
  type: string;
  id: number;
  previousEventId: number;
  [details: string]: unknown;
}

/** `TaskScheduled` → `taskScheduledEventDetails`; every `*StateEntered` → `stateEnteredEventDetails`. */
export function detailsKey(type: string): string {
  if (type.endsWith('StateEntered')) return 'stateEnteredEventDetails';
  if (type.endsWith('StateExited')) return 'stateExitedEventDetails';
  return `${type[0]!.toLowerCase()}${type.slice(1)}EventDetails`;
}

export function newEvent(previous: HistoryEvent | undefined, type: string, details?: object): HistoryEvent {
  const id = (previous?.id ?? 0) + 1;
  const event: HistoryEvent = { timestamp: Date.now() / 1000, type, id, previousEventId: id - 1 };
  if (details) event[detailsKey(type)] = details;
  return event;
}

/** `{input, inputDetails}` / `{output, outputDetails}` as history carries execution data. */
export function data(field: 'input' | 'output' | 'parameters', value: unknown): Record<string, unknown> {
  const text = value === undefined ? 'null' : JSON.stringify(value);
  return field === 'parameters'
    ? { parameters: text }
    : { [field]: text, [`${field}Details`]: { truncated: false } };
}

export interface HistoryPageRequest {
  maxResults?: number;
  reverseOrder?: boolean;
  nextToken?: string;
  includeExecutionData?: boolean;
}

const DATA_FIELDS = ['input', 'output', 'parameters', 'inputDetails', 'outputDetails'];

/** GetExecutionHistory paging: maxResults (default 100, max 1000), nextToken, reverseOrder. */
export function historyPage(events: readonly HistoryEvent[], request: HistoryPageRequest) {
  const size = request.maxResults && request.maxResults > 0 ? Math.min(request.maxResults, 1000) : 100;
  const start = request.nextToken ? offsetOf(request.nextToken) : 0;
  const ordered = request.reverseOrder ? [...events].reverse() : events;
  const page = ordered
    .slice(start, start + size)
    .map((event) => withoutData(event, request.includeExecutionData));
  const next =
    start + size < ordered.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
  return next ? { events: page, nextToken: next } : { events: page };
}

function offsetOf(nextToken: string): number {
  const offset = Number(Buffer.from(nextToken, 'base64url').toString('utf8'));
  if (!Number.isInteger(offset) || offset < 0) throw new AwsError('InvalidToken', 'Invalid nextToken');
  return offset;
}

function withoutData(event: HistoryEvent, includeExecutionData = true): HistoryEvent {
  if (includeExecutionData) return event;
  const copy: HistoryEvent = { ...event };
  const key = Object.keys(copy).find((name) => name.endsWith('EventDetails'));
  if (key) {
    const details = { ...(copy[key] as Record<string, unknown>) };
    for (const field of DATA_FIELDS) delete details[field];
    copy[key] = details;
  }
  return copy;
}
