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
  type OwedWork,
  owedBy,
  type PartnerNotice,
} from '../domain/endings';
import { PartnerRefused, PosOrderMismatch } from '../domain/errors';
import { logger, metrics } from '../powertools';
import type { OrderRecord } from '../schemas/order';

/** Attributes that put an order on the reconciler's queue; all removed once nothing is owed. */
const QUEUE_ATTRIBUTES = ['owedQueue', 'owedAt', 'owedSince', 'owedAttempts'] as const;

/**
 * The attributes an ending writes with its status, in the same conditional write: what it owes and
 * its place on the reconciler's queue, so the work survives any crash, restart or deploy.
 */
export function owedAttributes(work: OwedWork, now: Date, failures = 0): Record<string, unknown> {
  if (!isOwing(work)) return {};
  return {
    ...(work.posVoid ? { owesPosVoid: true } : {}),
    ...(work.partner ? { owesPartner: work.partner } : {}),
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
 * Pays what an ended order owes — the POS void, the partner notice — and records the result on the
 * order. Work that fails stays owed with its next try scheduled (backoff with jitter) and a line on
 * the timeline; `owed` says whether any failed, which the workflow reports as unsettled.
 */
export async function payOwedWork(record: OrderRecord, now = new Date()): Promise<{ owed: boolean }> {
  if (!record.owesPosVoid && !record.owesPartner) {
    if (record.owedQueue) await leaveQueue(record, [], []);
    return { owed: false };
  }
  const done: string[] = [];
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
  const attempts = record.owedAttempts ?? 0;
  if (failures.length === 0 && !waiting) {
    await leaveQueue(record, done, lines, attempts > 0);
    return { owed: false };
  }
  if (failures.length > 0) {
    metrics.addMetric('CompensationFailed', 'Count', failures.length);
    logger.warn('owed work failed; the reconciler will try again', {
      orderId: record.orderId,
      failures,
      attempts,
    });
  }
  await changeOrder(
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
  return { owed: failures.length > 0 };
}

async function leaveQueue(record: OrderRecord, done: string[], lines: string[], afterFailures = false) {
  if (afterFailures) metrics.addMetric('CompensationCompleted', 'Count', 1);
  await changeOrder(record.orderId, {
    from: [record.status],
    remove: [...done, ...QUEUE_ATTRIBUTES],
    ...(lines.length > 0
      ? {
          timeline: {
            event: afterFailures ? 'compensation-done' : 'ending-settled',
            detail: lines.join('; '),
          },
        }
      : {}),
  });
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
        const before = Boolean(record.owesPosVoid || record.owesPartner);
        const { owed } = await payOwedWork(record, now);
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
