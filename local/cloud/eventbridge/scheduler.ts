/**
 * Fires scheduled rules the way EventBridge does: at the start of each whole minute (UTC) the
 * schedule names, a rate counting whole periods from the minute its rule was created. One timer,
 * re-armed minute by minute, serves every rule. A minute missed while the machine was asleep (or
 * the cloud stopped) is not replayed: AWS does not catch up either.
 */
import { floorToMinute, type Schedule } from './schedule';

const MINUTE_MS = 60_000;
/** Timers may wake a little before the wall clock reaches the minute (they follow a different clock). */
const EARLY_WAKE_TOLERANCE_MS = 1_000;

/** Time and timers, injectable so tests move through minutes without waiting for them. */
export interface ScheduleClock {
  now(): number;
  /** Runs `callback` after `delayMs`; the timer must not keep the process alive. */
  setTimer(callback: () => void, delayMs: number): { cancel(): void };
}

export const systemClock: ScheduleClock = {
  now: () => Date.now(),
  setTimer(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

export interface ScheduledRule {
  name: string;
  schedule: Schedule;
  /** When the rule was created (or last put): a rate counts its periods from this minute. */
  createdAt: number;
  enabled(): boolean;
}

export class RuleScheduler {
  private readonly scheduled = new Map<string, ScheduledRule>();
  private timer?: { cancel(): void };
  /** The minute the timer is armed for. */
  private due = 0;

  constructor(
    private readonly clock: ScheduleClock,
    private readonly fire: (ruleName: string, minute: Date) => void,
  ) {}

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Adds or replaces a rule's schedule. */
  set(rule: ScheduledRule): void {
    this.scheduled.set(rule.name, rule);
  }

  delete(ruleName: string): void {
    this.scheduled.delete(ruleName);
  }

  start(): void {
    if (this.timer) return;
    this.arm(floorToMinute(this.clock.now()) + MINUTE_MS);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(minute: number): void {
    this.due = minute;
    this.timer = this.clock.setTimer(() => this.tick(), Math.max(0, minute - this.clock.now()));
  }

  private tick(): void {
    if (!this.timer) return;
    const now = this.clock.now();
    if (now < this.due - EARLY_WAKE_TOLERANCE_MS) {
      this.arm(this.due); // the wall clock went back: wait for the minute again
      return;
    }
    // Late by a minute or more (a suspended machine): the missed minutes are gone, this one still counts.
    const minute = now >= this.due + MINUTE_MS ? floorToMinute(now) : this.due;
    this.arm(minute + MINUTE_MS);
    for (const rule of this.scheduled.values()) {
      if (rule.enabled() && firesAt(rule, minute)) this.fire(rule.name, new Date(minute));
    }
  }
}

function firesAt(rule: ScheduledRule, minute: number): boolean {
  return rule.schedule.nextFireTime(new Date(minute - 1), new Date(rule.createdAt))?.getTime() === minute;
}
