import { adaptOrder, partnerOrderIdOf, readOrderNotice } from '../../../functions/lib/domain/adapters/index';
import { InvalidPayload, OrderTooLarge } from '../../../functions/lib/domain/errors';
import { checkOrderMatchesNotice, orderIdFor } from '../../../functions/lib/domain/order';
import { validateOrder } from '../../../functions/lib/domain/validation';
import { MAX_CANONICAL_ORDER_BYTES } from '../../../functions/lib/schemas/order';
import {
  doorDashOrderThatGrows,
  doorDashWebhook,
  expectedItems,
  grubhubWebhook,
  storeIdFor,
  storeOne,
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

describe('a free option named like a menu item, from any partner', () => {
  const impostor = { name: 'Carne Asada Burrito', price: 0 };
  const payloads = {
    ubereats: () => {
      const payload = uberEatsOrder();
      payload.cart.items[0]!.selected_modifier_groups[0]!.selected_items.push({
        id: 'opt:carne-asada-burrito',
        title: impostor.name,
        quantity: 1,
        price: { unit_price: { amount: 0 } },
      });
      return payload;
    },
    doordash: () => {
      const payload = doorDashWebhook();
      payload.order.categories[0]!.items[0]!.extras[0]!.options.push({ ...impostor, quantity: 1 });
      return payload;
    },
    grubhub: () => {
      const payload = grubhubWebhook();
      payload.lines[0]!.options!.push(impostor);
      return payload;
    },
  } as const;

  it.each(Object.keys(payloads) as (keyof typeof payloads)[])(
    '%s: is denied INVALID_ORDER by validation, never sent on as a free modifier',
    async (partner) => {
      const order = await adaptOrder(partner, payloads[partner](), ctx);
      expect(validateOrder(order, storeOne())).toMatchObject({ ok: false, reason: 'INVALID_ORDER' });
    },
  );
});

describe('an order too large once canonical', () => {
  it('is refused 400 ORDER_TOO_LARGE, though its partner payload is only ~20 KB', async () => {
    const payload = doorDashOrderThatGrows();
    expect(JSON.stringify(payload).length).toBeLessThan(24 * 1024);
    const adapted = adaptOrder('doordash', payload, ctx);
    await expect(adapted).rejects.toBeInstanceOf(OrderTooLarge);
    await expect(adaptOrder('doordash', payload, ctx)).rejects.toMatchObject({
      status: 400,
      code: 'ORDER_TOO_LARGE',
    });
  });

  it('is kept when the same kind of order stays under 64 KB', async () => {
    const order = await adaptOrder('doordash', doorDashOrderThatGrows(4), ctx);
    expect(Buffer.byteLength(JSON.stringify(order))).toBeLessThanOrEqual(MAX_CANONICAL_ORDER_BYTES);
    expect(order.items).toHaveLength(4);
  });
});

describe('free text from partners, as the POS gets it', () => {
  const hostile =
    'Ring\tthe\r\nbell\u0007 <script>alert(1)</script> <b>twice</b> \u202Egnirts\u0000 2 > 1 < 3';
  const cleaned = 'Ring the bell alert(1) twice gnirts 2 1 3';
  const withHostileText = {
    ubereats: () => {
      const payload = uberEatsOrder();
      payload.cart.special_instructions = hostile;
      payload.cart.items[0]!.special_instructions = hostile;
      payload.cart.items[0]!.selected_modifier_groups[0]!.selected_items[1]!.title = `No onions\n${hostile}`;
      return payload;
    },
    doordash: () => {
      const payload = doorDashWebhook() as ReturnType<typeof doorDashWebhook> & {
        order: { special_instructions?: string };
      };
      payload.order.special_instructions = hostile;
      (payload.order.categories[0]!.items[0] as { special_instructions?: string }).special_instructions =
        hostile;
      payload.order.categories[0]!.items[0]!.extras[0]!.options[1]!.name = `No onions\n${hostile}`;
      return payload;
    },
    grubhub: () => {
      const payload = { ...grubhubWebhook(), special_instructions: hostile };
      payload.lines[0]!.special_instructions = hostile;
      payload.lines[0]!.options![1]!.name = `No onions\n${hostile}`;
      return payload;
    },
  } as const;

  it.each(Object.keys(withHostileText) as (keyof typeof withHostileText)[])(
    '%s: notes and modifier names lose control characters and HTML, keep their words',
    async (partner) => {
      const order = await adaptOrder(partner, withHostileText[partner](), ctx);
      expect(order.notes).toBe(cleaned);
      expect(order.items[0]!.notes).toBe(cleaned);
      expect(order.items[0]!.modifiers[1]!.name).toBe(`No onions ${cleaned}`);
      expect(JSON.stringify(order)).not.toMatch(/[<>\p{Cc}\u202E]/u);
    },
  );

  it('drops a note that was nothing but markup', async () => {
    const payload = { ...grubhubWebhook(), special_instructions: '<br/>\n<p></p>' };
    const order = await adaptOrder('grubhub', payload, ctx);
    expect(order).not.toHaveProperty('notes');
  });

  it('replaces a lone surrogate, which DynamoDB and EventBridge cannot store, with U+FFFD', async () => {
    const payload = { ...grubhubWebhook(), special_instructions: 'half an emoji \ud83c' };
    const order = await adaptOrder('grubhub', payload, ctx);
    expect(order.notes).toBe('half an emoji \ufffd');
  });
});

describe('negative money or quantities (no order view may show a negative total)', () => {
  const cases = {
    'a negative item price': () => {
      const payload = doorDashWebhook();
      payload.order.categories[0]!.items[0]!.price = -450;
      return ['doordash', payload] as const;
    },
    'a negative quantity': () => {
      const payload = grubhubWebhook();
      payload.lines[0]!.quantity = -2;
      return ['grubhub', payload] as const;
    },
    'a negative modifier price': () => {
      const payload = uberEatsOrder();
      payload.cart.items[0]!.selected_modifier_groups[0]!.selected_items[0]!.price.unit_price.amount = -250;
      return ['ubereats', payload] as const;
    },
    'a negative tax': () => {
      const payload = grubhubWebhook();
      payload.charges.tax = -160;
      return ['grubhub', payload] as const;
    },
    'a negative total': () => {
      const payload = uberEatsOrder();
      payload.payment.charges.total.amount = -1935;
      return ['ubereats', payload] as const;
    },
    'a zero quantity': () => {
      const payload = doorDashWebhook();
      payload.order.categories[0]!.items[0]!.quantity = 0;
      return ['doordash', payload] as const;
    },
  };

  it.each(Object.keys(cases) as (keyof typeof cases)[])('%s is a 400 at intake', async (what) => {
    const [partner, payload] = cases[what]();
    await expect(adaptOrder(partner, payload, ctx)).rejects.toBeInstanceOf(InvalidPayload);
  });
});

describe('Uber Eats amounts in another currency', () => {
  it('are refused wherever they are, modifiers and tax included', async () => {
    const modifier = uberEatsOrder();
    (
      modifier.cart.items[0]!.selected_modifier_groups[0]!.selected_items[0]!.price.unit_price as {
        currency_code?: string;
      }
    ).currency_code = 'EUR';
    await expect(adaptOrder('ubereats', modifier, ctx)).rejects.toThrow(/USD/);
    const tax = uberEatsOrder();
    tax.payment.charges.tax.currency_code = 'MXN';
    await expect(adaptOrder('ubereats', tax, ctx)).rejects.toThrow(/USD/);
  });
});

describe('the fetched order must be the one the notice named', () => {
  const notice = {
    partnerOrderId: 'a1b2c3d4-0000-4000-8000-000000000001',
    partnerStoreId: 'ue-7c1f0a52-store-001',
  };

  it('passes when the ids and stores agree', async () => {
    const order = await adaptOrder('ubereats', uberEatsOrder(), ctx);
    expect(() => checkOrderMatchesNotice(notice, order)).not.toThrow();
  });

  it('is a 400 when the fetched order has another id', async () => {
    const payload = { ...uberEatsOrder(), id: 'ffffffff-0000-4000-8000-000000000009' };
    const order = await adaptOrder('ubereats', payload, ctx);
    expect(() => checkOrderMatchesNotice(notice, order)).toThrow(InvalidPayload);
  });

  it('is a 400 when the fetched order is for another store, even one we serve', async () => {
    const payload = { ...uberEatsOrder(), store: { id: 'ue-2b9d44e1-store-002' } };
    const order = await adaptOrder('ubereats', payload, ctx);
    expect(() => checkOrderMatchesNotice(notice, order)).toThrow(InvalidPayload);
  });
});
