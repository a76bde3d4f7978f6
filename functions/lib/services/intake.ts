import { publishOrderEvent } from '../adapters/event-bus';
import { forgetUnpublishedOrder, insertOrderRecord } from '../adapters/order-store';
import { fetchUberEatsOrder } from '../adapters/partner-client';
import { storeIdForPartner } from '../adapters/store-repo';
import { adaptOrder, readOrderNotice } from '../domain/adapters/index';
import { OrderConflict } from '../domain/errors';
import { orderHash } from '../domain/order';
import { logger, metrics } from '../powertools';
import type { OrderWebhookAnswer } from '../schemas/http';
import type { CanonicalOrder, OrderRecord } from '../schemas/order';
import type { PartnerId } from '../schemas/partners/index';
import { orderEventDetail } from './events';

/** An order still unclaimed this long after intake never reached the workflow (its intake crashed). */
const UNSTARTED_AFTER_MS = 30_000;

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
    createdAt: at,
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
 * A partner's new order: adapt it, keep it, start the workflow. The same partner order again is
 * answered the same and creates nothing; the same id with a different order is a conflict.
 */
export async function receiveOrder(
  partner: PartnerId,
  webhookBody: unknown,
  now = new Date(),
): Promise<OrderWebhookAnswer> {
  const notice = readOrderNotice(partner, webhookBody);
  const partnerOrder = notice.fetchesOrder ? await fetchUberEatsOrder(notice.partnerOrderId) : webhookBody;
  const order = await adaptOrder(partner, partnerOrder, { storeIdFor: storeIdForPartner });
  logger.setCorrelationId(order.orderId);
  const answer: OrderWebhookAnswer = {
    orderId: order.orderId,
    partner,
    partnerOrderId: order.partnerOrderId,
    status: 'RECEIVED',
  };

  const record = newOrderRecord(order, now);
  const insert = await insertOrderRecord(record);
  if (!insert.created) {
    const { existing } = insert;
    if (existing.orderHash !== record.orderHash) {
      throw new OrderConflict(`order ${order.partnerOrderId} was already received with different content`);
    }
    const unstarted = existing.status === 'RECEIVED' && !existing.claimedBy;
    if (unstarted && now.getTime() - Date.parse(existing.createdAt) > UNSTARTED_AFTER_MS) {
      logger.warn('re-delivered order never started its workflow; publishing again');
      await publishReceived(existing);
    }
    logger.info('order re-delivered', { status: existing.status });
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
