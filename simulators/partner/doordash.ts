/**
 * DoorDash as the partner: the full order in the `order_created` webhook, cents, the brand's skus
 * as `merchant_supplied_id`, and a bearer token instead of a body signature.
 */
import * as doordash from '../../functions/lib/schemas/partners/doordash';
import type { DraftItem, OrderDraft, PartnerShape, Payload } from './types';

function item(line: DraftItem) {
  return {
    merchant_supplied_id: line.sku,
    name: line.name,
    quantity: line.quantity,
    price: line.unitPrice,
    extras:
      line.modifiers.length === 0
        ? []
        : [
            {
              name: 'Options',
              options: line.modifiers.map((modifier) => ({
                ...(modifier.sku ? { merchant_supplied_id: modifier.sku } : {}),
                name: modifier.name,
                quantity: 1,
                price: modifier.price,
              })),
            },
          ],
    ...(line.notes ? { special_instructions: line.notes } : {}),
  };
}

function order(draft: OrderDraft): Payload {
  return {
    id: draft.partnerOrderId,
    store: { merchant_supplied_id: draft.partnerStoreId, provider_type: 'marketplace' },
    consumer: {
      first_name: draft.customer.firstName,
      last_name: draft.customer.lastName,
      phone: draft.customer.phone,
    },
    categories: [{ name: 'Order', items: draft.items.map(item) }],
    subtotal: draft.subtotal,
    tax: draft.tax,
    is_pickup: false,
    estimated_pickup_time: draft.pickupAt.toISOString(),
    created_at: draft.placedAt.toISOString(),
    ...(draft.notes ? { special_instructions: draft.notes } : {}),
  };
}

export const doorDashShape: PartnerShape = {
  partner: 'doordash',
  signsBody: false,

  newOrder: (draft) => ({
    webhook: { event: { type: 'order_created', status: 'NEW' }, order: order(draft) },
  }),

  partnerOrderIdOf(webhook) {
    const body = webhook['order'] as { id?: unknown } | undefined;
    return typeof body?.id === 'string' ? body.id : undefined;
  },

  releaseWebhook: (ref) => ({ event: { type: 'dasher_arriving' }, order: { id: ref.partnerOrderId } }),
  cancelWebhook: (ref) => ({ event: { type: 'order_cancelled' }, order: { id: ref.partnerOrderId } }),

  readAccept(request) {
    const accept = doordash.AcceptRequestSchema.parse(request);
    return {
      posReference: accept.merchant_supplied_id,
      ...(accept.estimated_pickup_time ? { pickupAt: accept.estimated_pickup_time } : {}),
    };
  },

  readDeny(request) {
    const deny = doordash.DenyRequestSchema.parse(request);
    return {
      denyReason: doordash.DENY_REASON_BY_CODE[deny.failure_reason],
      code: deny.failure_reason,
      ...(deny.failure_reason_description ? { explanation: deny.failure_reason_description } : {}),
    };
  },

  readStatus(request) {
    const { order_status } = doordash.StatusRequestSchema.parse(request);
    return { status: doordash.STATUS_BY_CODE[order_status], code: order_status };
  },

  acceptAnswer: (id) => ({ id, order_status: 'confirmed' }),
  denyAnswer: (id) => ({ id, order_status: 'failed' }),
  statusAnswer: (id, code) => ({ id, order_status: code }),
};
