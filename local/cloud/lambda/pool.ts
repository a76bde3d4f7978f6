/**
 * The execution environments of one function: reuses warm sandboxes (most recently used first, so
 * the same few stay warm) and queues further invocations in order. It starts with one sandbox and
 * adds another, up to its concurrency, only when an invocation is waiting and every sandbox's handler
 * has been running for `scaleAfterMs` (one still initializing will be free soon): on a laptop's few
 * cores a second sandbox adds orders per second only while the first waits on something slow (a POS
 * past its timeout, a partner's latency), never while the cores are simply busy — then it adds a V8
 * heap and nothing else (npm run bench).
 * A function serving requests also grows once more than `maxWaiting` invocations wait for a sandbox
 * that is running its handler: its callers wait on the answers, and on AWS they would not queue. A
 * few waiting behind a cold start, or behind one quick request, are served sooner by the sandbox
 * they wait for than by a new one (and each new one is a V8 heap more).
 * Which idle sandboxes stay warm, and for how long, the budget shared by every function decides
 * (budget.ts).
 */
import { performance } from 'node:perf_hooks';
import type { BudgetedPool, SandboxBudget } from './budget';
import type { Sandbox, SandboxOutcome } from './sandbox';

interface Waiter {
  resolve: (sandbox: Sandbox) => void;
  reject: (error: Error) => void;
}

export class PoolClosedError extends Error {
  override name = 'PoolClosedError';
}

export class FunctionPool implements BudgetedPool {
  private readonly sandboxes = new Set<Sandbox>();
  private readonly idle: Sandbox[] = [];
  private readonly waiting: Waiter[] = [];
  private scaleCheck: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly concurrency: number,
    private readonly createSandbox: (onExit: () => void) => Sandbox,
    private readonly budget: SandboxBudget,
    private readonly scaleAfterMs = 0,
    private readonly maxWaiting = Number.POSITIVE_INFINITY,
  ) {}

  async run(requestId: string, event: string, traceId: string): Promise<SandboxOutcome> {
    const sandbox = await this.acquire();
    try {
      return await sandbox.invoke(requestId, event, traceId);
    } finally {
      this.release(sandbox);
    }
  }

  /** The sandboxes alive now (running, idle or starting). */
  live(): Sandbox[] {
    return [...this.sandboxes];
  }

  close(): void {
    this.closed = true;
    clearInterval(this.scaleCheck);
    for (const waiter of this.waiting.splice(0))
      waiter.reject(new PoolClosedError('the local Lambda is closed'));
    for (const sandbox of this.idle) this.budget.forget(sandbox);
    for (const sandbox of this.sandboxes) sandbox.kill();
    this.idle.length = 0;
  }

  evict(sandbox: Sandbox): void {
    const idleAt = this.idle.indexOf(sandbox);
    if (idleAt >= 0) this.idle.splice(idleAt, 1);
    sandbox.kill(); // retire() follows once its worker has exited
  }

  private acquire(): Promise<Sandbox> {
    if (this.closed) return Promise.reject(new PoolClosedError('the local Lambda is closed'));
    const warm = this.idle.pop();
    if (warm) {
      this.budget.forget(warm);
      return Promise.resolve(warm);
    }
    if (this.sandboxes.size === 0 || (this.mayGrow() && this.allRunningLong()))
      return Promise.resolve(this.spawn());
    const waited = new Promise<Sandbox>((resolve, reject) => this.waiting.push({ resolve, reject }));
    if (this.mayGrow() && this.tooManyWaiting()) this.waiting.shift()?.resolve(this.spawn());
    this.armScaleCheck();
    return waited;
  }

  private spawn(): Sandbox {
    this.budget.starting();
    const sandbox: Sandbox = this.createSandbox(() => this.retire(sandbox));
    this.sandboxes.add(sandbox);
    return sandbox;
  }

  private release(sandbox: Sandbox): void {
    if (!sandbox.alive || this.closed) return; // retire() frees its place once the worker has exited
    const next = this.waiting.shift();
    if (next) next.resolve(sandbox);
    else {
      this.idle.push(sandbox);
      this.budget.idled(this, sandbox);
    }
  }

  /** A sandbox's worker has exited (timeout, crash, or reaped): its place goes to the next waiter. */
  private retire(sandbox: Sandbox): void {
    this.sandboxes.delete(sandbox);
    const idleAt = this.idle.indexOf(sandbox);
    if (idleAt >= 0) this.idle.splice(idleAt, 1);
    this.budget.ended(sandbox);
    if (this.closed) return;
    const next = this.waiting.shift();
    if (next) next.resolve(this.spawn());
  }

  private mayGrow(): boolean {
    return this.sandboxes.size < this.concurrency;
  }

  /** Every sandbox is busy with a handler that has run for `forMs` or more (none is idle here). */
  private allRunningLong(forMs = this.scaleAfterMs): boolean {
    const now = performance.now();
    for (const sandbox of this.sandboxes) {
      const runningMs = sandbox.handlerRunningMs(now);
      if (runningMs === undefined || runningMs < forMs) return false;
    }
    return true;
  }

  /** More than `maxWaiting` invocations wait, and no sandbox is still initializing. */
  private tooManyWaiting(): boolean {
    return this.waiting.length > this.maxWaiting && this.allRunningLong(0);
  }

  /** While invocations wait and the pool may grow, looks again a few times per scaleAfterMs. */
  private armScaleCheck(): void {
    if (this.scaleCheck || this.closed) return;
    this.scaleCheck = setInterval(
      () => {
        if (this.waiting.length === 0 || !this.mayGrow() || this.closed) {
          clearInterval(this.scaleCheck);
          this.scaleCheck = undefined;
        } else if (this.allRunningLong() || this.tooManyWaiting())
          this.waiting.shift()?.resolve(this.spawn());
      },
      Number.isFinite(this.maxWaiting) ? 10 : Math.max(10, this.scaleAfterMs / 4),
    );
  }
}
