/**
 * The local EventBridge: event buses, their rules and targets, built from the template's resolved
 * properties. PutEvents accepts entries like AWS, then every matching rule delivers to its targets
 * in the background (with retries and dead-lettering) so the caller is never held up.
 */
import { randomUUID } from 'node:crypto';
import { AwsError } from '../aws-error';
import { compilePattern, type EventMatcher } from './pattern';
import {
  type DeliveryCounters,
  deliverWithRetry,
  type EventEnvelope,
  parseInputPath,
  type RetrySettings,
  type TargetConfig,
  type TargetDelivery,
} from './targets';

export type { EventEnvelope, TargetConfig, TargetDelivery } from './targets';

export interface RuleConfig {
  name: string;
  eventBusName: string;
  /** CloudFormation allows the pattern as JSON text as well as an object. */
  eventPattern: object | string;
  state?: 'ENABLED' | 'DISABLED';
  description?: string;
  targets: TargetConfig[];
}

export interface LocalEventBridgeOptions {
  region: string;
  accountId: string;
  /** Custom buses; `default` always exists, as in every AWS account. */
  buses: string[];
  rules: RuleConfig[];
  delivery: TargetDelivery;
  /** First retry delay, doubled on each retry (AWS waits seconds; the local stage wants milliseconds). */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  /** Milliseconds since the epoch; injectable so tests can age events. */
  clock?: () => number;
  /** Where dropped events are reported (no DLQ, or the DLQ refused them). */
  log?: (message: string) => void;
}

/** A PutEvents request entry, as the AWS SDK sends it (Time arrives as epoch seconds on the wire). */
export interface PutEventsRequestEntry {
  Source?: string;
  DetailType?: string;
  Detail?: string;
  EventBusName?: string;
  Resources?: string[];
  Time?: string | number | Date;
  TraceHeader?: string;
}

export type PutEventsResultEntry = { EventId: string } | { ErrorCode: string; ErrorMessage: string };

export interface PutEventsResult {
  FailedEntryCount: number;
  Entries: PutEventsResultEntry[];
}

export interface EventBridgeStats extends DeliveryCounters {
  eventsPut: number;
  failedEntries: number;
}

export interface LocalRule {
  name: string;
  arn: string;
  eventBusName: string;
  eventPattern: object;
  state: 'ENABLED' | 'DISABLED';
  description?: string;
  targets: TargetConfig[];
  matches: EventMatcher;
}

export const MAX_ENTRIES_PER_PUT = 10;
/** EventBridge's limit on the entries of one PutEvents call (and so on one event). */
export const MAX_PUT_EVENTS_BYTES = 256 * 1024;

export class LocalEventBridge {
  readonly region: string;
  readonly accountId: string;
  private readonly busNames: string[];
  private readonly ruleList: LocalRule[];
  private readonly delivery: TargetDelivery;
  private readonly retry: RetrySettings;
  private readonly closing = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly counters: EventBridgeStats = {
    eventsPut: 0,
    failedEntries: 0,
    deliveries: 0,
    retries: 0,
    deadLettered: 0,
    dropped: 0,
  };

  constructor(options: LocalEventBridgeOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.busNames = [...new Set(['default', ...options.buses.map(busNameOf)])];
    this.delivery = options.delivery;
    this.retry = {
      baseDelayMs: options.retryBaseDelayMs ?? 1000,
      maxDelayMs: options.retryMaxDelayMs ?? 60_000,
      clock: options.clock ?? Date.now,
      signal: this.closing.signal,
      log: options.log ?? ((message) => console.warn(`[eventbridge] ${message}`)),
    };
    this.ruleList = options.rules.map((rule) => this.buildRule(rule));
  }

  busArn(name: string): string {
    return `arn:aws:events:${this.region}:${this.accountId}:event-bus/${name}`;
  }

  /** Bus names, `default` first. */
  buses(): string[] {
    return [...this.busNames];
  }

  hasBus(nameOrArn: string): boolean {
    return this.busNames.includes(busNameOf(nameOrArn));
  }

  rules(busNameOrArn = 'default'): LocalRule[] {
    const bus = busNameOf(busNameOrArn);
    return this.ruleList.filter((rule) => rule.eventBusName === bus);
  }

  putEvents(entries: PutEventsRequestEntry[]): PutEventsResult {
    checkRequestLimits(entries);
    const results = entries.map((entry) => this.putEntry(entry));
    const failed = results.filter((result) => 'ErrorCode' in result).length;
    this.counters.failedEntries += failed;
    return { FailedEntryCount: failed, Entries: results };
  }

  /** Resolves once no delivery is in flight or waiting to be retried. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Abandons pending retries (counted as dropped) and waits for deliveries under way to finish. */
  async close(): Promise<void> {
    this.closing.abort();
    await this.idle();
  }

  stats(): EventBridgeStats {
    return { ...this.counters };
  }

  private buildRule(rule: RuleConfig): LocalRule {
    const bus = busNameOf(rule.eventBusName || 'default');
    if (!this.busNames.includes(bus)) {
      throw new AwsError('ResourceNotFoundException', `Rule ${rule.name}: event bus ${bus} does not exist.`);
    }
    for (const target of rule.targets) {
      if (target.inputPath !== undefined) parseInputPath(target.inputPath);
    }
    const arnPath = bus === 'default' ? rule.name : `${bus}/${rule.name}`;
    const eventPattern = rulePattern(rule);
    return {
      name: rule.name,
      arn: `arn:aws:events:${this.region}:${this.accountId}:rule/${arnPath}`,
      eventBusName: bus,
      eventPattern,
      state: rule.state ?? 'ENABLED',
      description: rule.description,
      targets: rule.targets,
      matches: compileRulePattern(rule.name, eventPattern),
    };
  }

  private putEntry(entry: PutEventsRequestEntry): PutEventsResultEntry {
    const problem = entryProblem(entry);
    if (problem) return problem;
    const bus = busNameOf(entry.EventBusName || 'default');
    if (!this.busNames.includes(bus)) {
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${bus} does not exist.` };
    }
    const event = this.envelope(entry);
    this.counters.eventsPut++;
    this.route(bus, event);
    return { EventId: event.id };
  }

  private envelope(entry: PutEventsRequestEntry): EventEnvelope {
    return {
      version: '0',
      id: randomUUID(),
      'detail-type': entry.DetailType!,
      source: entry.Source!,
      account: this.accountId,
      time: eventTime(entry.Time, this.retry.clock()),
      region: this.region,
      resources: entry.Resources ?? [],
      detail: JSON.parse(entry.Detail!),
    };
  }

  private route(bus: string, event: EventEnvelope): void {
    const putAt = this.retry.clock();
    for (const rule of this.rules(bus)) {
      if (rule.state !== 'ENABLED' || !rule.matches(event)) continue;
      for (const target of rule.targets) {
        this.track(
          deferred(() =>
            deliverWithRetry(
              { event, putAt, ruleArn: rule.arn, target },
              this.delivery,
              this.retry,
              this.counters,
            ),
          ),
        );
      }
    }
  }

  private track(delivery: Promise<void>): void {
    const settled: Promise<void> = delivery
      .catch((error: unknown) => {
        this.counters.dropped++;
        this.retry.log(
          `delivery failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
        );
      })
      .finally(() => this.inFlight.delete(settled));
    this.inFlight.add(settled);
  }
}

/** Accepts a bus name or ARN (templates give either, via !Ref or !GetAtt). */
export function busNameOf(nameOrArn: string): string {
  const marker = ':event-bus/';
  const at = nameOrArn.indexOf(marker);
  return at >= 0 ? nameOrArn.slice(at + marker.length) : nameOrArn;
}

function rulePattern(rule: RuleConfig): object {
  if (typeof rule.eventPattern !== 'string') return rule.eventPattern;
  try {
    return JSON.parse(rule.eventPattern) as object;
  } catch {
    throw new AwsError('InvalidEventPatternException', `Rule ${rule.name}: Event pattern is not valid JSON.`);
  }
}

function compileRulePattern(ruleName: string, pattern: object): EventMatcher {
  try {
    return compilePattern(pattern);
  } catch (error) {
    if (error instanceof AwsError) throw new AwsError(error.code, `Rule ${ruleName}: ${error.message}`);
    throw error;
  }
}

function checkRequestLimits(entries: PutEventsRequestEntry[]): void {
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES_PER_PUT) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value at 'entries' failed to satisfy constraint: ` +
        `Member must have length less than or equal to ${MAX_ENTRIES_PER_PUT} and greater than or equal to 1`,
    );
  }
  const size = entries.reduce((total, entry) => total + entrySize(entry), 0);
  if (size > MAX_PUT_EVENTS_BYTES) {
    throw new AwsError(
      'ValidationException',
      `Total size of the entries in the request is over the limit (${size} > ${MAX_PUT_EVENTS_BYTES} bytes).`,
    );
  }
}

/** The size AWS counts: Time 14 bytes if present, UTF-8 bytes of Source, DetailType, Detail and Resources. */
export function entrySize(entry: PutEventsRequestEntry): number {
  const bytes = (text: unknown) => (typeof text === 'string' ? Buffer.byteLength(text, 'utf8') : 0);
  const resources = Array.isArray(entry.Resources) ? entry.Resources : [];
  return (
    (entry.Time !== undefined ? 14 : 0) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    resources.reduce((total, resource) => total + bytes(resource), 0)
  );
}

function entryProblem(entry: PutEventsRequestEntry): PutEventsResultEntry | null {
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    if (typeof entry?.[field] !== 'string' || entry[field] === '') {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
      };
    }
  }
  if (!isJsonObject(entry.Detail!))
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  if (entry.Resources !== undefined && !isStringArray(entry.Resources)) {
    return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Parameter Resources is not valid.' };
  }
  return null;
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Event time as EventBridge writes it: ISO-8601 to the second, UTC. */
function eventTime(time: PutEventsRequestEntry['Time'], nowMs: number): string {
  const at =
    time === undefined ? new Date(nowMs) : typeof time === 'number' ? new Date(time * 1000) : new Date(time);
  const valid = Number.isNaN(at.getTime()) ? new Date(nowMs) : at;
  return valid.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Runs work after the current PutEvents call has returned, so delivery never delays the caller. */
function deferred(work: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve)).then(work);
}
