/** The store-state rules: who may change what, and what a change becomes. Pure, no mocks. */
import { DEMO_EIGHTY_SIX, demoStoresAt } from '../../../functions/lib/domain/demo-stores';
import {
  applyItemChange,
  applyStoreChange,
  availableAt,
  busyAt,
  type ItemChange,
  isRefused,
  operatorClearsBusy,
  operatorSetsBusy,
  operatorSetsItem,
  operatorSetsStatus,
  POS_HEALTH_REASON,
  posHealthPauses,
  posHealthResumes,
  type Refused,
  type StoreChange,
  scheduleExpiresItems,
  scheduleExpiresStore,
  statusAt,
} from '../../../functions/lib/domain/store-state';
import { validateOrder } from '../../../functions/lib/domain/validation';
import { type Store, StoreSchema } from '../../../functions/lib/schemas/store';
import { canonicalOrder, storeOne } from './fixtures';

const NOW = new Date('2026-06-01T18:00:00.000Z');
const later = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000).toISOString();

function applied<C extends object>(decision: C | Refused | undefined): C {
  if (decision === undefined) throw new Error('expected a change, the rules declined');
  if (isRefused(decision)) throw new Error(`expected a change, refused: ${decision.refused}`);
  return decision;
}
const store = (overrides: Partial<Store> = {}): Store => ({ ...storeOne(), ...overrides });
const afterStore = (before: Store, decision: StoreChange | Refused | undefined) =>
  applyStoreChange(before, applied(decision));
const item = (s: Store, sku: string) => s.menu.find((candidate) => candidate.sku === sku)!;

describe('an operator sets the status', () => {
  it('pauses with a reason and an until, and says who did it', () => {
    const paused = afterStore(
      store(),
      operatorSetsStatus(store(), { status: 'paused', reason: 'Kitchen flooded', until: later(30) }, NOW),
    );
    expect(paused).toMatchObject({
      status: 'paused',
      reason: 'Kitchen flooded',
      until: later(30),
      changedBy: 'operator',
      version: 1,
    });
  });

  it('sets online, which clears the reason and until of the pause', () => {
    const before = store({
      status: 'paused',
      reason: 'rush',
      until: later(10),
      changedBy: 'operator',
      version: 4,
    });
    const online = afterStore(before, operatorSetsStatus(before, { status: 'online' }, NOW));
    expect(online.status).toBe('online');
    expect(online).not.toHaveProperty('reason');
    expect(online).not.toHaveProperty('until');
    expect(online.version).toBe(5);
  });

  it('sets offline with a reason, lifting even a POS-health pause', () => {
    const before = store({
      status: 'paused',
      reason: POS_HEALTH_REASON,
      changedBy: 'pos-health',
      version: 2,
    });
    expect(
      afterStore(before, operatorSetsStatus(before, { status: 'offline', reason: 'closed' }, NOW)),
    ).toMatchObject({
      status: 'offline',
      reason: 'closed',
      changedBy: 'operator',
      version: 3,
    });
  });

  it.each([
    ['an until in the past', { status: 'paused' as const, until: later(-1) }],
    ['an until of exactly now', { status: 'paused' as const, until: NOW.toISOString() }],
    ['an until on offline (offline has no end)', { status: 'offline' as const, until: later(10) }],
    ['a reason on online', { status: 'online' as const, reason: 'fine again' }],
  ])('refuses %s', (_, request) => {
    expect(isRefused(operatorSetsStatus(store(), request, NOW))).toBe(true);
  });
});

describe('versions only grow', () => {
  it('every status or busy change of the store adds one to the version it was made on (absent counts as 0)', () => {
    let current = store();
    expect(current.version).toBeUndefined();
    const changes = [
      (s: Store) => operatorSetsStatus(s, { status: 'paused', until: later(5) }, NOW),
      (s: Store) => operatorSetsBusy(s, { extraPrepMinutes: 10 }, NOW),
      (s: Store) => posHealthResumes(s), // declined: the operator paused
      (s: Store) => operatorSetsStatus(s, { status: 'online' }, NOW),
      (s: Store) => posHealthPauses(s),
      (s: Store) => posHealthResumes(s),
      (s: Store) => operatorClearsBusy(s),
    ];
    const versions: number[] = [];
    for (const change of changes) {
      const decision = change(current);
      if (decision === undefined) continue;
      const made = applied(decision);
      expect(made.fromVersion).toBe(current.version ?? 0);
      current = applyStoreChange(current, made);
      versions.push(current.version!);
    }
    expect(versions).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('each item has its own version, untouched by store changes and by other items', () => {
    let current = store({ version: 7 });
    for (const available of [false, true, false]) {
      current = applyItemChange(
        current,
        applied(operatorSetsItem(item(current, 'TACO-POLLO'), { available }, NOW)),
      );
    }
    expect(item(current, 'TACO-POLLO')).toMatchObject({ available: false, version: 3 });
    expect(item(current, 'TACO-VEG').version).toBeUndefined();
    expect(current.version).toBe(7);
  });
});

describe('POS health', () => {
  it('pauses an online store with reason POS_UNAVAILABLE', () => {
    expect(afterStore(store(), posHealthPauses(store()))).toMatchObject({
      status: 'paused',
      reason: POS_HEALTH_REASON,
      changedBy: 'pos-health',
      version: 1,
    });
  });

  it.each([
    ['an operator’s pause', store({ status: 'paused', reason: 'rush', changedBy: 'operator' })],
    ['an operator’s offline', store({ status: 'offline', changedBy: 'operator' })],
    ['its own pause (already paused)', store({ status: 'paused', changedBy: 'pos-health' })],
  ])('does not pause over %s', (_, before) => {
    expect(posHealthPauses(before)).toBeUndefined();
  });

  it('resumes a store it paused itself', () => {
    const before = store({
      status: 'paused',
      reason: POS_HEALTH_REASON,
      changedBy: 'pos-health',
      version: 3,
    });
    const resumed = afterStore(before, posHealthResumes(before));
    expect(resumed).toMatchObject({ status: 'online', changedBy: 'pos-health', version: 4 });
    expect(resumed).not.toHaveProperty('reason');
  });

  it.each([
    ['an operator’s pause', store({ status: 'paused', reason: 'rush', changedBy: 'operator' })],
    ['an operator’s offline', store({ status: 'offline', changedBy: 'operator' })],
    ['the seed’s offline (nobody recorded)', store({ status: 'offline' })],
    ['an online store', store({ status: 'online', changedBy: 'operator' })],
  ])('never lifts %s', (_, before) => {
    expect(posHealthResumes(before)).toBeUndefined();
  });

  it('an operator pausing during a POS-health pause takes it over: the probe no longer lifts it', () => {
    const byProbe = afterStore(store(), posHealthPauses(store()));
    const byOperator = afterStore(
      byProbe,
      operatorSetsStatus(byProbe, { status: 'paused', reason: 'staff' }, NOW),
    );
    expect(posHealthResumes(byOperator)).toBeUndefined();
  });

  it('a busy change during a POS-health pause leaves the pause the probe’s to lift', () => {
    const byProbe = afterStore(store(), posHealthPauses(store()));
    const busy = afterStore(byProbe, operatorSetsBusy(byProbe, { extraPrepMinutes: 15 }, NOW));
    expect(busy.changedBy).toBe('pos-health');
    expect(afterStore(busy, posHealthResumes(busy))).toMatchObject({
      status: 'online',
      busy: { extraPrepMinutes: 15 },
    });
  });
});

describe('busy mode', () => {
  it('sets extra prep minutes with an until, and clears them', () => {
    const busy = afterStore(
      store(),
      operatorSetsBusy(store(), { extraPrepMinutes: 20, until: later(60) }, NOW),
    );
    expect(busy.busy).toEqual({ extraPrepMinutes: 20, until: later(60) });
    const calm = afterStore(busy, operatorClearsBusy(busy));
    expect(calm).not.toHaveProperty('busy');
    expect(calm.version).toBe(2);
  });

  it('refuses an until in the past', () => {
    expect(isRefused(operatorSetsBusy(store(), { extraPrepMinutes: 20, until: later(-5) }, NOW))).toBe(true);
  });
});

describe('an operator 86es an item', () => {
  it('with an until, which is kept on the item', () => {
    const change = applied(
      operatorSetsItem(item(store(), 'TACO-POLLO'), { available: false, until: later(45) }, NOW),
    );
    expect(change).toEqual<ItemChange>({
      sku: 'TACO-POLLO',
      changedBy: 'operator',
      fromVersion: 0,
      version: 1,
      available: false,
      until: later(45),
    });
    expect(item(applyItemChange(store(), change), 'TACO-POLLO')).toMatchObject({
      available: false,
      until: later(45),
    });
  });

  it('selling it again removes the until', () => {
    const before = store();
    before.menu[0] = { ...before.menu[0]!, available: false, until: later(5), version: 1 };
    const after = applyItemChange(
      before,
      applied(operatorSetsItem(before.menu[0], { available: true }, NOW)),
    );
    expect(after.menu[0]).not.toHaveProperty('until');
    expect(after.menu[0]).toMatchObject({ available: true, version: 2 });
  });

  it.each([
    ['an until in the past', { available: false, until: later(-1) }],
    ['an until on an available item', { available: true, until: later(10) }],
  ])('refuses %s', (_, request) => {
    expect(isRefused(operatorSetsItem(item(store(), 'TACO-POLLO'), request, NOW))).toBe(true);
  });
});

describe('the schedule ends what has an until', () => {
  it('a pause whose until has come → online, by schedule', () => {
    const before = store({
      status: 'paused',
      reason: 'rush',
      until: later(-1),
      changedBy: 'operator',
      version: 2,
    });
    const after = afterStore(before, scheduleExpiresStore(before, NOW));
    expect(after).toMatchObject({ status: 'online', changedBy: 'schedule', version: 3 });
    expect(after).not.toHaveProperty('until');
    expect(after).not.toHaveProperty('reason');
  });

  it('leaves a pause whose until is still ahead, and a pause or offline without one', () => {
    expect(scheduleExpiresStore(store({ status: 'paused', until: later(1) }), NOW)).toBeUndefined();
    expect(scheduleExpiresStore(store({ status: 'paused', changedBy: 'pos-health' }), NOW)).toBeUndefined();
    expect(scheduleExpiresStore(store({ status: 'offline' }), NOW)).toBeUndefined();
  });

  it('busy mode whose until has come ends, leaving the status alone', () => {
    const before = store({
      status: 'paused',
      changedBy: 'pos-health',
      busy: { extraPrepMinutes: 5, until: later(-2) },
    });
    const change = applied(scheduleExpiresStore(before, NOW));
    expect(change.status).toBeUndefined();
    const after = applyStoreChange(before, change);
    expect(after).not.toHaveProperty('busy');
    expect(after).toMatchObject({ status: 'paused', changedBy: 'pos-health' });
    expect(
      scheduleExpiresStore(store({ busy: { extraPrepMinutes: 5, until: later(2) } }), NOW),
    ).toBeUndefined();
    expect(scheduleExpiresStore(store({ busy: { extraPrepMinutes: 5 } }), NOW)).toBeUndefined();
  });

  it('an 86 whose until has come → available again, each item with its next version', () => {
    const before = store();
    before.menu[0] = { ...before.menu[0]!, available: false, until: later(-1), version: 4 };
    before.menu[1] = { ...before.menu[1]!, available: false, until: later(1) };
    before.menu[2] = { ...before.menu[2]!, available: false };
    expect(scheduleExpiresItems(before, NOW)).toEqual<ItemChange[]>([
      { sku: before.menu[0].sku, changedBy: 'schedule', fromVersion: 4, version: 5, available: true },
    ]);
  });
});

describe('the state at a moment, before the schedule has run', () => {
  it('a pause whose until has passed is online already; one ahead is still paused', () => {
    expect(statusAt({ status: 'paused', until: later(-1) }, NOW)).toBe('online');
    expect(statusAt({ status: 'paused', until: later(1) }, NOW)).toBe('paused');
    expect(statusAt({ status: 'paused' }, NOW)).toBe('paused');
    expect(statusAt({ status: 'offline' }, NOW)).toBe('offline');
  });

  it('an 86 whose until has passed sells again; one ahead or without an until does not', () => {
    expect(availableAt({ available: false, until: later(-1) }, NOW)).toBe(true);
    expect(availableAt({ available: false, until: later(1) }, NOW)).toBe(false);
    expect(availableAt({ available: false }, NOW)).toBe(false);
    expect(availableAt({ available: true }, NOW)).toBe(true);
  });

  it('busy mode whose until has passed is over', () => {
    expect(busyAt({ busy: { extraPrepMinutes: 5, until: later(-1) } }, NOW)).toBeUndefined();
    expect(busyAt({ busy: { extraPrepMinutes: 5, until: later(1) } }, NOW)).toEqual({
      extraPrepMinutes: 5,
      until: later(1),
    });
  });
});

describe('an order checked against the store honours until, before the schedule has run', () => {
  const horchata = (s: Store) => item(s, 'DRINK-HORCHATA');
  const refusal = (s: Store) => {
    const result = validateOrder(canonicalOrder(), s, NOW);
    return result.ok ? 'accepted' : result.reason;
  };

  it('a pause whose until has passed takes the order; one still ahead refuses STORE_PAUSED', () => {
    expect(refusal(store({ status: 'paused', until: later(-1) }))).toBe('accepted');
    expect(refusal(store({ status: 'paused', until: later(1) }))).toBe('STORE_PAUSED');
  });

  it('an item 86’d until a time that has passed sells; one 86’d until later is refused ITEM_UNAVAILABLE', () => {
    const ended = store();
    Object.assign(horchata(ended), { available: false, until: later(-1) });
    const ahead = store();
    Object.assign(horchata(ahead), { available: false, until: later(1) });
    expect(refusal(ended)).toBe('accepted');
    expect(refusal(ahead)).toBe('ITEM_UNAVAILABLE');
  });
});

describe('the demo data', () => {
  it('86es store-001’s churros until two hours after seeding; the schedule then sells them again', () => {
    const seeded = demoStoresAt(NOW).find((s) => s.storeId === DEMO_EIGHTY_SIX.storeId)!;
    const churros = item(seeded, DEMO_EIGHTY_SIX.sku);
    expect(churros).toMatchObject({ available: false, until: later(120) });
    expect(StoreSchema.parse(seeded)).toBeTruthy();
    expect(scheduleExpiresItems(seeded, new Date(NOW.getTime() + 119 * 60_000))).toEqual([]);
    expect(scheduleExpiresItems(seeded, new Date(NOW.getTime() + 120 * 60_000))).toEqual([
      expect.objectContaining({ sku: DEMO_EIGHTY_SIX.sku, available: true, changedBy: 'schedule' }),
    ]);
  });
});
