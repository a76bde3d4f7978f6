/**
 * When an order is picked up, and when its kitchen must start: the window a partner's pickup time
 * must fall in, and how long the workflow waits before releasing the order to the kitchen.
 */
import type { Store } from '../schemas/store';

/** A pickup this far in the past is clock skew between the partner and us, not a stale order. */
export const PICKUP_CLOCK_SKEW_SECONDS = 5 * 60;
/** Partners take orders at most a week ahead; anything later is a mistake (a date in another year). */
export const PICKUP_HORIZON_SECONDS = 7 * 24 * 3600;
/** An order due later than this is scheduled: it waits for its kitchen start, not for the courier. */
export const SCHEDULED_AFTER_SECONDS = 3600;
/** The kitchen's prep time for a store that does not say its own. */
export const DEFAULT_PREP_MINUTES = 15;

const secondsUntil = (at: string, now: Date): number => Math.ceil((Date.parse(at) - now.getTime()) / 1000);

/**
 * Why a pickup time cannot be taken, or undefined when it can: it must lie in [now − 5 min,
 * now + 7 days]. One in 1969 or next month is a partner's mistake, and taking it would strand the
 * order in the workflow. No pickup time means ASAP.
 */
export function pickupRefusal(pickupAt: string | undefined, now: Date): string | undefined {
  if (pickupAt === undefined) return undefined;
  const seconds = secondsUntil(pickupAt, now);
  if (Number.isNaN(seconds)) return `pickup time ${pickupAt} is not a time`;
  if (seconds < -PICKUP_CLOCK_SKEW_SECONDS)
    return `pickup time ${pickupAt} has passed (now ${now.toISOString()})`;
  if (seconds > PICKUP_HORIZON_SECONDS)
    return `pickup time ${pickupAt} is more than 7 days ahead (now ${now.toISOString()})`;
  return undefined;
}

/** The minutes a store's kitchen needs before pickup. */
export function prepMinutesOf(store: Pick<Store, 'prepMinutes'>): number {
  return store.prepMinutes ?? DEFAULT_PREP_MINUTES;
}

/** A busy kitchen's extra minutes (busy mode), 0 when it is not busy or its busy mode has ended. */
export function busyMinutesOf(store: Pick<Store, 'busy'>, now: Date): number {
  const busy = store.busy;
  if (!busy) return 0;
  if (busy.until !== undefined && Date.parse(busy.until) <= now.getTime()) return 0;
  return busy.extraPrepMinutes;
}

/**
 * The pickup time the accept call sends for a busy kitchen: the partner's pickup (now for ASAP) plus
 * the busy minutes. Not busy: the order's own pickup, unchanged (absent for ASAP).
 */
export function busyPickupAt(
  pickupAt: string | undefined,
  busyMinutes: number,
  now: Date,
): string | undefined {
  if (busyMinutes <= 0) return pickupAt;
  const from = pickupAt === undefined ? now.getTime() : Math.max(Date.parse(pickupAt), now.getTime());
  return new Date(from + busyMinutes * 60_000).toISOString();
}

export interface ReleaseTiming {
  /** The partner's pickup time (ISO); absent for an ASAP order. */
  pickupAt: string | undefined;
  now: Date;
  /** The stage's longest wait for a courier (config.maxCourierWaitSeconds). */
  maxCourierWaitSeconds: number;
  /** The store's prep minutes (prepMinutesOf(store)). */
  prepMinutes: number;
  /** A busy kitchen's extra minutes (busyMinutesOf(store)); absent or 0 when it is not busy. */
  busyMinutes?: number;
}

/**
 * Seconds from now until the order is released to the kitchen, unless the courier comes first.
 * ASAP or due within the hour: until the pickup time, at least 1 s, at most the courier wait.
 * Scheduled (due over an hour ahead): until the pickup time less the kitchen's prep minutes, at least 1 s.
 * A busy kitchen's extra minutes move the pickup later and the courier with it, so an ASAP or soon
 * order waits that much longer; a scheduled one is released at the same moment (its pickup moves
 * later by the busy minutes, and its kitchen needs as many more).
 */
export function releaseDelaySeconds({
  pickupAt,
  now,
  maxCourierWaitSeconds,
  prepMinutes,
  busyMinutes = 0,
}: ReleaseTiming): number {
  const busySeconds = Math.max(0, busyMinutes) * 60;
  if (pickupAt === undefined) return maxCourierWaitSeconds + busySeconds;
  const untilPickup = secondsUntil(pickupAt, now);
  if (untilPickup > SCHEDULED_AFTER_SECONDS) return Math.max(1, untilPickup - prepMinutes * 60);
  return Math.min(maxCourierWaitSeconds, Math.max(1, untilPickup)) + busySeconds;
}
