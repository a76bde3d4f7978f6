/**
 * Whether a store can take an order, and the order as the POS should see it: names and prices from
 * the store's menu, never from the partner, and the subtotal recomputed from those prices.
 */
import type { CanonicalOrder, DenyReason, Modifier, OrderItem } from '../schemas/order';
import type { MenuItem, Store } from '../schemas/store';
import { availableAt, statusAt } from './store-state';

export type Validation =
  | { ok: true; order: CanonicalOrder }
  | { ok: false; reason: DenyReason; detail: string };

/** A POS ticket line cannot say more than this; larger quantities are a partner mistake. */
export const MAX_QUANTITY = 99;

type Refusal = { ok: false; reason: DenyReason; detail: string };
const deny = (reason: DenyReason, detail: string): Refusal => ({ ok: false, reason, detail });

/** A name as a customer would read it: case, spacing and invisible characters do not matter. */
const nameKey = (name: string): string =>
  name
    .normalize('NFKC')
    .replace(/[\s\p{Cf}]/gu, '')
    .toLowerCase();

/** The store's menu, by sku and by name (two items may share a name). */
class Menu {
  private readonly bySku: ReadonlyMap<string, MenuItem>;
  private readonly byName = new Map<string, MenuItem[]>();

  constructor(items: readonly MenuItem[]) {
    this.bySku = new Map(items.map((item) => [item.sku, item]));
    for (const item of items) {
      const key = nameKey(item.name);
      this.byName.set(key, [...(this.byName.get(key) ?? []), item]);
    }
  }

  get(sku: string): MenuItem | undefined {
    return this.bySku.get(sku);
  }

  has(sku: string): boolean {
    return this.bySku.has(sku);
  }

  /** Menu items with this name, the one at `price` first. */
  named(name: string, price: number): MenuItem[] {
    const items = this.byName.get(nameKey(name)) ?? [];
    return [...items].sort((a, b) => Number(b.price === price) - Number(a.price === price));
  }
}

/**
 * What a modifier stands for. A modifier is either a menu item at its menu price — named by a menu
 * sku, or else by a menu item's name — or free text ("no onions") that cannot pass for one: free
 * text at 0. A name that is a menu item's name is that item, so at any other price it is refused,
 * whatever id the partner gave it; a priced modifier with a sku the menu lacks is an item we do not have.
 */
type ModifierMeaning =
  | { kind: 'menu-item'; item: MenuItem; by: 'sku' | 'name' }
  | { kind: 'free-text' }
  | { kind: 'unknown-sku'; sku: string }
  | { kind: 'priced-text' };

function meaningOf(modifier: Modifier, menu: Menu): ModifierMeaning {
  const bySku = modifier.sku === undefined ? undefined : menu.get(modifier.sku);
  if (bySku) return { kind: 'menu-item', item: bySku, by: 'sku' };
  const [byName] = menu.named(modifier.name, modifier.price);
  if (byName) return { kind: 'menu-item', item: byName, by: 'name' };
  if (modifier.price === 0) return { kind: 'free-text' };
  return modifier.sku === undefined ? { kind: 'priced-text' } : { kind: 'unknown-sku', sku: modifier.sku };
}

/** The state that holds at `now`: a pause whose `until` has passed is over even before the expiry job ran. */
function storeRefusal(order: CanonicalOrder, store: Store, now: Date): Refusal | undefined {
  const status = statusAt(store, now);
  if (status === 'offline') return deny('STORE_OFFLINE', `store ${store.storeId} is offline`);
  if (status === 'paused') return deny('STORE_PAUSED', `store ${store.storeId} is paused`);
  if (order.storeId !== store.storeId) return deny('INVALID_ORDER', `order is for store ${order.storeId}`);
  return undefined;
}

function shapeRefusal(order: CanonicalOrder): Refusal | undefined {
  if (order.items.length === 0) return deny('INVALID_ORDER', 'order has no items');
  const bad = order.items.find((item) => item.quantity < 1 || item.quantity > MAX_QUANTITY);
  if (bad) return deny('INVALID_ORDER', `quantity ${bad.quantity} of ${bad.sku} is out of range`);
  return undefined;
}

/** An 86 whose `until` has passed sells again, even before the expiry job ran. */
function availabilityRefusal(order: CanonicalOrder, menu: Menu, now: Date): Refusal | undefined {
  const skus = order.items.flatMap((item) => [
    item.sku,
    ...item.modifiers.flatMap((modifier) => {
      const meaning = meaningOf(modifier, menu);
      if (meaning.kind === 'menu-item') return [meaning.item.sku];
      return meaning.kind === 'unknown-sku' ? [meaning.sku] : [];
    }),
  ]);
  const missing = skus.find((sku) => {
    const item = menu.get(sku);
    return item === undefined || !availableAt(item, now);
  });
  if (missing === undefined) return undefined;
  return deny(
    'ITEM_UNAVAILABLE',
    menu.has(missing) ? `${missing} is unavailable` : `${missing} is not on the menu`,
  );
}

function modifierPriceRefusal(modifier: Modifier, menu: Menu): Refusal | undefined {
  const meaning = meaningOf(modifier, menu);
  if (meaning.kind === 'priced-text')
    return deny('INVALID_ORDER', `modifier "${modifier.name}" has a price but no menu sku`);
  if (meaning.kind !== 'menu-item' || modifier.price === meaning.item.price) return undefined;
  const { sku, price } = meaning.item;
  return deny(
    'INVALID_ORDER',
    meaning.by === 'sku'
      ? `${sku} priced ${modifier.price}, menu says ${price}`
      : `modifier "${modifier.name}" is menu item ${sku} priced ${modifier.price}, menu says ${price}`,
  );
}

function priceRefusal(order: CanonicalOrder, menu: Menu): Refusal | undefined {
  for (const item of order.items) {
    const menuPrice = menu.get(item.sku)?.price;
    if (item.unitPrice !== menuPrice)
      return deny('INVALID_ORDER', `${item.sku} priced ${item.unitPrice}, menu says ${menuPrice}`);
    for (const modifier of item.modifiers) {
      const refusal = modifierPriceRefusal(modifier, menu);
      if (refusal) return refusal;
    }
  }
  return undefined;
}

/** Rewrites names and prices from the menu, so nothing the partner wrote reaches the POS as a price. */
function fromMenu(item: OrderItem, menu: Menu): OrderItem {
  const menuItem = menu.get(item.sku)!;
  const modifiers = item.modifiers.map((modifier) => {
    const meaning = meaningOf(modifier, menu);
    if (meaning.kind !== 'menu-item') return { ...modifier, price: 0 };
    return { sku: meaning.item.sku, name: meaning.item.name, price: meaning.item.price };
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
export function validateOrder(order: CanonicalOrder, store: Store, now = new Date()): Validation {
  const menu = new Menu(store.menu);
  const refusal =
    storeRefusal(order, store, now) ??
    shapeRefusal(order) ??
    availabilityRefusal(order, menu, now) ??
    priceRefusal(order, menu);
  if (refusal) return refusal;
  const items = order.items.map((item) => fromMenu(item, menu));
  const subtotal = items.reduce((sum, item) => sum + lineTotal(item), 0);
  const totals = totalsRefusal(order, subtotal);
  if (totals) return totals;
  return { ok: true, order: { ...order, items, subtotal, total: subtotal + order.tax } };
}
