/**
 * What every partner must show for one of our stores, and the partner store-API calls that tell it
 * (ARCHITECTURE section 7). Each partner module maps a `ShownStore` to its own calls with
 * `storePushCalls`; the middleware sends them (adapters/partner-stores.ts) and the partner simulator
 * serves them, both on the paths of the module's `storeApi` table.
 */
import type { ChangedBy, Store, StoreStatus } from '../store';

/** One call of a partner's store API; `path` holds `{storeId}` (and `{itemId}`) placeholders. */
export interface StoreRoute {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
}

/** The store as partners must show it: its status, busy mode and every item's availability. */
export interface ShownStore {
  status: StoreStatus;
  reason?: string;
  until?: string;
  changedBy?: ChangedBy;
  busy?: { extraPrepMinutes: number; until?: string };
  items: { sku: string; available: boolean; until?: string }[];
}

/** One request a push makes: which route of the partner's `storeApi`, its path values and body. */
export interface StoreCall {
  /** The key of the route in the partner's `storeApi` table. */
  name: string;
  route: StoreRoute;
  params: Record<string, string>;
  body?: unknown;
}

/** The path of a store call, each `{name}` replaced by its escaped value. */
export function storeCallPath(route: StoreRoute, params: Record<string, string>): string {
  return route.path.replace(/\{(\w+)\}/g, (placeholder, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`no value for ${placeholder} in ${route.path}`);
    return encodeURIComponent(value);
  });
}

/** The part of a store record partners show, read from the record as it is now. */
export function shownStoreOf(store: Store): ShownStore {
  return {
    status: store.status,
    ...(store.reason === undefined ? {} : { reason: store.reason }),
    ...(store.until === undefined ? {} : { until: store.until }),
    ...(store.changedBy === undefined ? {} : { changedBy: store.changedBy }),
    ...(store.busy === undefined ? {} : { busy: store.busy }),
    items: store.menu.map((item) => ({
      sku: item.sku,
      available: item.available,
      ...(item.until === undefined ? {} : { until: item.until }),
    })),
  };
}

export const unixSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
