/**
 * Whether a store can take an order, and the order as the POS should see it: names and prices from
 * the store's menu, never from the partner, and the subtotal recomputed from those prices.
 */
import type { CanonicalOrder, DenyReason, Modifier, OrderItem } from '../schemas/order';
import type { MenuItem, Store } from '../schemas/store';

export type Validation =
  | { ok: true; order: CanonicalOrder }
  | { ok: false; reason: DenyReason; detail: string };

/** A POS ticket line cannot say more than this; larger quantities are a partner mistake. */
export const MAX_QUANTITY = 99;

type Menu = ReadonlyMap<string, MenuItem>;
type Refusal = { ok: false; reason: DenyReason; detail: string };
const deny = (reason: DenyReason, detail: string): Refusal => ({ ok: false, reason, detail });

function storeRefusal(order: CanonicalOrder, store: Store): Refusal | undefined {
  if (store.status === 'offline') return deny('STORE_OFFLINE', `store ${store.storeId} is offline`);
  if (store.status === 'paused') return deny('STORE_PAUSED', `store ${store.storeId} is paused`);
  if (order.storeId !== store.storeId) return deny('INVALID_ORDER', `order is for store ${order.storeId}`);
  return undefined;
}

function shapeRefusal(order: CanonicalOrder): Refusal | undefined {
  if (order.items.length === 0) return deny('INVALID_ORDER', 'order has no items');
  const bad = order.items.find((item) => item.quantity < 1 || item.quantity > MAX_QUANTITY);
  if (bad) return deny('INVALID_ORDER', `quantity ${bad.quantity} of ${bad.sku} is out of range`);
  return undefined;
}

/** A priced modifier must be a menu item; a free one without a menu sku ("no onions") is just an instruction. */
const isMenuModifier = (modifier: Modifier, menu: Menu): boolean =>
  modifier.sku !== undefined && (menu.has(modifier.sku) || modifier.price !== 0);

function availabilityRefusal(order: CanonicalOrder, menu: Menu): Refusal | undefined {
  const skus = order.items.flatMap((item) => [
    item.sku,
    ...item.modifiers.filter((modifier) => isMenuModifier(modifier, menu)).map((modifier) => modifier.sku!),
  ]);
  const missing = skus.find((sku) => !menu.get(sku)?.available);
  if (missing === undefined) return undefined;
  return deny(
    'ITEM_UNAVAILABLE',
    menu.has(missing) ? `${missing} is unavailable` : `${missing} is not on the menu`,
  );
}

function priceRefusal(order: CanonicalOrder, menu: Menu): Refusal | undefined {
  for (const item of order.items) {
    const menuPrice = menu.get(item.sku)?.price;
    if (item.unitPrice !== menuPrice)
      return deny('INVALID_ORDER', `${item.sku} priced ${item.unitPrice}, menu says ${menuPrice}`);
    for (const modifier of item.modifiers) {
      if (!isMenuModifier(modifier, menu)) {
        if (modifier.price !== 0)
          return deny('INVALID_ORDER', `modifier "${modifier.name}" has a price but no menu sku`);
        continue;
      }
      const modifierPrice = menu.get(modifier.sku!)?.price;
      if (modifier.price !== modifierPrice) {
        return deny('INVALID_ORDER', `${modifier.sku} priced ${modifier.price}, menu says ${modifierPrice}`);
      }
    }
  }
  return undefined;
}

/** Rewrites names and prices from the menu, so nothing the partner wrote reaches the POS as a price. */
function fromMenu(item: OrderItem, menu: Menu): OrderItem {
  const menuItem = menu.get(item.sku)!;
  const modifiers = item.modifiers.map((modifier) => {
    if (!isMenuModifier(modifier, menu)) return { ...modifier, price: 0 };
    const menuModifier = menu.get(modifier.sku!)!;
    return { sku: menuModifier.sku, name: menuModifier.name, price: menuModifier.price };
  });
  return { ...item, name: menuItem.name, unitPrice: menuItem.price, modifiers };
}

export function lineTotal(item: OrderItem): number {
  const modifiers = item.modifiers.reduce((sum, modifier) => sum + modifier.price, 0);
  return item.quantity * (item.unitPrice + modifiers);
}

function totalsRefusal(order: CanonicalOrder, subtotal: number): Refusal | undefined {
  if (order.subtotal !== subtotal)
    return deny('INVALID_ORDER', `subtotal ${order.subtotal}, items add up to ${subtotal}`);
  if (order.tax < 0) return deny('INVALID_ORDER', `tax ${order.tax} is negative`);
  if (order.total !== subtotal + order.tax) {
    return deny('INVALID_ORDER', `total ${order.total} is not subtotal ${subtotal} + tax ${order.tax}`);
  }
  return undefined;
}

/**
 * Checks, in order: the store takes orders (STORE_OFFLINE, STORE_PAUSED), the order has a sane shape,
 * every item is on the menu and available (ITEM_UNAVAILABLE), prices match the menu and the totals
 * add up (INVALID_ORDER). Tax is the partner's (it depends on the jurisdiction), but must add up.
 */
export function validateOrder(order: CanonicalOrder, store: Store): Validation {
  const menu: Menu = new Map(store.menu.map((item) => [item.sku, item]));
  const refusal =
    storeRefusal(order, store) ??
    shapeRefusal(order) ??
    availabilityRefusal(order, menu) ??
    priceRefusal(order, menu);
  if (refusal) return refusal;
  const items = order.items.map((item) => fromMenu(item, menu));
  const subtotal = items.reduce((sum, item) => sum + lineTotal(item), 0);
  const totals = totalsRefusal(order, subtotal);
  if (totals) return totals;
  return { ok: true, order: { ...order, items, subtotal, total: subtotal + order.tax } };
}
