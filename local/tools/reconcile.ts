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
  /** From the three-way audit (`auditEndings`), when the run made one. */
  heldTicketsOfEndedOrders?: number;
  partnerDisagreements?: number;
  stillOwing?: number;
}

export interface ReconciliationReport extends Reconciliation {
  /** A few examples of each problem, to start looking from. */
  examples: {
    lost: string[];
    withoutSingleOutcome: string[];
    duplicatePosOrders: string[];
    endings?: string[];
  };
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
  r.lost === 0 &&
  r.withoutSingleOutcome === 0 &&
  r.duplicatePosOrders === 0 &&
  r.dlqMessages === 0 &&
  (r.heldTicketsOfEndedOrders ?? 0) === 0 &&
  (r.partnerDisagreements ?? 0) === 0 &&
  (r.stillOwing ?? 0) === 0;

/** What the three systems show for one order: our record, the POS orders under its id, the partner. */
export interface OrderAcrossSystems {
  orderId: string;
  record?: {
    status: string;
    owesPosVoid?: boolean;
    owesPartner?: unknown;
    /** An outcome event (OrderCancelled, OrderFailed) the bus has not taken yet. */
    owesEvent?: string;
    owedQueue?: string;
  };
  posOrders: ReadonlyArray<{ posOrderId: string; status: string }>;
  /** What the partner simulator shows (`GET /_control/orders/{partner}/{partnerOrderId}`). */
  partner?: { state: string };
}

/** The partner states each ending may leave (ARCHITECTURE section 7, "how each ending reaches the partner"). */
const PARTNER_STATES_OF: Record<string, readonly string[]> = {
  RELEASED: ['accepted'],
  REJECTED: ['denied'],
  // Denied before acceptance; cancelled when the partner held it accepted (told FAILED).
  FAILED: ['denied', 'cancelled'],
  CANCELLED: ['cancelled'],
};

/**
 * The rule every ending must satisfy once things settle (README "The guarantee"): REJECTED, FAILED
 * or CANCELLED — no POS order left held or fired, the partner told; RELEASED — exactly one POS order,
 * fired, the partner told; and nothing still owed. Answers what disagrees (empty when all agree).
 */
export function endingDisagreements({ orderId, record, posOrders, partner }: OrderAcrossSystems): string[] {
  const problems: string[] = [];
  if (!record) return [`${orderId}: no order record`];
  if (!isTerminal(record.status)) return [`${orderId}: ${record.status}, not ended`];
  if (record.owesPosVoid || record.owesPartner || record.owesEvent || record.owedQueue) {
    const owed = [
      record.owesPosVoid ? 'the POS void' : undefined,
      record.owesPartner ? 'the partner notice' : undefined,
      record.owesEvent ? `its ${record.owesEvent} event` : undefined,
    ].filter(Boolean);
    problems.push(`${orderId}: ${record.status} still owes ${owed.join(', ') || 'work (queued)'}`);
  }
  if (record.status === 'RELEASED') {
    const fired = posOrders.filter((order) => order.status === 'fired');
    if (posOrders.length !== 1 || fired.length !== 1)
      problems.push(
        `${orderId}: RELEASED but the POS has ${posOrders.map((o) => `${o.posOrderId} ${o.status}`).join(', ') || 'nothing'}`,
      );
  } else {
    const live = posOrders.filter((order) => order.status !== 'voided');
    if (live.length > 0)
      problems.push(
        `${orderId}: ${record.status} but the POS has ${live.map((o) => `${o.posOrderId} ${o.status}`).join(', ')}`,
      );
  }
  const expected = PARTNER_STATES_OF[record.status] ?? [];
  if (!partner || !expected.includes(partner.state))
    problems.push(`${orderId}: ${record.status} but the partner shows ${partner?.state ?? 'nothing'}`);
  return problems;
}
