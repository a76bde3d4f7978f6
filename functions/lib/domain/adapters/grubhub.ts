/** Grubhub: the full order is the webhook body, in Grubhub's own naming (`lines`, `diner`). */
import { z } from 'zod';
import type { CanonicalOrder, OrderItem } from '../../schemas/order';
import * as grubhub from '../../schemas/partners/grubhub';
import { orderIdFor } from '../order';
import { canonical, defined, parseOr400, skuOrNothing } from './shared';
import type { PartnerAdapter } from './types';

const AnyWebhookSchema = z.union([
  grubhub.NewOrderWebhookSchema,
  grubhub.ReleaseWebhookSchema,
  grubhub.CancelWebhookSchema,
]);

type Line = z.infer<typeof grubhub.LineSchema>;

function toItem(line: Line): OrderItem {
  return defined({
    sku: line.menu_item_id,
    name: line.name,
    quantity: line.quantity,
    unitPrice: line.price,
    modifiers: line.options.map((option) => ({
      ...skuOrNothing(option.option_id),
      name: option.name,
      price: option.price,
    })),
    notes: line.special_instructions || undefined,
  });
}

export const grubhubAdapter: PartnerAdapter = {
  partner: 'grubhub',
  fetchesOrder: false,

  readNotice(webhookBody) {
    const order = parseOr400(grubhub.NewOrderWebhookSchema, webhookBody, 'Grubhub webhook');
    return { partnerOrderId: order.order_uuid, partnerStoreId: order.restaurant_id };
  },

  partnerOrderIdOf(webhookBody) {
    return parseOr400(AnyWebhookSchema, webhookBody, 'Grubhub webhook').order_uuid;
  },

  partnerStoreIdOf(partnerOrder) {
    return parseOr400(grubhub.NewOrderWebhookSchema, partnerOrder, 'Grubhub webhook').restaurant_id;
  },

  toCanonical(partnerOrder, storeId): CanonicalOrder {
    const order = parseOr400(grubhub.NewOrderWebhookSchema, partnerOrder, 'Grubhub webhook');
    return canonical(
      defined({
        orderId: orderIdFor('grubhub', order.order_uuid),
        partner: 'grubhub' as const,
        partnerOrderId: order.order_uuid,
        storeId,
        partnerStoreId: order.restaurant_id,
        items: order.lines.map(toItem),
        subtotal: order.charges.subtotal,
        tax: order.charges.tax,
        total: order.charges.total,
        currency: 'USD' as const,
        customer: defined({ firstName: order.diner.first_name, phone: order.diner.phone }),
        pickupAt: order.pickup_time,
        placedAt: order.placed_at,
        notes: order.special_instructions || undefined,
      }),
    );
  },
};
