import { changeOrder, getOrderRecord } from '../adapters/order-store';
import { acceptWithPartner, denyWithPartner, reportStatusToPartner } from '../adapters/partner-client';
import { createHeldPosOrder, firePosOrder, voidPosOrder } from '../adapters/pos-client';
import { getStore } from '../adapters/store-repo';
import { config } from '../config';
import { OrderCancelled, OrderDenied } from '../domain/errors';
import { validateOrder } from '../domain/validation';
import { logger, metrics } from '../powertools';
import type { CanonicalOrder, DenyReason, OrderRecord } from '../schemas/order';
import { DenyReasonSchema } from '../schemas/order';
import { orderEventDetail } from './events';

/** The workflow steps, in the order they run. Each is safe to run again (at-least-once). */

/** Store online, items available, prices from the menu; a denial names its reason. */
export async function checkOrder(order: CanonicalOrder): Promise<CanonicalOrder> {
  const store = await getStore(order.storeId);
  if (!store) throw new OrderDenied('INVALID_ORDER', `unknown store ${order.storeId}`);
  const result = validateOrder(order, store);
  if (!result.ok) throw new OrderDenied(result.reason, result.detail);
  return result.order;
}

async function voidIfHeld(record: OrderRecord | undefined): Promise<void> {
  if (record?.posReference) await voidPosOrder(record.posReference);
}

/** Holds the order in the POS. A cancel that won meanwhile takes the held order back off. */
export async function holdInPos(orderId: string, order: CanonicalOrder): Promise<{ posReference: string }> {
  const posReference = await createHeldPosOrder(order.storeId, {
    reference: orderId,
    items: order.items,
    total: order.total,
    ...(order.pickupAt ? { pickupAt: order.pickupAt } : {}),
  });
  const change = await changeOrder(orderId, {
    from: ['RECEIVED'],
    set: { posReference },
    timeline: { event: 'held-in-pos', detail: posReference },
  });
  if (!change.applied) {
    if (change.current?.status === 'CANCELLED') {
      await voidPosOrder(posReference);
      throw new OrderCancelled(orderId);
    }
    throw new Error(`order ${orderId} is ${change.current?.status ?? 'missing'}; it cannot be held`);
  }
  return { posReference };
}

/** Seconds to wait for the courier: until the pickup time, at most the stage's limit. */
export function courierWaitSeconds(pickupAt: string | undefined, now: Date, maxSeconds: number): number {
  if (!pickupAt) return maxSeconds;
  const seconds = Math.ceil((Date.parse(pickupAt) - now.getTime()) / 1000);
  return Math.min(maxSeconds, Math.max(1, seconds));
}

/**
 * Accepts the order with the partner (with the POS reference and pickup time), then records it.
 * A cancel that won meanwhile takes the held order back off the POS.
 */
export async function acceptOrder(
  orderId: string,
  order: CanonicalOrder,
  posReference: string,
  now = new Date(),
) {
  await acceptWithPartner(order.partner, order.partnerOrderId, posReference, order.pickupAt);
  const change = await changeOrder(orderId, {
    from: ['RECEIVED'],
    to: 'ACCEPTED',
    set: { posReference },
    timeline: { event: 'accepted', detail: `POS ${posReference}` },
  });
  const record = change.applied ? change.record : change.current;
  if (!record) throw new Error(`order ${orderId} is missing`);
  if (!change.applied && record.status !== 'ACCEPTED') {
    if (record.status === 'CANCELLED') {
      await voidPosOrder(posReference);
      throw new OrderCancelled(orderId);
    }
    throw new Error(`order ${orderId} is ${record.status}; it cannot be accepted`);
  }
  metrics.addMetric('OrderAccepted', 'Count', 1);
  logger.info('order accepted', { posReference });
  return {
    orderId,
    courierWaitSeconds: courierWaitSeconds(order.pickupAt, now, config.maxCourierWaitSeconds),
    detail: orderEventDetail('OrderAccepted', record, {
      posReference,
      ...(order.pickupAt ? { pickupAt: order.pickupAt } : {}),
    }),
  };
}

/** What the workflow does when a step could not complete: a denial, or a failure after retries. */
export function outcomeOf(error: { Error?: string; Cause?: string } | undefined): {
  reason: DenyReason;
  failed: boolean;
} {
  if (error?.Error === 'OrderDenied') {
    let message = '';
    try {
      message = String(JSON.parse(error.Cause ?? '{}').errorMessage ?? '');
    } catch {
      message = error.Cause ?? '';
    }
    const parsed = DenyReasonSchema.safeParse(message.split(':')[0]?.trim());
    return { reason: parsed.success ? parsed.data : 'INVALID_ORDER', failed: false };
  }
  return { reason: 'POS_UNAVAILABLE', failed: true };
}

/**
 * Ends an order that will not reach the kitchen: REJECTED for a denial, FAILED when the POS or the
 * partner stayed unreachable. Any held POS order is voided and the partner is told.
 */
export async function settleUnplacedOrder(
  orderId: string,
  error: { Error?: string; Cause?: string } | undefined,
) {
  const { reason, failed } = outcomeOf(error);
  const to = failed ? 'FAILED' : 'REJECTED';
  const change = await changeOrder(orderId, {
    from: failed ? ['RECEIVED', 'ACCEPTED'] : ['RECEIVED'],
    to,
    set: { denyReason: reason },
    timeline: {
      event: failed ? 'failed' : 'rejected',
      detail: `${reason}${error?.Error ? ` (${error.Error})` : ''}`,
    },
  });
  const record = change.applied ? change.record : change.current;
  if (!record) throw new Error(`order ${orderId} is missing`);
  if (!change.applied && record.status !== to) {
    if (record.status === 'CANCELLED') {
      await voidIfHeld(record);
      throw new OrderCancelled(orderId);
    }
    throw new Error(`order ${orderId} is ${record.status}; it cannot become ${to}`);
  }
  // The partner first: a POS still down must not keep the partner waiting for an answer.
  const wasAccepted = record.timeline.some((entry) => entry.event === 'accepted');
  if (wasAccepted) await reportStatusToPartner(record.partner, record.partnerOrderId, 'FAILED');
  else await denyWithPartner(record.partner, record.partnerOrderId, reason);
  await voidIfHeld(record);
  metrics.addMetric(failed ? 'OrderFailed' : 'OrderRejected', 'Count', 1);
  if (!failed) {
    // The same count by reason, as its own dimension: a store offline is not a menu problem.
    const byReason = metrics.singleMetric();
    byReason.addDimension('reason', reason);
    byReason.addMetric('OrderRejected', 'Count', 1);
  }
  logger.info(failed ? 'order failed' : 'order rejected', { reason });
  return failed
    ? { detailType: 'OrderFailed' as const, detail: orderEventDetail('OrderFailed', record, { reason }) }
    : { detailType: 'OrderRejected' as const, detail: orderEventDetail('OrderRejected', record, { reason }) };
}

/** Takes a cancelled order's held POS order back off. */
export async function voidCancelledOrder(orderId: string): Promise<void> {
  await voidIfHeld(await getOrderRecord(orderId));
}

/**
 * The courier is close (or pickup time passed). The order is first marked as being released — from
 * then on a cancel is refused (409); the courier's release webhook already did that in its own
 * write — then the POS fires it, and only then is it RELEASED. A POS that stays down leaves the
 * order ACCEPTED for the workflow to fail it: RELEASED always means the kitchen has it.
 */
export async function releaseToKitchen(
  orderId: string,
  posReference: string,
  { releasedBy, alreadyReleasing }: { releasedBy: 'courier' | 'timeout'; alreadyReleasing: boolean },
) {
  if (!alreadyReleasing) {
    const marked = await changeOrder(orderId, {
      from: ['ACCEPTED'],
      set: { releasingAt: new Date().toISOString() },
      timeline: { event: 'releasing-to-kitchen', detail: `by ${releasedBy}` },
    });
    const current = marked.applied ? marked.record : marked.current;
    if (current?.status === 'CANCELLED') {
      await voidIfHeld(current);
      throw new OrderCancelled(orderId);
    }
    if (!marked.applied && current?.status !== 'RELEASED') {
      throw new Error(`order ${orderId} is ${current?.status ?? 'missing'}; it cannot be released`);
    }
  }
  await firePosOrder(posReference);
  const released = await changeOrder(orderId, {
    from: ['ACCEPTED'],
    to: 'RELEASED',
    timeline: { event: 'released-to-kitchen', detail: `by ${releasedBy}` },
  });
  const record = released.applied ? released.record : released.current;
  // Not applied and not RELEASED by an earlier run of this step: nothing to mend here.
  if (record?.status !== 'RELEASED')
    throw new Error(`order ${orderId} is ${record?.status}; it was not released`);
  try {
    await reportStatusToPartner(record.partner, record.partnerOrderId, 'RELEASED');
  } catch (error) {
    // The kitchen has the order; a missed status update must not undo that.
    logger.warn('partner status update failed', error as Error);
  }
  metrics.addMetric(releasedBy === 'timeout' ? 'OrderReleasedByTimeout' : 'OrderReleased', 'Count', 1);
  logger.info('order released to kitchen', { releasedBy });
  return {
    detail: orderEventDetail('OrderReleasedToKitchen', record, {
      posReference,
      releasedBy,
    }),
  };
}
