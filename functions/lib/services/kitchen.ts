import { changeOrder, getOrderRecord } from '../adapters/order-store';
import { acceptWithPartner, reportStatusToPartner } from '../adapters/partner-client';
import { createHeldPosOrder, findPosOrders, firePosOrder } from '../adapters/pos-client';
import { getStore } from '../adapters/store-repo';
import { config } from '../config';
import type { Ending } from '../domain/endings';
import {
  CompensationOwed,
  OrderCancelled,
  OrderDenied,
  OrderEnded,
  PosOrderMismatch,
} from '../domain/errors';
import {
  busyMinutesOf,
  busyPickupAt,
  DEFAULT_PREP_MINUTES,
  prepMinutesOf,
  releaseDelaySeconds,
} from '../domain/pickup';
import { posFailuresOf } from '../domain/pos-health';
import { validateOrder } from '../domain/validation';
import { logger, metrics } from '../powertools';
import type { CanonicalOrder, DenyReason } from '../schemas/order';
import { DenyReasonSchema } from '../schemas/order';
import type { PartnerId } from '../schemas/partners/index';
import { owedAttributesFor, payOwedEvent, payOwedWork } from './compensation';
import { orderEventDetail } from './events';
import { countFailedOrderAgainstPos, countPosSuccess } from './pos-health';
import { claimThrottleWindow, giveBackThrottlePlace } from './throttle';

/** The workflow steps, in the order they run. Each is safe to run again (at-least-once). */

/** What validation answers: the order as it goes on, and what the later steps need of the store. */
export interface CheckedOrder {
  order: CanonicalOrder;
  prepMinutes: number;
  /** A busy kitchen's extra minutes (busy mode), added to the pickup the accept step sends. */
  busyMinutes: number;
  /** The throttle window the order holds a place in (its start), or null for a store without throttle. */
  throttleWindow: string | null;
  /** The store's POS failures in a row as read: a POS create that then succeeds resets them. */
  posFailures: number;
}

/**
 * Store online, items available, prices from the menu; a denial names its reason. The store's prep
 * and busy minutes travel on with the order, so the accept step times it without a second read. A
 * throttled store then gives the order a place in the window of its pickup, or in the next window
 * with room (the order's pickup moves there), or refuses it STORE_BUSY.
 */
export async function checkOrder(
  orderId: string,
  order: CanonicalOrder,
  now = new Date(),
): Promise<CheckedOrder> {
  const store = await getStore(order.storeId);
  if (!store) throw new OrderDenied('INVALID_ORDER', `unknown store ${order.storeId}`);
  const result = validateOrder(order, store);
  if (!result.ok) throw new OrderDenied(result.reason, result.detail);
  const checked = {
    order: result.order,
    prepMinutes: prepMinutesOf(store),
    busyMinutes: busyMinutesOf(store, now),
    throttleWindow: null,
    posFailures: posFailuresOf(store),
  };
  // A store without throttle: no further call (the happy path's DynamoDB calls stay as they are).
  if (!store.throttle) return checked;
  const place = await claimThrottleWindow(store.storeId, orderId, store.throttle, order.pickupAt, now);
  if (!place) {
    throw new OrderDenied(
      'STORE_BUSY',
      `no ${store.throttle.windowMinutes}-minute window within the hour has room (${store.throttle.ordersPerWindow} orders each)`,
    );
  }
  const { pickupAt, ...moved } = result.order;
  return {
    ...checked,
    order: place.pickupAt === undefined ? moved : { ...moved, pickupAt: place.pickupAt },
    throttleWindow: place.window,
  };
}

/**
 * Holds the order in the POS. A cancel that won meanwhile is voided by the workflow's cancel path;
 * the order's throttle place (recorded here) is given back at once. `posFailures`: the store's POS
 * failures in a row as validation read them; this success resets them.
 */
export async function holdInPos(
  orderId: string,
  order: CanonicalOrder,
  throttleWindow: string | null = null,
  posFailures = 0,
): Promise<{ posReference: string }> {
  const posReference = await createHeldPosOrder(order.storeId, {
    reference: orderId,
    items: order.items,
    total: order.total,
    ...(order.pickupAt ? { pickupAt: order.pickupAt } : {}),
  });
  // The POS answered: failures in a row end here. Written only when validation saw some, so the
  // happy path makes no extra call.
  if (posFailures > 0) await countPosSuccess(order.storeId);
  const change = await changeOrder(orderId, {
    from: ['RECEIVED'],
    // The ending of an order that does not reach the kitchen gives its place back from the record.
    set: { posReference, ...(throttleWindow ? { throttleWindow } : {}) },
    timeline: { event: 'held-in-pos', detail: posReference },
  });
  if (!change.applied) {
    if (change.current?.status === 'CANCELLED') {
      await giveBackThrottlePlace(order.storeId, throttleWindow, orderId);
      throw new OrderCancelled(orderId);
    }
    throw new Error(`order ${orderId} is ${change.current?.status ?? 'missing'}; it cannot be held`);
  }
  return { posReference };
}

/**
 * Accepts the order with the partner (with the POS reference and pickup time), then records it.
 * A busy kitchen's extra minutes are added to the pickup the partner is told (now for ASAP), and the
 * order waits that much longer for its courier. A cancel that won meanwhile takes the held order
 * back off the POS.
 */
export async function acceptOrder(
  orderId: string,
  order: CanonicalOrder,
  posReference: string,
  prepMinutes = DEFAULT_PREP_MINUTES,
  now = new Date(),
  busyMinutes = 0,
) {
  const pickupAt = busyPickupAt(order.pickupAt, busyMinutes, now);
  await acceptWithPartner(order.partner, order.partnerOrderId, posReference, pickupAt);
  const change = await changeOrder(orderId, {
    from: ['RECEIVED'],
    to: 'ACCEPTED',
    set: { posReference, ...(pickupAt ? { pickupAt } : {}) },
    timeline: { event: 'accepted', detail: `POS ${posReference}` },
  });
  const record = change.applied ? change.record : change.current;
  if (!record) throw new Error(`order ${orderId} is missing`);
  if (!change.applied && record.status !== 'ACCEPTED') {
    if (record.status === 'CANCELLED') throw new OrderCancelled(orderId);
    throw new Error(`order ${orderId} is ${record.status}; it cannot be accepted`);
  }
  metrics.addMetric('OrderAccepted', 'Count', 1);
  logger.info('order accepted', { posReference });
  return {
    orderId,
    // Until the courier is due, or for a scheduled order until its kitchen must start.
    courierWaitSeconds: releaseDelaySeconds({
      pickupAt: order.pickupAt,
      now,
      maxCourierWaitSeconds: config.maxCourierWaitSeconds,
      prepMinutes,
      busyMinutes,
    }),
    detail: orderEventDetail('OrderAccepted', record, {
      posReference,
      ...(pickupAt ? { pickupAt } : {}),
    }),
  };
}

/** What the workflow does when a step could not complete: a denial, or a failure after retries. */
export function outcomeOf(error: { Error?: string; Cause?: string } | undefined): {
  reason: DenyReason;
  failed: boolean;
} {
  // A POS refusal names its reason as a denial does, but the order ends FAILED: the POS may hold
  // an order under our id from an earlier attempt, which the FAILED ending voids.
  if (error?.Error === 'OrderDenied' || error?.Error === 'PosRefused') {
    let message = '';
    try {
      message = String(JSON.parse(error.Cause ?? '{}').errorMessage ?? '');
    } catch {
      message = error.Cause ?? '';
    }
    const parsed = DenyReasonSchema.safeParse(message.split(':')[0]?.trim());
    return { reason: parsed.success ? parsed.data : 'INVALID_ORDER', failed: error.Error === 'PosRefused' };
  }
  if (error?.Error === 'PartnerUnavailable' || error?.Error === 'PartnerRefused')
    return { reason: 'PARTNER_UNAVAILABLE', failed: true };
  return { reason: 'POS_UNAVAILABLE', failed: true };
}

/** Conditional writes can lose a race with a cancel; decide again from what the failed write found. */
const MAX_RACE_ROUNDS = 3;

/**
 * Ends an order that will not reach the kitchen: REJECTED for a denial, FAILED when the POS or the
 * partner stayed unreachable. The ending and what it owes (the void, the partner's answer) are one
 * conditional write; the work is then paid at once, and what fails stays owed for the reconciler.
 */
export async function settleUnplacedOrder(
  orderId: string,
  error: { Error?: string; Cause?: string } | undefined,
  now = new Date(),
  throttleWindow: string | null = null,
  /** Only this workflow execution may end the order (or any, while no execution has claimed it). */
  owner?: string,
  /** Ended for a stopped workflow: no workflow will put OrderFailed, so the ending owes it. */
  workflowStopped = false,
) {
  const { reason, failed } = outcomeOf(error);
  const to = failed ? 'FAILED' : 'REJECTED';
  let record = await getOrderRecord(orderId);
  for (let round = 0; record && record.status !== to && round < MAX_RACE_ROUNDS; round++) {
    if (record.status === 'CANCELLED') throw new OrderCancelled(orderId);
    if (owner && record.claimedBy && record.claimedBy !== owner)
      throw new OrderEnded(`order ${orderId} belongs to ${record.claimedBy}`);
    if (record.status !== 'RECEIVED' && !(failed && record.status === 'ACCEPTED'))
      throw new Error(`order ${orderId} is ${record.status}; it cannot become ${to}`);
    const ending: Ending = failed
      ? { status: 'FAILED', reason, wasAccepted: record.status === 'ACCEPTED', workflowStopped }
      : { status: 'REJECTED', reason };
    const change = await changeOrder(
      orderId,
      {
        from: [record.status],
        to,
        set: { denyReason: reason, ...owedAttributesFor(ending, Boolean(record.posReference), now) },
        timeline: {
          event: failed ? 'failed' : 'rejected',
          detail: `${reason}${error?.Error ? ` (${error.Error})` : ''}`,
        },
        ...(owner &&
          (record.claimedBy
            ? { requireEqual: { claimedBy: owner } }
            : { alsoRequire: 'attribute_not_exists(claimedBy)' })),
      },
      now,
    );
    record = change.applied ? change.record : change.current;
    if (change.applied) countEnding(failed, reason);
    // Only the POS's own outage counts against its health: a crashed step or a throttled table
    // must not pause a store whose POS is fine.
    if (change.applied && error?.Error === 'PosUnavailable')
      await countFailedOrderAgainstPos(change.record.storeId, now);
  }
  if (record?.status !== to) throw new Error(`order ${orderId} is ${record?.status ?? 'missing'}`);
  await giveBackThrottlePlace(record.storeId, record.throttleWindow ?? throttleWindow, orderId);
  const { owed, record: paid } = await payOwedWork(record, now);
  if (workflowStopped) await payOwedEvent(paid);
  logger.info(failed ? 'order failed' : 'order rejected', { reason, owed });
  return failed
    ? {
        detailType: 'OrderFailed' as const,
        owed,
        detail: orderEventDetail('OrderFailed', record, { reason }),
      }
    : {
        detailType: 'OrderRejected' as const,
        owed,
        detail: orderEventDetail('OrderRejected', record, { reason }),
      };
}

/** How a stopped workflow execution reads on the order's timeline: `ExecutionAborted`, `ExecutionTimedOut`, … */
const STOPPED_AS = {
  FAILED: 'ExecutionFailed',
  TIMED_OUT: 'ExecutionTimedOut',
  ABORTED: 'ExecutionAborted',
} as const;

/**
 * Ends an order whose workflow execution stopped — failed on a broken step, timed out, or aborted by
 * a person — before the order reached its ending: FAILED, owing the POS void and the partner's answer
 * like any FAILED order, so nobody is left waiting on an order no execution works on any more. Only
 * the execution that claimed the order may end it this way (another may still be working on it);
 * an order that already ended is left as it is (whatever it owes is the reconciler's). OrderFailed
 * is owed by the ending's write and put on the bus here; when the put fails this throws, and
 * Lambda's retry (finding the order FAILED, still owing it) puts it. Answers the outcome, or
 * undefined when there was nothing to end.
 */
export async function settleStoppedWorkflow(
  orderId: string,
  execution: { executionArn: string; status: keyof typeof STOPPED_AS; cause?: string },
  now = new Date(),
) {
  const record = await getOrderRecord(orderId);
  const oursStillOwing = record?.status === 'FAILED' && record.owesEvent === 'OrderFailed';
  if (record?.status !== 'RECEIVED' && record?.status !== 'ACCEPTED' && !oursStillOwing) return undefined;
  const error = { Error: STOPPED_AS[execution.status], Cause: execution.cause };
  try {
    return await settleUnplacedOrder(orderId, error, now, null, execution.executionArn, true);
  } catch (failure) {
    // Another execution owns the order, or it ended meanwhile (a cancel won): not ours to end.
    if (failure instanceof OrderEnded || failure instanceof OrderCancelled) return undefined;
    throw failure;
  }
}

function countEnding(failed: boolean, reason: DenyReason) {
  metrics.addMetric(failed ? 'OrderFailed' : 'OrderRejected', 'Count', 1);
  if (!failed) {
    // The same count by reason, as its own dimension: a store offline is not a menu problem.
    const byReason = metrics.singleMetric();
    byReason.addDimension('reason', reason);
    byReason.addMetric('OrderRejected', 'Count', 1);
  }
}

/**
 * A cancelled order's owed work (the POS void; the partner's notice for an operator's cancel), and
 * its throttle place given back.
 */
export async function settleCancelledOrder(orderId: string): Promise<{ owed: boolean }> {
  const record = await getOrderRecord(orderId);
  if (record?.status === 'CANCELLED')
    await giveBackThrottlePlace(record.storeId, record.throttleWindow, orderId);
  const { owed } = record ? await payOwedWork(record) : { owed: false };
  if (owed)
    throw new CompensationOwed(
      `order ${orderId} still owes work after its cancel; the reconciler retries it`,
    );
  return { owed };
}

/** Fires our order in the POS; when the POS does not hold it under that number as ours, finds it by our id. */
async function fireOurPosOrder(posReference: string, orderId: string): Promise<string> {
  try {
    await firePosOrder(posReference, orderId);
    return posReference;
  } catch (error) {
    if (!(error instanceof PosOrderMismatch)) throw error;
    const ours = (await findPosOrders(orderId)).filter((order) => order.status !== 'voided');
    if (ours.length !== 1 || !ours[0]) throw error;
    await firePosOrder(ours[0].posOrderId, orderId);
    return ours[0].posOrderId;
  }
}

/**
 * The courier is close (or pickup time passed). The order is first marked as being released — from
 * then on a cancel is refused (409); the courier's release webhook already did that in its own
 * write — then the POS fires it, the partner is told, and only then is it RELEASED, in one write
 * that also records a partner notice still owed. A POS that stays down leaves the order ACCEPTED for
 * the workflow to fail it: RELEASED always means the kitchen has it.
 */
export async function releaseToKitchen(
  orderId: string,
  posReference: string,
  {
    releasedBy,
    alreadyReleasing,
    partner,
    partnerOrderId,
  }: {
    releasedBy: 'courier' | 'operator' | 'timeout';
    alreadyReleasing: boolean;
    partner: PartnerId;
    partnerOrderId: string;
  },
  now = new Date(),
) {
  if (!alreadyReleasing) {
    const marked = await changeOrder(orderId, {
      from: ['ACCEPTED'],
      set: { releasingAt: now.toISOString() },
      alsoRequire: 'attribute_not_exists(releasingAt)',
      timeline: { event: 'releasing-to-kitchen', detail: `by ${releasedBy}` },
    });
    const current = marked.applied ? marked.record : marked.current;
    if (current?.status === 'CANCELLED') {
      await settleCancelledOrder(orderId);
      throw new OrderCancelled(orderId);
    }
    const releasing = current?.status === 'ACCEPTED' && current.releasingAt;
    if (!marked.applied && !releasing && current?.status !== 'RELEASED') {
      throw new Error(`order ${orderId} is ${current?.status ?? 'missing'}; it cannot be released`);
    }
  }
  const fired = await fireOurPosOrder(posReference, orderId);
  let partnerFailure: string | undefined;
  try {
    await reportStatusToPartner(partner, partnerOrderId, 'RELEASED');
  } catch (error) {
    // The kitchen has the order; the partner's notice stays owed and the reconciler retries it.
    logger.warn('partner status update failed; it stays owed', error as Error);
    partnerFailure = (error as Error).message.slice(0, 200);
  }
  const released = await changeOrder(
    orderId,
    {
      from: ['ACCEPTED'],
      to: 'RELEASED',
      set: {
        ...(fired !== posReference ? { posReference: fired } : {}),
        ...(partnerFailure ? owedAttributesFor({ status: 'RELEASED' }, true, now, 1) : {}),
      },
      timeline: [
        { event: 'released-to-kitchen', detail: `by ${releasedBy}` },
        ...(partnerFailure
          ? [{ event: 'compensation-owed', detail: `partner status RELEASED: ${partnerFailure}` }]
          : []),
      ],
    },
    now,
  );
  const record = released.applied ? released.record : released.current;
  // Not applied and not RELEASED by an earlier run of this step: nothing to mend here.
  if (record?.status !== 'RELEASED')
    throw new Error(`order ${orderId} is ${record?.status}; it was not released`);
  if (released.applied)
    metrics.addMetric(releasedBy === 'timeout' ? 'OrderReleasedByTimeout' : 'OrderReleased', 'Count', 1);
  if (partnerFailure) metrics.addMetric('CompensationFailed', 'Count', 1);
  // A re-run of this step after an earlier one left the notice owed: the partner was just told again.
  const owed =
    !released.applied && record.owesPartner && !partnerFailure
      ? (await payOwedWork(record, now)).owed
      : Boolean(record.owesPartner);
  logger.info('order released to kitchen', { releasedBy });
  return {
    owed,
    detail: orderEventDetail('OrderReleasedToKitchen', record, { posReference: fired, releasedBy }),
  };
}
