import { z } from 'zod';
import { type DenyReason, DenyReasonSchema } from '../../functions/lib/schemas/order';
import { type PartnerId, PartnerIdSchema } from '../../functions/lib/schemas/partners/index';
import { REPORTED_STATUSES, type ReportedStatus } from '../../functions/lib/schemas/partners/signing';
import type { FaultInjector } from '../shared/faults';
import { isPlainObject } from '../shared/merge';
import type { RecordStore } from '../shared/record-store';
import type { Payload } from './types';

/** The order API's endpoints. */
export const ORDER_ENDPOINTS = ['fetch', 'accept', 'deny', 'status'] as const;
export type OrderEndpoint = (typeof ORDER_ENDPOINTS)[number];
/** What faults may name: the order endpoints, and `store` for every call of the store API. */
export const PARTNER_ENDPOINTS = [...ORDER_ENDPOINTS, 'store'] as const;
export type PartnerEndpoint = (typeof PARTNER_ENDPOINTS)[number];

export const PARTNER_ORDER_STATES = ['pending', 'accepted', 'denied', 'cancelled'] as const;
export type PartnerOrderState = (typeof PARTNER_ORDER_STATES)[number];

/** One order as the partner knows it: what it sent and what the middleware told it since. */
export interface PartnerOrder {
  partner: PartnerId;
  partnerOrderId: string;
  storeId: string;
  partnerStoreId: string;
  /** The new-order webhook payload as built (before any tampering), re-sent on redelivery. */
  payload: Payload;
  /** The full order the partner API serves (Uber Eats only). */
  fetchable?: Payload;
  state: PartnerOrderState;
  posReference?: string;
  pickupAt?: string;
  denyReason?: DenyReason;
  denyExplanation?: string;
  /** Status reports the middleware made, in order. */
  updates: { at: string; status: ReportedStatus; code: string }[];
  /** Partner API calls per endpoint, repeats included (accept twice counts 2). */
  calls: Record<OrderEndpoint, number>;
  releasedAt?: string;
  cancelledAt?: string;
  createdAt: string;
}

/**
 * What one partner shows for one store, as the middleware's store-API calls left it. Pauses and
 * hidden items with an end stop by themselves at that time, as on the marketplace.
 */
export interface PartnerStore {
  partner: PartnerId;
  partnerStoreId: string;
  status: 'online' | 'paused';
  pausedUntil?: string;
  reason?: string;
  extraPrepMinutes?: number;
  busyUntil?: string;
  /** Items the partner does not sell, by sku, with the end of the suspension when there is one. */
  unavailable: Record<string, { until?: string }>;
  /** Every store-API call received, in order. */
  updates: { at: string; call: string; body?: unknown }[];
}

export interface PartnerSimulatorState {
  /** Keyed by `partner/partnerOrderId`. An order changed in place is `set` again (record-store.ts). */
  orders: RecordStore<PartnerOrder>;
  /** Keyed by `partner/partnerStoreId`; a store the partner was never told about is online with everything. */
  stores: RecordStore<PartnerStore>;
  faults: FaultInjector<PartnerEndpoint>;
  /**
   * Before a webhook leaves: resolves once the changes so far are where the middleware's calls back
   * will read them. Locally at once (one process, one memory); the Lambda simulator writes them.
   */
  persist(): Promise<void>;
  /**
   * A change made after a webhook was sent, to the order under `key`: applied now, and applied again
   * on fresher state if the Lambda simulator finds the order changed meanwhile (never re-sending).
   */
  amendOrder(key: string, change: (order: PartnerOrder) => void): void;
}

/**
 * An order whose story is told: denied, cancelled, or released to the kitchen. Only a late status
 * report changes it now (the middleware's at-least-once calls); the local process may keep it on disk.
 */
export const isFinishedPartnerOrder = (order: PartnerOrder) =>
  order.state === 'denied' || order.state === 'cancelled' || order.releasedAt !== undefined;

export const orderKey = (partner: string, partnerOrderId: string) => `${partner}/${partnerOrderId}`;

/** What `GET /_control/orders/{partner}/{partnerOrderId}` answers. */
export function orderView(order: PartnerOrder) {
  return {
    partner: order.partner,
    partnerOrderId: order.partnerOrderId,
    storeId: order.storeId,
    partnerStoreId: order.partnerStoreId,
    state: order.state,
    ...(order.denyReason ? { denyReason: order.denyReason } : {}),
    ...(order.denyExplanation ? { denyExplanation: order.denyExplanation } : {}),
    ...(order.posReference ? { posReference: order.posReference } : {}),
    ...(order.pickupAt ? { pickupAt: order.pickupAt } : {}),
    ...(order.releasedAt ? { releasedAt: order.releasedAt } : {}),
    ...(order.cancelledAt ? { cancelledAt: order.cancelledAt } : {}),
    updates: order.updates,
    calls: order.calls,
    createdAt: order.createdAt,
  };
}

/** Kept as it is: a payload may carry a `__proto__` field (injection tests) that a re-built object would lose. */
const PayloadSchema = z.custom<Payload>(isPlainObject, 'expected a JSON object');
const count = z.number().int().nonnegative();

export const PartnerOrderSchema = z.object({
  partner: PartnerIdSchema,
  partnerOrderId: z.string(),
  storeId: z.string(),
  partnerStoreId: z.string(),
  payload: PayloadSchema,
  fetchable: PayloadSchema.optional(),
  state: z.enum(PARTNER_ORDER_STATES),
  posReference: z.string().optional(),
  pickupAt: z.string().optional(),
  denyReason: DenyReasonSchema.optional(),
  denyExplanation: z.string().optional(),
  updates: z.array(z.object({ at: z.string(), status: z.enum(REPORTED_STATUSES), code: z.string() })),
  calls: z.object({ fetch: count, accept: count, deny: count, status: count }),
  releasedAt: z.string().optional(),
  cancelledAt: z.string().optional(),
  createdAt: z.string(),
}) satisfies z.ZodType<PartnerOrder>;

export const PartnerStoreSchema = z.object({
  partner: PartnerIdSchema,
  partnerStoreId: z.string(),
  status: z.enum(['online', 'paused']),
  pausedUntil: z.string().optional(),
  reason: z.string().optional(),
  extraPrepMinutes: z.number().optional(),
  busyUntil: z.string().optional(),
  unavailable: z.record(z.string(), z.object({ until: z.string().optional() })),
  updates: z.array(z.object({ at: z.string(), call: z.string(), body: z.unknown().optional() })),
}) satisfies z.ZodType<PartnerStore>;

/**
 * What the local process's `partner-simulator.json` held before its journal (imported once): every
 * order the partners sent and what they were told since, and what each partner shows for each store
 * (absent in files written before stores were kept).
 */
export const PartnerSnapshotSchema = z.object({
  version: z.literal(1),
  orders: z.array(PartnerOrderSchema),
  stores: z.array(PartnerStoreSchema).default([]),
});
export type PartnerSnapshot = z.infer<typeof PartnerSnapshotSchema>;

export const storeKey = (partner: string, partnerStoreId: string) => `${partner}/${partnerStoreId}`;

/** A store as the partner shows it before being told anything: online, everything on sale. */
export function unknownStore(partner: PartnerId, partnerStoreId: string): PartnerStore {
  return { partner, partnerStoreId, status: 'online', unavailable: {}, updates: [] };
}

const ended = (until: string | undefined, now: Date) =>
  until !== undefined && Date.parse(until) <= now.getTime();

/** What the partner shows at `now`: a pause, a busy mode or a hidden item whose end has passed is over. */
export function storeShownAt(store: PartnerStore, now: Date) {
  const paused = store.status === 'paused' && !ended(store.pausedUntil, now);
  const busy = store.extraPrepMinutes !== undefined && !ended(store.busyUntil, now);
  return {
    partnerStoreId: store.partnerStoreId,
    status: paused ? ('paused' as const) : ('online' as const),
    ...(paused && store.pausedUntil ? { pausedUntil: store.pausedUntil } : {}),
    ...(paused && store.reason ? { reason: store.reason } : {}),
    ...(busy ? { extraPrepMinutes: store.extraPrepMinutes } : {}),
    unavailableItems: Object.entries(store.unavailable)
      .filter(([, item]) => !ended(item.until, now))
      .map(([sku]) => sku)
      .sort(),
    updates: store.updates,
  };
}
export type StoreShown = ReturnType<typeof storeShownAt>;
