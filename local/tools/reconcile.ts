/**
 * The load run's reconciliation: every order sent must exist and have reached exactly one outcome,
 * the POS must hold at most one order per middleware order, and the dead-letter queues must be empty.
 */

export const TERMINAL_STATUSES = ['RELEASED', 'REJECTED', 'CANCELLED', 'FAILED'] as const;

/** The timeline event that records each outcome. */
const OUTCOME_OF_EVENT: Record<string, string> = {
  'released-to-kitchen': 'RELEASED',
  rejected: 'REJECTED',
  cancelled: 'CANCELLED',
  failed: 'FAILED',
};

export interface SentOrder {
  partner: string;
  partnerOrderId: string;
  orderId?: string;
  /** What GET /orders/{orderId} answered at the end; undefined when there was no order. */
  order?: { status: string; timeline: Array<{ event: string }> };
}

export interface Reconciliation {
  lost: number;
  withoutSingleOutcome: number;
  duplicatePosOrders: number;
  dlqMessages: number;
}

export interface ReconciliationReport extends Reconciliation {
  /** A few examples of each problem, to start looking from. */
  examples: { lost: string[]; withoutSingleOutcome: string[]; duplicatePosOrders: string[] };
}

export const isTerminal = (status: string | undefined): boolean =>
  (TERMINAL_STATUSES as readonly string[]).includes(status ?? '');

/**
 * One outcome: the timeline's outcome events are exactly the one that matches the status — or a
 * release followed by a failure (the kitchen's POS could not be fired after retries: FAILED).
 */
export function hasSingleOutcome(order: NonNullable<SentOrder['order']>): boolean {
  const outcomes = order.timeline.map((entry) => OUTCOME_OF_EVENT[entry.event]).filter(Boolean);
  if (outcomes.length === 1) return outcomes[0] === order.status;
  return (
    order.status === 'FAILED' &&
    outcomes.length === 2 &&
    outcomes[0] === 'RELEASED' &&
    outcomes[1] === 'FAILED'
  );
}

export function reconcile(
  sent: readonly SentOrder[],
  posOrders: ReadonlyArray<{ reference: string }>,
  dlqMessages: number,
): ReconciliationReport {
  const name = (order: SentOrder) => order.orderId ?? `${order.partner}/${order.partnerOrderId}`;
  const lost = sent.filter((order) => !order.order || !isTerminal(order.order.status));
  const muddled = sent.filter(
    (order) => order.order && isTerminal(order.order.status) && !hasSingleOutcome(order.order),
  );
  const perReference = new Map<string, number>();
  for (const { reference } of posOrders) perReference.set(reference, (perReference.get(reference) ?? 0) + 1);
  const duplicated = [...perReference].filter(([, count]) => count > 1).map(([reference]) => reference);
  return {
    lost: lost.length,
    withoutSingleOutcome: muddled.length,
    duplicatePosOrders: duplicated.length,
    dlqMessages,
    examples: {
      lost: lost.slice(0, 5).map(name),
      withoutSingleOutcome: muddled.slice(0, 5).map(name),
      duplicatePosOrders: duplicated.slice(0, 5),
    },
  };
}

export const reconciled = (r: Reconciliation): boolean =>
  r.lost === 0 && r.withoutSingleOutcome === 0 && r.duplicatePosOrders === 0 && r.dlqMessages === 0;
