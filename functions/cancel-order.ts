import { httpHandler, json } from './lib/http';
import { orderForWebhook } from './lib/order-webhook';
import { cancelOrder } from './lib/services/courier';
import { openWebhook } from './lib/webhook';

/** POST /webhooks/{partner}/orders/{partnerOrderId}/cancel — the partner cancels. */
export const handler = httpHandler(async (event) => {
  const webhook = await openWebhook(event);
  const orderId = orderForWebhook(webhook, 'cancel', event.pathParameters?.partnerOrderId);
  return json(202, { orderId, status: await cancelOrder(orderId) });
});
