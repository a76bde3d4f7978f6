/**
 * How many warm sandboxes the local cloud keeps, across every function: they share one laptop's
 * memory (each sandbox is a worker thread with its own V8 heap).
 *  - a sandbox idle for `idleMs` is ended (Lambda, too, reaps idle execution environments);
 *  - a function starting a sandbox while `limit` or more are alive ends the least recently used
 *    idle sandbox of any function first.
 * The limit never makes an invocation wait: a function still grows to its own concurrency when
 * every sandbox is busy, since a busy sandbox may be waiting on work that needs another (a webhook
 * on the bus, the bus on a workflow). Only sandboxes nobody is using are given up, so under load
 * nothing is ended and restarted, and once the load stops the warm set shrinks back.
 * Each sandbox still runs one invocation at a time with its own module state.
 */
import type { Sandbox } from './sandbox';

/** What the budget asks of a function's pool. */
export interface BudgetedPool {
  /** Ends one of its idle sandboxes now. */
  evict(sandbox: Sandbox): void;
}

interface IdleEntry {
  pool: BudgetedPool;
  timer: NodeJS.Timeout;
}

export interface SandboxBudgetOptions {
  /** Sandboxes alive at once, across every function, beyond which idle ones are ended to start new ones. */
  limit: number;
  /** An idle sandbox is ended after this long. */
  idleMs: number;
}

export class SandboxBudget {
  private live = 0;
  /** Idle sandboxes, least recently used first (a Map keeps insertion order). */
  private readonly idle = new Map<Sandbox, IdleEntry>();

  constructor(readonly options: SandboxBudgetOptions) {}

  /** Sandboxes alive now, across every function. */
  get size(): number {
    return this.live;
  }

  /** A sandbox is about to start: at the limit, the least recently used idle one ends to make room. */
  starting(): void {
    if (this.live >= this.options.limit) {
      const [oldest] = this.idle;
      if (oldest) {
        const [sandbox, { pool }] = oldest;
        this.forget(sandbox);
        pool.evict(sandbox);
      }
    }
    this.live++;
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

  /** A sandbox's worker has exited. */
  ended(sandbox: Sandbox): void {
    this.forget(sandbox);
    this.live--;
  }
}
