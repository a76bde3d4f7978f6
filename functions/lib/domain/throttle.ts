/**
 * Throttling per store (the noisy-neighbour lesson: throttle before the queue). A store takes at most
 * `ordersPerWindow` orders per `windowMinutes`; windows are aligned on the clock (UTC, from midnight),
 * so every order of a window counts against the same counter whoever computes it. An order goes
 * into the window of its pickup (now for ASAP); when that one is full, the next window with room,
 * up to an hour ahead; none with room is STORE_BUSY.
 */
import type { Store } from '../schemas/store';

/** How far ahead an order's pickup may be moved before it is refused STORE_BUSY. */
export const THROTTLE_HORIZON_MINUTES = 60;

export type Throttle = NonNullable<Store['throttle']>;

/** The start of the window `at` falls in. */
export function windowStartOf(at: Date, windowMinutes: number): Date {
  const size = windowMinutes * 60_000;
  return new Date(Math.floor(at.getTime() / size) * size);
}

export interface WindowChoice {
  /** The window's start (ISO): the counter's key. */
  window: string;
  /**
   * The pickup the order gets when it goes into this window: its own in the first window; in a later
   * one, that window's start (the earliest time the window has room for).
   */
  pickupAt: string | undefined;
  moved: boolean;
}

/**
 * The windows to try, in order: the one of the order's pickup (now for ASAP), then each later window
 * whose start is within the hour after that pickup. Claiming stops at the first with room.
 */
export function candidateWindows(
  throttle: Throttle,
  pickupAt: string | undefined,
  now: Date,
): WindowChoice[] {
  const wanted = pickupAt === undefined ? now : new Date(Math.max(Date.parse(pickupAt), now.getTime()));
  const size = throttle.windowMinutes * 60_000;
  const first = windowStartOf(wanted, throttle.windowMinutes);
  const last = wanted.getTime() + THROTTLE_HORIZON_MINUTES * 60_000;
  const choices: WindowChoice[] = [{ window: first.toISOString(), pickupAt, moved: false }];
  for (let start = first.getTime() + size; start <= last; start += size) {
    const at = new Date(start).toISOString();
    choices.push({ window: at, pickupAt: at, moved: true });
  }
  return choices;
}
