/** DoorDash: the full order comes in the webhook; the brand's skus are its `merchant_supplied_id`s. */
import { z } from 'zod';
import type { CanonicalOrder, OrderItem } from '../../schemas/order';
import * as doordash from '../../schemas/partners/doordash';
import { orderIdFor } from '../order';
import { canonical, defined, modifierTimes, parseOr400, skuOrNothing } from './shared';
import type { PartnerAdapter } from './types';

const AnyWebhookSchema = z.union([
  doordash.NewOrderWebhookSchema,
  doordash.ReleaseWebhookSchema,
  doordash.CancelWebhookSchema,
]);

type Item = z.infer<typeof doordash.ItemSchema>;

function toItem(item: Item): OrderItem {
  const modifiers = item.extras.flatMap((extra) =>
    extra.options.flatMap((option) =>
      modifierTimes(option.quantity, {
        ...skuOrNothing(option.merchant_supplied_id),
        name: option.name,
        price: option.price,
      }),
    ),
  );
  return defined({
    sku: item.merchant_supplied_id,
    name: item.name,
    quantity: item.quantity,
    unitPrice: item.price,
    modifiers,
    notes: item.special_instructions || undefined,
  });
}

export const doorDashAdapter: PartnerAdapter = {
  partner: 'doordash',
  fetchesOrder: false,

  readNotice(webhookBody) {
    const { order } = parseOr400(doordash.NewOrderWebhookSchema, webhookBody, 'DoorDash webhook');
    return { partnerOrderId: order.id, partnerStoreId: order.store.merchant_supplied_id };
  },

  partnerOrderIdOf(webhookBody) {
    return parseOr400(AnyWebhookSchema, webhookBody, 'DoorDash webhook').order.id;
  },

  partnerStoreIdOf(partnerOrder) {
    return parseOr400(doordash.NewOrderWebhookSchema, partnerOrder, 'DoorDash webhook').order.store
      .merchant_supplied_id;
  },

  /** `partnerOrder` is the new-order webhook body `{event, order}`. */
  toCanonical(partnerOrder, storeId): CanonicalOrder {
    const { order } = parseOr400(doordash.NewOrderWebhookSchema, partnerOrder, 'DoorDash webhook');
    return canonical(
      defined({
        orderId: orderIdFor('doordash', order.id),
        partner: 'doordash' as const,
        partnerOrderId: order.id,
        storeId,
        partnerStoreId: order.store.merchant_supplied_id,
        items: order.categories.flatMap((category) => category.items.map(toItem)),
        subtotal: order.subtotal,
        tax: order.tax,
        total: order.subtotal + order.tax,
        currency: 'USD' as const,
        customer: defined({ firstName: order.consumer.first_name, phone: order.consumer.phone }),
        pickupAt: order.estimated_pickup_time,
        placedAt: order.created_at,
        notes: order.special_instructions || undefined,
      }),
    );
  },
};
