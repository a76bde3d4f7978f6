/** The partner adapters by id. Adding a partner = one adapter module + one line here. */
import type { CanonicalOrder } from '../../schemas/order';
import type { PartnerId } from '../../schemas/partners/index';
import { InvalidPayload } from '../errors';
import { doorDashAdapter } from './doordash';
import { grubhubAdapter } from './grubhub';
import type { AdapterContext, OrderNotice, PartnerAdapter } from './types';
import { uberEatsAdapter } from './ubereats';

export type { AdapterContext, OrderNotice, PartnerAdapter, StoreLookup } from './types';

export const ADAPTERS: Record<PartnerId, PartnerAdapter> = {
  ubereats: uberEatsAdapter,
  doordash: doorDashAdapter,
  grubhub: grubhubAdapter,
};

export function adapterFor(partner: PartnerId): PartnerAdapter {
  return ADAPTERS[partner];
}

/**
 * The partner's full order as our canonical order: the fetched order for partners whose webhook is
 * a sparse notice (Uber Eats), else the new-order webhook body. Throws InvalidPayload (400) for a
 * malformed order or a partner store we do not know.
 */
export async function adaptOrder(
  partner: PartnerId,
  partnerOrder: unknown,
  ctx: AdapterContext,
): Promise<CanonicalOrder> {
  const adapter = ADAPTERS[partner];
  const partnerStoreId = adapter.partnerStoreIdOf(partnerOrder);
  const storeId = await ctx.storeIdFor(partner, partnerStoreId);
  if (storeId === undefined) throw new InvalidPayload(`unknown ${partner} store "${partnerStoreId}"`);
  return adapter.toCanonical(partnerOrder, storeId);
}

/** Parses a new-order webhook: the partner's order and store ids, and whether to fetch the order. */
export function readOrderNotice(
  partner: PartnerId,
  webhookBody: unknown,
): OrderNotice & { fetchesOrder: boolean } {
  const adapter = ADAPTERS[partner];
  return { ...adapter.readNotice(webhookBody), fetchesOrder: adapter.fetchesOrder };
}

/** The partner order id of a new-order, release or cancel webhook body. Throws InvalidPayload. */
export function partnerOrderIdOf(partner: PartnerId, webhookBody: unknown): string {
  return ADAPTERS[partner].partnerOrderIdOf(webhookBody);
}
