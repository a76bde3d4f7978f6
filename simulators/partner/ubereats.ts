/**
 * Uber Eats as the partner: a sparse `orders.notification` webhook, then the full order served on
 * its API for the middleware to fetch. Amounts are `{amount, currency_code}` objects.
 */
import { randomUUID } from 'node:crypto';
import * as ubereats from '../../functions/lib/schemas/partners/ubereats';
import type { DraftItem, OrderDraft, OrderRef, PartnerShape, Payload } from './types';

const unixSeconds = (at: Date) => Math.floor(at.getTime() / 1000);
const usd = (amount: number) => ({ amount, currency_code: 'USD' });

function notification(
  eventType: 'orders.notification' | 'orders.release' | 'orders.cancel',
  order: OrderRef,
  at: Date,
): Payload {
  return {
    event_id: randomUUID(),
    event_type: eventType,
    event_time: unixSeconds(at),
    meta: { resource_id: order.partnerOrderId, user_id: order.partnerStoreId, status: 'pos' },
    resource_href: `https://api.uber.com/v2/eats/order/${order.partnerOrderId}`,
  };
}

/** Free modifiers get an Uber option id that is not a sku, as Uber's own option ids are not ours. */
function modifierGroup(item: DraftItem) {
  return {
    id: `${item.sku}-options`,
    title: 'Options',
    selected_items: item.modifiers.map((modifier) => ({
      id: modifier.sku ?? `opt:${modifier.name.toLowerCase().replace(/\s+/g, '-')}`,
      title: modifier.name,
      quantity: 1,
      price: { unit_price: usd(modifier.price) },
    })),
  };
}

function cartItem(item: DraftItem, index: number) {
  const modifiersTotal = item.modifiers.reduce((sum, modifier) => sum + modifier.price, 0);
  return {
    id: item.sku,
    instance_id: `${item.sku}-${index + 1}`,
    title: item.name,
    quantity: item.quantity,
    price: {
      unit_price: usd(item.unitPrice),
      total_price: usd((item.unitPrice + modifiersTotal) * item.quantity),
    },
    selected_modifier_groups: item.modifiers.length > 0 ? [modifierGroup(item)] : [],
    ...(item.notes ? { special_instructions: item.notes } : {}),
  };
}

function fetchableOrder(draft: OrderDraft): Payload {
  return {
    id: draft.partnerOrderId,
    display_id: draft.partnerOrderId.slice(0, 5).toUpperCase(),
    current_state: 'CREATED',
    type: 'DELIVERY_BY_UBER',
    store: { id: draft.partnerStoreId, ...(draft.storeName ? { name: draft.storeName } : {}) },
    eater: {
      first_name: draft.customer.firstName,
      last_name: draft.customer.lastName,
      phone: draft.customer.phone,
      phone_code: '1',
    },
    cart: {
      items: draft.items.map(cartItem),
      ...(draft.notes ? { special_instructions: draft.notes } : {}),
    },
    payment: { charges: { sub_total: usd(draft.subtotal), tax: usd(draft.tax), total: usd(draft.total) } },
    placed_at: draft.placedAt.toISOString(),
    estimated_ready_for_pickup_at: draft.pickupAt.toISOString(),
  };
}

export const uberEatsShape: PartnerShape = {
  partner: 'ubereats',
  signsBody: true,

  newOrder(draft) {
    return {
      webhook: notification('orders.notification', draft, draft.placedAt),
      fetchable: fetchableOrder(draft),
    };
  },

  partnerOrderIdOf(webhook) {
    const meta = webhook['meta'] as { resource_id?: unknown } | undefined;
    return typeof meta?.resource_id === 'string' ? meta.resource_id : undefined;
  },

  releaseWebhook: (order, now) => notification('orders.release', order, now),
  cancelWebhook: (order, now) => notification('orders.cancel', order, now),

  readAccept(request) {
    const accept = ubereats.AcceptRequestSchema.parse(request);
    const pickupAt =
      accept.pickup_time === undefined ? undefined : new Date(accept.pickup_time * 1000).toISOString();
    return { posReference: accept.external_reference_id, ...(pickupAt ? { pickupAt } : {}) };
  },

  readDeny(request) {
    const { reason } = ubereats.DenyRequestSchema.parse(request);
    return {
      denyReason: ubereats.DENY_REASON_BY_CODE[reason.code],
      code: reason.code,
      ...(reason.explanation ? { explanation: reason.explanation } : {}),
    };
  },

  readStatus(request) {
    const { status } = ubereats.StatusRequestSchema.parse(request);
    return { status: ubereats.STATUS_BY_CODE[status], code: status };
  },

  acceptAnswer: (id) => ({ id, current_state: 'ACCEPTED' }),
  denyAnswer: (id) => ({ id, current_state: 'DENIED' }),
  statusAnswer: (id, code) => ({ id, current_state: code }),
};
