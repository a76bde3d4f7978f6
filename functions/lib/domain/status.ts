/** The order's life as data (docs/design.md): which status may follow which, and why. */
import type { OrderStatus } from '../schemas/order';

/** Each move, with the statuses it may start from — the `ConditionExpression` of its update. */
export const TRANSITIONS = {
  accept: { from: ['RECEIVED'], to: 'ACCEPTED' },
  deny: { from: ['RECEIVED'], to: 'REJECTED' },
  release: { from: ['ACCEPTED'], to: 'RELEASED' },
  cancel: { from: ['RECEIVED', 'ACCEPTED'], to: 'CANCELLED' },
  fail: { from: ['RECEIVED', 'ACCEPTED'], to: 'FAILED' },
} as const satisfies Record<string, { from: readonly OrderStatus[]; to: OrderStatus }>;
export type Transition = keyof typeof TRANSITIONS;

export const TERMINAL_STATUSES: readonly OrderStatus[] = ['RELEASED', 'REJECTED', 'CANCELLED', 'FAILED'];

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return Object.values(TRANSITIONS).some(
    (move) => move.to === to && (move.from as readonly OrderStatus[]).includes(from),
  );
}

export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/**
 * What the release ("courier arriving") webhook does:
 * `release` now; `remember` it until the order waits (it has not been accepted yet);
 * `noop` when already released (by the courier or the timeout); `conflict` (409) when it never will be.
 */
export type ReleaseDecision = 'release' | 'remember' | 'noop' | 'conflict';

const RELEASE_DECISIONS: Record<OrderStatus, ReleaseDecision> = {
  RECEIVED: 'remember',
  ACCEPTED: 'release',
  RELEASED: 'noop',
  REJECTED: 'conflict',
  CANCELLED: 'conflict',
  FAILED: 'conflict',
};

export function releaseDecision(status: OrderStatus): ReleaseDecision {
  return RELEASE_DECISIONS[status];
}

/** What the cancel webhook does: `cancel`, `noop` when already cancelled, `conflict` (409) once settled otherwise. */
export type CancelDecision = 'cancel' | 'noop' | 'conflict';

const CANCEL_DECISIONS: Record<OrderStatus, CancelDecision> = {
  RECEIVED: 'cancel',
  ACCEPTED: 'cancel',
  CANCELLED: 'noop',
  RELEASED: 'conflict',
  REJECTED: 'conflict',
  FAILED: 'conflict',
};

export function cancelDecision(status: OrderStatus): CancelDecision {
  return CANCEL_DECISIONS[status];
}
