/** Demo data seeded into the local cloud (and usable by tests): one store online, one offline. */
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
];

export const DEMO_STORES: readonly Store[] = [
  {
    storeId: 'store-001',
    name: 'Taqueria Mission St',
    status: 'online',
    menu: tacoMenu(),
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

/** A fresh copy of a demo store, so callers may change it freely. */
export function demoStore(storeId: string): Store | undefined {
  const store = DEMO_STORES.find((candidate) => candidate.storeId === storeId);
  return store === undefined ? undefined : structuredClone(store);
}
