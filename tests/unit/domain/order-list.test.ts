/** The order list's pure rules: which index serves a filter, the day partitions, and the cursor. */
import {
  createdDayOf,
  dayBefore,
  decodeCursor,
  encodeCursor,
  LIST_LOOKBACK_DAYS,
  listPlan,
  oldestDay,
} from '../../../functions/lib/domain/order-list';

describe('listPlan', () => {
  it('reads a status from by-status, a store from by-store, and anything else day by day', () => {
    expect(listPlan({ status: 'CANCELLED' })).toEqual({
      index: 'by-status',
      partitionKey: 'status',
      partition: 'CANCELLED',
      filters: {},
    });
    expect(listPlan({ storeId: 'store-001', partner: 'grubhub' })).toEqual({
      index: 'by-store',
      partitionKey: 'storeId',
      partition: 'store-001',
      filters: { partner: 'grubhub' },
    });
    expect(listPlan({ partner: 'doordash' })).toEqual({
      index: 'by-day',
      partitionKey: 'createdDay',
      filters: { partner: 'doordash' },
    });
  });

  it('with both status and store, reads the few waiting orders by status and the many ended ones by store', () => {
    expect(listPlan({ status: 'ACCEPTED', storeId: 'store-001' })).toMatchObject({
      index: 'by-status',
      filters: { storeId: 'store-001' },
    });
    expect(listPlan({ status: 'RELEASED', storeId: 'store-001' })).toMatchObject({
      index: 'by-store',
      filters: { status: 'RELEASED' },
    });
  });
});

describe('days', () => {
  it('are UTC dates, whatever the offset the time was written with', () => {
    expect(createdDayOf('2026-11-30T23:59:59.999Z')).toBe('2026-11-30');
    expect(createdDayOf('2026-12-01T00:30:00+01:00')).toBe('2026-11-30');
  });

  it('step back across months, years and a leap day', () => {
    expect(dayBefore('2026-03-01')).toBe('2026-02-28');
    expect(dayBefore('2028-03-01')).toBe('2028-02-29');
    expect(dayBefore('2027-01-01')).toBe('2026-12-31');
  });

  it('stop at since’s day, or at the lookback', () => {
    const now = new Date('2026-11-30T12:00:00Z');
    expect(oldestDay('2026-11-29T23:00:00.000Z', now)).toBe('2026-11-29');
    expect(oldestDay(undefined, now)).toBe(
      createdDayOf(new Date(now.getTime() - LIST_LOOKBACK_DAYS * 86_400_000)),
    );
  });
});

describe('cursor', () => {
  const byDay = listPlan({});
  const byStatus = listPlan({ status: 'ACCEPTED' });
  const key = { orderId: 'ord_a', createdAt: '2026-11-30T10:00:00.000Z' };

  it('reads back what it wrote, for the list it continues', () => {
    const dayPosition = { day: '2026-11-30', key: { ...key, createdDay: '2026-11-30' } };
    expect(decodeCursor(encodeCursor(dayPosition), byDay)).toEqual(dayPosition);
    expect(decodeCursor(encodeCursor({ day: '2026-11-29' }), byDay)).toEqual({ day: '2026-11-29' });
    const statusPosition = { key: { ...key, status: 'ACCEPTED' } };
    expect(decodeCursor(encodeCursor(statusPosition), byStatus)).toEqual(statusPosition);
  });

  it.each([
    ['not base64url JSON', '%%%'],
    ['JSON that is no object', encodeCursor([] as never)],
    ['a day for a list that is not by day', encodeCursor({ day: '2026-11-30' })],
    ['a key of another partition', encodeCursor({ key: { ...key, status: 'RELEASED' } })],
    ['a key missing its partition', encodeCursor({ key })],
    ['a key with more than an index key', encodeCursor({ key: { ...key, status: 'ACCEPTED', total: '1' } })],
    ['fields a cursor never has', encodeCursor({ key: { ...key, status: 'ACCEPTED' }, limit: 5 } as never)],
  ])('refuses %s', (_, cursor) => {
    expect(decodeCursor(cursor, byStatus)).toBeUndefined();
  });

  it('refuses a by-day cursor without its day, or whose key is of another day', () => {
    expect(decodeCursor(encodeCursor({ key: { ...key, createdDay: '2026-11-30' } }), byDay)).toBeUndefined();
    expect(
      decodeCursor(encodeCursor({ day: '2026-11-29', key: { ...key, createdDay: '2026-11-30' } }), byDay),
    ).toBeUndefined();
  });
});
