import { z } from 'zod';
import { getOrderRecord } from './lib/adapters/order-store';
import { NotFound } from './lib/domain/errors';
import { toOrderView } from './lib/domain/order';
import { httpHandler, json, requestPart } from './lib/http';
import { logger } from './lib/powertools';
import { OrderIdSchema } from './lib/schemas/order';

const OrderPathSchema = z.object({ orderId: OrderIdSchema });

/**
 * GET /orders/{orderId} — status and timeline, without customer details or task tokens; and the
 * workflow execution that claimed the order, so an operator (the console) can open its executions.
 */
export const handler = httpHandler(async (event) => {
  // Something that cannot be an order id is unknown (404, this route's only refusal), unread.
  const { orderId } = requestPart(OrderPathSchema, event.pathParameters, () => new NotFound('no such order'));
  logger.setCorrelationId(orderId);
  const record = await getOrderRecord(orderId);
  if (!record) throw new NotFound(`no order ${orderId}`);
  const workflow = record.claimedBy ? { workflowExecutionArn: record.claimedBy } : {};
  return json(200, { ...toOrderView(record), ...workflow });
});
