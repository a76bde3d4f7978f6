import { validateOrder } from '../../../functions/lib/domain/validation';
import type { CanonicalOrder } from '../../../functions/lib/schemas/order';
import type { Store } from '../../../functions/lib/schemas/store';
import { canonicalOrder, storeOne } from './fixtures';

const refusalOf = (order: CanonicalOrder, store: Store = storeOne()) => {
  const result = validateOrder(order, store);
  return result.ok ? 'accepted' : result.reason;
};

const withItem = (change: (item: CanonicalOrder['items'][number]) => void): CanonicalOrder => {
  const order = canonicalOrder();
  change(order.items[0]!);
  return order;
};

const eightySixed = (sku: string): Store => {
  const store = storeOne();
  store.menu.find((item) => item.sku === sku)!.available = false;
  return store;
};

describe('validateOrder', () => {
  it('accepts an order whose items, prices and totals match the menu', () => {
    const result = validateOrder(canonicalOrder(), storeOne());
    expect(result).toEqual({ ok: true, order: canonicalOrder() });
  });

  it('gives the POS the menu names, whatever the partner called the items', () => {
    const order = withItem((item) => {
      item.name = 'TACO!!! (al pastor) – partner title';
    });
    const result = validateOrder(order, storeOne());
    expect(result.ok && result.order.items[0]!.name).toBe('Al Pastor Taco');
  });

  it('denies STORE_OFFLINE when the store is offline', () => {
    expect(refusalOf(canonicalOrder(), { ...storeOne(), status: 'offline' })).toBe('STORE_OFFLINE');
  });

  it('denies STORE_PAUSED when the store is paused', () => {
    expect(refusalOf(canonicalOrder(), { ...storeOne(), status: 'paused' })).toBe('STORE_PAUSED');
  });

  it('reports the store being offline before anything wrong with the items', () => {
    expect(refusalOf({ ...canonicalOrder(), items: [] }, { ...storeOne(), status: 'offline' })).toBe(
      'STORE_OFFLINE',
    );
  });

  it('denies ITEM_UNAVAILABLE for an 86ed item', () => {
    expect(refusalOf(canonicalOrder(), eightySixed('DRINK-HORCHATA'))).toBe('ITEM_UNAVAILABLE');
  });

  it('denies ITEM_UNAVAILABLE for an 86ed add-on', () => {
    expect(refusalOf(canonicalOrder(), eightySixed('SIDE-GUAC'))).toBe('ITEM_UNAVAILABLE');
  });

  it('denies ITEM_UNAVAILABLE for a sku not on the menu, naming it', () => {
    const result = validateOrder(
      withItem((item) => {
        item.sku = 'TACO-LENGUA';
      }),
      storeOne(),
    );
    expect(result).toMatchObject({
      ok: false,
      reason: 'ITEM_UNAVAILABLE',
      detail: expect.stringContaining('TACO-LENGUA'),
    });
  });

  it('denies INVALID_ORDER when the partner price differs from the menu', () => {
    const order = withItem((item) => {
      item.unitPrice = 1;
    });
    expect(refusalOf({ ...order, subtotal: order.subtotal - 2 * 449, total: order.total - 2 * 449 })).toBe(
      'INVALID_ORDER',
    );
  });

  it('denies INVALID_ORDER for an add-on priced differently from the menu', () => {
    expect(
      refusalOf(
        withItem((item) => {
          item.modifiers[0]!.price = 0;
        }),
      ),
    ).toBe('INVALID_ORDER');
  });

  it('denies INVALID_ORDER for a priced modifier that is not a menu item', () => {
    expect(
      refusalOf(
        withItem((item) => {
          item.modifiers.push({ name: 'Gold leaf', price: 5000 });
        }),
      ),
    ).toBe('INVALID_ORDER');
  });

  it.each([0, -1, 100])('denies INVALID_ORDER for quantity %i', (quantity) => {
    expect(
      refusalOf(
        withItem((item) => {
          item.quantity = quantity;
        }),
      ),
    ).toBe('INVALID_ORDER');
  });

  it('denies INVALID_ORDER for an empty order', () => {
    expect(refusalOf({ ...canonicalOrder(), items: [] })).toBe('INVALID_ORDER');
  });

  it('denies INVALID_ORDER when the subtotal does not add up', () => {
    expect(refusalOf({ ...canonicalOrder(), subtotal: 1000, total: 1160 })).toBe('INVALID_ORDER');
  });

  it('denies INVALID_ORDER when the total is not subtotal + tax', () => {
    expect(refusalOf({ ...canonicalOrder(), total: 1 })).toBe('INVALID_ORDER');
  });

  it('denies INVALID_ORDER for an order meant for another store', () => {
    expect(refusalOf({ ...canonicalOrder(), storeId: 'store-002' })).toBe('INVALID_ORDER');
  });

  it('keeps a free instruction that is not on the menu ("No onions")', () => {
    const result = validateOrder(canonicalOrder(), storeOne());
    expect(result.ok && result.order.items[0]!.modifiers).toContainEqual({ name: 'No onions', price: 0 });
  });
});

describe('a modifier is a menu item at its menu price, or free text that cannot pass for one', () => {
  const withModifier = (modifier: CanonicalOrder['items'][number]['modifiers'][number]) =>
    withItem((item) => {
      item.modifiers.push(modifier);
    });

  it.each([
    'Carne Asada Burrito',
    'carne asada burrito',
    '  CARNE   ASADA\u00a0Burrito ',
    'CarneAsada Burrito',
  ])('denies INVALID_ORDER for a free modifier named like a menu item: "%s" at 0', (name) => {
    const result = validateOrder(withModifier({ name, price: 0 }), storeOne());
    expect(result).toMatchObject({
      ok: false,
      reason: 'INVALID_ORDER',
      detail: expect.stringContaining('BURRITO-CARNE'),
    });
  });

  it('denies INVALID_ORDER for a modifier named like a menu item at another price, whatever its id', () => {
    expect(refusalOf(withModifier({ sku: 'opt-77', name: 'Guacamole', price: 1 }))).toBe('INVALID_ORDER');
  });

  it('takes a modifier named like a menu item at its menu price as that menu item', () => {
    const order = withModifier({ name: 'guacamole', price: 250 });
    const paid = { ...order, subtotal: order.subtotal + 2 * 250, total: order.total + 2 * 250 };
    const result = validateOrder(paid, storeOne());
    expect(result.ok && result.order.items[0]!.modifiers.at(-1)).toEqual({
      sku: 'SIDE-GUAC',
      name: 'Guacamole',
      price: 250,
    });
  });

  it('denies ITEM_UNAVAILABLE for a modifier named like an 86ed menu item at its price', () => {
    const order = withModifier({ name: 'Horchata', price: 375 });
    const paid = { ...order, subtotal: order.subtotal + 2 * 375, total: order.total + 2 * 375 };
    expect(refusalOf(paid, eightySixed('DRINK-HORCHATA'))).toBe('ITEM_UNAVAILABLE');
  });

  it('still keeps free instructions that only mention a menu item ("No guacamole")', () => {
    const result = validateOrder(withModifier({ name: 'No guacamole', price: 0 }), storeOne());
    expect(result.ok && result.order.items[0]!.modifiers.at(-1)).toEqual({ name: 'No guacamole', price: 0 });
  });
});
