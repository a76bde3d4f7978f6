import { getOrderRecord } from './lib/adapters/order-store';
import { NotFound } from './lib/domain/errors';
import { toOrderView } from './lib/domain/order';
import { httpHandler, json } from './lib/http';
import { logger } from './lib/powertools';
import { OrderIdSchema } from './lib/schemas/order';

/** GET /orders/{orderId} — status and timeline, without customer details or task tokens. */
export const handler = httpHandler(async (event) => {
  const orderId = OrderIdSchema.safeParse(event.pathParameters?.orderId);
  if (!orderId.success) throw new NotFound('no such order');
  logger.setCorrelationId(orderId.data);
  const record = await getOrderRecord(orderId.data);
  if (!record) throw new NotFound(`no order ${orderId.data}`);
  return json(200, toOrderView(record));
});
