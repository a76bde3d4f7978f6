import {
  isOwing,
  lateWriteHorizonPassed,
  nextAttemptAt,
  owedBy,
} from '../../../functions/lib/domain/endings';

describe('what each ending owes', () => {
  it('a rejection: the partner hears the reason; a void only when the POS had the order', () => {
    expect(owedBy({ status: 'REJECTED', reason: 'STORE_OFFLINE' }, false)).toEqual({
      posVoid: false,
      partner: { call: 'deny', reason: 'STORE_OFFLINE' },
    });
    expect(owedBy({ status: 'REJECTED', reason: 'ITEM_UNAVAILABLE' }, true).posVoid).toBe(true);
  });

  it('a failure before acceptance is a denial, after acceptance a FAILED status; both void by our id', () => {
    expect(owedBy({ status: 'FAILED', reason: 'POS_UNAVAILABLE', wasAccepted: false }, false)).toEqual({
      posVoid: true,
      partner: { call: 'deny', reason: 'POS_UNAVAILABLE' },
    });
    expect(owedBy({ status: 'FAILED', reason: 'POS_UNAVAILABLE', wasAccepted: true }, true)).toEqual({
      posVoid: true,
      partner: { call: 'status', status: 'FAILED' },
    });
  });

  it('a cancel by the partner owes it nothing; by an operator it owes the partner the news', () => {
    expect(owedBy({ status: 'CANCELLED', by: 'partner' }, false)).toEqual({
      posVoid: true,
      event: 'OrderCancelled',
    });
    expect(owedBy({ status: 'CANCELLED', by: 'operator' }, true)).toEqual({
      posVoid: true,
      partner: { call: 'status', status: 'CANCELLED' },
      event: 'OrderCancelled',
    });
  });

  it('owes its outcome event only where the ending publishes it itself: a cancel, a stopped workflow', () => {
    // The workflows put OrderRejected, OrderFailed and OrderReleasedToKitchen from their own states.
    expect(owedBy({ status: 'REJECTED', reason: 'STORE_OFFLINE' }, false).event).toBeUndefined();
    expect(
      owedBy({ status: 'FAILED', reason: 'POS_UNAVAILABLE', wasAccepted: true }, true).event,
    ).toBeUndefined();
    expect(owedBy({ status: 'RELEASED' }, true).event).toBeUndefined();
    expect(
      owedBy({ status: 'FAILED', reason: 'POS_UNAVAILABLE', wasAccepted: true, workflowStopped: true }, true),
    ).toEqual({ posVoid: true, partner: { call: 'status', status: 'FAILED' }, event: 'OrderFailed' });
  });

  it('an outcome event alone is still owed work', () => {
    expect(isOwing({ posVoid: false, event: 'OrderCancelled' })).toBe(true);
    expect(isOwing({ posVoid: false })).toBe(false);
  });

  it('a release owes the partner its RELEASED status and never a void', () => {
    expect(owedBy({ status: 'RELEASED' }, true)).toEqual({
      posVoid: false,
      partner: { call: 'status', status: 'RELEASED' },
    });
  });
});

describe('when owed work is tried again', () => {
  const now = new Date('2026-11-30T12:00:00Z');
  const policy = { baseSeconds: 60, maxSeconds: 3600 };
  const secondsUntilRetry = (attempts: number, draw: number) =>
    (nextAttemptAt(attempts, now, policy, () => draw).getTime() - now.getTime()) / 1000;

  it('doubles the ceiling with each failure, with full jitter below it', () => {
    expect(secondsUntilRetry(1, 1)).toBe(120);
    expect(secondsUntilRetry(3, 1)).toBe(480);
    expect(secondsUntilRetry(3, 0.5)).toBe(240);
  });

  it('never sooner than the base interval, never later than the cap', () => {
    expect(secondsUntilRetry(0, 0)).toBe(60);
    expect(secondsUntilRetry(5, 0.01)).toBe(60);
    expect(secondsUntilRetry(30, 1)).toBe(3600);
  });
});

describe('the POS late-write horizon', () => {
  it('passes only once the horizon after the ending is over', () => {
    const ended = '2026-11-30T12:00:00.000Z';
    expect(lateWriteHorizonPassed(ended, new Date('2026-11-30T12:14:59Z'), 900)).toBe(false);
    expect(lateWriteHorizonPassed(ended, new Date('2026-11-30T12:15:00Z'), 900)).toBe(true);
  });
});
