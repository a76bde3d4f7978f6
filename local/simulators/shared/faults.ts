/**
 * Fault injection shared by both simulators: latency, a random error rate and "fail the next n
 * calls". Randomness comes from a seedable PRNG so a test can make a chaos run repeatable.
 */
import { z } from 'zod';
import { delay } from './http';

/** mulberry32: tiny, fast and good enough to decide which calls fail. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The fault fields both simulators accept; missing ones reset to "no fault" (PUT replaces). */
export const BaseFaultsSchema = z.object({
  errorRate: z.number().min(0).max(1).default(0),
  latencyMs: z.number().int().min(0).max(60_000).default(0),
  failNext: z.number().int().min(0).default(0),
});
export type BaseFaults = z.infer<typeof BaseFaultsSchema>;

export const NO_FAULTS: BaseFaults = { errorRate: 0, latencyMs: 0, failNext: 0 };

export class FaultInjector {
  settings: BaseFaults = { ...NO_FAULTS };

  constructor(readonly random: () => number) {}

  set(settings: BaseFaults): void {
    this.settings = { ...settings };
  }

  clear(): void {
    this.settings = { ...NO_FAULTS };
  }

  /** True with the given probability, drawn from the simulator's PRNG. */
  chance(rate: number): boolean {
    return rate > 0 && this.random() < rate;
  }

  /** Waits the configured latency, then says whether this call is one that fails. */
  async strike(): Promise<boolean> {
    await delay(this.settings.latencyMs);
    if (this.settings.failNext > 0) {
      this.settings.failNext -= 1;
      return true;
    }
    return this.chance(this.settings.errorRate);
  }
}
