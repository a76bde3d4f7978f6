import { adaptOrder, partnerOrderIdOf, readOrderNotice } from '../../../functions/lib/domain/adapters/index';
import { InvalidPayload } from '../../../functions/lib/domain/errors';
import { orderIdFor } from '../../../functions/lib/domain/order';
import {
  doorDashWebhook,
  expectedItems,
  grubhubWebhook,
  storeIdFor,
  uberEatsNotice,
  uberEatsOrder,
} from './fixtures';

const ctx = { storeIdFor };

describe('Uber Eats adapter', () => {
  it('reads the sparse notice: which order to fetch, for which store', () => {
    expect(readOrderNotice('ubereats', uberEatsNotice())).toEqual({
      partnerOrderId: 'a1b2c3d4-0000-4000-8000-000000000001',
      partnerStoreId: 'ue-7c1f0a52-store-001',
      fetchesOrder: true,
    });
  });

  it('maps the fetched order to the canonical order', async () => {
    const order = await adaptOrder('ubereats', uberEatsOrder(), ctx);
    expect(order).toEqual({
      orderId: orderIdFor('ubereats', 'a1b2c3d4-0000-4000-8000-000000000001'),
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
      notes: 'napkins please',
    });
  });

  it('repeats a modifier chosen twice, so each is priced from the menu once', async () => {
    const payload = uberEatsOrder();
    payload.cart.items[0]!.selected_modifier_groups[0]!.selected_items[0]!.quantity = 2;
    const order = await adaptOrder('ubereats', payload, ctx);
    expect(order.items[0]!.modifiers.filter((m) => m.sku === 'SIDE-GUAC')).toHaveLength(2);
  });

  it('refuses an order in another currency', async () => {
    const payload = uberEatsOrder();
    payload.payment.charges.total.currency_code = 'EUR';
    await expect(adaptOrder('ubereats', payload, ctx)).rejects.toThrow(/USD/);
  });
});

describe('DoorDash adapter', () => {
  it('maps the order inside the webhook, total = subtotal + tax', async () => {
    const order = await adaptOrder('doordash', doorDashWebhook(), ctx);
    expect(order).toEqual({
      orderId: orderIdFor('doordash', 'dd-9001'),
      partner: 'doordash',
      partnerOrderId: 'dd-9001',
      storeId: 'store-001',
      partnerStoreId: 'dd-881001',
      items: expectedItems(),
      subtotal: 1775,
      tax: 160,
      total: 1935,
      currency: 'USD',
      customer: { firstName: 'Maria', phone: '+13125550142' },
      pickupAt: '2025-06-01T18:20:00Z',
      placedAt: '2025-06-01T17:59:48Z',
    });
  });
});

describe('Grubhub adapter', () => {
  it('maps lines, options and diner to the canonical order', async () => {
    const order = await adaptOrder('grubhub', grubhubWebhook(), ctx);
    expect(order).toEqual({
      orderId: orderIdFor('grubhub', 'gh-77'),
      partner: 'grubhub',
      partnerOrderId: 'gh-77',
      storeId: 'store-001',
      partnerStoreId: '4410021',
      items: expectedItems(),
      subtotal: 1775,
      tax: 160,
      total: 1935,
      currency: 'USD',
      customer: { firstName: 'Maria', phone: '312-555-0142' },
      pickupAt: '2025-06-01T18:20:00Z',
      placedAt: '2025-06-01T17:59:48Z',
    });
  });
});

describe('every adapter', () => {
  const fullOrders = { ubereats: uberEatsOrder, doordash: doorDashWebhook, grubhub: grubhubWebhook } as const;

  it.each(Object.keys(fullOrders) as (keyof typeof fullOrders)[])(
    '%s: an unmapped partner store is a 400 naming the store',
    async (partner) => {
      const noStores = { storeIdFor: () => undefined };
      const adapted = adaptOrder(partner, fullOrders[partner](), noStores);
      await expect(adapted).rejects.toBeInstanceOf(InvalidPayload);
      await expect(adaptOrder(partner, fullOrders[partner](), noStores)).rejects.toThrow(/unknown .* store/);
    },
  );

  it.each(Object.keys(fullOrders) as (keyof typeof fullOrders)[])(
    '%s: a payload of the wrong shape is a 400 that names the field',
    async (partner) => {
      const adapted = adaptOrder(partner, { hello: 'world' }, ctx);
      await expect(adapted).rejects.toBeInstanceOf(InvalidPayload);
      await expect(adaptOrder(partner, { hello: 'world' }, ctx)).rejects.toThrow(/^invalid .+ at [a-z_.]+: /);
    },
  );

  it('waits for an asynchronous store lookup (a table read)', async () => {
    const order = await adaptOrder('grubhub', grubhubWebhook(), {
      storeIdFor: async (partner, id) => storeIdFor(partner, id),
    });
    expect(order.storeId).toBe('store-001');
  });

  it('refuses a partner order id that is not URL-safe (it ends up in paths and keys)', async () => {
    const payload = { ...grubhubWebhook(), order_uuid: '../../admin' };
    await expect(adaptOrder('grubhub', payload, ctx)).rejects.toThrow(/order_uuid/);
  });

  it('drops fields the partner adds that we do not know', async () => {
    const payload = { ...grubhubWebhook(), injected: '<script>' };
    const order = await adaptOrder('grubhub', payload, ctx);
    expect(JSON.stringify(order)).not.toContain('<script>');
  });
});

describe('partnerOrderIdOf', () => {
  it('finds the id in new-order, release and cancel webhooks of each partner', () => {
    const ue = uberEatsNotice();
    expect(partnerOrderIdOf('ubereats', ue)).toBe(ue.meta.resource_id);
    expect(partnerOrderIdOf('ubereats', { ...ue, event_type: 'orders.release' })).toBe(ue.meta.resource_id);
    expect(partnerOrderIdOf('ubereats', { ...ue, event_type: 'orders.cancel' })).toBe(ue.meta.resource_id);
    expect(partnerOrderIdOf('doordash', doorDashWebhook())).toBe('dd-9001');
    expect(
      partnerOrderIdOf('doordash', { event: { type: 'dasher_arriving' }, order: { id: 'dd-9001' } }),
    ).toBe('dd-9001');
    expect(partnerOrderIdOf('grubhub', grubhubWebhook())).toBe('gh-77');
    expect(partnerOrderIdOf('grubhub', { type: 'ORDER_CANCELLED', order_uuid: 'gh-77' })).toBe('gh-77');
  });

  it('refuses a body without an id', () => {
    expect(() => partnerOrderIdOf('doordash', { event: { type: 'dasher_arriving' } })).toThrow(
      InvalidPayload,
    );
  });
});
