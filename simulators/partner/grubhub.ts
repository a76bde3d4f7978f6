/**
 * Grubhub as the partner: the full order is the `ORDER_PLACED` webhook body (`lines`, `diner`,
 * `charges`), signed with a timestamped HMAC.
 */
import * as grubhub from '../../functions/lib/schemas/partners/grubhub';
import type { DraftItem, OrderDraft, PartnerShape } from './types';

function line(item: DraftItem) {
  return {
    menu_item_id: item.sku,
    name: item.name,
    quantity: item.quantity,
    price: item.unitPrice,
    options: item.modifiers.map((modifier) => ({
      ...(modifier.sku ? { option_id: modifier.sku } : {}),
      name: modifier.name,
      price: modifier.price,
    })),
    ...(item.notes ? { special_instructions: item.notes } : {}),
  };
}

function newOrderWebhook(draft: OrderDraft) {
  return {
    type: 'ORDER_PLACED',
    order_uuid: draft.partnerOrderId,
    restaurant_id: draft.partnerStoreId,
    placed_at: draft.placedAt.toISOString(),
    pickup_time: draft.pickupAt.toISOString(),
    diner: {
      first_name: draft.customer.firstName,
      last_name: draft.customer.lastName,
      phone: draft.customer.phone,
    },
    lines: draft.items.map(line),
    charges: { subtotal: draft.subtotal, tax: draft.tax, total: draft.total },
    ...(draft.notes ? { special_instructions: draft.notes } : {}),
  };
}

export const grubhubShape: PartnerShape = {
  partner: 'grubhub',
  signsBody: true,

  newOrder: (draft) => ({ webhook: newOrderWebhook(draft) }),

  partnerOrderIdOf: (webhook) =>
    typeof webhook['order_uuid'] === 'string' ? webhook['order_uuid'] : undefined,

  releaseWebhook: (ref) => ({ type: 'DRIVER_ARRIVING', order_uuid: ref.partnerOrderId }),
  cancelWebhook: (ref) => ({ type: 'ORDER_CANCELLED', order_uuid: ref.partnerOrderId }),

  readAccept(request) {
    const accept = grubhub.AcceptRequestSchema.parse(request);
    return {
      posReference: accept.pos_order_id,
      ...(accept.pickup_time ? { pickupAt: accept.pickup_time } : {}),
    };
  },

  readDeny(request) {
    const deny = grubhub.DenyRequestSchema.parse(request);
    return {
      denyReason: grubhub.DENY_REASON_BY_CODE[deny.reason_code],
      code: deny.reason_code,
      ...(deny.message ? { explanation: deny.message } : {}),
    };
  },

  readStatus(request) {
    const { status } = grubhub.StatusRequestSchema.parse(request);
    return { status: grubhub.STATUS_BY_CODE[status], code: status };
  },

  acceptAnswer: (id) => ({ order_uuid: id, status: 'CONFIRMED' }),
  denyAnswer: (id) => ({ order_uuid: id, status: 'REJECTED' }),
  statusAnswer: (id, code) => ({ order_uuid: id, status: code }),
};
