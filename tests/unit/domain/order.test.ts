import { orderHash, orderIdFor, toOrderView } from '../../../functions/lib/domain/order';
import type { OrderRecord } from '../../../functions/lib/schemas/order';
import { OrderIdSchema, OrderViewSchema } from '../../../functions/lib/schemas/order';
import { canonicalOrder } from './fixtures';

describe('orderIdFor', () => {
  it('is the same for the same partner order, every time', () => {
    expect(orderIdFor('ubereats', 'a1b2c3d4-0000-4000-8000-000000000001')).toBe(
      'ord_je47ccensbmxj3pknfdfvmgnfj',
    );
    // Recorded once from the function: a change to the derivation would orphan every stored order.
    expect(orderIdFor('grubhub', 'gh-77')).toBe('ord_ynvxnvm5o3dcbfe4bz7s3r3vlg');
  });

  it('differs between partners for the same partner order id, and between orders', () => {
    const ids = new Set([
      orderIdFor('ubereats', 'A-1'),
      orderIdFor('doordash', 'A-1'),
      orderIdFor('grubhub', 'A-1'),
      orderIdFor('ubereats', 'A-2'),
    ]);
    expect(ids.size).toBe(4);
  });

  it('has the documented shape: ord_ + 26 lowercase base32 characters', () => {
    expect(OrderIdSchema.safeParse(orderIdFor('doordash', 'dd-9001')).success).toBe(true);
  });
});

describe('orderHash', () => {
  it('is equal for a re-delivery, even received at another time or with keys in another order', () => {
    const first = canonicalOrder();
    const { items, ...rest } = canonicalOrder();
    const redelivered = { items, ...rest, placedAt: '2025-06-01T18:03:00Z' };
    expect(orderHash(redelivered)).toBe(orderHash(first));
  });

  it('treats the same pickup instant in another notation as the same order', () => {
    const utc = canonicalOrder();
    const offset = { ...canonicalOrder(), pickupAt: '2025-06-01T13:20:00-05:00' };
    expect(orderHash(offset)).toBe(orderHash(utc));
  });

  it('differs when an item changes', () => {
    const changed = canonicalOrder();
    changed.items[1]!.quantity = 2;
    expect(orderHash(changed)).not.toBe(orderHash(canonicalOrder()));
  });

  it('differs when the pickup time or the store changes', () => {
    const base = orderHash(canonicalOrder());
    expect(orderHash({ ...canonicalOrder(), pickupAt: '2025-06-01T18:30:00Z' })).not.toBe(base);
    expect(orderHash({ ...canonicalOrder(), storeId: 'store-002' })).not.toBe(base);
  });
});

describe('toOrderView', () => {
  const record = (): OrderRecord => ({
    orderId: 'ord_je47ccensbmxj3pknfdfvmgnfj',
    partner: 'ubereats',
    partnerOrderId: 'a1b2c3d4-0000-4000-8000-000000000001',
    storeId: 'store-001',
    status: 'ACCEPTED',
    order: canonicalOrder(),
    orderHash: 'abc',
    posReference: 'pos-000123',
    pickupAt: '2025-06-01T18:20:00Z',
    taskToken: 'secret-task-token',
    claimedBy: 'exec-1',
    createdAt: '2025-06-01T18:00:00Z',
    updatedAt: '2025-06-01T18:00:02Z',
    timeline: [
      { at: '2025-06-01T18:00:00Z', event: 'received' },
      { at: '2025-06-01T18:00:02Z', event: 'accepted', detail: 'pos-000123' },
    ],
  });

  it('shows status, items, total, POS reference and timeline', () => {
    expect(toOrderView(record())).toEqual({
      orderId: 'ord_je47ccensbmxj3pknfdfvmgnfj',
      partner: 'ubereats',
      partnerOrderId: 'a1b2c3d4-0000-4000-8000-000000000001',
      storeId: 'store-001',
      status: 'ACCEPTED',
      items: canonicalOrder().items,
      total: 1935,
      posReference: 'pos-000123',
      pickupAt: '2025-06-01T18:20:00Z',
      timeline: record().timeline,
    });
  });

  it('never shows the task token or the customer', () => {
    const text = JSON.stringify(toOrderView(record()));
    expect(text).not.toContain('secret-task-token');
    expect(text).not.toContain('Maria');
    expect(OrderViewSchema.safeParse(toOrderView(record())).success).toBe(true);
  });
});
