import { publishOrderEvent } from '../adapters/event-bus';
import {
  changeOrder,
  countOrdersOwingAfterFailures,
  getOrderRecord,
  owedOrderIds,
} from '../adapters/order-store';
import { denyWithPartner, reportStatusToPartner } from '../adapters/partner-client';
import { findPosOrders, voidPosOrder } from '../adapters/pos-client';
import { config } from '../config';
import {
  describeNotice,
  type Ending,
  isOwing,
  lateWriteHorizonPassed,
  nextAttemptAt,
  type OwedEvent,
  type OwedWork,
  owedBy,
  type PartnerNotice,
} from '../domain/endings';
import { PartnerRefused, PosOrderMismatch } from '../domain/errors';
import { logger, metrics } from '../powertools';
import type { OrderRecord } from '../schemas/order';
import { orderEventDetail } from './events';

/** Attributes that put an order on the reconciler's queue; all removed once nothing is owed. */
const QUEUE_ATTRIBUTES = ['owedQueue', 'owedAt', 'owedSince', 'owedAttempts'] as const;

/** What an ending can owe, as the order record carries it; each removed once paid. */
const DEBTS = ['owesPosVoid', 'owesPartner', 'owesEvent'] as const;
type Debt = (typeof DEBTS)[number];
const owesAnything = (record: OrderRecord) => DEBTS.some((debt) => record[debt] !== undefined);

/**
 * The attributes an ending writes with its status, in the same conditional write: what it owes and
 * its place on the reconciler's queue, so the work survives any crash, restart or deploy.
 */
export function owedAttributes(work: OwedWork, now: Date, failures = 0): Record<string, unknown> {
  if (!isOwing(work)) return {};
  return {
    ...(work.posVoid ? { owesPosVoid: true } : {}),
    ...(work.partner ? { owesPartner: work.partner } : {}),
    ...(work.event ? { owesEvent: work.event } : {}),
    owedQueue: 'owed',
    owedAt: nextAttemptAt(failures, now, retryPolicy()).toISOString(),
    owedSince: now.toISOString(),
    owedAttempts: failures,
  };
}

/** `failures`: how many tries already failed before this write (1 when the step tried and failed). */
export const owedAttributesFor = (ending: Ending, heldInPos: boolean, now = new Date(), failures = 0) =>
  owedAttributes(owedBy(ending, heldInPos), now, failures);

function retryPolicy() {
  return { baseSeconds: config.owedRetryBaseSeconds, maxSeconds: config.owedRetryMaxSeconds };
}

type VoidResult = 'voided' | 'none-found' | 'waiting-for-late-write';

/**
 * Voids every POS order made under our order id. The number we hold is tried first; when the POS
 * does not know it as ours (404/409: never learned, or the POS renumbered), the POS is asked by
 * our order id — the idempotency key of every create — which also finds a create whose answer was lost.
 */
async function voidEveryPosOrder(record: OrderRecord, now: Date): Promise<VoidResult> {
  if (record.posReference) {
    try {
      await voidPosOrder(record.posReference, record.orderId);
      return 'voided';
    } catch (error) {
      if (!(error instanceof PosOrderMismatch)) throw error;
      logger.warn('the POS does not hold our order under its number; looking it up', { error });
    }
  }
  const found = await findPosOrders(record.orderId);
  for (const order of found) {
    if (order.status !== 'voided') await voidPosOrder(order.posOrderId, record.orderId);
  }
  if (found.length > 0) return 'voided';
  return lateWriteHorizonPassed(record.owedSince, now, config.posLateWriteHorizonSeconds)
    ? 'none-found'
    : 'waiting-for-late-write';
}

/**
 * Tells the partner the ending. A deny the partner refuses with 409 means it holds the order as
 * accepted (our accept reached it, its answer did not reach us): it is told FAILED instead, which
 * makes it cancel its side.
 */
async function tellPartner(record: OrderRecord, notice: PartnerNotice): Promise<void> {
  if (notice.call === 'status') {
    await reportStatusToPartner(record.partner, record.partnerOrderId, notice.status);
    return;
  }
  try {
    await denyWithPartner(record.partner, record.partnerOrderId, notice.reason);
  } catch (error) {
    if (!(error instanceof PartnerRefused && error.status === 409)) throw error;
    await reportStatusToPartner(record.partner, record.partnerOrderId, 'FAILED');
  }
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 200);

/**
 * The outcome event as the ending made it — who cancelled, why it failed, and when it ended — so
 * a later put (a retry, the reconciler) carries the same facts as the first.
 */
function publishOwedEvent(record: OrderRecord, event: OwedEvent): Promise<void> {
  const endedAt = record.owedSince ? new Date(record.owedSince) : new Date();
  return event === 'OrderCancelled'
    ? publishOrderEvent(
        event,
        orderEventDetail(event, record, { cancelledBy: record.cancelledBy ?? 'partner' }, endedAt),
      )
    : publishOrderEvent(
        event,
        orderEventDetail(event, record, { reason: record.denyReason ?? 'POS_UNAVAILABLE' }, endedAt),
      );
}

/**
 * Puts the outcome event an ending still owes on the bus, then clears it in one conditional write
 * (the order leaves the reconciler's queue too when nothing else is owed). A failed put throws and
 * leaves it owed: the request's retry or the reconciler puts it later. So under faults (or a repeat
 * racing the first request) it can reach the bus twice, as EventBridge can deliver twice anyway:
 * consumers dedupe on the detail's `eventId`, `{orderId}/{detail-type}`, the same at every put.
 */
export async function payOwedEvent(record: OrderRecord): Promise<OrderRecord> {
  if (!record.owesEvent) return record;
  await publishOwedEvent(record, record.owesEvent);
  return clearDebts(record, ['owesEvent']);
}

/**
 * Pays what an ended order owes — the POS void, the partner notice, and with `withEvent` (the
 * reconciler) an outcome event still owed — and records the result on the order. Work that fails
 * stays owed with its next try scheduled (backoff with jitter) and a line on the timeline; `owed`
 * says whether any failed, which the workflow reports as unsettled. An event owed by a cancel is
 * left to the cancel (its request is still putting it) unless `withEvent`.
 */
export async function payOwedWork(
  record: OrderRecord,
  now = new Date(),
  { withEvent = false } = {},
): Promise<{ owed: boolean; record: OrderRecord }> {
  const event = withEvent ? record.owesEvent : undefined;
  if (!record.owesPosVoid && !record.owesPartner && !event) {
    // Queued with nothing owed: a payer that still saw another's debt left it there.
    if (record.owedQueue && !record.owesEvent) return { owed: false, record: await clearDebts(record, []) };
    return { owed: false, record };
  }
  const done: Debt[] = [];
  const lines: string[] = [];
  const failures: string[] = [];
  let waiting = false;
  if (record.owesPosVoid) {
    try {
      const result = await voidEveryPosOrder(record, now);
      if (result === 'waiting-for-late-write') waiting = true;
      else {
        done.push('owesPosVoid');
        lines.push(result === 'voided' ? 'POS order voided' : 'no POS order was made');
      }
    } catch (error) {
      failures.push(`POS void: ${describe(error)}`);
    }
  }
  if (record.owesPartner) {
    try {
      await tellPartner(record, record.owesPartner);
      done.push('owesPartner');
      lines.push(`partner told (${describeNotice(record.owesPartner)})`);
    } catch (error) {
      failures.push(`partner ${describeNotice(record.owesPartner)}: ${describe(error)}`);
    }
  }
  if (event) {
    try {
      await publishOwedEvent(record, event);
      done.push('owesEvent');
      lines.push(`${event} published`);
    } catch (error) {
      failures.push(`event ${event}: ${describe(error)}`);
    }
  }
  const attempts = record.owedAttempts ?? 0;
  if (failures.length === 0 && !waiting)
    return { owed: false, record: await settleDebts(record, done, lines, attempts > 0) };
  if (failures.length > 0) {
    metrics.addMetric('CompensationFailed', 'Count', failures.length);
    logger.warn('owed work failed; the reconciler will try again', {
      orderId: record.orderId,
      failures,
      attempts,
    });
  }
  const change = await changeOrder(
    record.orderId,
    {
      from: [record.status],
      // Only failures count as attempts: waiting out the POS's late-write horizon is not a fault.
      set: {
        owedAt: nextAttemptAt(failures.length > 0 ? attempts + 1 : 0, now, retryPolicy()).toISOString(),
        ...(failures.length > 0 ? { owedAttempts: attempts + 1 } : {}),
      },
      remove: done,
      // One line when the work first fails (not one per retry); otherwise a line for what did get done.
      ...(failures.length > 0 && attempts === 0
        ? { timeline: { event: 'compensation-owed', detail: [...lines, ...failures].join('; ') } }
        : lines.length > 0
          ? { timeline: { event: 'ending-partly-settled', detail: lines.join('; ') } }
          : {}),
    },
    now,
  );
  return { owed: failures.length > 0, record: change.applied ? change.record : (change.current ?? record) };
}

/** Clears the debts just paid, with a timeline line saying what was done. */
function settleDebts(record: OrderRecord, done: Debt[], lines: string[], afterFailures: boolean) {
  if (afterFailures) metrics.addMetric('CompensationCompleted', 'Count', 1);
  return clearDebts(
    record,
    done,
    lines.length > 0
      ? { event: afterFailures ? 'compensation-done' : 'ending-settled', detail: lines.join('; ') }
      : undefined,
  );
}

/**
 * Removes the debts just paid in one conditional write, and the queue attributes too when the
 * record shows nothing else owed. Debts are written only with the ending, so one seen gone stays
 * gone; two payers clearing at the same moment may each still see the other's debt, and then the
 * later write, answered with nothing left owed, takes the order off the queue itself.
 */
async function clearDebts(
  record: OrderRecord,
  paid: readonly Debt[],
  timeline?: { event: string; detail: string },
): Promise<OrderRecord> {
  const othersOwed = DEBTS.some((debt) => !paid.includes(debt) && record[debt] !== undefined);
  const change = await changeOrder(record.orderId, {
    from: [record.status],
    remove: othersOwed ? paid : [...paid, ...QUEUE_ATTRIBUTES],
    ...(timeline ? { timeline } : {}),
  });
  if (!change.applied) return change.current ?? record;
  if (othersOwed && change.record.owedQueue && !owesAnything(change.record))
    return clearDebts(change.record, []);
  return change.record;
}

/**
 * The reconciler's sweep: every order whose owed work is due (or every owing order, for a run by
 * hand), oldest first, a few at a time so a recovering POS is not flooded.
 */
export async function payDueOwedWork(
  { everything }: { everything: boolean },
  now = new Date(),
): Promise<{ checked: number; settled: number; stillOwed: number }> {
  const ids = await owedOrderIds(everything ? undefined : now, config.reconcileBatchSize);
  let settled = 0;
  let stillOwed = 0;
  for (let i = 0; i < ids.length; i += 5) {
    const results = await Promise.all(
      ids.slice(i, i + 5).map(async (orderId) => {
        // The index is eventually consistent: decide from the record itself.
        const record = await getOrderRecord(orderId);
        if (!record?.owedQueue) return undefined;
        const before = owesAnything(record);
        const { owed } = await payOwedWork(record, now, { withEvent: true });
        return { owed, before };
      }),
    );
    for (const result of results) {
      if (!result) continue;
      if (result.owed) stillOwed += 1;
      else if (result.before) settled += 1;
    }
  }
  // The alarm's figure: orders whose owed work failed and is not done yet, whether due now or not.
  metrics.addMetric('OrdersOwingWork', 'Count', await countOrdersOwingAfterFailures());
  return { checked: ids.length, settled, stillOwed };
}
