/**
 * Changing a store (ARCHITECTURE section 7): each change reads the store, asks the rules
 * (domain/store-state.ts), writes ONE conditional UpdateItem on the version it read — a lost race
 * reads again and re-decides, a few times — then publishes `StoreStatusChanged` or
 * `ItemAvailabilityChanged` with the version it wrote.
 *
 * An event that cannot be published after its write is logged, not thrown: the change stands, and
 * the partner sync's sweep (storeSchedules) pushes any store whose partners lag its versions.
 */

import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { z } from 'zod';
import { publishStoreEvent } from '../adapters/event-bus';
import {
  getStore,
  listStores,
  writeItemChange,
  writeStoreChange,
  writeThrottle,
} from '../adapters/store-repo';
import { InvalidPayload, NotFound } from '../domain/errors';
import {
  type Busy,
  type ItemChange,
  isRefused,
  operatorClearsBusy,
  operatorSetsBusy,
  operatorSetsItem,
  operatorSetsStatus,
  posHealthPauses,
  posHealthResumes,
  type Refused,
  type StoreChange,
  scheduleExpiresItems,
  scheduleExpiresStore,
} from '../domain/store-state';
import { logger, metrics } from '../powertools';
import { EVENT_SCHEMA_VERSION } from '../schemas/events';
import type {
  MenuItem,
  SetItemAvailabilityRequest,
  SetStoreStatusRequest,
  SetThrottleRequestSchema,
  Store,
  StoreView,
} from '../schemas/store';

/** Attempts of one change when other writers keep moving the store's version under it. */
export const MAX_CHANGE_ATTEMPTS = 5;

/** The store after a change, and whether the change was applied (the rules may decline it). */
export interface StoreChangeResult {
  store: Store;
  applied: boolean;
}

/** Another writer moved the store every time we read it; rare enough to be an error (500). */
export class StoreChangeContended extends Error {
  override readonly name = 'StoreChangeContended';
}

type Decision<C> = C | Refused | undefined;

async function readStore(storeId: string): Promise<Store> {
  const store = await getStore(storeId);
  if (!store) throw new NotFound(`no store ${storeId}`);
  return store;
}

/** Read, decide, write on the version read; again on a lost race. Refused → 400; declined → not applied. */
async function changeStore(
  storeId: string,
  decide: (store: Store) => Decision<StoreChange>,
  now: Date,
): Promise<StoreChangeResult> {
  for (let attempt = 1; attempt <= MAX_CHANGE_ATTEMPTS; attempt++) {
    const store = await readStore(storeId);
    const change = decide(store);
    if (change === undefined) return { store, applied: false };
    if (isRefused(change)) throw new InvalidPayload(change.refused);
    const written = await writeStoreChange(storeId, change);
    if (!written) continue; // the version moved (or the store went): read again
    await publish(() =>
      publishStoreEvent('StoreStatusChanged', {
        schemaVersion: EVENT_SCHEMA_VERSION,
        eventId: `${storeId}/StoreStatusChanged/${change.version}`,
        storeId,
        status: written.status,
        ...(written.reason !== undefined && { reason: written.reason }),
        ...(written.until !== undefined && { until: written.until }),
        ...(written.busy !== undefined && { busy: written.busy }),
        changedBy: change.changedBy,
        version: change.version,
        occurredAt: now.toISOString(),
      }),
    );
    return { store: written, applied: true };
  }
  throw new StoreChangeContended(`store ${storeId} kept changing under ${MAX_CHANGE_ATTEMPTS} attempts`);
}

async function changeItem(
  storeId: string,
  sku: string,
  decide: (item: MenuItem) => Decision<ItemChange>,
  now: Date,
): Promise<StoreChangeResult> {
  for (let attempt = 1; attempt <= MAX_CHANGE_ATTEMPTS; attempt++) {
    const store = await readStore(storeId);
    const index = store.menu.findIndex((item) => item.sku === sku);
    const item = store.menu[index];
    if (!item) throw new NotFound(`store ${storeId} has no item ${sku}`);
    const change = decide(item);
    if (change === undefined) return { store, applied: false };
    if (isRefused(change)) throw new InvalidPayload(change.refused);
    const written = await writeItemChange(storeId, index, change);
    if (!written) continue;
    await publish(() =>
      publishStoreEvent('ItemAvailabilityChanged', {
        schemaVersion: EVENT_SCHEMA_VERSION,
        eventId: `${storeId}/${sku}/ItemAvailabilityChanged/${change.version}`,
        storeId,
        sku,
        available: change.available,
        ...(change.until !== undefined && { until: change.until }),
        changedBy: change.changedBy,
        version: change.version,
        occurredAt: now.toISOString(),
      }),
    );
    return { store: written, applied: true };
  }
  throw new StoreChangeContended(
    `item ${sku} of store ${storeId} kept changing under ${MAX_CHANGE_ATTEMPTS} attempts`,
  );
}

async function publish(put: () => Promise<void>): Promise<void> {
  try {
    await put();
  } catch (error) {
    // The write stands; the partner sync's sweep pushes stores whose partners lag their versions.
    logger.error('store event not published', error as Error);
    metrics.addMetric('StoreEventsUnpublished', MetricUnit.Count, 1);
  }
}

// ── operator ───────────────────────────────────────────────────────────────

export function setStoreStatus(
  storeId: string,
  request: SetStoreStatusRequest,
  now = new Date(),
): Promise<StoreChangeResult> {
  return changeStore(storeId, (store) => operatorSetsStatus(store, request, now), now);
}

export function setItemAvailability(
  storeId: string,
  sku: string,
  request: SetItemAvailabilityRequest,
  now = new Date(),
): Promise<StoreChangeResult> {
  return changeItem(storeId, sku, (item) => operatorSetsItem(item, request, now), now);
}

export function setBusy(storeId: string, busy: Busy, now = new Date()): Promise<StoreChangeResult> {
  return changeStore(storeId, (store) => operatorSetsBusy(store, busy, now), now);
}

export function clearBusy(storeId: string, now = new Date()): Promise<StoreChangeResult> {
  return changeStore(storeId, operatorClearsBusy, now);
}

export type Throttle = z.infer<typeof SetThrottleRequestSchema>;

/** Throttling is ours alone: no version, no event (partners are told later pickups, not the cap). */
export async function setThrottle(storeId: string, throttle: Throttle): Promise<StoreChangeResult> {
  const store = await writeThrottle(storeId, throttle);
  if (!store) throw new NotFound(`no store ${storeId}`);
  return { store, applied: true };
}

export async function clearThrottle(storeId: string): Promise<StoreChangeResult> {
  const store = await writeThrottle(storeId, null);
  if (!store) throw new NotFound(`no store ${storeId}`);
  return { store, applied: true };
}

// ── POS health ─────────────────────────────────────────────────────────────

/** Pauses an online store (reason POS_UNAVAILABLE); any other status is left alone (`applied: false`). */
export function pauseForPosHealth(storeId: string, now = new Date()): Promise<StoreChangeResult> {
  return changeStore(storeId, posHealthPauses, now);
}

/** Resumes a store only if POS health paused it; an operator's pause or offline stays. */
export function resumeAfterPosHealth(storeId: string, now = new Date()): Promise<StoreChangeResult> {
  return changeStore(storeId, posHealthResumes, now);
}

// ── schedule ───────────────────────────────────────────────────────────────

/**
 * Ends every pause, busy mode and 86 whose `until` is at or before `now` (changedBy `schedule`).
 * One store failing does not stop the others; the next minute tries it again.
 */
export async function expireStoreStates(now = new Date()): Promise<{ stores: number; items: number }> {
  const ended = { stores: 0, items: 0 };
  for (const store of await listStores()) {
    try {
      if (scheduleExpiresStore(store, now)) {
        const { applied } = await changeStore(
          store.storeId,
          (fresh) => scheduleExpiresStore(fresh, now),
          now,
        );
        if (applied) ended.stores++;
      }
      for (const { sku } of scheduleExpiresItems(store, now)) {
        const { applied } = await changeItem(
          store.storeId,
          sku,
          (item) => scheduleExpiresItems({ ...store, menu: [item] }, now)[0],
          now,
        );
        if (applied) ended.items++;
      }
    } catch (error) {
      logger.error('store expiry failed', { storeId: store.storeId, error });
    }
  }
  return ended;
}

// ── the view ───────────────────────────────────────────────────────────────

/** What `GET /stores/{storeId}` and the store PUTs/DELETEs answer (StoreViewSchema). */
export function storeView(store: Store): StoreView {
  const { storeId, name, status, reason, until, changedBy, busy, throttle, menu } = store;
  return {
    storeId,
    name,
    status,
    ...(reason !== undefined && { reason }),
    ...(until !== undefined && { until }),
    ...(changedBy !== undefined && { changedBy }),
    version: store.version ?? 0,
    ...(busy !== undefined && { busy }),
    ...(throttle !== undefined && { throttle }),
    menu: menu.map(({ sku, name: itemName, price, available, until: itemUntil, version }) => ({
      sku,
      name: itemName,
      price,
      available,
      ...(itemUntil !== undefined && { until: itemUntil }),
      ...(version !== undefined && { version }),
    })),
  };
}
