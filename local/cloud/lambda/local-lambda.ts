/**
 * The local Lambda service: one pool of worker-thread sandboxes per function, synchronous and
 * asynchronous (Event) invocation with Lambda's retries and dead-letter queue, and the usage
 * figures the cost report reads.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AwsError } from '../aws-error';
import { positiveFromEnv } from '../env';
import { SandboxBudget } from './budget';
import { type LambdaInvoker, lambdaInvoker } from './invoker';
import { FunctionPool } from './pool';
import { boundCompileCache, handlerSetting, Sandbox } from './sandbox';
import type { FunctionConfig, FunctionStats, InvocationResult, LambdaError, SendToQueue } from './types';

export interface LocalLambdaOptions {
  functions: FunctionConfig[];
  region: string;
  accountId: string;
  /** Sandboxes per function when its config sets no concurrency. */
  defaultConcurrency?: number;
  /**
   * The same for a function serving requests (behind an HTTP API route); env
   * `LOCAL_LAMBDA_REQUEST_CONCURRENCY`.
   */
  requestConcurrency?: number;
  /** Delivers failed async events to their dead-letter queue. */
  sendToQueue?: SendToQueue;
  /**
   * Receives every line a function writes to stdout or stderr, and the START / END / REPORT lines
   * Lambda writes around each invocation, with the sandbox's log stream (its CloudWatch stream).
   */
  log?: (functionName: string, line: string, logStreamName?: string) => void;
  /** Variables every function gets, e.g. AWS_ENDPOINT_URL pointing at the local edge. */
  baseEnv?: Record<string, string>;
  /** Wait before the first async retry, doubled for the next (Lambda waits 1 then 2 minutes). */
  asyncRetryDelayMs?: number;
  /** Sandboxes alive at once across all functions (budget.ts); env `LOCAL_LAMBDA_SANDBOXES`. */
  sandboxBudget?: number;
  /** An idle sandbox is ended after this long; env `LOCAL_LAMBDA_IDLE_SECONDS`. */
  idleSandboxMs?: number;
  /**
   * A function adds a sandbox (up to its concurrency) only for an invocation waiting behind sandboxes
   * whose handlers have all run this long (pool.ts); env `LOCAL_LAMBDA_SCALE_AFTER_MS`.
   */
  scaleAfterMs?: number;
}

/** Why an async event was given up: its last error, how often it ran, and Lambda's condition name. */
interface AsyncFailure {
  error: LambdaError;
  attempts: number;
  condition: 'RetriesExhausted' | 'EventAgeExceeded';
}

interface DeployedFunction {
  config: FunctionConfig;
  pool: FunctionPool;
  stats: FunctionStats;
}

const printLine = (functionName: string, line: string) => console.log(`[${functionName}] ${line}`);

/**
 * Sandboxes per function at most, warm sandboxes kept across every function, and how long one is
 * kept idle: measured with `npm run bench` (README, "Measured"), each sandbox being a V8 heap of its
 * own. A function starts with one and adds the second only behind a slow handler (pool.ts).
 */
const DEFAULT_CONCURRENCY = 2;
/** Sandboxes of a function serving requests (npm run bench: README, "Webhook ack at 100/s"). */
const DEFAULT_REQUEST_CONCURRENCY = 3;
/** Invocations of a function serving requests that may wait for its busy sandboxes before it adds one. */
const REQUEST_MAX_WAITING = 4;
const DEFAULT_SANDBOX_BUDGET = 16;
const DEFAULT_IDLE_SECONDS = 60;
/**
 * Longer than an invocation takes on a busy laptop (a few to a few hundred ms), shorter than a slow
 * downstream holds one (a POS or partner past its 5 s client timeout).
 */
const DEFAULT_SCALE_AFTER_MS = 500;

/** Lambda's payload quotas: 6 MB each way for a synchronous invocation, 1 MB for an Event one. */
export const SYNC_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
export const ASYNC_PAYLOAD_LIMIT_BYTES = 1024 * 1024;
/** An async event is kept (and retried) for up to six hours unless MaximumEventAgeInSeconds says less. */
const DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 6 * 3600;

/** What Invoke answers for a request over the quota (HTTP 413), in AWS's words. */
export function payloadTooLarge(bytes: number, invocationType: 'RequestResponse' | 'Event'): AwsError {
  const message =
    invocationType === 'Event'
      ? `${bytes} byte payload is too large for the Event invocation type (limit ${ASYNC_PAYLOAD_LIMIT_BYTES} bytes)`
      : `Request must be smaller than ${SYNC_PAYLOAD_LIMIT_BYTES} bytes for the InvokeFunction operation`;
  return new AwsError('RequestEntityTooLargeException', message, 413);
}

/** `Root=1-<time>-<id>;Parent=…;Sampled=0`: Powertools reads it into `xray_trace_id`. */
function newTraceId(): string {
  const time = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${time}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=0`;
}

/** A function name, `name:qualifier`, or `arn:aws:lambda:region:account:function:name[:qualifier]`. */
export function functionNameOf(nameOrArn: string): string {
  const parts = nameOrArn.split(':');
  if (parts[0] === 'arn') return parts[6] ?? '';
  return parts[0] ?? '';
}

/** How often a warm sandbox's heap is sampled for Max Memory Used: each sample interrupts its worker. */
const HEAP_SAMPLE_EVERY_MS = 1000;

/**
 * Lambda's own lines around each invocation, in the sandbox's stream: `START`, then `END` and
 * `REPORT` (duration, billed duration, memory size, max memory used, init duration when cold).
 * Max Memory Used is the sandbox's V8 heap: the most sampled at a START (at most once a second), or
 * just after a cold one.
 */
function withReportLines(sandbox: Sandbox, config: FunctionConfig, log: (line: string) => void): Sandbox {
  const invoke = sandbox.invoke.bind(sandbox);
  let maxHeapMb = 0;
  let sampledAt = Number.NEGATIVE_INFINITY;
  sandbox.invoke = (requestId, event, traceId) => {
    log(`START RequestId: ${requestId} Version: $LATEST`);
    if (performance.now() - sampledAt >= HEAP_SAMPLE_EVERY_MS) {
      sampledAt = performance.now();
      void sandbox.heapUsedMb().then((mb) => {
        maxHeapMb = Math.max(maxHeapMb, mb ?? 0);
      });
    }
    return invoke(requestId, event, traceId).then(async (outcome) => {
      // A cold sandbox's worker was not running yet at START: sample it now, briefly.
      if (maxHeapMb === 0) maxHeapMb = (await Promise.race([sandbox.heapUsedMb(), sleep(10)])) ?? 0;
      const init = outcome.initDurationMs;
      const billed = Math.max(1, Math.ceil(outcome.durationMs + (init ?? 0)));
      log(`END RequestId: ${requestId}`);
      log(
        `REPORT RequestId: ${requestId}\tDuration: ${outcome.durationMs.toFixed(2)} ms\tBilled Duration: ${billed} ms\t` +
          `Memory Size: ${config.memorySize} MB\tMax Memory Used: ${maxHeapMb} MB` +
          (init !== undefined ? `\tInit Duration: ${init.toFixed(2)} ms` : ''),
      );
      return outcome;
    });
  };
  return sandbox;
}

export class LocalLambda {
  private readonly functions = new Map<string, DeployedFunction>();
  private readonly pendingAsync = new Set<Promise<void>>();
  private readonly closing = new AbortController();
  private readonly log: (functionName: string, line: string, logStreamName?: string) => void;
  private readonly budget: SandboxBudget;
  private readonly scaleAfterMs: number;
  private readonly requestConcurrency: number;

  constructor(private readonly options: LocalLambdaOptions) {
    this.log = options.log ?? printLine;
    this.budget = new SandboxBudget({
      limit: options.sandboxBudget ?? positiveFromEnv('LOCAL_LAMBDA_SANDBOXES', DEFAULT_SANDBOX_BUDGET),
      idleMs:
        options.idleSandboxMs ?? positiveFromEnv('LOCAL_LAMBDA_IDLE_SECONDS', DEFAULT_IDLE_SECONDS) * 1000,
    });
    this.scaleAfterMs =
      options.scaleAfterMs ?? positiveFromEnv('LOCAL_LAMBDA_SCALE_AFTER_MS', DEFAULT_SCALE_AFTER_MS);
    this.requestConcurrency =
      options.requestConcurrency ??
      positiveFromEnv('LOCAL_LAMBDA_REQUEST_CONCURRENCY', DEFAULT_REQUEST_CONCURRENCY);
    boundCompileCache();
    for (const config of options.functions) this.deploy(config);
  }

  has(nameOrArn: string): boolean {
    return this.functions.has(functionNameOf(nameOrArn));
  }

  /** RequestResponse: waits for the result; a function error is in `error`, never thrown. */
  async invoke(
    nameOrArn: string,
    event: unknown,
    requestId: string = randomUUID(),
  ): Promise<InvocationResult> {
    const deployed = this.find(nameOrArn);
    const eventJson = JSON.stringify(event ?? null);
    const bytes = Buffer.byteLength(eventJson);
    if (bytes > SYNC_PAYLOAD_LIMIT_BYTES) throw payloadTooLarge(bytes, 'RequestResponse');
    const outcome = await deployed.pool.run(requestId, eventJson, newTraceId());
    const initDurationMs = outcome.initDurationMs ?? 0;
    // A result over the quota never reaches the caller: Lambda answers a function error instead.
    const oversized =
      outcome.payload !== undefined && Buffer.byteLength(outcome.payload) > SYNC_PAYLOAD_LIMIT_BYTES;
    const error: LambdaError | undefined = oversized
      ? {
          errorType: 'Function.ResponseSizeTooLarge',
          errorMessage: `Response payload size exceeded maximum allowed payload size (${SYNC_PAYLOAD_LIMIT_BYTES} bytes).`,
        }
      : outcome.error;
    const result: InvocationResult = {
      ...(outcome.payload !== undefined && !oversized && { payload: JSON.parse(outcome.payload) }),
      ...(error && { error }),
      requestId,
      durationMs: outcome.durationMs,
      ...(outcome.initDurationMs !== undefined && { initDurationMs }),
      billedDurationMs: Math.max(1, Math.ceil(outcome.durationMs + initDurationMs)),
      memorySize: deployed.config.memorySize,
      coldStart: outcome.coldStart,
    };
    this.record(deployed, result);
    return result;
  }

  /** Event: accepted at once, then run with retries; what still fails goes to the dead-letter queue. */
  async invokeAsync(nameOrArn: string, event: unknown): Promise<{ requestId: string }> {
    const deployed = this.find(nameOrArn);
    const bytes = Buffer.byteLength(JSON.stringify(event ?? null));
    if (bytes > ASYNC_PAYLOAD_LIMIT_BYTES) throw payloadTooLarge(bytes, 'Event');
    const requestId = randomUUID();
    const run = this.runAsync(deployed, requestId, event).finally(() => this.pendingAsync.delete(run));
    this.pendingAsync.add(run);
    return { requestId };
  }

  /** Resolves once every async invocation accepted so far has succeeded or been dead-lettered. */
  async drain(): Promise<void> {
    while (this.pendingAsync.size > 0) await Promise.all(this.pendingAsync);
  }

  stats(): Record<string, FunctionStats> {
    return Object.fromEntries([...this.functions].map(([name, { stats }]) => [name, { ...stats }]));
  }

  /** How long a sandbox is kept idle before it is ended. */
  idleSandboxMs(): number {
    return this.budget.options.idleMs;
  }

  /** Sandboxes alive now across every function (running, idle or starting). */
  sandboxes(): number {
    return this.budget.size;
  }

  /** What the live sandboxes' V8 heaps hold in memory (MB), all together: `npm run load` splits growth with it. */
  async sandboxHeapsMb(): Promise<number> {
    const sandboxes = [...this.functions.values()].flatMap(({ pool }) => pool.live());
    const sizes = await Promise.all(sandboxes.map((sandbox) => sandbox.heapResidentMb()));
    return sizes.reduce((sum, mb) => sum + mb, 0);
  }

  /** The adapter the edge (port 4566) serves `POST /2015-03-31/functions/{name}/invocations` with. */
  invoker(): LambdaInvoker {
    return lambdaInvoker(this);
  }

  async close(): Promise<void> {
    this.closing.abort();
    for (const { pool } of this.functions.values()) pool.close();
  }

  private deploy(config: FunctionConfig): void {
    const environment = this.environmentFor(config);
    const pool = new FunctionPool(
      config.concurrency ??
        (config.servesRequests
          ? this.requestConcurrency
          : (this.options.defaultConcurrency ?? DEFAULT_CONCURRENCY)),
      (onExit) => {
        const log = (line: string) => this.log(config.name, line, sandbox.logStreamName);
        const sandbox: Sandbox = new Sandbox({ config, environment, log, onExit });
        return withReportLines(sandbox, config, log);
      },
      this.budget,
      this.scaleAfterMs,
      config.servesRequests ? REQUEST_MAX_WAITING : undefined,
    );
    const stats = {
      invocations: 0,
      errors: 0,
      coldStarts: 0,
      billedMs: 0,
      memorySize: config.memorySize,
      architecture: config.architecture ?? 'x86_64',
    };
    this.functions.set(config.name, { config, pool, stats });
  }

  /** What a Lambda execution environment provides, under the function's own variables. */
  private environmentFor(config: FunctionConfig): Record<string, string> {
    const { region, baseEnv } = this.options;
    return {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: 'en_US.UTF-8',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_SESSION_TOKEN: 'local',
      ...baseEnv,
      ...config.environment,
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_LAMBDA_FUNCTION_NAME: config.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(config.memorySize),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${config.name}`,
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
      _HANDLER: handlerSetting(config),
      LAMBDA_TASK_ROOT: dirname(config.bundlePath),
    };
  }

  private find(nameOrArn: string): DeployedFunction {
    const deployed = this.functions.get(functionNameOf(nameOrArn));
    if (deployed) return deployed;
    const { region, accountId } = this.options;
    const arn = nameOrArn.startsWith('arn:')
      ? nameOrArn
      : `arn:aws:lambda:${region}:${accountId}:function:${nameOrArn}`;
    throw new AwsError('ResourceNotFoundException', `Function not found: ${arn}`, 404);
  }

  private record({ config, stats }: DeployedFunction, result: InvocationResult): void {
    stats.invocations++;
    stats.billedMs += result.billedDurationMs;
    if (result.coldStart) stats.coldStarts++;
    if (result.error) {
      stats.errors++;
      this.logError(config.name, result.requestId, result.error);
    }
  }

  /** The line Lambda's runtime writes for an unhandled error, so failures show in the function's log. */
  private logError(functionName: string, requestId: string, error: LambdaError): void {
    const at = new Date().toISOString();
    if (error.errorType === 'Sandbox.Timedout')
      this.log(functionName, `${at} ${requestId} ${error.errorMessage}`);
    else this.log(functionName, `${at}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(error)}`);
  }

  private async runAsync(deployed: DeployedFunction, requestId: string, event: unknown): Promise<void> {
    const retries = deployed.config.maximumRetryAttempts ?? 2;
    const delayMs = this.options.asyncRetryDelayMs ?? 1000;
    // Lambda drops a retry that would start after the event's maximum age (EventInvokeConfig).
    const expiresAt =
      Date.now() + (deployed.config.maximumEventAgeInSeconds ?? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS) * 1000;
    let failure: AsyncFailure | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      const delay = delayMs * 2 ** (attempt - 1);
      if (attempt > 0 && failure && Date.now() + delay > expiresAt) {
        failure.condition = 'EventAgeExceeded';
        break;
      }
      if (attempt > 0 && !(await this.pause(delay))) return;
      // Lambda keeps the request id across the retries of one event.
      const result = await this.invoke(deployed.config.name, event, requestId).catch(() => undefined);
      if (!result) return; // closed while running
      if (!result.error) return;
      failure = { error: result.error, attempts: attempt + 1, condition: 'RetriesExhausted' };
    }
    if (failure) await this.deadLetter(deployed.config, requestId, event, failure);
  }

  /** Waits between retries; false once the service is closing. */
  private async pause(ms: number): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: this.closing.signal });
      return true;
    } catch {
      return false;
    }
  }

  private async deadLetter(config: FunctionConfig, requestId: string, event: unknown, failure: AsyncFailure) {
    const { sendToQueue } = this.options;
    const { error } = failure;
    if ((!config.deadLetterArn && !config.onFailureArn) || !sendToQueue) {
      this.log(config.name, `async event ${requestId} dropped after retries: ${error.errorMessage}`);
      return;
    }
    const send = (arn: string, body: string, attributes: Parameters<SendToQueue>[2]) =>
      sendToQueue(arn, body, attributes).catch((sendFailure: Error) =>
        this.log(config.name, `async event ${requestId} not delivered to ${arn}: ${sendFailure.message}`),
      );
    // Lambda's DLQ message: the event as body, the failure in attributes (ErrorCode 200 = function error).
    if (config.deadLetterArn) {
      await send(config.deadLetterArn, JSON.stringify(event ?? null), {
        RequestID: { DataType: 'String', StringValue: requestId },
        ErrorCode: { DataType: 'Number', StringValue: '200' },
        ErrorMessage: { DataType: 'String', StringValue: error.errorMessage.slice(0, 1024) },
      });
    }
    // An on-failure destination gets Lambda's invocation record instead, the event inside it.
    if (config.onFailureArn) {
      const record = {
        version: '1.0',
        timestamp: new Date().toISOString(),
        requestContext: {
          requestId,
          functionArn: `${config.arn}:$LATEST`,
          condition: failure.condition,
          approximateInvokeCount: failure.attempts,
        },
        requestPayload: event ?? null,
        responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
        responsePayload: error,
      };
      await send(config.onFailureArn, JSON.stringify(record), {});
    }
  }
}
