/**
 * Demo data seeded into the local cloud (and usable by tests): one store online, one offline; at the
 * online one the churros are 86'd until two hours after seeding, so the console, the partners and
 * the expiry job have something to show (`demoStoresAt`).
 */
import type { MenuItem, Store } from '../schemas/store';

const tacoMenu = (): MenuItem[] => [
  { sku: 'TACO-AL-PASTOR', name: 'Al Pastor Taco', price: 450, available: true },
  { sku: 'TACO-CARNITAS', name: 'Carnitas Taco', price: 450, available: true },
  { sku: 'TACO-POLLO', name: 'Pollo Asado Taco', price: 425, available: true },
  { sku: 'TACO-VEG', name: 'Grilled Veggie Taco', price: 400, available: true },
  { sku: 'BURRITO-CARNE', name: 'Carne Asada Burrito', price: 1195, available: true },
  { sku: 'CHIPS-SALSA', name: 'Chips & Salsa', price: 350, available: true },
  { sku: 'SIDE-GUAC', name: 'Guacamole', price: 250, available: true },
  { sku: 'DRINK-HORCHATA', name: 'Horchata', price: 375, available: true },
  { sku: 'DESSERT-CHURROS', name: 'Churros', price: 450, available: true },
];

/** The demo 86: store-001's churros, sold out for the first two hours after seeding. */
export const DEMO_EIGHTY_SIX = { storeId: 'store-001', sku: 'DESSERT-CHURROS', hours: 2 } as const;

const eightySixed = (menu: MenuItem[], sku: string): MenuItem[] =>
  // version 1: a change the partners have not been told of, so the partner sync's sweep pushes it.
  menu.map((item) => (item.sku === sku ? { ...item, available: false, version: 1 } : item));

export const DEMO_STORES: readonly Store[] = [
  {
    storeId: 'store-001',
    name: 'Taqueria Mission St',
    status: 'online',
    menu: eightySixed(tacoMenu(), DEMO_EIGHTY_SIX.sku),
    prepMinutes: 20,
    partnerStoreIds: { ubereats: 'ue-7c1f0a52-store-001', doordash: 'dd-881001', grubhub: '4410021' },
  },
  {
    storeId: 'store-002',
    name: 'Taqueria Valencia St',
    status: 'offline',
    menu: tacoMenu(),
    prepMinutes: 15,
    partnerStoreIds: { ubereats: 'ue-2b9d44e1-store-002', doordash: 'dd-881002', grubhub: '4410022' },
  },
];

/** The demo stores as seeded at `now`: the demo 86 ends `DEMO_EIGHTY_SIX.hours` later, by itself. */
export function demoStoresAt(now: Date): Store[] {
  const until = new Date(now.getTime() + DEMO_EIGHTY_SIX.hours * 3_600_000).toISOString();
  return DEMO_STORES.map((store) => {
    const copy = structuredClone(store);
    if (copy.storeId !== DEMO_EIGHTY_SIX.storeId) return copy;
    copy.menu = copy.menu.map((item) => (item.sku === DEMO_EIGHTY_SIX.sku ? { ...item, until } : item));
    return copy;
  });
}

/** A fresh copy of a demo store, so callers may change it freely. */
export function demoStore(storeId: string): Store | undefined {
  const store = DEMO_STORES.find((candidate) => candidate.storeId === storeId);
  return store === undefined ? undefined : structuredClone(store);
}
