/**
 * POS health per store (issue 9): the scheduled probe, and the failure count an order's FAILED
 * POS_UNAVAILABLE ending adds. After `POS_FAILURES_BEFORE_PAUSE` failures in a row the store is paused
 * by `pos-health` (reason POS_UNAVAILABLE), which every partner is then told through the store
 * events; when its POS answers again, a store POS health paused comes back online. An operator's
 * pause or offline is never lifted: stores.ts's rules decline it.
 *
 * A success resets the count: the probe's, and an order's POS create when validation read failures
 * on the store (so the happy path, with none, makes no extra DynamoDB call).
 */
import { checkStorePosHealth } from '../adapters/pos-client';
import { addPosFailure, resetPosFailures } from '../adapters/pos-health-repo';
import { listStores } from '../adapters/store-repo';
import { config } from '../config';
import { failuresPauseStore, pausedByPosHealth, posFailuresOf } from '../domain/pos-health';
import { logger, metrics } from '../powertools';
import type { Store } from '../schemas/store';
import { pauseForPosHealth, resumeAfterPosHealth } from './stores';

/** One more POS failure for the store; at K in a row it is paused (only if it is online). */
export async function recordPosFailure(
  storeId: string,
  now = new Date(),
): Promise<{ consecutiveFailures: number; paused: boolean }> {
  const consecutiveFailures = await addPosFailure(storeId);
  if (!failuresPauseStore(consecutiveFailures, config.posFailuresBeforePause))
    return { consecutiveFailures, paused: false };
  const { applied } = await pauseForPosHealth(storeId, now);
  if (applied) {
    metrics.addMetric('StorePausedByPosHealth', 'Count', 1);
    logger.warn('store paused: its POS failed too many times in a row', { storeId, consecutiveFailures });
  }
  return { consecutiveFailures, paused: applied };
}

/**
 * Counts an order's FAILED POS_UNAVAILABLE ending against its store, best effort: the ending is
 * already written and paid; a count that fails only delays the pause to the next probe.
 */
export async function countFailedOrderAgainstPos(storeId: string, now = new Date()): Promise<void> {
  try {
    await recordPosFailure(storeId, now);
  } catch (error) {
    logger.warn('POS failure not counted for the store; the probe still sees the POS', { storeId, error });
  }
}

/**
 * An order's POS create succeeded after the store had failures in a row: the count starts again
 * (best effort; the next probe resets it too). A pause stays until the probe lifts it.
 */
export async function countPosSuccess(storeId: string): Promise<void> {
  try {
    await resetPosFailures(storeId);
  } catch (error) {
    logger.warn('POS failure count not reset for the store; the probe resets it', { storeId, error });
  }
}

/** The POS answered: the count starts again, and a store POS health paused comes back. */
async function posAnswered(store: Store, now: Date): Promise<boolean> {
  if (posFailuresOf(store) > 0) await resetPosFailures(store.storeId);
  if (!pausedByPosHealth(store)) return false;
  const { applied } = await resumeAfterPosHealth(store.storeId, now);
  if (applied) logger.info('store back online: its POS answers again', { storeId: store.storeId });
  return applied;
}

export interface ProbeResult {
  probed: number;
  failing: number;
  paused: number;
  resumed: number;
  /** Stores paused by POS health after this probe (the StoresPausedByPosHealth metric). */
  pausedByPosHealth: number;
}

/** Stores probed at once: a POS that hangs costs its timeout, not the whole run's minute. */
const PROBES_AT_ONCE = 8;

/**
 * Probes every store's POS (`GET /pos/v1/stores/{storeId}/health`), a few stores at a time. One store
 * failing to be probed or changed does not stop the others; the next minute tries again.
 */
export async function probePosHealth(now = new Date()): Promise<ProbeResult> {
  const result: ProbeResult = { probed: 0, failing: 0, paused: 0, resumed: 0, pausedByPosHealth: 0 };
  const stores = await listStores();
  let next = 0;
  const worker = async () => {
    for (let store = stores[next++]; store; store = stores[next++]) await probeStore(store, now, result);
  };
  await Promise.all(Array.from({ length: Math.min(PROBES_AT_ONCE, stores.length) }, worker));
  metrics.addMetric('StoresPausedByPosHealth', 'Count', result.pausedByPosHealth);
  return result;
}

async function probeStore(store: Store, now: Date, result: ProbeResult): Promise<void> {
  result.probed++;
  let healthy = true;
  try {
    await checkStorePosHealth(store.storeId);
  } catch (error) {
    healthy = false;
    result.failing++;
    logger.warn('POS health check failed', { storeId: store.storeId, error });
  }
  try {
    if (healthy) {
      if (await posAnswered(store, now)) result.resumed++;
      else if (pausedByPosHealth(store)) result.pausedByPosHealth++;
    } else {
      const { paused } = await recordPosFailure(store.storeId, now);
      if (paused) result.paused++;
      if (paused || pausedByPosHealth(store)) result.pausedByPosHealth++;
    }
  } catch (error) {
    logger.error('POS health change failed', { storeId: store.storeId, error });
    if (pausedByPosHealth(store)) result.pausedByPosHealth++;
  }
}
