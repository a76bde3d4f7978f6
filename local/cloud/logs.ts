/**
 * The local CloudWatch Logs: log groups (the template's `AWS::Logs::LogGroup`s and each function's
 * `/aws/lambda/<name>`), streams and events, read with the operations clients reach for first —
 * `DescribeLogGroups`, `DescribeLogStreams`, `GetLogEvents`, `FilterLogEvents` (so that
 * `aws logs tail … --follow` works) — in the JSON 1.1 shapes of `Logs_20140328.*`.
 *
 * Memory stays bounded however long the cloud runs (issue 12): each group keeps its newest
 * `maxEventsPerGroup` events (10,000 by default), all groups together keep at most `maxBytes` (16 MiB
 * of messages), and the oldest go first, as retention would on AWS; a stream whose last event is
 * dropped goes with it. What was ingested is still counted (`ingestedBytes`), since that is what AWS bills.
 */
import { AwsError, type ServiceApi } from './aws-error';
import { type FilterPattern, parseFilterPattern } from './logs-filter';

export interface LogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
  /** Ingestion order across the whole service: the events' ids and the paging tokens' positions. */
  seq: number;
  stream: LogStream;
}

interface LogStream {
  name: string;
  creationTime: number;
  events: LogEvent[];
  storedBytes: number;
}

interface LogGroup {
  name: string;
  creationTime: number;
  retentionInDays?: number;
  streams: Map<string, LogStream>;
  /** Every event of the group in ingestion order, for eviction. */
  order: LogEvent[];
  /** Bytes of the events kept (messages plus AWS's 26-byte overhead each). */
  keptBytes: number;
  ingestedBytes: number;
}

export interface LocalLogsOptions {
  region: string;
  accountId: string;
  /** Events kept per group before the oldest are dropped; default 10,000. */
  maxEventsPerGroup?: number;
  /** Bytes kept across all groups (messages plus 26 each) before the oldest are dropped; default 16 MiB. */
  maxBytes?: number;
}

/** CloudWatch Logs bills each event's UTF-8 message plus 26 bytes of overhead. */
const EVENT_OVERHEAD_BYTES = 26;
const DEFAULT_LIMIT = 10_000;

const groupNotFound = () =>
  new AwsError('ResourceNotFoundException', 'The specified log group does not exist.');
const streamNotFound = () =>
  new AwsError('ResourceNotFoundException', 'The specified log stream does not exist.');
const invalid = (message: string) => new AwsError('InvalidParameterException', message);

export class LocalLogs {
  private readonly groups = new Map<string, LogGroup>();
  private seq = 0;
  private readonly maxEvents: number;
  private readonly maxBytes: number;
  private keptBytes = 0;

  constructor(private readonly options: LocalLogsOptions) {
    this.maxEvents = options.maxEventsPerGroup ?? 10_000;
    this.maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  }

  /** Creates the group unless it exists (the template's groups, and each function's). */
  ensureLogGroup(name: string, retentionInDays?: number): void {
    if (this.groups.has(name)) return;
    this.groups.set(name, {
      name,
      creationTime: Date.now(),
      ...(retentionInDays !== undefined && { retentionInDays }),
      streams: new Map(),
      order: [],
      keptBytes: 0,
      ingestedBytes: 0,
    });
  }

  /** Writes one event as a service does (Lambda, Step Functions): group and stream made if missing. */
  put(groupName: string, streamName: string, message: string, timestamp = Date.now()): void {
    this.ensureLogGroup(groupName);
    const group = this.groups.get(groupName)!;
    let stream = group.streams.get(streamName);
    if (!stream) {
      stream = { name: streamName, creationTime: Date.now(), events: [], storedBytes: 0 };
      group.streams.set(streamName, stream);
    }
    const event: LogEvent = { timestamp, message, ingestionTime: Date.now(), seq: ++this.seq, stream };
    stream.events.push(event);
    group.order.push(event);
    const bytes = Buffer.byteLength(message) + EVENT_OVERHEAD_BYTES;
    group.ingestedBytes += bytes;
    group.keptBytes += bytes;
    this.keptBytes += bytes;
    stream.storedBytes += bytes;
    if (group.order.length > this.maxEvents) this.evictOldest(group);
    while (this.keptBytes > this.maxBytes) this.evictOldest(this.groupWithOldestEvent());
  }

  /** Bytes ingested into a group since start (what AWS bills), eviction notwithstanding. */
  ingestedBytes(groupName: string): number {
    return this.groups.get(groupName)?.ingestedBytes ?? 0;
  }

  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  /** ARN of a group as DescribeLogGroups' `arn` gives it (with the trailing `:*`). */
  arnOf(groupName: string): string {
    return `arn:aws:logs:${this.options.region}:${this.options.accountId}:log-group:${groupName}:*`;
  }

  readonly api = {
    DescribeLogGroups: async (input: DescribeLogGroupsRequest) => this.describeLogGroups(input),
    DescribeLogStreams: async (input: DescribeLogStreamsRequest) => this.describeLogStreams(input),
    GetLogEvents: async (input: GetLogEventsRequest) => this.getLogEvents(input),
    FilterLogEvents: async (input: FilterLogEventsRequest) => this.filterLogEvents(input),
  } satisfies ServiceApi;

  /** The group whose first kept event is the oldest of all (the next to go over the byte budget). */
  private groupWithOldestEvent(): LogGroup {
    let oldest: LogGroup | undefined;
    for (const group of this.groups.values()) {
      const first = group.order[0];
      if (first && (!oldest || first.seq < oldest.order[0]!.seq)) oldest = group;
    }
    return oldest!;
  }

  private evictOldest(group: LogGroup): void {
    const oldest = group.order.shift()!;
    const { stream } = oldest;
    // A stream's oldest event is almost always the group's: shift, not search.
    if (stream.events[0] === oldest) stream.events.shift();
    else stream.events.splice(stream.events.indexOf(oldest), 1);
    const bytes = Buffer.byteLength(oldest.message) + EVENT_OVERHEAD_BYTES;
    stream.storedBytes -= bytes;
    group.keptBytes -= bytes;
    this.keptBytes -= bytes;
    if (stream.events.length === 0) group.streams.delete(stream.name);
  }

  /** A group by `logGroupName` or `logGroupIdentifier` (a name or an ARN, with or without `:*`). */
  private group(input: { logGroupName?: string; logGroupIdentifier?: string }): LogGroup {
    if (input.logGroupName !== undefined && input.logGroupIdentifier !== undefined)
      throw invalid('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
    const given = input.logGroupName ?? input.logGroupIdentifier;
    if (typeof given !== 'string' || given === '')
      throw invalid('Either logGroupName or logGroupIdentifier must be specified.');
    // As on AWS, an identifier is a name or an ARN without DescribeLogGroups' trailing `:*`.
    if (input.logGroupIdentifier?.endsWith('*'))
      throw invalid(
        `1 validation error detected: Value '${given}' at 'logGroupIdentifier' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w#+=/:,.@-]*`,
      );
    const name = given.startsWith('arn:') ? groupNameOfArn(given) : given;
    const group = this.groups.get(name);
    if (!group) throw groupNotFound();
    return group;
  }

  private describeLogGroups(input: DescribeLogGroupsRequest) {
    if (input.logGroupNamePrefix !== undefined && input.logGroupNamePattern !== undefined)
      throw invalid('LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.');
    const limit = limitOf(input.limit, 50, 50);
    const pattern = input.logGroupNamePattern?.toLowerCase();
    const matching = [...this.groups.values()]
      .filter((g) => !input.logGroupNamePrefix || g.name.startsWith(input.logGroupNamePrefix))
      .filter((g) => !pattern || g.name.toLowerCase().includes(pattern))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
    const after = input.nextToken !== undefined ? decodeToken(input.nextToken) : undefined;
    const rest = after === undefined ? matching : matching.filter((g) => g.name > String(after));
    const page = rest.slice(0, limit);
    return {
      logGroups: page.map((g) => ({
        logGroupName: g.name,
        creationTime: g.creationTime,
        ...(g.retentionInDays !== undefined && { retentionInDays: g.retentionInDays }),
        metricFilterCount: 0,
        arn: this.arnOf(g.name),
        logGroupArn: this.arnOf(g.name).slice(0, -2),
        storedBytes: g.keptBytes,
        logGroupClass: 'STANDARD',
      })),
      ...(rest.length > limit && { nextToken: encodeToken(page.at(-1)!.name) }),
    };
  }

  private describeLogStreams(input: DescribeLogStreamsRequest) {
    const group = this.group(input);
    const orderBy = input.orderBy ?? 'LogStreamName';
    if (orderBy !== 'LogStreamName' && orderBy !== 'LastEventTime')
      throw invalid(`Invalid orderBy ${orderBy}: LogStreamName or LastEventTime`);
    if (orderBy === 'LastEventTime' && input.logStreamNamePrefix !== undefined)
      throw invalid('Cannot order by LastEventTime with a logStreamNamePrefix.');
    const limit = limitOf(input.limit, 50, 50);
    const key = (s: LogStream) => (orderBy === 'LastEventTime' ? (s.events.at(-1)?.timestamp ?? 0) : s.name);
    const sorted = [...group.streams.values()]
      .filter((s) => !input.logStreamNamePrefix || s.name.startsWith(input.logStreamNamePrefix))
      .sort((a, b) => compare(key(a), key(b)) || compare(a.name, b.name));
    if (input.descending) sorted.reverse();
    const start = input.nextToken !== undefined ? Number(decodeToken(input.nextToken)) : 0;
    if (!Number.isInteger(start) || start < 0) throw invalid('The specified nextToken is invalid.');
    const page = sorted.slice(start, start + limit);
    return {
      logStreams: page.map((s) => ({
        logStreamName: s.name,
        creationTime: s.creationTime,
        ...(s.events.length > 0 && {
          firstEventTimestamp: s.events[0]!.timestamp,
          lastEventTimestamp: s.events.at(-1)!.timestamp,
          lastIngestionTime: s.events.at(-1)!.ingestionTime,
        }),
        arn: `${this.arnOf(group.name).slice(0, -1)}log-stream:${s.name}`,
        storedBytes: 0, // AWS reports 0 here (deprecated field)
      })),
      ...(start + limit < sorted.length && { nextToken: encodeToken(start + limit) }),
    };
  }

  /**
   * GetLogEvents. Tokens are positions in ingestion order: `f/<seq>` reads after it, `b/<seq>`
   * before it. At the end of a stream the forward token comes back unchanged, which is how
   * clients (and `aws logs get-log-events` paging) know to stop.
   */
  private getLogEvents(input: GetLogEventsRequest) {
    const group = this.group(input);
    if (typeof input.logStreamName !== 'string') throw invalid('logStreamName must be specified.');
    const stream = group.streams.get(input.logStreamName);
    if (!stream) throw streamNotFound();
    const limit = limitOf(input.limit, DEFAULT_LIMIT, DEFAULT_LIMIT);
    const inWindow = stream.events.filter((e) => withinTime(e, input.startTime, input.endTime));
    const token = input.nextToken !== undefined ? parsePositionToken(input.nextToken) : undefined;
    const forward = token ? token.direction === 'f' : input.startFromHead === true;
    let page: LogEvent[];
    if (token?.direction === 'f') page = inWindow.filter((e) => e.seq > token.seq).slice(0, limit);
    else if (token?.direction === 'b') page = inWindow.filter((e) => e.seq < token.seq).slice(-limit);
    else page = forward ? inWindow.slice(0, limit) : inWindow.slice(-limit);
    const first = page[0]?.seq;
    const last = page.at(-1)?.seq;
    return {
      events: page.map((e) => ({
        timestamp: e.timestamp,
        message: e.message,
        ingestionTime: e.ingestionTime,
      })),
      nextForwardToken: `f/${pad(last ?? (token ? (token.direction === 'f' ? token.seq : token.seq - 1) : this.seq))}`,
      nextBackwardToken: `b/${pad(first ?? (token ? (token.direction === 'b' ? token.seq : token.seq + 1) : this.seq + 1))}`,
    };
  }

  /**
   * FilterLogEvents across a group's streams, ordered by time (then ingestion); `nextToken` only
   * when more events matched than the page holds.
   */
  private filterLogEvents(input: FilterLogEventsRequest) {
    const group = this.group(input);
    if (input.logStreamNames !== undefined && input.logStreamNamePrefix !== undefined)
      throw invalid('logStreamNames and logStreamNamePrefix are mutually exclusive parameters.');
    const limit = limitOf(input.limit, DEFAULT_LIMIT, DEFAULT_LIMIT);
    const pattern: FilterPattern = parseFilterPattern(input.filterPattern ?? '');
    const names = input.logStreamNames ? new Set(input.logStreamNames) : undefined;
    const after = input.nextToken !== undefined ? parseFilterToken(input.nextToken) : undefined;
    const matched = [...group.streams.values()]
      .filter((s) => !names || names.has(s.name))
      .filter((s) => !input.logStreamNamePrefix || s.name.startsWith(input.logStreamNamePrefix))
      .flatMap((s) => s.events)
      .filter((e) => withinTime(e, input.startTime, input.endTime))
      .filter(
        (e) => !after || compare(e.timestamp, after[0]) > 0 || (e.timestamp === after[0] && e.seq > after[1]),
      )
      .filter((e) => pattern(e.message))
      .sort((a, b) => a.timestamp - b.timestamp || a.seq - b.seq);
    const page = matched.slice(0, limit);
    const last = page.at(-1);
    return {
      events: page.map((e) => ({
        logStreamName: e.stream.name,
        timestamp: e.timestamp,
        message: e.message,
        ingestionTime: e.ingestionTime,
        eventId: eventIdOf(e),
      })),
      searchedLogStreams: [],
      ...(matched.length > limit && last && { nextToken: encodeToken(`${last.timestamp}:${last.seq}`) }),
    };
  }
}

interface DescribeLogGroupsRequest {
  logGroupNamePrefix?: string;
  logGroupNamePattern?: string;
  limit?: number;
  nextToken?: string;
}

interface DescribeLogStreamsRequest {
  logGroupName?: string;
  logGroupIdentifier?: string;
  logStreamNamePrefix?: string;
  orderBy?: string;
  descending?: boolean;
  limit?: number;
  nextToken?: string;
}

interface GetLogEventsRequest {
  logGroupName?: string;
  logGroupIdentifier?: string;
  logStreamName: string;
  startTime?: number;
  endTime?: number;
  startFromHead?: boolean;
  limit?: number;
  nextToken?: string;
}

interface FilterLogEventsRequest {
  logGroupName?: string;
  logGroupIdentifier?: string;
  logStreamNames?: string[];
  logStreamNamePrefix?: string;
  startTime?: number;
  endTime?: number;
  filterPattern?: string;
  limit?: number;
  nextToken?: string;
  interleaved?: boolean;
}

/** `arn:aws:logs:<region>:<account>:log-group:<name>[:*]` → name. */
function groupNameOfArn(arn: string): string {
  const match = /^arn:aws[\w-]*:logs:[\w-]+:\d{12}:log-group:(.+?)(:\*)?$/.exec(arn);
  if (!match) throw invalid(`Invalid log group ARN: ${arn}`);
  return match[1]!;
}

function limitOf(value: number | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max)
    throw invalid(
      `1 validation error detected: Value '${value}' at 'limit' failed to satisfy constraint: Member must have value between 1 and ${max}`,
    );
  return value;
}

/** `startTime` inclusive, `endTime` exclusive, both epoch milliseconds, as AWS reads them. */
function withinTime(event: LogEvent, startTime?: number, endTime?: number): boolean {
  return (
    (startTime === undefined || event.timestamp >= startTime) &&
    (endTime === undefined || event.timestamp < endTime)
  );
}

const compare = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);
const pad = (seq: number) => String(seq).padStart(20, '0');
const encodeToken = (value: string | number) => Buffer.from(String(value)).toString('base64url');

function decodeToken(token: string): string {
  if (typeof token !== 'string' || token === '') throw invalid('The specified nextToken is invalid.');
  return Buffer.from(token, 'base64url').toString('utf8');
}

function parsePositionToken(token: string): { direction: 'f' | 'b'; seq: number } {
  const match = /^([fb])\/(\d{1,20})$/.exec(token);
  if (!match) throw invalid('The specified nextToken is invalid.');
  return { direction: match[1] as 'f' | 'b', seq: Number(match[2]) };
}

function parseFilterToken(token: string): [number, number] {
  const [timestamp, seq] = decodeToken(token).split(':').map(Number);
  if (!Number.isInteger(timestamp) || !Number.isInteger(seq))
    throw invalid('The specified nextToken is invalid.');
  return [timestamp!, seq!];
}

/** A numeric event id, unique per event, as FilterLogEvents returns (what `logs tail` dedupes on). */
function eventIdOf(event: LogEvent): string {
  return `${String(event.timestamp).padStart(16, '0')}${String(event.seq).padStart(20, '0')}`;
}
