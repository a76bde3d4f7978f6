import { busyMinutesOf, busyPickupAt, releaseDelaySeconds } from '../../../functions/lib/domain/pickup';
import {
  failuresPauseStore,
  pausedByPosHealth,
  posFailuresOf,
} from '../../../functions/lib/domain/pos-health';
import { posHealthPauses, posHealthResumes } from '../../../functions/lib/domain/store-state';
import type { Store } from '../../../functions/lib/schemas/store';

const now = new Date('2025-06-01T18:00:00Z');
const inMinutes = (minutes: number) => new Date(now.getTime() + minutes * 60_000).toISOString();

describe('busy mode', () => {
  it('adds the busy minutes to now for an ASAP order', () => {
    expect(busyPickupAt(undefined, 20, now)).toBe(inMinutes(20));
  });

  it('adds them to the partner’s pickup time for an order with one', () => {
    expect(busyPickupAt(inMinutes(30), 20, now)).toBe(inMinutes(50));
  });

  it('adds them to now when the partner’s pickup has just passed (clock skew)', () => {
    expect(busyPickupAt(inMinutes(-2), 10, now)).toBe(inMinutes(10));
  });

  it('leaves the pickup as it was when the kitchen is not busy (ASAP stays ASAP)', () => {
    expect(busyPickupAt(undefined, 0, now)).toBeUndefined();
    expect(busyPickupAt(inMinutes(30), 0, now)).toBe(inMinutes(30));
  });

  it('reads the busy minutes of a busy store, and none once its busy mode has ended', () => {
    expect(busyMinutesOf({ busy: { extraPrepMinutes: 15 } }, now)).toBe(15);
    expect(busyMinutesOf({ busy: { extraPrepMinutes: 15, until: inMinutes(5) } }, now)).toBe(15);
    expect(busyMinutesOf({ busy: { extraPrepMinutes: 15, until: inMinutes(0) } }, now)).toBe(0);
    expect(busyMinutesOf({}, now)).toBe(0);
  });

  it('waits that much longer for the courier of an ASAP or soon order', () => {
    const timing = { now, maxCourierWaitSeconds: 900, prepMinutes: 15 };
    expect(releaseDelaySeconds({ ...timing, pickupAt: undefined, busyMinutes: 10 })).toBe(900 + 600);
    expect(releaseDelaySeconds({ ...timing, pickupAt: inMinutes(5), busyMinutes: 10 })).toBe(300 + 600);
    expect(releaseDelaySeconds({ ...timing, pickupAt: inMinutes(5) })).toBe(300);
  });

  it('releases a scheduled order at the same moment: its pickup moves later and its kitchen needs as much more', () => {
    const timing = { now, maxCourierWaitSeconds: 900, prepMinutes: 15, pickupAt: inMinutes(180) };
    expect(releaseDelaySeconds({ ...timing, busyMinutes: 30 })).toBe(releaseDelaySeconds(timing));
  });
});

describe('POS health', () => {
  const store = (over: Partial<Store>): Store => ({
    storeId: 'store-001',
    name: 'Taqueria',
    status: 'online',
    menu: [],
    partnerStoreIds: {},
    ...over,
  });

  it('pauses at K consecutive failures and at every one after, not before', () => {
    expect([1, 2, 3, 4].map((failures) => failuresPauseStore(failures, 3))).toEqual([
      false,
      false,
      true,
      true,
    ]);
    expect(failuresPauseStore(4, 5)).toBe(false);
  });

  it('counts no failures for a store that never had one', () => {
    expect(posFailuresOf(store({}))).toBe(0);
    expect(posFailuresOf(store({ posHealth: { consecutiveFailures: 2 } }))).toBe(2);
  });

  it('knows a pause of its own from an operator’s', () => {
    expect(pausedByPosHealth(store({ status: 'paused', changedBy: 'pos-health' }))).toBe(true);
    expect(pausedByPosHealth(store({ status: 'paused', changedBy: 'operator' }))).toBe(false);
    expect(pausedByPosHealth(store({ status: 'offline', changedBy: 'pos-health' }))).toBe(false);
  });

  it('never lifts an operator’s pause or offline, and pauses only an online store', () => {
    expect(
      posHealthResumes(store({ status: 'paused', changedBy: 'operator', reason: 'staff' })),
    ).toBeUndefined();
    expect(posHealthResumes(store({ status: 'offline', changedBy: 'operator' }))).toBeUndefined();
    expect(posHealthPauses(store({ status: 'paused', changedBy: 'operator' }))).toBeUndefined();
    expect(posHealthPauses(store({ status: 'online' }))?.status).toMatchObject({
      status: 'paused',
      reason: 'POS_UNAVAILABLE',
      changedBy: 'pos-health',
    });
  });
});
