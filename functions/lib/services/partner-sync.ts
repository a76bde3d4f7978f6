/**
 * Pushing a store's state to every partner it sells through (issue 9, design point 3).
 *
 * The partner APIs are not conditional: whatever lands last is what the customer sees. So a push
 * never sends what an event said; it reads the store record and sends the whole CURRENT state
 * (status, busy mode, every item), records per partner the versions it sent (never lowering the
 * record), then reads the store again: if it moved past what was sent, it pushes again. An older
 * delivery arriving late therefore pushes the newer state, and of two racing pushes the one that
 * lands last re-checks after landing — if it sent something older, it sees the store moved and
 * sends the current state. The sweep (`resyncLaggingStores`, every minute) catches the rest: a lost
 * event, a push that gave up, a partner that was down.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { pushStoreToPartner } from '../adapters/partner-stores';
import { forgetPartnerSync, readStoreNow, recordPartnerSync } from '../adapters/partner-sync-repo';
import { listStores } from '../adapters/store-repo';
import { logger, metrics } from '../powertools';
import type { PartnerId } from '../schemas/partners/index';
import { shownStoreOf } from '../schemas/partners/store-push';
import type { PartnerSync, Store } from '../schemas/store';

/** Pushes of one sync before it leaves the rest to the newer changes' own events and the sweep. */
export const MAX_SYNC_ROUNDS = 5;

/** One or more partners did not take the push; EventBridge retries the event, then its DLQ. */
export class PartnerSyncFailed extends Error {
  override readonly name = 'PartnerSyncFailed';
}

/** The versions of the store as read: each change grows exactly one of them by one. */
export function versionsOf(store: Store, at: Date): PartnerSync {
  const itemVersions = Object.fromEntries(store.menu.map((item) => [item.sku, item.version ?? 0]));
  const version = store.version ?? 0;
  const changes = version + Object.values(itemVersions).reduce((sum, v) => sum + v, 0);
  return { version, itemVersions, changes, at: at.toISOString() };
}

const sameVersions = (a: PartnerSync, b: PartnerSync) =>
  a.version === b.version &&
  Object.keys(a.itemVersions).length === Object.keys(b.itemVersions).length &&
  Object.entries(a.itemVersions).every(([sku, v]) => b.itemVersions[sku] === v);

const partnersOf = (store: Store) =>
  Object.entries(store.partnerStoreIds).filter((entry): entry is [PartnerId, string] => Boolean(entry[1]));

/** The partners whose recorded push is behind the store's versions (never told: behind too). */
export function laggingPartners(store: Store, now = new Date()): PartnerId[] {
  const current = versionsOf(store, now);
  return partnersOf(store)
    .filter(([partner]) => {
      const synced = store.partnerSync?.[partner];
      return synced === undefined || !sameVersions(synced, current);
    })
    .map(([partner]) => partner);
}

export interface SyncResult {
  storeId: string;
  /** Pushes made (each to every partner of the store); 0 when the store is gone. */
  rounds: number;
  /** The store versions last pushed. */
  pushed?: { version: number; changes: number };
  /** Partner API calls made. */
  calls: number;
}

/** One push of the store as read to every partner; the partners that took it are recorded. */
async function pushRound(store: Store, now: Date): Promise<{ pushed: PartnerSync; calls: number }> {
  const pushed = versionsOf(store, now);
  const shown = shownStoreOf(store);
  const partners = partnersOf(store);
  const answers = await Promise.allSettled(
    partners.map(([partner, partnerStoreId]) => pushStoreToPartner(partner, partnerStoreId, shown, now)),
  );
  let calls = 0;
  const failed: string[] = [];
  for (const [index, answer] of answers.entries()) {
    const [partner] = partners[index] as [PartnerId, string];
    if (answer.status === 'fulfilled') {
      calls += answer.value;
      await recordPartnerSync(store.storeId, partner, pushed, store.partnerSync !== undefined);
    } else {
      failed.push(`${partner}: ${(answer.reason as Error).message}`);
      await forgetPartnerSync(store.storeId, partner);
    }
  }
  metrics.addMetric('PartnerSyncCalls', MetricUnit.Count, calls);
  if (failed.length > 0) {
    metrics.addMetric('PartnerSyncFailed', MetricUnit.Count, failed.length);
    throw new PartnerSyncFailed(`store ${store.storeId} not pushed to ${failed.join('; ')}`);
  }
  return { pushed, calls };
}

/**
 * Makes every partner of the store show its current state. Throws PartnerSyncFailed when a partner
 * did not take it (after recording the ones that did).
 */
export async function syncStoreToPartners(storeId: string, clock = () => new Date()): Promise<SyncResult> {
  let store = await readStoreNow(storeId);
  if (!store) return { storeId, rounds: 0, calls: 0 };
  let calls = 0;
  for (let round = 1; ; round++) {
    const { pushed, calls: made } = await pushRound(store, clock());
    calls += made;
    const current = await readStoreNow(storeId);
    const result = {
      storeId,
      rounds: round,
      pushed: { version: pushed.version, changes: pushed.changes },
      calls,
    };
    if (!current || sameVersions(versionsOf(current, clock()), pushed)) return result;
    if (round === MAX_SYNC_ROUNDS) {
      // Still moving: each newer change has its own event, and the sweep follows within a minute.
      logger.warn('store kept changing during the partner sync', { storeId, rounds: round });
      return result;
    }
    store = current;
  }
}

/** The share of storeSchedules' minute the re-sync may take (its other work and the report need the rest). */
const SWEEP_BUDGET_MS = 30_000;

/**
 * The sweep: re-pushes every store some partner lags behind (a lost event, a sync that gave up, a
 * partner that was down). Stores are few: read with a Scan filtered to store records. One store's
 * failure does not stop the others.
 */
export async function resyncLaggingStores(clock = () => new Date(), budgetMs = SWEEP_BUDGET_MS) {
  const stores = await listStores();
  const lagging = stores.filter((store) => laggingPartners(store, clock()).length > 0);
  const deadline = Date.now() + budgetMs;
  let synced = 0;
  let failed = 0;
  for (const store of lagging) {
    // Partners that hang must not run the scheduled function out of time before it reports: the
    // stores left over count as still lagging, and the next minute's sweep takes them.
    if (Date.now() > deadline) {
      failed += 1;
      continue;
    }
    try {
      await syncStoreToPartners(store.storeId, clock);
      synced += 1;
    } catch (error) {
      failed += 1;
      logger.warn('partner re-sync failed', { storeId: store.storeId, error: (error as Error).message });
    }
  }
  // Stores some partner still lags after this sweep: every minute, 0 included (the alarm's metric).
  metrics.addMetric('StoresLaggingPartners', MetricUnit.Count, failed);
  const result = { stores: stores.length, lagging: lagging.length, synced, failed };
  if (lagging.length > 0) logger.info('partner re-sync sweep', result);
  return result;
}
