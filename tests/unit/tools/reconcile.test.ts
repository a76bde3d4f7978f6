import { hasSingleOutcome, reconcile, reconciled, type SentOrder } from '../../../local/tools/reconcile';

const timeline = (...events: string[]) => events.map((event) => ({ event }));
const order = (orderId: string, status: string, ...events: string[]): SentOrder => ({
  partner: 'doordash',
  partnerOrderId: `p-${orderId}`,
  orderId,
  order: { status, timeline: timeline('received', ...events) },
});

describe('one outcome per order', () => {
  it('accepts each terminal status with its own outcome event', () => {
    expect(hasSingleOutcome(order('a', 'RELEASED', 'accepted', 'released-to-kitchen').order!)).toBe(true);
    expect(hasSingleOutcome(order('b', 'REJECTED', 'rejected').order!)).toBe(true);
    expect(hasSingleOutcome(order('c', 'CANCELLED', 'accepted', 'cancelled').order!)).toBe(true);
    expect(hasSingleOutcome(order('d', 'FAILED', 'failed').order!)).toBe(true);
  });

  it('accepts a release whose kitchen fire then failed (FAILED after released-to-kitchen)', () => {
    expect(hasSingleOutcome(order('e', 'FAILED', 'released-to-kitchen', 'failed').order!)).toBe(true);
  });

  it('refuses two outcomes, the same one twice, or an outcome that contradicts the status', () => {
    expect(hasSingleOutcome(order('f', 'CANCELLED', 'released-to-kitchen', 'cancelled').order!)).toBe(false);
    expect(
      hasSingleOutcome(order('g', 'RELEASED', 'released-to-kitchen', 'released-to-kitchen').order!),
    ).toBe(false);
    expect(hasSingleOutcome(order('h', 'RELEASED', 'cancelled').order!)).toBe(false);
    expect(hasSingleOutcome(order('i', 'RELEASED', 'accepted').order!)).toBe(false);
  });
});

describe('reconcile', () => {
  it('passes a clean run', () => {
    const sent = [order('a', 'RELEASED', 'released-to-kitchen'), order('b', 'REJECTED', 'rejected')];
    const report = reconcile(sent, [{ reference: 'a' }], 0);
    expect(report).toMatchObject({ lost: 0, withoutSingleOutcome: 0, duplicatePosOrders: 0, dlqMessages: 0 });
    expect(reconciled(report)).toBe(true);
  });

  it('counts as lost an order never found, one still waiting, and a webhook that never got an id', () => {
    const sent: SentOrder[] = [
      { partner: 'grubhub', partnerOrderId: 'gone', orderId: 'x' },
      order('y', 'ACCEPTED', 'accepted'),
      { partner: 'ubereats', partnerOrderId: 'refused' },
    ];
    const report = reconcile(sent, [], 0);
    expect(report.lost).toBe(3);
    expect(report.examples.lost).toEqual(['x', 'y', 'ubereats/refused']);
    expect(reconciled(report)).toBe(false);
  });

  it('counts orders with more than one POS order once each', () => {
    const sent = [
      order('a', 'RELEASED', 'released-to-kitchen'),
      order('b', 'RELEASED', 'released-to-kitchen'),
    ];
    const pos = [{ reference: 'a' }, { reference: 'a' }, { reference: 'a' }, { reference: 'b' }];
    const report = reconcile(sent, pos, 0);
    expect(report.duplicatePosOrders).toBe(1);
    expect(report.examples.duplicatePosOrders).toEqual(['a']);
  });

  it('fails on a muddled outcome or a message left in a DLQ', () => {
    const muddled = reconcile([order('a', 'CANCELLED', 'released-to-kitchen', 'cancelled')], [], 0);
    expect(muddled.withoutSingleOutcome).toBe(1);
    expect(reconciled(muddled)).toBe(false);
    expect(reconciled(reconcile([], [], 2))).toBe(false);
  });
});
