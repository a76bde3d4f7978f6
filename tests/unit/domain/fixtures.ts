/** Realistic partner payloads for the same order: 2 al pastor tacos (+guac, no onions) and a horchata at store-001. */
import { DEMO_STORES } from '../../../functions/lib/domain/demo-stores';
import type { CanonicalOrder } from '../../../functions/lib/schemas/order';
import type { PartnerId } from '../../../functions/lib/schemas/partners/index';
import type { Store } from '../../../functions/lib/schemas/store';

export const storeOne = (): Store => structuredClone(DEMO_STORES[0]!);

/** The store mapping the adapters get: demo partner store ids → our ids. */
export const storeIdFor = (partner: PartnerId, partnerStoreId: string): string | undefined =>
  DEMO_STORES.find((store) => store.partnerStoreIds[partner] === partnerStoreId)?.storeId;

export const uberEatsOrder = () => ({
  id: 'a1b2c3d4-0000-4000-8000-000000000001',
  display_id: '8AF2F',
  current_state: 'CREATED',
  type: 'PICK_UP',
  store: { id: 'ue-7c1f0a52-store-001', name: 'Taqueria Mission St' },
  eater: { first_name: 'Maria', last_name: 'Lopez', phone: '+1 312-555-0142', phone_code: '84629' },
  cart: {
    items: [
      {
        id: 'TACO-AL-PASTOR',
        instance_id: 'inst-1',
        title: 'Al Pastor Taco',
        quantity: 2,
        price: { unit_price: { amount: 450, currency_code: 'USD' }, total_price: { amount: 1400 } },
        selected_modifier_groups: [
          {
            id: 'grp-extras',
            title: 'Extras',
            selected_items: [
              { id: 'SIDE-GUAC', title: 'Guacamole', quantity: 1, price: { unit_price: { amount: 250 } } },
              { id: 'no onions', title: 'No onions', quantity: 1, price: { unit_price: { amount: 0 } } },
            ],
          },
        ],
        special_instructions: 'extra lime',
      },
      {
        id: 'DRINK-HORCHATA',
        title: 'Horchata',
        quantity: 1,
        price: { unit_price: { amount: 375, currency_code: 'USD' } },
        selected_modifier_groups: [],
      },
    ],
    special_instructions: 'napkins please',
  },
  payment: {
    charges: {
      sub_total: { amount: 1775, currency_code: 'USD' },
      tax: { amount: 160, currency_code: 'USD' },
      total: { amount: 1935, currency_code: 'USD' },
    },
  },
  placed_at: '2025-06-01T17:59:48Z',
  estimated_ready_for_pickup_at: '2025-06-01T18:20:00Z',
});

export const uberEatsNotice = () => ({
  event_id: 'c4d2261e-2779-4eb6-beb0-cb41235c751e',
  event_type: 'orders.notification',
  event_time: 1748800788,
  meta: {
    resource_id: 'a1b2c3d4-0000-4000-8000-000000000001',
    user_id: 'ue-7c1f0a52-store-001',
    status: 'pos',
  },
  resource_href: 'http://127.0.0.1:4010/ubereats/v1/orders/a1b2c3d4-0000-4000-8000-000000000001',
});

export const doorDashWebhook = () => ({
  event: { type: 'order_created', status: 'NEW' },
  order: {
    id: 'dd-9001',
    store: { merchant_supplied_id: 'dd-881001', provider_type: 'generic' },
    consumer: { first_name: 'Maria', last_name: 'Lopez', phone: '+13125550142' },
    categories: [
      {
        merchant_supplied_id: 'tacos',
        name: 'Tacos',
        items: [
          {
            merchant_supplied_id: 'TACO-AL-PASTOR',
            name: 'Al Pastor Taco',
            quantity: 2,
            price: 450,
            extras: [
              {
                merchant_supplied_id: 'extras',
                name: 'Extras',
                options: [
                  { merchant_supplied_id: 'SIDE-GUAC', name: 'Guacamole', quantity: 1, price: 250 },
                  { name: 'No onions', quantity: 1, price: 0 },
                ],
              },
            ],
            special_instructions: 'extra lime',
          },
        ],
      },
      {
        name: 'Drinks',
        items: [
          { merchant_supplied_id: 'DRINK-HORCHATA', name: 'Horchata', quantity: 1, price: 375, extras: [] },
        ],
      },
    ],
    subtotal: 1775,
    tax: 160,
    is_pickup: false,
    estimated_pickup_time: '2025-06-01T18:20:00Z',
    created_at: '2025-06-01T17:59:48Z',
  },
});

/** A DoorDash order of about 20 KB whose option quantities make 50 modifiers of every one of its items. */
export function doorDashOrderThatGrows(items = 22) {
  const payload = doorDashWebhook();
  const option = (quantity: number) => ({
    merchant_supplied_id: 'SIDE-GUAC',
    name: `Guacamole, ${'extra fresh and chunky '.repeat(8)}`.slice(0, 200),
    quantity,
    price: 250,
  });
  const item = {
    merchant_supplied_id: 'TACO-AL-PASTOR',
    name: 'Al Pastor Taco',
    quantity: 1,
    price: 450,
    extras: [{ name: 'Extras', options: [option(20), option(20), option(10)] }],
  };
  payload.order.categories = [{ name: 'Tacos', items: Array.from({ length: items }, () => item) }] as never;
  payload.order.subtotal = items * (450 + 50 * 250);
  payload.order.tax = Math.round(payload.order.subtotal * 0.08875);
  return payload;
}

export const grubhubWebhook = () => ({
  type: 'ORDER_PLACED',
  order_uuid: 'gh-77',
  restaurant_id: '4410021',
  placed_at: '2025-06-01T17:59:48Z',
  pickup_time: '2025-06-01T18:20:00Z',
  diner: { first_name: 'Maria', last_name: 'Lopez', phone: '312-555-0142' },
  lines: [
    {
      menu_item_id: 'TACO-AL-PASTOR',
      name: 'Al Pastor Taco',
      quantity: 2,
      price: 450,
      options: [
        { option_id: 'SIDE-GUAC', name: 'Guacamole', price: 250 },
        { name: 'No onions', price: 0 },
      ],
      special_instructions: 'extra lime',
    },
    { menu_item_id: 'DRINK-HORCHATA', name: 'Horchata', quantity: 1, price: 375 },
  ],
  charges: { subtotal: 1775, tax: 160, total: 1935 },
});

/** The canonical order every fixture above should become (ids and customer phone vary by partner). */
export const expectedItems = (): CanonicalOrder['items'] => [
  {
    sku: 'TACO-AL-PASTOR',
    name: 'Al Pastor Taco',
    quantity: 2,
    unitPrice: 450,
    modifiers: [
      { sku: 'SIDE-GUAC', name: 'Guacamole', price: 250 },
      { name: 'No onions', price: 0 },
    ],
    notes: 'extra lime',
  },
  { sku: 'DRINK-HORCHATA', name: 'Horchata', quantity: 1, unitPrice: 375, modifiers: [] },
];

/** A canonical order for store-001 as the validation tests start from it. */
export const canonicalOrder = (): CanonicalOrder => ({
  orderId: 'ord_je47ccensbmxj3pknfdfvmgnfj',
  partner: 'ubereats',
  partnerOrderId: 'a1b2c3d4-0000-4000-8000-000000000001',
  storeId: 'store-001',
  partnerStoreId: 'ue-7c1f0a52-store-001',
  items: expectedItems(),
  subtotal: 1775,
  tax: 160,
  total: 1935,
  currency: 'USD',
  customer: { firstName: 'Maria', phone: '+1 312-555-0142' },
  pickupAt: '2025-06-01T18:20:00Z',
  placedAt: '2025-06-01T17:59:48Z',
});
