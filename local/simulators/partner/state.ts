import type { DenyReason } from '../../../functions/lib/schemas/order';
import type { PartnerId } from '../../../functions/lib/schemas/partners/index';
import type { ReportedStatus } from '../../../functions/lib/schemas/partners/signing';
import type { FaultInjector } from '../shared/faults';
import type { Payload } from './types';

export const PARTNER_ENDPOINTS = ['fetch', 'accept', 'deny', 'status'] as const;
export type PartnerEndpoint = (typeof PARTNER_ENDPOINTS)[number];

export type PartnerOrderState = 'pending' | 'accepted' | 'denied' | 'cancelled';

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
  faults: FaultInjector;
  /** The partner API endpoints faults apply to. */
  faultEndpoints: Set<PartnerEndpoint>;
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
