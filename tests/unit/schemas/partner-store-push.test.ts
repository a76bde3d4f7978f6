/**
 * Each partner's store mapping (ARCHITECTURE section 7): our store state → that partner's store-API
 * calls, every body checked against the partner's own wire schema, for every state a store can be in.
 */
import * as doordash from '../../../functions/lib/schemas/partners/doordash';
import * as grubhub from '../../../functions/lib/schemas/partners/grubhub';
import { PARTNERS } from '../../../functions/lib/schemas/partners/index';
import { partnerWire } from '../../../functions/lib/schemas/partners/registry';
import {
  type ShownStore,
  type StoreCall,
  shownStoreOf,
  storeCallPath,
} from '../../../functions/lib/schemas/partners/store-push';
import * as ubereats from '../../../functions/lib/schemas/partners/ubereats';
import type { Store } from '../../../functions/lib/schemas/store';

const NOW = new Date('2025-06-01T18:00:00Z');
const UNTIL = '2025-06-01T19:30:00Z';

const items: ShownStore['items'] = [
  { sku: 'TACO-AL-PASTOR', available: true },
  { sku: 'BURRITO-CARNE', available: false },
  { sku: 'DRINK-HORCHATA', available: false, until: UNTIL },
];
const online: ShownStore = { status: 'online', changedBy: 'operator', items };
const pausedUntil: ShownStore = {
  status: 'paused',
  reason: 'Kitchen deep clean',
  until: UNTIL,
  changedBy: 'operator',
  items,
};
const posHealthPause: ShownStore = {
  status: 'paused',
  reason: 'POS_UNAVAILABLE',
  changedBy: 'pos-health',
  items,
};
const offline: ShownStore = { status: 'offline', changedBy: 'operator', items };
const busy: ShownStore = { ...online, busy: { extraPrepMinutes: 15, until: UNTIL } };

const STATES = { online, pausedUntil, posHealthPause, offline, busy };

/** Every request schema of a partner's store API, by route name. */
const requestSchemas = {
  ubereats: {
    storeStatus: ubereats.StoreStatusRequestSchema,
    itemSuspension: ubereats.ItemSuspensionRequestSchema,
  },
  doordash: { storeStatus: doordash.StoreStatusRequestSchema, itemStatus: doordash.ItemStatusRequestSchema },
  grubhub: {
    posStatus: grubhub.PosStatusRequestSchema,
    startBusy: grubhub.BusyRequestSchema,
    menuOverrides: grubhub.MenuOverrideRequestSchema,
  },
} as const;

const named = (calls: StoreCall[], name: string) => calls.filter((call) => call.name === name);

describe.each(PARTNERS)('%s store push', (partner) => {
  const wire = partnerWire[partner];

  it.each(Object.entries(STATES))(
    'maps %s to calls of its store API whose bodies its schemas accept',
    (_, state) => {
      const calls = wire.storePushCalls(state, 'p-store-1', NOW);

      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) {
        expect(Object.values(wire.storeApi)).toContainEqual(call.route);
        expect(wire.storeApi[call.name]).toEqual(call.route);
        expect(storeCallPath(call.route, call.params)).toMatch(new RegExp(`^/${partner}/.*p-store-1`));
        const schema = (
          requestSchemas[partner] as Record<string, { safeParse(v: unknown): { success: boolean } }>
        )[call.name];
        if (call.body === undefined) expect(call.route.method).toBe('DELETE');
        else expect(schema?.safeParse(call.body).success).toBe(true);
      }
    },
  );

  it('tells every item of the menu, available or not', () => {
    const calls = wire.storePushCalls(online, 'p-store-1', NOW);
    const text = JSON.stringify(calls);
    for (const item of items) expect(text).toContain(item.sku);
  });
});

describe('Uber Eats', () => {
  const calls = (state: ShownStore) => ubereats.storePushCalls(state, 'ue-1', NOW);

  it('online is ONLINE with no pause fields', () => {
    expect(named(calls(online), 'storeStatus')[0]?.body).toEqual({ status: 'ONLINE' });
  });

  it('a pause with until is PAUSED with paused_until and the reason', () => {
    expect(named(calls(pausedUntil), 'storeStatus')[0]?.body).toEqual({
      status: 'PAUSED',
      paused_until: UNTIL,
      reason: 'Kitchen deep clean',
    });
  });

  it('offline is PAUSED without an end', () => {
    expect(named(calls(offline), 'storeStatus')[0]?.body).toEqual({ status: 'PAUSED' });
  });

  it('an 86 is a suspension (until as unix seconds when it ends), an available item suspension_info null', () => {
    const byItem = Object.fromEntries(
      named(calls(online), 'itemSuspension').map((c) => [c.params.itemId, c.body]),
    );
    expect(byItem).toEqual({
      'TACO-AL-PASTOR': { suspension_info: null },
      'BURRITO-CARNE': { suspension_info: { suspension: { reason: 'OUT_OF_STOCK' } } },
      'DRINK-HORCHATA': {
        suspension_info: { suspension: { suspend_until: Date.parse(UNTIL) / 1000, reason: 'OUT_OF_STOCK' } },
      },
    });
    expect(storeCallPath(ubereats.storeApi.itemSuspension, { storeId: 'ue-1', itemId: 'A B' })).toBe(
      '/ubereats/v2/eats/stores/ue-1/menus/items/A%20B',
    );
  });

  it('the schema refuses an ONLINE status that carries a pause end', () => {
    expect(
      ubereats.StoreStatusRequestSchema.safeParse({ status: 'ONLINE', paused_until: UNTIL }).success,
    ).toBe(false);
  });
});

describe('DoorDash', () => {
  const status = (state: ShownStore) =>
    named(doordash.storePushCalls(state, 'dd-1', NOW), 'storeStatus')[0]?.body;

  it('online is is_active true, nothing else', () => {
    expect(status(online)).toEqual({ is_active: true });
  });

  it('an operator pause is operational_issues with the reason as notes and until as end_time', () => {
    expect(status(pausedUntil)).toEqual({
      is_active: false,
      reason: 'operational_issues',
      notes: 'Kitchen deep clean',
      end_time: UNTIL,
    });
  });

  it('a POS-health pause is store_pos_connectivity_issues', () => {
    expect(status(posHealthPause)).toEqual({
      is_active: false,
      reason: 'store_pos_connectivity_issues',
      notes: 'POS_UNAVAILABLE',
    });
  });

  it('offline is inactive with no end_time', () => {
    expect(status(offline)).toEqual({ is_active: false, reason: 'operational_issues' });
  });

  it('items go in one PATCH, is_active per item', () => {
    const [patch, ...more] = named(doordash.storePushCalls(online, 'dd-1', NOW), 'itemStatus');
    expect(more).toEqual([]);
    expect(patch?.body).toEqual([
      { merchant_supplied_id: 'TACO-AL-PASTOR', is_active: true },
      { merchant_supplied_id: 'BURRITO-CARNE', is_active: false },
      { merchant_supplied_id: 'DRINK-HORCHATA', is_active: false },
    ]);
  });

  it('the schema refuses a deactivation without a reason', () => {
    expect(doordash.StoreStatusRequestSchema.safeParse({ is_active: false }).success).toBe(false);
  });
});

describe('Grubhub', () => {
  const calls = (state: ShownStore) => grubhub.storePushCalls(state, '4410021', NOW);

  it('online is ONLINE, paused and offline are OFFLINE', () => {
    expect(named(calls(online), 'posStatus')[0]?.body).toEqual({ new_pos_status: 'ONLINE' });
    expect(named(calls(pausedUntil), 'posStatus')[0]?.body).toEqual({
      new_pos_status: 'OFFLINE',
      reason: 'Kitchen deep clean',
    });
    expect(named(calls(offline), 'posStatus')[0]?.body).toEqual({ new_pos_status: 'OFFLINE' });
  });

  it('busy mode is eta_increase_seconds from now until its end; no busy mode ends it', () => {
    expect(named(calls(busy), 'startBusy')[0]?.body).toEqual({
      eta_increase_seconds: 900,
      start_time: NOW.toISOString(),
      end_time: UNTIL,
    });
    expect(named(calls(busy), 'endBusy')).toEqual([]);
    expect(named(calls(online), 'endBusy')).toHaveLength(1);
    expect(named(calls(online), 'startBusy')).toEqual([]);
  });

  it('available items are one SHOW; unavailable ones a HIDE per end', () => {
    expect(named(calls(online), 'menuOverrides').map((call) => call.body)).toEqual([
      {
        entity_ids: ['TACO-AL-PASTOR'],
        schedule_override: { show_or_hide: 'SHOW', start: NOW.toISOString() },
      },
      {
        entity_ids: ['BURRITO-CARNE'],
        schedule_override: { show_or_hide: 'HIDE', start: NOW.toISOString() },
      },
      {
        entity_ids: ['DRINK-HORCHATA'],
        schedule_override: { show_or_hide: 'HIDE', start: NOW.toISOString(), end: UNTIL },
      },
    ]);
  });
});

describe('shownStoreOf', () => {
  it('reads status, reason, until, who, busy and every item from the store record, nothing else', () => {
    const store: Store = {
      storeId: 'store-001',
      name: 'Taqueria',
      status: 'paused',
      reason: 'Short staffed',
      until: UNTIL,
      changedBy: 'operator',
      version: 4,
      busy: { extraPrepMinutes: 10 },
      throttle: { ordersPerWindow: 5, windowMinutes: 15 },
      menu: [
        { sku: 'A', name: 'A', price: 100, available: true, version: 2 },
        { sku: 'B', name: 'B', price: 100, available: false, until: UNTIL, version: 1 },
      ],
      partnerStoreIds: { ubereats: 'ue-1' },
    };
    expect(shownStoreOf(store)).toEqual({
      status: 'paused',
      reason: 'Short staffed',
      until: UNTIL,
      changedBy: 'operator',
      busy: { extraPrepMinutes: 10 },
      items: [
        { sku: 'A', available: true },
        { sku: 'B', available: false, until: UNTIL },
      ],
    });
  });
});
