/**
 * Fault injection shared by both simulators: latency, a random error rate and "fail the next n
 * calls", each limited to the endpoints named (all by default), answered with a chosen HTTP status.
 * Randomness comes from a seedable PRNG so a test can make a chaos run repeatable.
 */
import { STATUS_CODES } from 'node:http';
import { z } from 'zod';
import { delay, HttpError } from './routes';

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

export const DEFAULT_ERROR_STATUS = 503;

/** The fault fields both simulators accept; missing ones reset to "no fault" (PUT replaces). */
export const BaseFaultsSchema = z.object({
  errorRate: z.number().min(0).max(1).default(0),
  latencyMs: z.number().int().min(0).max(60_000).default(0),
  failNext: z.number().int().min(0).default(0),
  /** What an injected failure answers (a chaos run mixes 404, 500 and 503). */
  errorStatus: z.number().int().min(400).max(599).default(DEFAULT_ERROR_STATUS),
});
export type BaseFaults = z.infer<typeof BaseFaultsSchema>;

/** The base fields plus `endpoints`: the endpoints the faults apply to (omitted: all of them). */
export function faultsSchema<const E extends string>(endpoints: readonly [E, ...E[]]) {
  return BaseFaultsSchema.extend({ endpoints: z.array(z.enum(endpoints)).optional() });
}

export type FaultSettings<E extends string> = BaseFaults & { endpoints: E[] };

const NO_FAULTS: BaseFaults = { errorRate: 0, latencyMs: 0, failNext: 0, errorStatus: DEFAULT_ERROR_STATUS };

/** `INTERNAL_SERVER_ERROR` for 500: the code an injected failure other than 503 carries. */
function codeOf(status: number): string {
  return (STATUS_CODES[status] ?? 'ERROR').toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}

export class FaultInjector<E extends string> {
  settings: FaultSettings<E>;

  constructor(
    readonly random: () => number,
    private readonly allEndpoints: readonly E[],
  ) {
    this.settings = { ...NO_FAULTS, endpoints: [...allEndpoints] };
  }

  set({ endpoints, ...settings }: BaseFaults & { endpoints?: E[] | undefined }): void {
    this.settings = { ...settings, endpoints: [...(endpoints ?? this.allEndpoints)] };
  }

  clear(): void {
    this.settings = { ...NO_FAULTS, endpoints: [...this.allEndpoints] };
  }

  /** Whether the faults apply to calls of this endpoint. */
  covers(endpoint: E): boolean {
    return this.settings.endpoints.includes(endpoint);
  }

  /** True with the given probability, drawn from the simulator's PRNG. */
  chance(rate: number): boolean {
    return rate > 0 && this.random() < rate;
  }

  /** Waits the configured latency, then says whether this call is one that fails. */
  async strike(endpoint: E): Promise<boolean> {
    if (!this.covers(endpoint)) return false;
    await delay(this.settings.latencyMs);
    if (this.settings.failNext > 0) {
      this.settings.failNext -= 1;
      return true;
    }
    return this.chance(this.settings.errorRate);
  }

  /**
   * Waits the latency and throws the injected failure when this call is one: `unavailableCode` for
   * 503 (what the system says when it is down), the status's own name for any other status.
   */
  async admit(endpoint: E, unavailableCode: string, what: string): Promise<void> {
    if (!(await this.strike(endpoint))) return;
    const status = this.settings.errorStatus;
    const code = status === DEFAULT_ERROR_STATUS ? unavailableCode : codeOf(status);
    throw new HttpError(status, code, `${what} is failing (injected fault)`);
  }
}
