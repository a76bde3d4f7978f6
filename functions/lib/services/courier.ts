import { changeOrder, type OrderChange } from '../adapters/order-store';
import { failWorkflowTask, resumeWorkflow } from '../adapters/task-tokens';
import { NotFound, OrderCancelled, OrderConflict, OrderEnded } from '../domain/errors';
import { cancelDecision, releaseDecision } from '../domain/status';
import { metrics } from '../powertools';
import type { OrderRecord, OrderStatus } from '../schemas/order';
import { owedAttributesFor, payOwedEvent } from './compensation';

/** Conditional writes can lose a race; decide again from what the failed write found, a few times. */
const MAX_RACE_ROUNDS = 5;

/**
 * Tries the change a partner request most often means first — one conditional write, no read —
 * and when the order is elsewhere, decides from the record the failed write found and tries again.
 */
async function applyPartnerRequest(
  orderId: string,
  likelyFrom: OrderStatus[],
  decide: (record: OrderRecord) => 'apply' | 'noop',
  change: (from: OrderStatus[]) => OrderChange,
): Promise<{ record: OrderRecord; applied: boolean }> {
  let result = await changeOrder(orderId, change(likelyFrom));
  for (let round = 0; round < MAX_RACE_ROUNDS; round++) {
    if (result.applied) return { record: result.record, applied: true };
    if (!result.current) throw new NotFound(`no order ${orderId}`);
    if (decide(result.current) === 'noop') return { record: result.current, applied: false };
    result = await changeOrder(orderId, change([result.current.status]));
  }
  throw new Error(`order ${orderId} kept changing under the partner's request`);
}

/** Who asks for the release: the partner's courier webhook, or an operator (POST /orders/{orderId}/release). */
export type ReleaseRequester = 'courier' | 'operator';

/**
 * The courier is close (or an operator says release now). A waiting order is resumed; one not yet
 * waiting keeps the request and resumes as soon as its wait begins; a released order ignores it.
 */
export async function requestRelease(
  orderId: string,
  by: ReleaseRequester = 'courier',
): Promise<OrderStatus> {
  const now = new Date().toISOString();
  const { record, applied } = await applyPartnerRequest(
    orderId,
    ['ACCEPTED'],
    (current) => {
      const decision = releaseDecision(current.status);
      if (decision === 'conflict')
        throw new OrderConflict(`order ${orderId} is ${current.status}; it cannot be released`);
      return decision === 'noop' || current.releaseRequestedAt ? 'noop' : 'apply';
    },
    (from) => ({
      from,
      // A waiting order is from now on being released: a cancel is refused (one write does both).
      set: {
        ...(from.includes('ACCEPTED')
          ? { releaseRequestedAt: now, releasingAt: now }
          : { releaseRequestedAt: now }),
        ...(by === 'operator' ? { releaseRequestedBy: by } : {}),
      },
      alsoRequire: 'attribute_not_exists(releaseRequestedAt)',
      timeline:
        by === 'operator'
          ? { event: 'release-requested', detail: 'by operator' }
          : { event: 'courier-arriving' },
    }),
  );
  // A repeat of a release still waiting (the partner retries when our first answer failed, perhaps
  // after the write but before the resume) resumes again: a token already spent is no error.
  const waiting = record.status === 'ACCEPTED' && record.releasingAt !== undefined;
  if (record.taskToken && (applied || waiting))
    await resumeWorkflow(record.taskToken, { releasedBy: by, releasing: Boolean(record.releasingAt) });
  return record.status;
}

/** Who cancels: the partner (its webhook; it needs no answer) or an operator, with the reason given. */
export type Canceller = { by: 'partner' } | { by: 'operator'; reason: string };

const CANCELLED_BY_PARTNER: Canceller = { by: 'partner' };

/**
 * The partner (or an operator) cancels. Exactly one of cancel, release and timeout wins, by
 * conditional write. An operator's cancel also owes the partner a CANCELLED status (endings.ts).
 * OrderCancelled is owed by that same write and cleared once on the bus, so a put that fails is
 * made by the partner's retry (which finds the order CANCELLED) or by the reconciler.
 */
export async function cancelOrder(
  orderId: string,
  now = new Date(),
  canceller: Canceller = CANCELLED_BY_PARTNER,
): Promise<OrderStatus> {
  const { record, applied } = await applyPartnerRequest(
    orderId,
    ['RECEIVED', 'ACCEPTED'],
    (current) => {
      const decision = cancelDecision(current.status);
      if (decision === 'conflict')
        throw new OrderConflict(`order ${orderId} is ${current.status}; it cannot be cancelled`);
      if (decision === 'cancel' && current.releasingAt)
        throw new OrderConflict(`order ${orderId} is being released to the kitchen; it cannot be cancelled`);
      return decision === 'noop' ? 'noop' : 'apply';
    },
    (from) => ({
      from,
      to: 'CANCELLED',
      // The void and the event are owed from this very write: whatever fails next, neither is lost.
      set: {
        cancelledBy: canceller.by,
        ...owedAttributesFor({ status: 'CANCELLED', by: canceller.by }, true, now),
      },
      // Once the kitchen is being told, the order can no longer be taken back.
      alsoRequire: 'attribute_not_exists(releasingAt)',
      timeline: {
        event: 'cancelled',
        detail: canceller.by === 'operator' ? `by operator: ${canceller.reason}` : 'by partner',
      },
    }),
  );
  // A repeat (the partner retries when our first answer failed, perhaps after the write) does what
  // the first could not: a token already spent is no error, and an event already put is owed no
  // more, so a cancel sent twice puts OrderCancelled once.
  const cause = !applied
    ? 'The order was cancelled.'
    : canceller.by === 'operator'
      ? 'An operator cancelled the order.'
      : 'The partner cancelled the order.';
  // Counted with the winning write: a put that fails next is retried by a request that did not win.
  if (applied) metrics.addMetric('OrderCancelled', 'Count', 1);
  try {
    // The event first: the workflow's void step, told next, then finds it paid and takes the order
    // off the reconciler's queue in its own write (told first, both would race to clear the queue).
    await payOwedEvent(record);
  } finally {
    // A waiting workflow leaves its wait and pays the void, even when the event waits for a retry;
    // one still preparing sees the status and does the same once it reaches the wait.
    if (record.taskToken) await failWorkflowTask(record.taskToken, 'OrderCancelled', cause);
  }
  return record.status;
}

/**
 * Invoked with the workflow's task token: keep the token on the order so release and cancel can
 * reach the workflow; resume at once when the courier already arrived.
 */
export async function waitForCourier(
  orderId: string,
  taskToken: string,
  workflowExecutionId: string,
): Promise<void> {
  const change = await changeOrder(orderId, {
    from: ['ACCEPTED'],
    set: { taskToken },
    // Only the execution that claimed the order waits on it: a duplicate's token never replaces it.
    requireEqual: { claimedBy: workflowExecutionId },
    timeline: { event: 'waiting-for-courier' },
  });
  if (!change.applied) {
    // A cancelled order leaves through the workflow's cancel path, which pays its void.
    if (change.current?.status === 'CANCELLED') throw new OrderCancelled(orderId);
    throw new OrderEnded(
      `order ${orderId} is ${change.current?.status ?? 'missing'}${
        change.current?.status === 'ACCEPTED' ? ' and waits in another execution' : ''
      }; nothing to wait for`,
    );
  }
  if (change.record.releaseRequestedAt)
    await resumeWorkflow(taskToken, {
      releasedBy: change.record.releaseRequestedBy ?? 'courier',
      releasing: Boolean(change.record.releasingAt),
    });
}
