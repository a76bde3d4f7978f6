import { publishOrderEvent } from '../adapters/event-bus';
import {
  forgetUnpublishedOrder,
  getOrderRecord,
  insertOrderRecord,
  receivedOrderIdsBefore,
} from '../adapters/order-store';
import { fetchUberEatsOrder } from '../adapters/partner-client';
import { storeIdForPartner } from '../adapters/store-repo';
import { adaptOrder, type OrderNotice, readOrderNotice } from '../domain/adapters/index';
import { InvalidPayload, OrderConflict, PartnerApiUnavailable, PartnerUnavailable } from '../domain/errors';
import { checkOrderMatchesNotice, orderHash } from '../domain/order';
import { createdDayOf } from '../domain/order-list';
import { pickupRefusal } from '../domain/pickup';
import { logger, metrics } from '../powertools';
import type { OrderWebhookAnswer } from '../schemas/http';
import type { CanonicalOrder, OrderRecord } from '../schemas/order';
import type { PartnerId } from '../schemas/partners/index';
import { orderEventDetail } from './events';

/** An order still unclaimed this long after intake never reached the workflow (its intake crashed). */
const UNSTARTED_AFTER_MS = 30_000;
/**
 * The reconciler waits longer before it starts an order's workflow again: EventBridge may still be
 * retrying a throttled delivery, and a second start is harmless (one claim wins) but not free.
 */
const RESTART_UNSTARTED_AFTER_MS = 2 * 60_000;
/** How many RECEIVED orders per restart one reconciler run may read, claimed ones included. */
const LOOK_PAST_CLAIMED = 10;

function newOrderRecord(order: CanonicalOrder, now: Date): OrderRecord {
  const at = now.toISOString();
  return {
    orderId: order.orderId,
    partner: order.partner,
    partnerOrderId: order.partnerOrderId,
    storeId: order.storeId,
    status: 'RECEIVED',
    order,
    orderHash: orderHash(order),
    pickupAt: order.pickupAt,
    total: order.total,
    createdAt: at,
    createdDay: createdDayOf(at),
    updatedAt: at,
    timeline: [{ at, event: 'received', detail: `from ${order.partner}` }],
  };
}

function publishReceived(record: OrderRecord) {
  return publishOrderEvent(
    'OrderReceived',
    orderEventDetail('OrderReceived', record, { order: record.order }),
  );
}

/**
 * The partner's full order: the webhook body itself, or for a partner that sends a notice (Uber
 * Eats) the order fetched from its API — 400 when the partner does not know it, 503 while its API
 * is down so the partner sends the notice again.
 */
async function partnerOrderFor(notice: OrderNotice & { fetchesOrder: boolean }, webhookBody: unknown) {
  if (!notice.fetchesOrder) return webhookBody;
  const fetched = await fetchUberEatsOrder(notice.partnerOrderId).catch((error: unknown) => {
    if (!(error instanceof PartnerUnavailable)) throw error;
    logger.warn('Uber Eats API unavailable while fetching a notified order', { reason: error.message });
    throw new PartnerApiUnavailable(
      `Uber Eats could not serve order ${notice.partnerOrderId} now; send the notification again`,
    );
  });
  if (!fetched.found)
    throw new InvalidPayload(`Uber Eats does not know order ${notice.partnerOrderId} (its API answered 404)`);
  return fetched.order;
}

/**
 * The same order again: answered the same, and published again when its workflow never started.
 * The same id with a different order is a conflict.
 */
async function answerRedelivery(existing: OrderRecord, record: OrderRecord, now: Date): Promise<void> {
  if (existing.orderHash !== record.orderHash) {
    throw new OrderConflict(`order ${record.partnerOrderId} was already received with different content`);
  }
  const unstarted = existing.status === 'RECEIVED' && !existing.claimedBy;
  if (unstarted && now.getTime() - Date.parse(existing.createdAt) > UNSTARTED_AFTER_MS) {
    logger.warn('re-delivered order never started its workflow; publishing again');
    await publishReceived(existing);
  }
  logger.info('order re-delivered', { status: existing.status });
}

/**
 * A partner's new order: adapt it, keep it, start the workflow. The same partner order again is
 * answered the same and creates nothing; the same id with a different order is a conflict.
 * Every refusal happens before anything is kept: 400 for an order we cannot take (malformed, too
 * large once canonical, not the order the notice named, pickup outside the window), 503 while a
 * partner API we need is down.
 */
export async function receiveOrder(
  partner: PartnerId,
  webhookBody: unknown,
  now = new Date(),
): Promise<OrderWebhookAnswer> {
  const notice = readOrderNotice(partner, webhookBody);
  const partnerOrder = await partnerOrderFor(notice, webhookBody);
  const order = await adaptOrder(partner, partnerOrder, { storeIdFor: storeIdForPartner });
  checkOrderMatchesNotice(notice, order);
  logger.setCorrelationId(order.orderId);
  const answer: OrderWebhookAnswer = {
    orderId: order.orderId,
    partner,
    partnerOrderId: order.partnerOrderId,
    status: 'RECEIVED',
  };

  const record = newOrderRecord(order, now);
  const pickupProblem = pickupRefusal(order.pickupAt, now);
  if (pickupProblem) {
    // Refused, unless it re-delivers an order we kept while its pickup time was still ahead.
    const existing = await getOrderRecord(order.orderId);
    if (existing?.orderHash !== record.orderHash) throw new InvalidPayload(pickupProblem);
    await answerRedelivery(existing, record, now);
    return answer;
  }
  const insert = await insertOrderRecord(record);
  if (!insert.created) {
    await answerRedelivery(insert.existing, record, now);
    return answer;
  }

  try {
    await publishReceived(record);
  } catch (error) {
    await forgetUnpublishedOrder(record.orderId);
    throw error;
  }
  metrics.addMetric('OrderReceived', 'Count', 1);
  logger.info('order received', { storeId: order.storeId, items: order.items.length, total: order.total });
  return answer;
}

/**
 * The reconciler's part of intake: an order answered 202 whose workflow never claimed it (its
 * OrderReceived lost between the bus and Step Functions) would wait for a partner redelivery that
 * never comes. OrderReceived is published again; the claim makes a late original start harmless.
 * Answers how many orders were started again.
 */
export async function restartUnstartedOrders(limit: number, now = new Date()): Promise<number> {
  const createdBefore = new Date(now.getTime() - RESTART_UNSTARTED_AFTER_MS);
  let restarted = 0;
  let looked = 0;
  // Orders a workflow holds while a POS retries stay RECEIVED for minutes, ahead of a lost one:
  // they are looked past, up to a bound on the reads one run makes.
  for await (const orderId of receivedOrderIdsBefore(createdBefore, limit)) {
    if (restarted >= limit || looked++ >= LOOK_PAST_CLAIMED * limit) break;
    const record = await getOrderRecord(orderId);
    if (record?.status !== 'RECEIVED' || record.claimedBy) continue;
    logger.warn('order never reached its workflow; publishing OrderReceived again', {
      orderId,
      createdAt: record.createdAt,
    });
    await publishReceived(record);
    restarted += 1;
  }
  return restarted;
}
