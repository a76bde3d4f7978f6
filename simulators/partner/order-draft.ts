/**
 * What the customer orders: items from the store's menu at the menu's prices (or the items the
 * caller names), a customer, a pickup time and totals. Partner formats are written from this.
 */
import type { MenuItem } from '../../functions/lib/schemas/store';
import { HttpError } from '../shared/routes';
import type { DraftItem, OrderDraft } from './types';

/** What the caller may say about an item; anything left out comes from the menu. */
export interface RequestedItem {
  sku: string;
  quantity: number;
  unitPrice?: number;
  modifiers?: DraftItem['modifiers'];
  notes?: string;
}

export interface DraftRequest {
  partnerOrderId: string;
  partnerStoreId: string;
  storeName?: string;
  menu: readonly MenuItem[];
  items?: readonly RequestedItem[];
  pickupInSeconds: number;
  notes?: string;
  now: Date;
  random: () => number;
}

/** A sales tax rate typical of a US city; the partner computes tax, the middleware only carries it. */
const TAX_RATE = 0.08875;
const FIRST_NAMES = ['Maria', 'James', 'Aiko', 'Carlos', 'Fatima', 'Noah', 'Priya', 'Liam', 'Zoe', 'Mateo'];
const LAST_NAMES = ['Garcia', 'Smith', 'Tanaka', 'Okafor', 'Nguyen', 'Rossi', 'Kowalski', 'Haddad'];
const ITEM_NOTES = ['extra lime', 'sauce on the side', 'well done', 'cut in half'];

function pick<T>(list: readonly T[], random: () => number): T {
  return list[Math.floor(random() * list.length)] as T;
}

/** Fisher–Yates on a copy, driven by the simulator's PRNG so a seeded run repeats. */
function shuffled<T>(list: readonly T[], random: () => number): T[] {
  const copy = [...list];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

function fromRequest(requested: RequestedItem, menu: readonly MenuItem[]): DraftItem {
  const onMenu = menu.find((item) => item.sku === requested.sku);
  return {
    sku: requested.sku,
    name: onMenu?.name ?? requested.sku,
    quantity: requested.quantity,
    // An item off the menu still needs a price; zero makes a price check fail loudly rather than pass.
    unitPrice: requested.unitPrice ?? onMenu?.price ?? 0,
    modifiers: requested.modifiers ?? [],
    ...(requested.notes ? { notes: requested.notes } : {}),
  };
}

/** One to three available items; the first gets a free modifier, a paid side when the menu has one, and a note. */
function chosenByCustomer(menu: readonly MenuItem[], random: () => number): DraftItem[] {
  const available = menu.filter((item) => item.available);
  const sides = available.filter((item) => item.sku.startsWith('SIDE-'));
  const mains = available.filter((item) => !item.sku.startsWith('SIDE-'));
  const pool = mains.length > 0 ? mains : available;
  if (pool.length === 0)
    throw new HttpError(400, 'NO_AVAILABLE_ITEMS', 'the store has no available menu item to order');
  const count = Math.min(pool.length, 1 + Math.floor(random() * 3));
  return shuffled(pool, random)
    .slice(0, count)
    .map((item, index) => {
      const side = index === 0 ? sides[0] : undefined;
      return {
        sku: item.sku,
        name: item.name,
        quantity: 1 + Math.floor(random() * 2),
        unitPrice: item.price,
        modifiers:
          index === 0
            ? [
                ...(side ? [{ sku: side.sku, name: side.name, price: side.price }] : []),
                { name: 'No onions', price: 0 },
              ]
            : [],
        ...(index === 0 ? { notes: pick(ITEM_NOTES, random) } : {}),
      };
    });
}

export function lineTotal(item: DraftItem): number {
  const modifiers = item.modifiers.reduce((sum, modifier) => sum + modifier.price, 0);
  return (item.unitPrice + modifiers) * item.quantity;
}

export function draftOrder(request: DraftRequest): OrderDraft {
  const { random, now } = request;
  const items = request.items
    ? request.items.map((item) => fromRequest(item, request.menu))
    : chosenByCustomer(request.menu, random);
  const subtotal = items.reduce((sum, item) => sum + lineTotal(item), 0);
  const tax = Math.round(subtotal * TAX_RATE);
  return {
    partnerOrderId: request.partnerOrderId,
    partnerStoreId: request.partnerStoreId,
    ...(request.storeName ? { storeName: request.storeName } : {}),
    customer: {
      firstName: pick(FIRST_NAMES, random),
      lastName: pick(LAST_NAMES, random),
      phone: `+1555${String(Math.floor(random() * 10_000_000)).padStart(7, '0')}`,
    },
    items,
    subtotal,
    tax,
    total: subtotal + tax,
    placedAt: now,
    pickupAt: new Date(now.getTime() + request.pickupInSeconds * 1000),
    ...(request.notes ? { notes: request.notes } : {}),
  };
}
