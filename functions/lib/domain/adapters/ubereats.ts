/** Uber Eats: the webhook is a sparse notice; the order itself is fetched, then mapped here. */
import { z } from 'zod';
import type { CanonicalOrder, OrderItem } from '../../schemas/order';
import * as ubereats from '../../schemas/partners/ubereats';
import { InvalidPayload } from '../errors';
import { orderIdFor } from '../order';
import { canonical, defined, modifierTimes, parseOr400, skuOrNothing } from './shared';
import type { PartnerAdapter } from './types';

const AnyWebhookSchema = z.union([
  ubereats.NewOrderWebhookSchema,
  ubereats.ReleaseWebhookSchema,
  ubereats.CancelWebhookSchema,
]);

type CartItem = z.infer<typeof ubereats.CartItemSchema>;

function toItem(item: CartItem): OrderItem {
  const modifiers = item.selected_modifier_groups.flatMap((group) =>
    group.selected_items.flatMap((selected) =>
      modifierTimes(selected.quantity, {
        ...skuOrNothing(selected.id),
        name: selected.title,
        price: selected.price.unit_price.amount,
      }),
    ),
  );
  return defined({
    sku: item.id,
    name: item.title,
    quantity: item.quantity,
    unitPrice: item.price.unit_price.amount,
    modifiers,
    notes: item.special_instructions || undefined,
  });
}

/** Every amount Uber Eats sends carries its own currency; we only sell in USD. */
function assertUsd(order: ubereats.Order): void {
  const { sub_total, tax, total } = order.payment.charges;
  const amounts = [
    ...order.cart.items.flatMap((item) => [
      item.price.unit_price,
      ...(item.price.total_price ? [item.price.total_price] : []),
      ...item.selected_modifier_groups.flatMap((group) =>
        group.selected_items.map((selected) => selected.price.unit_price),
      ),
    ]),
    sub_total,
    tax,
    total,
  ];
  if (amounts.some(({ currency_code }) => currency_code !== undefined && currency_code !== 'USD')) {
    throw new InvalidPayload('invalid Uber Eats order: only USD is accepted');
  }
}

export const uberEatsAdapter: PartnerAdapter = {
  partner: 'ubereats',
  fetchesOrder: true,

  readNotice(webhookBody) {
    const notice = parseOr400(ubereats.NewOrderWebhookSchema, webhookBody, 'Uber Eats webhook');
    return { partnerOrderId: notice.meta.resource_id, partnerStoreId: notice.meta.user_id };
  },

  partnerOrderIdOf(webhookBody) {
    return parseOr400(AnyWebhookSchema, webhookBody, 'Uber Eats webhook').meta.resource_id;
  },

  partnerStoreIdOf(partnerOrder) {
    return parseOr400(ubereats.OrderSchema, partnerOrder, 'Uber Eats order').store.id;
  },

  toCanonical(partnerOrder, storeId): CanonicalOrder {
    const order = parseOr400(ubereats.OrderSchema, partnerOrder, 'Uber Eats order');
    assertUsd(order);
    const { sub_total, tax, total } = order.payment.charges;
    return canonical(
      defined({
        orderId: orderIdFor('ubereats', order.id),
        partner: 'ubereats' as const,
        partnerOrderId: order.id,
        storeId,
        partnerStoreId: order.store.id,
        items: order.cart.items.map(toItem),
        subtotal: sub_total.amount,
        tax: tax.amount,
        total: total.amount,
        currency: 'USD' as const,
        customer: defined({ firstName: order.eater.first_name, phone: order.eater.phone }),
        pickupAt: order.estimated_ready_for_pickup_at,
        placedAt: order.placed_at,
        notes: order.cart.special_instructions || undefined,
      }),
    );
  },
};
