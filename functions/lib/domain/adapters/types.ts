import type { CanonicalOrder } from '../../schemas/order';
import type { PartnerId } from '../../schemas/partners/index';

/** Our store id for a partner's store id; undefined when the store is not mapped. May hit a table. */
export type StoreLookup = (
  partner: PartnerId,
  partnerStoreId: string,
) => string | undefined | Promise<string | undefined>;

export interface AdapterContext {
  storeIdFor: StoreLookup;
}

/** What a new-order webhook tells us before any lookup. */
export interface OrderNotice {
  partnerOrderId: string;
  partnerStoreId: string;
}

/** One partner's format → ours. Adding a partner = one module implementing this + a registry line. */
export interface PartnerAdapter {
  partner: PartnerId;
  /** True when the webhook is a sparse notice and the order must be fetched from the partner API. */
  fetchesOrder: boolean;
  /** Parses a new-order webhook body; throws InvalidPayload. */
  readNotice(webhookBody: unknown): OrderNotice;
  /** Id of the order a new-order, release or cancel webhook is about; throws InvalidPayload. */
  partnerOrderIdOf(webhookBody: unknown): string;
  /**
   * Maps the partner's full order (the fetched order when `fetchesOrder`, else the new-order
   * webhook body) to the canonical order; throws InvalidPayload.
   */
  toCanonical(partnerOrder: unknown, storeId: string): CanonicalOrder;
  /** The partner store id inside the full order. */
  partnerStoreIdOf(partnerOrder: unknown): string;
}
