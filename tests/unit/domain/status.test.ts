import {
  cancelDecision,
  canTransition,
  isTerminal,
  releaseDecision,
  TRANSITIONS,
} from '../../../functions/lib/domain/status';
import { ORDER_STATUSES } from '../../../functions/lib/schemas/order';

describe('order status transitions', () => {
  it.each([
    ['RECEIVED', 'ACCEPTED'],
    ['RECEIVED', 'REJECTED'],
    ['RECEIVED', 'CANCELLED'],
    ['RECEIVED', 'FAILED'],
    ['ACCEPTED', 'RELEASED'],
    ['ACCEPTED', 'CANCELLED'],
    ['ACCEPTED', 'FAILED'],
  ] as const)('%s → %s is allowed', (from, to) => {
    expect(canTransition(from, to)).toBe(true);
  });

  it.each([
    ['RECEIVED', 'RELEASED'],
    ['ACCEPTED', 'REJECTED'],
    ['ACCEPTED', 'ACCEPTED'],
    ['REJECTED', 'ACCEPTED'],
    ['CANCELLED', 'RELEASED'],
    ['RELEASED', 'CANCELLED'],
    ['FAILED', 'RECEIVED'],
  ] as const)('%s → %s is refused', (from, to) => {
    expect(canTransition(from, to)).toBe(false);
  });

  it('leaves no way out of a terminal status', () => {
    const terminal = ORDER_STATUSES.filter(isTerminal);
    expect(terminal).toEqual(['REJECTED', 'RELEASED', 'CANCELLED', 'FAILED']);
    for (const from of terminal) for (const to of ORDER_STATUSES) expect(canTransition(from, to)).toBe(false);
  });

  it('names the statuses each move may start from (the update condition)', () => {
    expect(TRANSITIONS.cancel.from).toEqual(['RECEIVED', 'ACCEPTED']);
    expect(TRANSITIONS.release).toEqual({ from: ['ACCEPTED'], to: 'RELEASED' });
  });
});

describe('release webhook decision', () => {
  it.each([
    ['RECEIVED', 'remember'],
    ['ACCEPTED', 'release'],
    ['RELEASED', 'noop'],
    ['REJECTED', 'conflict'],
    ['CANCELLED', 'conflict'],
    ['FAILED', 'conflict'],
  ] as const)('%s → %s', (status, decision) => {
    expect(releaseDecision(status)).toBe(decision);
  });
});

describe('cancel webhook decision', () => {
  it.each([
    ['RECEIVED', 'cancel'],
    ['ACCEPTED', 'cancel'],
    ['CANCELLED', 'noop'],
    ['RELEASED', 'conflict'],
    ['REJECTED', 'conflict'],
    ['FAILED', 'conflict'],
  ] as const)('%s → %s', (status, decision) => {
    expect(cancelDecision(status)).toBe(decision);
  });
});
