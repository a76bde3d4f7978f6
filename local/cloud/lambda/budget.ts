/**
 * One budget of sandboxes shared by every function of the local cloud, since they share one
 * laptop's memory (each sandbox is a worker thread with its own V8 heap):
 *  - a function below its concurrency starts a sandbox while the total is under the limit;
 *  - at the limit, the least recently used idle sandbox of any function is ended to make room;
 *  - with none idle, the function waits, and the next sandbox to go idle anywhere is ended for it;
 *  - a function with no sandbox at all gets one even then (over the limit), so none is starved;
 *  - a sandbox idle for `idleMs` is ended (Lambda, too, reaps idle execution environments).
 * Each sandbox still runs one invocation at a time with its own module state: only how many
 * exist at once, and for how long, differs from one function's pool of up to its concurrency.
 */
import type { Sandbox } from './sandbox';

/** What the budget asks of a function's pool. */
export interface BudgetedPool {
  /** Sandboxes alive (running, idle or starting). */
  readonly size: number;
  /** Has invocations waiting that a new sandbox could serve (it is below its concurrency). */
  readonly starving: boolean;
  /** Ends one of its idle sandboxes now. */
  evict(sandbox: Sandbox): void;
  /** Starts a sandbox for its longest-waiting invocation; false when it no longer needs one. */
  startForWaiter(): boolean;
}

interface IdleEntry {
  pool: BudgetedPool;
  timer: NodeJS.Timeout;
}

export interface SandboxBudgetOptions {
  /** Sandboxes alive at once across every function. */
  limit: number;
  /** An idle sandbox is ended after this long. */
  idleMs: number;
}

export class SandboxBudget {
  private live = 0;
  /** Idle sandboxes, least recently used first (a Map keeps insertion order). */
  private readonly idle = new Map<Sandbox, IdleEntry>();
  /** Pools with invocations waiting for a sandbox the budget had no room for, first come first served. */
  private readonly starved: BudgetedPool[] = [];

  constructor(readonly options: SandboxBudgetOptions) {}

  /** Sandboxes alive now, across every function. */
  get size(): number {
    return this.live;
  }

  /** May `pool` start a sandbox now? At the limit, ends the least recently used idle one to make room. */
  mayStart(pool: BudgetedPool): boolean {
    if (this.live < this.options.limit) return true;
    const [oldest] = this.idle;
    if (oldest) {
      const [sandbox, entry] = oldest;
      this.forget(sandbox);
      entry.pool.evict(sandbox);
      return true;
    }
    return pool.size === 0;
  }

  started(): void {
    this.live++;
  }

  /** `pool` has an invocation waiting that a new sandbox could serve, once there is room. */
  starve(pool: BudgetedPool): void {
    if (!this.starved.includes(pool)) this.starved.push(pool);
  }

  /** Another function waits for room: a sandbox going idle in `pool` should end instead. */
  othersWait(pool: BudgetedPool): boolean {
    return this.starved.some((waiting) => waiting !== pool && waiting.starving);
  }

  /** A sandbox finished its invocation and nobody of its function waits: it stays warm until reaped. */
  idled(pool: BudgetedPool, sandbox: Sandbox): void {
    this.forget(sandbox);
    const timer = setTimeout(() => {
      this.forget(sandbox);
      pool.evict(sandbox);
    }, this.options.idleMs);
    timer.unref();
    this.idle.set(sandbox, { pool, timer });
  }

  /** An idle sandbox is taken for an invocation (or ended by its pool). */
  forget(sandbox: Sandbox): void {
    const entry = this.idle.get(sandbox);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.idle.delete(sandbox);
  }

  /** A sandbox's worker has exited: its room goes to the pools waiting for it. */
  ended(sandbox: Sandbox): void {
    this.forget(sandbox);
    this.live--;
    while (this.starved.length > 0) {
      const pool = this.starved[0]!;
      if (this.live >= this.options.limit && pool.size > 0) return;
      this.starved.shift();
      if (pool.startForWaiter() && this.live >= this.options.limit) return;
    }
  }
}
