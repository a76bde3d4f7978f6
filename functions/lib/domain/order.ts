import { createHash } from 'node:crypto';
import type { CanonicalOrder, OrderRecord, OrderView } from '../schemas/order';
import type { PartnerId } from '../schemas/partners/index';
import type { OrderNotice } from './adapters/types';
import { InvalidPayload } from './errors';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 base32, lowercase, no padding. */
function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * Our order id, derived so the same partner order always maps to the same record: intake is a
 * conditional put and release/cancel find the order without an index.
 */
export function orderIdFor(partner: PartnerId, partnerOrderId: string): string {
  const digest = createHash('sha256').update(`${partner}:${partnerOrderId}`, 'utf8').digest();
  return `ord_${base32(digest).slice(0, 26)}`;
}

/**
 * A partner that sends a notice and serves the order separately (Uber Eats) must serve the order the
 * notice named, for the store the notice named; anything else is refused (400), never used as is.
 */
export function checkOrderMatchesNotice(notice: OrderNotice, order: CanonicalOrder): void {
  if (order.partnerOrderId !== notice.partnerOrderId) {
    throw new InvalidPayload(
      `the ${order.partner} order fetched for ${notice.partnerOrderId} is order ${order.partnerOrderId}`,
    );
  }
  if (order.partnerStoreId !== notice.partnerStoreId) {
    throw new InvalidPayload(
      `${order.partner} order ${order.partnerOrderId} is for store ${order.partnerStoreId}, the notice said ${notice.partnerStoreId}`,
    );
  }
}

/** JSON with object keys sorted, so equal content always serialises to the same text. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * A hash of what the customer ordered — store, items, money, pickup time — and nothing about when
 * or how it reached us, so a re-delivery hashes the same and a changed order under the same id does not.
 */
export function orderHash(order: CanonicalOrder): string {
  const business = {
    partner: order.partner,
    partnerOrderId: order.partnerOrderId,
    storeId: order.storeId,
    items: order.items,
    subtotal: order.subtotal,
    tax: order.tax,
    total: order.total,
    currency: order.currency,
    pickupAt: order.pickupAt === undefined ? undefined : new Date(order.pickupAt).toISOString(),
    notes: order.notes,
  };
  return createHash('sha256').update(stableJson(business), 'utf8').digest('hex');
}

/** The stored record as `GET /orders/{orderId}` shows it: no task token, no customer details. */
export function toOrderView(record: OrderRecord): OrderView {
  return {
    orderId: record.orderId,
    partner: record.partner,
    partnerOrderId: record.partnerOrderId,
    storeId: record.storeId,
    status: record.status,
    items: record.order.items,
    total: record.order.total,
    ...(record.posReference === undefined ? {} : { posReference: record.posReference }),
    ...(record.denyReason === undefined ? {} : { denyReason: record.denyReason }),
    ...(record.pickupAt === undefined ? {} : { pickupAt: record.pickupAt }),
    timeline: record.timeline,
  };
}
