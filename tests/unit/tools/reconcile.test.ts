import {
  endingDisagreements,
  hasSingleOutcome,
  reconcile,
  reconciled,
  type SentOrder,
} from '../../../local/tools/reconcile';

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

describe('endingDisagreements: the rule every ending must satisfy', () => {
  const ended = (status: string, extra: Record<string, unknown> = {}) => ({ status, ...extra });
  const pos = (...statuses: string[]) => statuses.map((status, i) => ({ posOrderId: `pos-${i}`, status }));

  it('agrees when a released order has exactly one fired ticket and the partner shows it accepted', () => {
    expect(
      endingDisagreements({
        orderId: 'o',
        record: ended('RELEASED'),
        posOrders: pos('fired'),
        partner: { state: 'accepted' },
      }),
    ).toEqual([]);
  });

  it('finds a held ticket of a failed order, and a released order whose ticket never fired', () => {
    expect(
      endingDisagreements({
        orderId: 'o',
        record: ended('FAILED'),
        posOrders: pos('held'),
        partner: { state: 'denied' },
      }),
    ).toEqual(['o: FAILED but the POS has pos-0 held']);
    expect(
      endingDisagreements({
        orderId: 'o',
        record: ended('RELEASED'),
        posOrders: pos('held'),
        partner: { state: 'accepted' },
      }),
    ).toEqual(['o: RELEASED but the POS has pos-0 held']);
  });

  it('finds a partner that was never told, and work still owed', () => {
    expect(
      endingDisagreements({
        orderId: 'o',
        record: ended('REJECTED', { owesPartner: { call: 'deny' }, owedQueue: 'owed' }),
        posOrders: [],
        partner: { state: 'pending' },
      }),
    ).toEqual(['o: REJECTED still owes the partner notice', 'o: REJECTED but the partner shows pending']);
  });

  it('names an outcome event the bus has not taken yet as work still owed', () => {
    expect(
      endingDisagreements({
        orderId: 'o',
        record: ended('CANCELLED', { owesEvent: 'OrderCancelled', owedQueue: 'owed' }),
        posOrders: pos('voided'),
        partner: { state: 'cancelled' },
      }),
    ).toEqual(['o: CANCELLED still owes its OrderCancelled event']);
  });

  it('accepts a failed order the partner denied or cancelled, and a cancelled one with its ticket voided', () => {
    for (const state of ['denied', 'cancelled'])
      expect(
        endingDisagreements({
          orderId: 'o',
          record: ended('FAILED'),
          posOrders: pos('voided'),
          partner: { state },
        }),
      ).toEqual([]);
    expect(
      endingDisagreements({
        orderId: 'o',
        record: ended('CANCELLED'),
        posOrders: pos('voided'),
        partner: { state: 'cancelled' },
      }),
    ).toEqual([]);
  });

  it('says an order that has not ended is not ended', () => {
    expect(endingDisagreements({ orderId: 'o', record: ended('ACCEPTED'), posOrders: pos('held') })).toEqual([
      'o: ACCEPTED, not ended',
    ]);
  });
});
