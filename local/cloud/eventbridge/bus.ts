/**
 * The local EventBridge: event buses, their rules and targets, built from the template's resolved
 * properties. PutEvents accepts entries like AWS, then every matching rule delivers to its targets
 * in the background (with retries and dead-lettering) so the caller is never held up. Rules with a
 * ScheduleExpression (on the default bus only, as on AWS) fire AWS's "Scheduled Event" at their
 * whole minutes, through the same target delivery, once `startSchedules()` has been called.
 */
import { randomUUID } from 'node:crypto';
import { AwsError } from '../aws-error';
import { compilePattern, type EventMatcher } from './pattern';
import { parseScheduleExpression, type Schedule, ScheduleExpressionError } from './schedule';
import { RuleScheduler, type ScheduleClock, systemClock } from './scheduler';
import {
  type DeliveryCounters,
  deliverWithRetry,
  type EventEnvelope,
  parseInputPath,
  type RetrySettings,
  type TargetConfig,
  type TargetDelivery,
} from './targets';

export type { ScheduleClock } from './scheduler';
export type { EventEnvelope, TargetConfig, TargetDelivery } from './targets';

export const RULE_STATES = ['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS'] as const;
export type RuleState = (typeof RULE_STATES)[number];

export interface RuleConfig {
  name: string;
  eventBusName: string;
  /** CloudFormation allows the pattern as JSON text as well as an object. A rule needs a pattern, a schedule, or both. */
  eventPattern?: object | string;
  /** `rate(…)` or `cron(…)`; only rules on the default bus may have one. */
  scheduleExpression?: string;
  state?: RuleState;
  description?: string;
  roleArn?: string;
  targets: TargetConfig[];
}

/** PutRule's input: a rule's own settings, without targets (PutTargets sets those). */
export type RuleSettings = Omit<RuleConfig, 'targets'>;

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
  /** Milliseconds since the epoch; injectable so tests can age events. Defaults to the schedule clock's. */
  clock?: () => number;
  /** Time and timers for scheduled rules; injectable so tests move through minutes at once. */
  scheduleClock?: ScheduleClock;
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
  /** Scheduled Events fired by schedule rules (one per rule and minute). */
  scheduledEvents: number;
  /** AWS services' own events (Step Functions' status changes): AWS does not bill them as puts. */
  serviceEvents: number;
}

export interface LocalRule {
  name: string;
  arn: string;
  eventBusName: string;
  eventPattern?: object;
  scheduleExpression?: string;
  state: RuleState;
  description?: string;
  roleArn?: string;
  targets: TargetConfig[];
  /** Absent for a rule that only runs on a schedule. */
  matches?: EventMatcher;
  schedule?: Schedule;
  /** Clock reading when the rule was created or last put: a rate schedule counts from it. */
  createdAt: number;
}

/** A schedule rule as the start-up banner and the console list it. */
export interface ScheduledRuleInfo {
  name: string;
  arn: string;
  scheduleExpression: string;
  state: RuleState;
  targets: string[];
  /** When it fires next (null when disabled, or when its cron never fires again). */
  nextFireTime: Date | null;
}

export const MAX_ENTRIES_PER_PUT = 10;
/**
 * EventBridge's limit on the entries of one PutEvents call together (and so on one event), counted
 * as `entrySize` does. AWS raised it from 256 KB to 1 MB on 29 January 2026; exactly 1,048,576
 * bytes is still accepted. A target may still refuse what the bus took (a Step Functions input is
 * capped at 256 KiB).
 */
export const MAX_PUT_EVENTS_BYTES = 1024 * 1024;

export class LocalEventBridge {
  readonly region: string;
  readonly accountId: string;
  private readonly busNames: string[];
  private readonly ruleList: LocalRule[];
  private readonly delivery: TargetDelivery;
  private readonly retry: RetrySettings;
  private readonly scheduleClock: ScheduleClock;
  private readonly scheduler: RuleScheduler;
  private readonly closing = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly counters: EventBridgeStats = {
    eventsPut: 0,
    failedEntries: 0,
    deliveries: 0,
    retries: 0,
    deadLettered: 0,
    dropped: 0,
    scheduledEvents: 0,
    serviceEvents: 0,
  };

  constructor(options: LocalEventBridgeOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.busNames = [...new Set(['default', ...options.buses.map(busNameOf)])];
    this.delivery = options.delivery;
    this.scheduleClock = options.scheduleClock ?? systemClock;
    this.retry = {
      baseDelayMs: options.retryBaseDelayMs ?? 1000,
      maxDelayMs: options.retryMaxDelayMs ?? 60_000,
      clock: options.clock ?? (() => this.scheduleClock.now()),
      signal: this.closing.signal,
      log: options.log ?? ((message) => console.warn(`[eventbridge] ${message}`)),
    };
    this.scheduler = new RuleScheduler(this.scheduleClock, (name, minute) => this.fireSchedule(name, minute));
    this.ruleList = options.rules.map((rule) => {
      try {
        return this.buildRule(rule);
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        const reason = (error as { reason?: string }).reason;
        throw new AwsError(error.code, `Rule ${rule.name}: ${error.message}${reason ? ` (${reason})` : ''}`);
      }
    });
    for (const rule of this.ruleList) this.schedule(rule);
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

  /**
   * PutRule: creates the rule, or replaces every setting of the one with that name on that bus (what
   * is omitted is cleared, as on AWS) while keeping its targets. Throws AwsError with AWS's codes.
   */
  putRule(settings: RuleSettings): LocalRule {
    const bus = busNameOf(settings.eventBusName || 'default');
    const at = this.ruleList.findIndex((rule) => rule.eventBusName === bus && rule.name === settings.name);
    const rule = this.buildRule({ ...settings, targets: this.ruleList[at]?.targets ?? [] });
    if (at >= 0) this.ruleList[at] = rule;
    else this.ruleList.push(rule);
    this.schedule(rule);
    return rule;
  }

  /** Starts firing schedule rules at their minutes (until close); rates count from their rule's creation. */
  startSchedules(): void {
    this.scheduler.start();
  }

  /** The rules with a schedule, with when each fires next. */
  scheduledRules(): ScheduledRuleInfo[] {
    const now = new Date(this.scheduleClock.now());
    return this.ruleList.flatMap((rule) =>
      rule.schedule && rule.scheduleExpression
        ? [
            {
              name: rule.name,
              arn: rule.arn,
              scheduleExpression: rule.scheduleExpression,
              state: rule.state,
              targets: rule.targets.map((target) => target.arn),
              nextFireTime:
                rule.state === 'DISABLED' ? null : rule.schedule.nextFireTime(now, new Date(rule.createdAt)),
            },
          ]
        : [],
    );
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

  /** Stops the schedules, abandons pending retries (counted as dropped) and waits for deliveries under way. */
  async close(): Promise<void> {
    this.scheduler.stop();
    this.closing.abort();
    await this.idle();
  }

  stats(): EventBridgeStats {
    return { ...this.counters };
  }

  /** Validates a rule as PutRule does, with AWS's error codes and messages. */
  private buildRule(rule: RuleConfig): LocalRule {
    const bus = busNameOf(rule.eventBusName || 'default');
    if (!this.busNames.includes(bus)) {
      throw new AwsError('ResourceNotFoundException', `Event bus ${bus} does not exist.`);
    }
    const hasPattern = rule.eventPattern !== undefined && rule.eventPattern !== '';
    // An empty ScheduleExpression still counts as given: AWS refuses it rather than ignoring it.
    const scheduleGiven = rule.scheduleExpression !== undefined;
    if (!hasPattern && !scheduleGiven) {
      throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
    }
    if (scheduleGiven && bus !== 'default') {
      throw validation('ScheduleExpression is supported only on the default event bus.');
    }
    const schedule = scheduleGiven ? ruleSchedule(rule.scheduleExpression!) : undefined;
    const state = rule.state ?? 'ENABLED';
    if (!RULE_STATES.includes(state)) {
      throw validation(
        `1 validation error detected: Value '${state}' at 'state' failed to satisfy constraint: ` +
          `Member must satisfy enum value set: [${RULE_STATES.join(', ')}]`,
      );
    }
    for (const target of rule.targets) {
      if (target.inputPath !== undefined) parseInputPath(target.inputPath);
      if (target.inputTransformer !== undefined) {
        // Delivering the untransformed event instead would be a difference from AWS nobody sees.
        throw new Error(
          `Rule ${rule.name}: target ${target.id} has an InputTransformer, which the local EventBridge does not apply`,
        );
      }
    }
    const arnPath = bus === 'default' ? rule.name : `${bus}/${rule.name}`;
    const eventPattern = hasPattern ? rulePattern(rule.eventPattern!) : undefined;
    return {
      name: rule.name,
      arn: `arn:aws:events:${this.region}:${this.accountId}:rule/${arnPath}`,
      eventBusName: bus,
      state,
      targets: rule.targets,
      createdAt: this.scheduleClock.now(),
      ...(eventPattern && { eventPattern, matches: compilePattern(eventPattern) }),
      ...(schedule && { schedule, scheduleExpression: rule.scheduleExpression }),
      ...(rule.description && { description: rule.description }),
      ...(rule.roleArn && { roleArn: rule.roleArn }),
    };
  }

  /** Keeps the scheduler's list in step with the rule (a put rule may gain or lose its schedule). */
  private schedule(rule: LocalRule): void {
    if (rule.eventBusName !== 'default') return;
    if (!rule.schedule) {
      this.scheduler.delete(rule.name);
      return;
    }
    this.scheduler.set({
      name: rule.name,
      schedule: rule.schedule,
      createdAt: rule.createdAt,
      enabled: () => rule.state !== 'DISABLED',
    });
  }

  /** An AWS service's own event (e.g. Step Functions' status changes): onto the default bus, never refused. */
  sendServiceEvent(event: {
    source: string;
    'detail-type': string;
    resources: string[];
    detail: object;
  }): void {
    this.counters.serviceEvents++;
    this.route('default', {
      version: '0',
      id: randomUUID(),
      account: this.accountId,
      time: isoSeconds(new Date(this.retry.clock())),
      region: this.region,
      ...event,
    });
  }

  /** AWS's scheduled event, straight to the rule's targets (it is not put on the bus). */
  private fireSchedule(ruleName: string, minute: Date): void {
    const rule = this.rules('default').find((candidate) => candidate.name === ruleName);
    if (!rule || rule.state === 'DISABLED') return;
    this.counters.scheduledEvents++;
    const event: EventEnvelope = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.accountId,
      time: isoSeconds(minute),
      region: this.region,
      resources: [rule.arn],
      detail: {},
    };
    this.deliverToTargets(rule, event, this.retry.clock());
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
      if (rule.state === 'DISABLED' || !rule.matches?.(event)) continue;
      this.deliverToTargets(rule, event, putAt);
    }
  }

  private deliverToTargets(rule: LocalRule, event: EventEnvelope, putAt: number): void {
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

function rulePattern(pattern: object | string): object {
  if (typeof pattern !== 'string') return pattern;
  try {
    return JSON.parse(pattern) as object;
  } catch {
    throw new AwsError('InvalidEventPatternException', 'Event pattern is not valid JSON.');
  }
}

/** AWS answers only "not valid"; the reason goes in the error's `reason` for the loader and the logs. */
function ruleSchedule(expression: string): Schedule {
  try {
    return parseScheduleExpression(expression);
  } catch (error) {
    if (!(error instanceof ScheduleExpressionError)) throw error;
    throw Object.assign(validation('Parameter ScheduleExpression is not valid.'), { reason: error.reason });
  }
}

function validation(message: string): AwsError {
  return new AwsError('ValidationException', message);
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
      // AWS's words, which name no figures.
      'Total size of the entries in the request is over the limit.',
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
  // "aws." sources are AWS's own services': no caller may put one (their events come from AWS).
  if (entry.Source!.startsWith('aws.'))
    return { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' };
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
  return isoSeconds(Number.isNaN(at.getTime()) ? new Date(nowMs) : at);
}

function isoSeconds(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Runs work after the current PutEvents call has returned, so delivery never delays the caller. */
function deferred(work: () => Promise<void>): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve)).then(work);
}
