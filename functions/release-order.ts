import { httpHandler, json } from './lib/http';
import { orderForWebhook } from './lib/order-webhook';
import { requestRelease } from './lib/services/courier';
import { openWebhook } from './lib/webhook';

/** POST /webhooks/{partner}/orders/{partnerOrderId}/release — the courier is close. */
export const handler = httpHandler(async (event) => {
  const webhook = await openWebhook(event);
  const orderId = orderForWebhook(webhook, 'release', event.pathParameters?.partnerOrderId);
  return json(202, { orderId, status: await requestRelease(orderId) });
});
