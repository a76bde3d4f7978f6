/** Shapes shared by the local Lambda runtime: function configuration, invocation outcomes, errors. */

export interface FunctionConfig {
  name: string;
  arn: string;
  /** Absolute path to the built bundle (.mjs ESM, or .js). */
  bundlePath: string;
  /** The export to call, e.g. `handler`. */
  handlerExport: string;
  environment: Record<string, string>;
  memorySize: number;
  /** Seconds, as in the template. */
  timeout: number;
  /** Execution environments this function may run at once (reserved concurrency). */
  concurrency?: number;
  /**
   * Behind an HTTP API route: a caller (a partner's webhook) waits on its answer. On AWS such a
   * function has concurrency of its own; locally it scales out when its invocations queue, and the
   * other functions' sandboxes yield the CPU to it (pool.ts, sandbox.ts).
   */
  servesRequests?: boolean;
  architecture?: string;
  /** SQS queue ARN receiving async invocations that failed every attempt. */
  deadLetterArn?: string;
  /** Retries of a failed async invocation (Lambda's default: 2). */
  maximumRetryAttempts?: number;
  /** How long an async event may wait for its retries (EventInvokeConfig; Lambda's default: 6 h). */
  maximumEventAgeInSeconds?: number;
  /** SQS queue ARN of the on-failure destination: it receives Lambda's invocation record. */
  onFailureArn?: string;
}

/** What a failed invocation reports, in Lambda's shape. */
export interface LambdaError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export interface InvocationResult {
  /** The handler's return value after a JSON round trip (null when it returned nothing). */
  payload?: unknown;
  error?: LambdaError;
  requestId: string;
  durationMs: number;
  /** Time spent importing the bundle, on a cold start only. */
  initDurationMs?: number;
  /** Duration plus init (Lambda bills the init phase), rounded up to the millisecond. */
  billedDurationMs: number;
  memorySize: number;
  coldStart: boolean;
}

export interface FunctionStats {
  invocations: number;
  errors: number;
  coldStarts: number;
  billedMs: number;
  memorySize: number;
  architecture: string;
}

/** An SQS message attribute as SendMessage takes it. */
export interface QueueMessageAttribute {
  DataType: 'String' | 'Number';
  StringValue: string;
}

export type SendToQueue = (
  queueArn: string,
  body: string,
  attributes: Record<string, QueueMessageAttribute>,
) => Promise<void>;

/** Messages between the pool and the runtime bootstrap in each worker (runtime.mjs). */
export interface InvokeMessage {
  type: 'invoke';
  requestId: string;
  /** The event as JSON text: the function gets its own copy, as across Lambda's wire. */
  event: string;
  deadline: number;
  traceId: string;
}

export type RuntimeMessage =
  | { type: 'ready'; initDurationMs: number }
  | { type: 'init-error'; error: LambdaError }
  | { type: 'result'; requestId: string; payload: string; durationMs: number }
  | { type: 'error'; requestId: string; error: LambdaError; durationMs: number };
