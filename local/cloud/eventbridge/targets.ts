/**
 * Delivery of one event to one rule target, the way EventBridge does it: the payload (event, `Input`
 * or `InputPath`), retries with exponential backoff bounded by the target's RetryPolicy, then the
 * target's dead-letter queue with the AWS DLQ message attributes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AwsError } from '../aws-error';

export interface TargetConfig {
  id: string;
  arn: string;
  input?: string;
  inputPath?: string;
  /** Not applied locally: a rule whose target has one is refused rather than sent the whole event. */
  inputTransformer?: unknown;
  roleArn?: string;
  retryPolicy?: { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number };
  deadLetterArn?: string;
}

/** How the bridge reaches targets, injected by the local cloud. */
export interface TargetDelivery {
  /** Throws on failure; an error with `retryable: false` goes to the DLQ without retries. */
  deliver(targetArn: string, payload: string): Promise<void>;
  sendToQueue(queueArn: string, body: string, attributes?: Record<string, string>): Promise<void>;
}

/** The event as targets receive it. */
export interface EventEnvelope {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: unknown;
}

export interface DeliveryCounters {
  deliveries: number;
  retries: number;
  deadLettered: number;
  dropped: number;
}

export interface RetrySettings {
  baseDelayMs: number;
  maxDelayMs: number;
  clock: () => number;
  signal: AbortSignal;
  log: (message: string) => void;
}

export interface DeliveryJob {
  event: EventEnvelope;
  /** Clock reading when the event was put: the start of its age. */
  putAt: number;
  ruleArn: string;
  target: TargetConfig;
}

/** AWS defaults: 185 retries within 24 hours. */
const DEFAULT_RETRY_ATTEMPTS = 185;
const DEFAULT_EVENT_AGE_SECONDS = 86_400;

type Exhausted = 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds' | 'NonRetryableError';

export async function deliverWithRetry(
  job: DeliveryJob,
  delivery: TargetDelivery,
  settings: RetrySettings,
  counters: DeliveryCounters,
): Promise<void> {
  const payload = targetPayload(job.target, job.event);
  for (let retries = 0; ; retries++) {
    try {
      await delivery.deliver(job.target.arn, payload);
      counters.deliveries++;
      return;
    } catch (error) {
      const delay = backoff(retries, settings);
      const exhausted = exhaustedBy(error, job, retries, settings.clock() + delay);
      if (exhausted) return deadLetter(job, error, exhausted, retries, delivery, settings, counters);
      counters.retries++;
      if (!(await waitOrAbandon(delay, settings))) {
        counters.dropped++;
        return;
      }
    }
  }
}

function backoff(retries: number, settings: RetrySettings): number {
  return Math.min(settings.baseDelayMs * 2 ** retries, settings.maxDelayMs);
}

function exhaustedBy(
  error: unknown,
  job: DeliveryJob,
  retries: number,
  nextAttemptAt: number,
): Exhausted | null {
  const policy = job.target.retryPolicy ?? {};
  if ((error as { retryable?: unknown })?.retryable === false) return 'NonRetryableError';
  if (retries >= (policy.maximumRetryAttempts ?? DEFAULT_RETRY_ATTEMPTS)) return 'MaximumRetryAttempts';
  const maxAgeMs = (policy.maximumEventAgeInSeconds ?? DEFAULT_EVENT_AGE_SECONDS) * 1000;
  if (nextAttemptAt - job.putAt > maxAgeMs) return 'MaximumEventAgeInSeconds';
  return null;
}

/** Resolves false when the bridge is closing: pending retries are abandoned rather than awaited. */
async function waitOrAbandon(delayMs: number, settings: RetrySettings): Promise<boolean> {
  try {
    await sleep(delayMs, undefined, { signal: settings.signal });
    return true;
  } catch {
    return false;
  }
}

async function deadLetter(
  job: DeliveryJob,
  error: unknown,
  exhausted: Exhausted,
  retries: number,
  delivery: TargetDelivery,
  settings: RetrySettings,
  counters: DeliveryCounters,
): Promise<void> {
  const { target, ruleArn, event } = job;
  const message = errorMessage(error);
  if (!target.deadLetterArn) {
    counters.dropped++;
    settings.log(`event ${event.id} dropped: target ${target.id} of ${ruleArn} failed (${message}), no DLQ`);
    return;
  }
  const attributes: Record<string, string> = {
    RULE_ARN: ruleArn,
    TARGET_ARN: target.arn,
    ERROR_CODE: errorCode(error),
    ERROR_MESSAGE: message,
    RETRY_ATTEMPTS: String(retries),
  };
  if (exhausted !== 'NonRetryableError') attributes.EXHAUSTED_RETRY_CONDITION = exhausted;
  try {
    await delivery.sendToQueue(target.deadLetterArn, JSON.stringify(event), attributes);
    counters.deadLettered++;
  } catch (queueError) {
    counters.dropped++;
    settings.log(
      `event ${event.id} dropped: DLQ ${target.deadLetterArn} refused it (${errorMessage(queueError)})`,
    );
  }
}

function errorCode(error: unknown): string {
  const name = (error as { code?: unknown; name?: unknown })?.code ?? (error as { name?: unknown })?.name;
  if (name === 'ResourceNotFoundException') return 'RESOURCE_NOT_FOUND';
  if (name === 'ThrottlingException' || name === 'TooManyRequestsException') return 'THROTTLING';
  return 'SDK_CLIENT_ERROR';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** What the target receives: the constant `Input`, the part of the event `InputPath` selects, or the event. */
export function targetPayload(target: TargetConfig, event: EventEnvelope): string {
  if (target.input !== undefined) return target.input;
  if (target.inputPath !== undefined) return JSON.stringify(selectPath(event, target.inputPath) ?? null);
  return JSON.stringify(event);
}

/** The JSONPath subset InputPath uses: `$`, `.name`, `['name']` and `[index]`. */
export function parseInputPath(path: string): (string | number)[] {
  if (!path.startsWith('$')) throw invalidPath(path);
  const steps: (string | number)[] = [];
  const step = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/y;
  step.lastIndex = 1;
  while (step.lastIndex < path.length) {
    const match = step.exec(path);
    if (!match) throw invalidPath(path);
    steps.push(match[2] !== undefined ? Number(match[2]) : (match[1] ?? match[3] ?? match[4])!);
  }
  return steps;
}

function selectPath(event: EventEnvelope, path: string): unknown {
  let current: unknown = event;
  for (const step of parseInputPath(path)) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, step)) return undefined;
    current = (current as Record<string | number, unknown>)[step];
  }
  return current;
}

function invalidPath(path: string): AwsError {
  return new AwsError('ValidationException', `InputPath is not a valid JSONPath: ${path}`);
}
