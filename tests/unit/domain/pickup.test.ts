import { DEMO_STORES } from '../../../functions/lib/domain/demo-stores';
import {
  DEFAULT_PREP_MINUTES,
  pickupRefusal,
  prepMinutesOf,
  releaseDelaySeconds,
} from '../../../functions/lib/domain/pickup';
import { StoreSchema } from '../../../functions/lib/schemas/store';

const now = new Date('2025-06-01T18:00:00Z');
const inSeconds = (seconds: number) => new Date(now.getTime() + seconds * 1000).toISOString();
const MINUTE = 60;
const HOUR = 3600;
const DAY = 24 * HOUR;

describe('pickupRefusal', () => {
  it.each([
    ['now', inSeconds(0)],
    ['in ten minutes', inSeconds(10 * MINUTE)],
    ['4 minutes ago (clock skew between partner and us)', inSeconds(-4 * MINUTE)],
    ['exactly 7 days ahead', inSeconds(7 * DAY)],
    ['absent (ASAP)', undefined],
  ])('accepts a pickup %s', (_, pickupAt) => {
    expect(pickupRefusal(pickupAt, now)).toBeUndefined();
  });

  it.each([
    ['30 days ahead', inSeconds(30 * DAY)],
    ['7 days and a minute ahead', inSeconds(7 * DAY + MINUTE)],
    ['in 1969', '1969-12-31T23:59:59Z'],
    ['6 minutes ago', inSeconds(-6 * MINUTE)],
  ])('refuses a pickup %s, saying why', (_, pickupAt) => {
    expect(pickupRefusal(pickupAt, now)).toMatch(/^pickup time .+ (has passed|is more than 7 days ahead)/);
  });
});

describe('releaseDelaySeconds', () => {
  const timing = { now, maxCourierWaitSeconds: 900, prepMinutes: 20 };

  it('waits until the pickup time for an order due within the hour, capped by the courier wait', () => {
    expect(releaseDelaySeconds({ ...timing, pickupAt: inSeconds(10 * MINUTE) })).toBe(600);
    expect(releaseDelaySeconds({ ...timing, pickupAt: inSeconds(50 * MINUTE) })).toBe(900);
    expect(releaseDelaySeconds({ ...timing, pickupAt: inSeconds(HOUR) })).toBe(900);
  });

  it('releases at once (1 s) an order whose pickup time has come, and waits the most without one', () => {
    expect(releaseDelaySeconds({ ...timing, pickupAt: inSeconds(-120) })).toBe(1);
    expect(releaseDelaySeconds({ ...timing, pickupAt: undefined })).toBe(900);
  });

  it('releases a scheduled order (pickup over an hour ahead) at pickup time less the prep minutes', () => {
    expect(releaseDelaySeconds({ ...timing, pickupAt: inSeconds(3 * HOUR) })).toBe(3 * HOUR - 20 * MINUTE);
    expect(releaseDelaySeconds({ ...timing, pickupAt: inSeconds(2 * DAY) })).toBe(2 * DAY - 20 * MINUTE);
    expect(releaseDelaySeconds({ ...timing, prepMinutes: 45, pickupAt: inSeconds(HOUR + 1) })).toBe(
      HOUR + 1 - 45 * MINUTE,
    );
  });

  it('never answers less than a second, however long the prep', () => {
    expect(releaseDelaySeconds({ ...timing, prepMinutes: 90, pickupAt: inSeconds(HOUR + 60) })).toBe(1);
  });

  it('rounds a pickup time with milliseconds up to whole seconds', () => {
    const pickupAt = new Date(now.getTime() + 3 * HOUR * 1000 + 1).toISOString();
    expect(releaseDelaySeconds({ ...timing, pickupAt })).toBe(3 * HOUR - 20 * MINUTE + 1);
  });
});

describe('prepMinutesOf', () => {
  it('is the store’s own, or 15 minutes when the store says nothing', () => {
    expect(prepMinutesOf({ prepMinutes: 25 })).toBe(25);
    expect(prepMinutesOf({})).toBe(DEFAULT_PREP_MINUTES);
    expect(DEFAULT_PREP_MINUTES).toBe(15);
  });
});

describe('the demo stores', () => {
  it('each say how many minutes the kitchen needs, and still parse as stores', () => {
    for (const store of DEMO_STORES) {
      expect(StoreSchema.parse(store)).toEqual(store);
      expect(store.prepMinutes).toEqual(expect.any(Number));
    }
  });

  it('a store record without prep minutes still parses (it gets the default)', () => {
    const { prepMinutes: _, ...withoutPrep } = DEMO_STORES[0]!;
    expect(prepMinutesOf(StoreSchema.parse(withoutPrep))).toBe(DEFAULT_PREP_MINUTES);
  });

  it('a store record with nonsense prep minutes does not parse', () => {
    expect(StoreSchema.safeParse({ ...DEMO_STORES[0]!, prepMinutes: -5 }).success).toBe(false);
  });
});
