import { z } from 'zod';
import { type DenyReason, DenyReasonSchema } from '../../../functions/lib/schemas/order';
import { type PartnerId, PartnerIdSchema } from '../../../functions/lib/schemas/partners/index';
import { REPORTED_STATUSES, type ReportedStatus } from '../../../functions/lib/schemas/partners/signing';
import type { FaultInjector } from '../shared/faults';
import { isPlainObject } from '../shared/merge';
import type { Payload } from './types';

export const PARTNER_ENDPOINTS = ['fetch', 'accept', 'deny', 'status'] as const;
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
  calls: Record<PartnerEndpoint, number>;
  releasedAt?: string;
  cancelledAt?: string;
  createdAt: string;
}

export interface PartnerSimulatorState {
  /** Keyed by `partner/partnerOrderId`. */
  orders: Map<string, PartnerOrder>;
  faults: FaultInjector<PartnerEndpoint>;
  /** Call after every change to `orders`: with a data folder, it reaches the snapshot file. */
  changed(): void;
}

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

const PartnerOrderSchema = z.object({
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

/** What `partner-simulator.json` holds: every order the partners sent and what they were told since. */
export const PartnerSnapshotSchema = z.object({ version: z.literal(1), orders: z.array(PartnerOrderSchema) });
export type PartnerSnapshot = z.infer<typeof PartnerSnapshotSchema>;

export function snapshotOf(orders: Map<string, PartnerOrder>): PartnerSnapshot {
  return { version: 1, orders: [...orders.values()] };
}

export function restoreOrders(orders: Map<string, PartnerOrder>, snapshot: PartnerSnapshot): void {
  orders.clear();
  for (const order of snapshot.orders) orders.set(orderKey(order.partner, order.partnerOrderId), order);
}
