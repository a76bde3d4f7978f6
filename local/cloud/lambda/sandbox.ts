/**
 * One execution environment: a worker thread that imports the bundle once and then runs one
 * invocation at a time. A timeout or a crash ends the environment, as on Lambda; the pool replaces it.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import type { FunctionConfig, InvokeMessage, LambdaError, RuntimeMessage } from './types';

const RUNTIME = new URL('./runtime.mjs', import.meta.url);
const YOUNG_GENERATION_MB = 8;
/** V8's code cache for the bundles and the SDK, shared by every sandbox (runtime.mjs). */
const COMPILE_CACHE_DIR = join(tmpdir(), 'order-middleware-compile-cache');
/**
 * Node keys the cache by a module's path, and every local cloud unpacks its bundles under a path of
 * its own: each run adds its bundles' entries (the SDK's stay shared). Past this size it starts over.
 */
const COMPILE_CACHE_MAX_BYTES = 256 * 1024 * 1024;

/** Empties the compile cache once it has grown past `maxBytes` (one cold start each fills it again). */
export function boundCompileCache(dir = COMPILE_CACHE_DIR, maxBytes = COMPILE_CACHE_MAX_BYTES): void {
  let bytes = 0;
  const measure = (path: string) => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) measure(full);
      else bytes += statSync(full, { throwIfNoEntry: false })?.size ?? 0;
    }
  };
  try {
    measure(dir);
  } catch {
    return; // no cache yet, or another local cloud is emptying it right now
  }
  if (bytes > maxBytes) rmSync(dir, { recursive: true, force: true });
}
/**
 * How much lower (nice) the CPU priority of a sandbox whose function serves no request (a workflow
 * step, a schedule) is than the local cloud's own: on a laptop's two cores every thread competes,
 * and a partner's webhook must not wait behind the workflow it starts (on AWS it would have
 * concurrency of its own). Work conserving: an idle core still runs it at full speed.
 */
const BACKGROUND_NICENESS = 10;
/** Lambda gives the init phase 10 s of its own before the invocation's timeout starts. */
const INIT_LIMIT_MS = 10_000;

export interface SandboxOutcome {
  /** The handler's result as JSON text. */
  payload?: string;
  error?: LambdaError;
  durationMs: number;
  initDurationMs?: number;
  coldStart: boolean;
}

type Init = { ok: true; initDurationMs: number } | { ok: false; error: LambdaError };

interface Running {
  requestId: string;
  coldStart: boolean;
  initDurationMs?: number;
  startedAt: number;
  /** When the handler was called: after the init phase of a cold start. */
  handlerCalledAt?: number;
  timer: NodeJS.Timeout;
  resolve: (outcome: SandboxOutcome) => void;
}

export interface SandboxOptions {
  config: FunctionConfig;
  /** Environment shared by every sandbox of the function (its own variables, the local cloud's). */
  environment: Record<string, string>;
  log: (line: string) => void;
  onExit: () => void;
}

/** `2025/01/31/[$LATEST]<32 hex>`, the shape of a Lambda log stream name. */
function newLogStreamName(): string {
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

const wantsSourceMaps = (environment: Record<string, string>) =>
  (environment.NODE_OPTIONS ?? '').split(/\s+/).includes('--enable-source-maps');

export const handlerSetting = (config: FunctionConfig): string =>
  `${basename(config.bundlePath, extname(config.bundlePath))}.${config.handlerExport}`;

const exitError = (requestId: string, code: number): LambdaError => ({
  errorType: 'Runtime.ExitError',
  errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: exit status ${code}`,
});

/** What a worker's uncaught error looks like to the invoker. */
function crashError(error: Error): LambdaError {
  const errorType =
    (error as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'Runtime.OutOfMemory' : error.name;
  return { errorType, errorMessage: error.message, trace: (error.stack ?? '').split('\n') };
}

export class Sandbox {
  readonly logStreamName = newLogStreamName();
  private readonly worker: Worker;
  private readonly initialized: Promise<Init>;
  private running?: Running;
  private invocations = 0;
  private crash?: Error;
  /** Set as soon as the runtime reports a failed import, before the exit that follows it. */
  private initFailure?: LambdaError;
  alive = true;

  constructor(private readonly options: SandboxOptions) {
    const { config } = options;
    this.worker = new Worker(RUNTIME, {
      env: this.environment(),
      // A clean runtime: not the host's loaders (tsx, Jest's flags), only what the function asks for.
      execArgv: wantsSourceMaps(options.environment) ? ['--enable-source-maps'] : [],
      stdout: true,
      stderr: true,
      // The old generation is the function's memory; the young one is kept small, as V8 sizes it by
      // the machine rather than by one of a dozen sandboxes sharing it (npm run bench: less resident
      // memory at the same throughput).
      resourceLimits: {
        maxOldGenerationSizeMb: config.memorySize,
        maxYoungGenerationSizeMb: YOUNG_GENERATION_MB,
      },
      workerData: {
        compileCacheDir: COMPILE_CACHE_DIR,
        niceness: config.servesRequests ? undefined : BACKGROUND_NICENESS,
        bundlePath: config.bundlePath,
        handlerExport: config.handlerExport,
        handlerName: handlerSetting(config),
        functionName: config.name,
        functionVersion: '$LATEST',
        invokedFunctionArn: config.arn,
        memoryLimitInMB: String(config.memorySize),
        logGroupName: `/aws/lambda/${config.name}`,
        logStreamName: this.logStreamName,
      },
    });
    this.readLines(this.worker.stdout);
    this.readLines(this.worker.stderr);
    this.initialized = this.watchInit();
    this.worker.on('message', (message: RuntimeMessage) => this.onMessage(message));
    this.worker.on('error', (error) => {
      this.crash = error;
    });
    this.worker.on('exit', (code) => this.onExit(code));
  }

  /** Runs one invocation; the caller (the pool) never sends a second before this settles. */
  invoke(requestId: string, event: string, traceId: string): Promise<SandboxOutcome> {
    const coldStart = this.invocations++ === 0;
    const timeoutMs = this.options.config.timeout * 1000;
    return new Promise((resolve) => {
      // While the bundle is still being imported, the init phase's own limit runs first.
      const timer = setTimeout(() => this.timeOut(), coldStart ? INIT_LIMIT_MS + timeoutMs : timeoutMs);
      this.running = { requestId, coldStart, startedAt: performance.now(), timer, resolve };
      void this.initialized.then((init) => {
        const running = this.running;
        if (running?.requestId !== requestId) return; // timed out or crashed while starting
        if (!init.ok) return this.finish({ error: init.error, durationMs: 0 });
        if (coldStart) running.initDurationMs = init.initDurationMs;
        // The function's timeout counts from its handler's call, as on Lambda, not from the import.
        clearTimeout(running.timer);
        running.timer = setTimeout(() => this.timeOut(), timeoutMs);
        running.handlerCalledAt = performance.now();
        const deadline = Date.now() + timeoutMs;
        const message: InvokeMessage = { type: 'invoke', requestId, event, deadline, traceId };
        this.worker.postMessage(message);
      });
    });
  }

  /** How long the current invocation's handler has run (ms); undefined while idle or still initializing. */
  handlerRunningMs(now = performance.now()): number | undefined {
    const calledAt = this.running?.handlerCalledAt;
    return calledAt === undefined ? undefined : now - calledAt;
  }

  /** The worker's V8 heap in use (MB), for the REPORT line; undefined once it has ended. */
  async heapUsedMb(): Promise<number | undefined> {
    try {
      return Math.ceil((await this.worker.getHeapStatistics()).used_heap_size / (1024 * 1024));
    } catch {
      return undefined;
    }
  }

  /** The worker's V8 heap resident in memory (MB), garbage not yet collected included; 0 once ended. */
  async heapResidentMb(): Promise<number> {
    try {
      return (await this.worker.getHeapStatistics()).total_physical_size / (1024 * 1024);
    } catch {
      return 0;
    }
  }

  kill(): void {
    this.alive = false;
    void this.worker.terminate();
  }

  private environment(): Record<string, string> {
    return { ...this.options.environment, AWS_LAMBDA_LOG_STREAM_NAME: this.logStreamName };
  }

  private readLines(stream: Readable): void {
    createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) =>
      this.options.log(line),
    );
  }

  private watchInit(): Promise<Init> {
    return new Promise((resolve) => {
      const onInit = (message: RuntimeMessage) => {
        if (message.type === 'ready') resolve({ ok: true, initDurationMs: message.initDurationMs });
        if (message.type === 'init-error') resolve({ ok: false, error: message.error });
      };
      this.worker.on('message', onInit);
      this.worker.once('exit', (code) =>
        resolve({ ok: false, error: this.crash ? crashError(this.crash) : exitError('init', code) }),
      );
    });
  }

  private onMessage(message: RuntimeMessage): void {
    if (message.type === 'init-error') {
      this.initFailure = message.error;
      this.kill();
    }
    if (
      message.type === 'ready' ||
      message.type === 'init-error' ||
      message.requestId !== this.running?.requestId
    )
      return;
    if (message.type === 'result') this.finish({ payload: message.payload, durationMs: message.durationMs });
    else this.finish({ error: message.error, durationMs: message.durationMs });
  }

  private timeOut(): void {
    const { timeout } = this.options.config;
    this.kill();
    this.finish({
      error: {
        errorType: 'Sandbox.Timedout',
        errorMessage: `Task timed out after ${timeout.toFixed(2)} seconds`,
      },
      durationMs: timeout * 1000,
    });
  }

  private onExit(code: number): void {
    this.alive = false;
    // A worker that has already ended delivers its last messages and its exit in the same turn, so
    // the init error's promise callback has not run yet: the exit must not hide why the worker ended.
    if (this.running && this.initFailure) this.finish({ error: this.initFailure, durationMs: 0 });
    else if (this.running) {
      const error = this.crash ? crashError(this.crash) : exitError(this.running.requestId, code);
      this.finish({ error, durationMs: performance.now() - this.running.startedAt });
    }
    this.options.onExit();
  }

  private finish(outcome: Omit<SandboxOutcome, 'coldStart'>): void {
    const running = this.running;
    if (!running) return;
    this.running = undefined;
    clearTimeout(running.timer);
    running.resolve({ ...outcome, coldStart: running.coldStart, initDurationMs: running.initDurationMs });
  }
}
