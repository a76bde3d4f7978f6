/**
 * The one rule every ending follows (README "The guarantee"): REJECTED, FAILED or CANCELLED — the
 * POS order is voided or was never made, the partner is told the ending; RELEASED — exactly one POS
 * order, ours, fired, and the partner told. What an ending still owes is written on the order record
 * in the same conditional write as the ending itself, so it cannot be lost: the step that ends the
 * order pays it at once, and the reconciler pays whatever is left, with backoff, until it is done.
 */
import type { DenyReason } from '../schemas/order';
import type { ReportedStatus } from '../schemas/partners/signing';

/** What the partner must hear: a denial with its reason, or a status update. */
export type PartnerNotice = { call: 'deny'; reason: DenyReason } | { call: 'status'; status: ReportedStatus };

/**
 * An outcome event the code that ends the order puts on the bus itself. The workflows put theirs
 * (OrderRejected, OrderFailed, OrderReleasedToKitchen) from their own putEvents states, which retry.
 */
export type OwedEvent = 'OrderCancelled' | 'OrderFailed';

/**
 * Work an ending leaves to do. `posVoid`: every POS order made under our order id is voided;
 * `event`: the outcome event, until the bus has taken it.
 */
export interface OwedWork {
  posVoid: boolean;
  partner?: PartnerNotice;
  event?: OwedEvent;
}

export type Ending =
  | { status: 'REJECTED'; reason: DenyReason }
  /** `workflowStopped`: ended by settleStoppedOrder, no workflow left to announce it. */
  | { status: 'FAILED'; reason: DenyReason; wasAccepted: boolean; workflowStopped?: boolean }
  | { status: 'CANCELLED'; by: 'partner' | 'operator' }
  | { status: 'RELEASED' };

/**
 * What each ending owes (ARCHITECTURE section 7, "how each ending reaches the partner"). A FAILED or
 * CANCELLED order may have a POS order even when we never learned its number (a create whose answer
 * was lost, or one still in flight when the cancel won), so it always owes a void by our order id.
 */
export function owedBy(ending: Ending, heldInPos: boolean): OwedWork {
  switch (ending.status) {
    case 'REJECTED':
      return { posVoid: heldInPos, partner: { call: 'deny', reason: ending.reason } };
    case 'FAILED':
      return {
        posVoid: true,
        partner: ending.wasAccepted
          ? { call: 'status', status: 'FAILED' }
          : { call: 'deny', reason: ending.reason },
        ...(ending.workflowStopped ? { event: 'OrderFailed' as const } : {}),
      };
    case 'CANCELLED':
      // The partner asked, so it needs no answer; an operator's cancel must reach the partner.
      return {
        posVoid: true,
        ...(ending.by === 'operator' ? { partner: { call: 'status', status: 'CANCELLED' } as const } : {}),
        event: 'OrderCancelled',
      };
    case 'RELEASED':
      return { posVoid: false, partner: { call: 'status', status: 'RELEASED' } };
  }
}

export const isOwing = (work: OwedWork): boolean =>
  work.posVoid || work.partner !== undefined || work.event !== undefined;

/** A partner notice as one short line for the timeline. */
export function describeNotice(notice: PartnerNotice): string {
  return notice.call === 'deny' ? `deny ${notice.reason}` : `status ${notice.status}`;
}

/**
 * When to try owed work again: exponential from `baseSeconds`, capped at `maxSeconds`, with full
 * jitter so that a POS coming back is not hit by every owed order in the same second.
 */
export function nextAttemptAt(
  attempts: number,
  now: Date,
  { baseSeconds, maxSeconds }: { baseSeconds: number; maxSeconds: number },
  random: () => number = Math.random,
): Date {
  const ceiling = Math.min(maxSeconds, baseSeconds * 2 ** Math.min(attempts, 20));
  const seconds = Math.max(baseSeconds, ceiling * random());
  return new Date(now.getTime() + seconds * 1000);
}

/**
 * A POS order we never learned the number of may still be written late (a create slower than our
 * timeout lands after we gave up). Finding none counts as "nothing to void" only once the horizon
 * after the ending has passed.
 */
export function lateWriteHorizonPassed(
  owedSince: string | undefined,
  now: Date,
  horizonSeconds: number,
): boolean {
  if (!owedSince) return true;
  return now.getTime() - Date.parse(owedSince) >= horizonSeconds * 1000;
}
