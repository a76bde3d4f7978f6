/**
 * POS health per store: K consecutive POS failures (health probes that fail, orders that end FAILED
 * POS_UNAVAILABLE after their retries) pause the store; a healthy answer resets the count and brings
 * back a store POS health paused itself. Whether a pause or a resume may apply is store-state.ts's
 * rule (`posHealthPauses`, `posHealthResumes`): an operator's pause or offline is never lifted here.
 */
import type { Store } from '../schemas/store';

/** The failures in a row the store has had, as read (absent: none). */
export const posFailuresOf = (store: Pick<Store, 'posHealth'>): number =>
  store.posHealth?.consecutiveFailures ?? 0;

/** Enough failures in a row to pause the store: K and every one after it (a pause that lost a race is tried again). */
export const failuresPauseStore = (consecutiveFailures: number, failuresBeforePause: number): boolean =>
  consecutiveFailures >= failuresBeforePause;

/** A store POS health paused itself (the only kind a healthy probe brings back). */
export const pausedByPosHealth = (store: Pick<Store, 'status' | 'changedBy'>): boolean =>
  store.status === 'paused' && store.changedBy === 'pos-health';
