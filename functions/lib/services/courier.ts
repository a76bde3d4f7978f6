import { publishOrderEvent } from '../adapters/event-bus';
import { changeOrder, getOrderRecord } from '../adapters/order-store';
import { failWorkflowTask, resumeWorkflow } from '../adapters/task-tokens';
import { NotFound, OrderCancelled, OrderConflict } from '../domain/errors';
import { cancelDecision, releaseDecision } from '../domain/status';
import { metrics } from '../powertools';
import type { OrderRecord, OrderStatus } from '../schemas/order';
import { orderEventDetail } from './events';

/** Conditional writes can lose a race; re-read and decide again a few times before giving up. */
const MAX_RACE_ROUNDS = 5;

async function existingOrder(orderId: string): Promise<OrderRecord> {
  const record = await getOrderRecord(orderId);
  if (!record) throw new NotFound(`no order ${orderId}`);
  return record;
}

/**
 * The partner says the courier is close. A waiting order is resumed; one not yet waiting keeps
 * the request and resumes as soon as its wait begins; a released order ignores it.
 */
export async function requestRelease(orderId: string): Promise<OrderStatus> {
  let record = await existingOrder(orderId);
  for (let round = 0; round < MAX_RACE_ROUNDS; round++) {
    const decision = releaseDecision(record.status);
    if (decision === 'conflict')
      throw new OrderConflict(`order ${orderId} is ${record.status}; it cannot be released`);
    if (decision === 'noop' || record.releaseRequestedAt) return record.status;
    const change = await changeOrder(orderId, {
      from: [record.status],
      set: { releaseRequestedAt: new Date().toISOString() },
      alsoRequire: 'attribute_not_exists(releaseRequestedAt)',
      timeline: { event: 'courier-arriving' },
    });
    if (change.applied) {
      if (change.record.taskToken) await resumeWorkflow(change.record.taskToken, { releasedBy: 'courier' });
      return change.record.status;
    }
    record = change.current ?? (await existingOrder(orderId));
  }
  throw new Error(`release of ${orderId} kept losing races`);
}

/** The partner cancels. Exactly one of cancel, release and timeout wins, by conditional write. */
export async function cancelOrder(orderId: string): Promise<OrderStatus> {
  let record = await existingOrder(orderId);
  for (let round = 0; round < MAX_RACE_ROUNDS; round++) {
    const decision = cancelDecision(record.status);
    if (decision === 'conflict')
      throw new OrderConflict(`order ${orderId} is ${record.status}; it cannot be cancelled`);
    if (decision === 'noop') return record.status;
    const change = await changeOrder(orderId, {
      from: [record.status],
      to: 'CANCELLED',
      timeline: { event: 'cancelled', detail: 'by partner' },
    });
    if (change.applied) {
      // A waiting workflow leaves its wait and voids the POS order; one still preparing sees the status.
      if (change.record.taskToken) {
        await failWorkflowTask(change.record.taskToken, 'OrderCancelled', 'The partner cancelled the order.');
      }
      await publishOrderEvent(
        'OrderCancelled',
        orderEventDetail('OrderCancelled', change.record, { cancelledBy: 'partner' }),
      );
      metrics.addMetric('OrderCancelled', 'Count', 1);
      return 'CANCELLED';
    }
    record = change.current ?? (await existingOrder(orderId));
  }
  throw new Error(`cancel of ${orderId} kept losing races`);
}

/**
 * Invoked with the workflow's task token: keep the token on the order so release and cancel can
 * reach the workflow; resume at once when the courier already arrived.
 */
export async function waitForCourier(orderId: string, taskToken: string): Promise<void> {
  const change = await changeOrder(orderId, {
    from: ['ACCEPTED'],
    set: { taskToken },
    timeline: { event: 'waiting-for-courier' },
  });
  if (!change.applied) {
    if (change.current?.status === 'CANCELLED') throw new OrderCancelled(orderId);
    throw new Error(
      `order ${orderId} is ${change.current?.status ?? 'missing'}; it cannot wait for a courier`,
    );
  }
  if (change.record.releaseRequestedAt) await resumeWorkflow(taskToken, { releasedBy: 'courier' });
}
