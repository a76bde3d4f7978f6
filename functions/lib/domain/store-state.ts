/**
 * The store-state rules (ARCHITECTURE section 7): who may change a store's status, busy mode and item
 * availability, and what a change becomes. Pure: the caller reads the store, asks here, and writes
 * what comes back in one conditional UpdateItem on the version it read.
 *
 * - `operator` sets any status: `paused` with an optional reason and `until`; `online` clears both;
 *   `offline` with an optional reason. `until` must be in the future.
 * - `pos-health` pauses only an `online` store and resumes only a store it paused itself, so an
 *   operator's pause or offline is never lifted by the probe.
 * - `schedule` ends what has an `until` at or before now: a pause (→ online), busy mode, an 86.
 * - `version` (absent: 0) grows by one with every status or busy change of the store; each item has
 *   its own, growing with each availability change. Throttling is ours alone (partners never see
 *   it), so it changes no version.
 * - `changedBy` on the store says who set its current status; a busy change leaves it as it is (a busy
 *   change by an operator must not make a POS-health pause look like an operator's).
 */

import type { z } from 'zod';
import type {
  ChangedBy,
  MenuItem,
  SetBusyRequestSchema,
  SetItemAvailabilityRequest,
  SetStoreStatusRequest,
  Store,
  StoreStatus,
} from '../schemas/store';

export const POS_HEALTH_REASON = 'POS_UNAVAILABLE';

/** The store's status fields after a change; `reason`/`until` absent means removed. */
export interface StatusState {
  status: StoreStatus;
  reason?: string;
  until?: string;
  changedBy: ChangedBy;
}

export type Busy = z.infer<typeof SetBusyRequestSchema>;

/** One change to a store's status and/or busy mode, to be written on `fromVersion`. */
export interface StoreChange {
  changedBy: ChangedBy;
  fromVersion: number;
  version: number;
  /** Absent: the status fields stay as they are. */
  status?: StatusState;
  /** Absent: busy stays as it is; `null`: busy mode ends. */
  busy?: Busy | null;
}

/** One change to an item's availability, to be written on `fromVersion` of that item. */
export interface ItemChange {
  sku: string;
  changedBy: ChangedBy;
  fromVersion: number;
  version: number;
  available: boolean;
  until?: string;
}

/** A change refused for what it asks (HTTP 400). */
export type Refused = { refused: string };
export const isRefused = (value: object): value is Refused => 'refused' in value;

export const storeVersion = (store: Pick<Store, 'version'>): number => store.version ?? 0;
export const itemVersion = (item: Pick<MenuItem, 'version'>): number => item.version ?? 0;

const isPast = (until: string, now: Date): boolean => Date.parse(until) <= now.getTime();

function storeChange(
  store: Store,
  changedBy: ChangedBy,
  change: Pick<StoreChange, 'status' | 'busy'>,
): StoreChange {
  const fromVersion = storeVersion(store);
  return { changedBy, fromVersion, version: fromVersion + 1, ...change };
}

// ── operator ────────────────────────────────────────────────────────────────

/** `PUT /stores/{storeId}/status`: any status, `until` only on a pause and only in the future. */
export function operatorSetsStatus(
  store: Store,
  request: SetStoreStatusRequest,
  now: Date,
): StoreChange | Refused {
  const { status, reason, until } = request;
  if (status === 'online' && (reason !== undefined || until !== undefined))
    return { refused: 'an online store has no reason or until' };
  if (until !== undefined && status !== 'paused') return { refused: 'until is only for a pause' };
  if (until !== undefined && isPast(until, now)) return { refused: 'until must be in the future' };
  const state: StatusState = { status, changedBy: 'operator' };
  if (reason !== undefined) state.reason = reason;
  if (until !== undefined) state.until = until;
  return storeChange(store, 'operator', { status: state });
}

/** `PUT /stores/{storeId}/busy`: extra prep minutes, `until` in the future. */
export function operatorSetsBusy(store: Store, busy: Busy, now: Date): StoreChange | Refused {
  if (busy.until !== undefined && isPast(busy.until, now)) return { refused: 'until must be in the future' };
  return storeChange(store, 'operator', { busy });
}

/** `DELETE /stores/{storeId}/busy`: ends busy mode (a change even when there was none: idempotent for the caller). */
export function operatorClearsBusy(store: Store): StoreChange {
  return storeChange(store, 'operator', { busy: null });
}

/** `PUT /stores/{storeId}/items/{sku}`: 86 an item (optionally until a time) or sell it again. */
export function operatorSetsItem(
  item: MenuItem,
  request: SetItemAvailabilityRequest,
  now: Date,
): ItemChange | Refused {
  const { available, until } = request;
  if (until !== undefined && available) return { refused: 'until is only for an unavailable item' };
  if (until !== undefined && isPast(until, now)) return { refused: 'until must be in the future' };
  const fromVersion = itemVersion(item);
  const change: ItemChange = {
    sku: item.sku,
    changedBy: 'operator',
    fromVersion,
    version: fromVersion + 1,
    available,
  };
  if (until !== undefined) change.until = until;
  return change;
}

// ── POS health ─────────────────────────────────────────────────────────────

/** The probe pauses an online store only; any other status is someone's decision it leaves alone. */
export function posHealthPauses(store: Store): StoreChange | undefined {
  if (store.status !== 'online') return undefined;
  return storeChange(store, 'pos-health', {
    status: { status: 'paused', reason: POS_HEALTH_REASON, changedBy: 'pos-health' },
  });
}

/** The probe resumes only a pause it made itself: an operator's pause or offline stays. */
export function posHealthResumes(store: Store): StoreChange | undefined {
  if (store.status !== 'paused' || store.changedBy !== 'pos-health') return undefined;
  return storeChange(store, 'pos-health', { status: { status: 'online', changedBy: 'pos-health' } });
}

// ── schedule ───────────────────────────────────────────────────────────────

/** What has ended by `now` on the store itself: a pause with `until` (→ online), busy mode with `until`. */
export function scheduleExpiresStore(store: Store, now: Date): StoreChange | undefined {
  const pauseEnded = store.status === 'paused' && store.until !== undefined && isPast(store.until, now);
  const busyEnded = store.busy?.until !== undefined && isPast(store.busy.until, now);
  if (!pauseEnded && !busyEnded) return undefined;
  return storeChange(store, 'schedule', {
    ...(pauseEnded && { status: { status: 'online', changedBy: 'schedule' } }),
    ...(busyEnded && { busy: null }),
  });
}

/** Items whose 86 with `until` has ended by `now`: each becomes available again, one change per item. */
export function scheduleExpiresItems(store: Store, now: Date): ItemChange[] {
  return store.menu
    .filter((item) => !item.available && item.until !== undefined && isPast(item.until, now))
    .map((item) => {
      const fromVersion = itemVersion(item);
      return { sku: item.sku, changedBy: 'schedule', fromVersion, version: fromVersion + 1, available: true };
    });
}

// ── reading the state at a moment (before the expiry job has run) ───────────

/** The status that holds at `now`: a pause whose `until` has passed is already over. */
export function statusAt(store: Pick<Store, 'status' | 'until'>, now: Date): StoreStatus {
  if (store.status === 'paused' && store.until !== undefined && isPast(store.until, now)) return 'online';
  return store.status;
}

/** Whether an item sells at `now`: an 86 whose `until` has passed is already over. */
export function availableAt(item: Pick<MenuItem, 'available' | 'until'>, now: Date): boolean {
  return item.available || (item.until !== undefined && isPast(item.until, now));
}

/** Busy mode at `now`: none once its `until` has passed. */
export function busyAt(store: Pick<Store, 'busy'>, now: Date): Busy | undefined {
  const { busy } = store;
  if (busy?.until !== undefined && isPast(busy.until, now)) return undefined;
  return busy;
}

/** The store after `change` (what the conditional UpdateItem makes of it). */
export function applyStoreChange(store: Store, change: StoreChange): Store {
  const next: Store = { ...store, version: change.version };
  if (change.status) {
    const { reason: _reason, until: _until, ...rest } = next;
    Object.assign(rest, change.status);
    return applyBusy(rest as Store, change.busy);
  }
  return applyBusy(next, change.busy);
}

function applyBusy(store: Store, busy: Busy | null | undefined): Store {
  if (busy === undefined) return store;
  const { busy: _busy, ...rest } = store;
  return busy === null ? rest : { ...rest, busy };
}

/** The store after an item change. */
export function applyItemChange(store: Store, change: ItemChange): Store {
  return {
    ...store,
    menu: store.menu.map((item) => {
      if (item.sku !== change.sku) return item;
      const { until: _until, ...rest } = item;
      return {
        ...rest,
        available: change.available,
        version: change.version,
        ...(change.until !== undefined && { until: change.until }),
      };
    }),
  };
}
