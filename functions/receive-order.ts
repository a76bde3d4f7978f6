import { httpHandler, json } from './lib/http';
import { receiveOrder } from './lib/services/intake';
import { openWebhook } from './lib/webhook';

/** POST /webhooks/{partner}/orders — a partner's new order; 202 as soon as it is kept and announced. */
export const handler = httpHandler(async (event) => {
  const { partner, body } = await openWebhook(event);
  return json(202, await receiveOrder(partner, body));
});
