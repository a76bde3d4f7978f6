import { partnerOrderIdOf } from './domain/adapters/index';
import { InvalidPayload, NotFound } from './domain/errors';
import { orderIdFor } from './domain/order';
import { logger } from './powertools';
import { PartnerOrderIdSchema } from './schemas/partners/index';
import type { OpenedWebhook } from './webhook';

/** Our order id for a release/cancel webhook; the body must be about the order in the path. */
export function orderForWebhook({ partner, body }: OpenedWebhook, pathOrderId: string | undefined): string {
  const parsed = PartnerOrderIdSchema.safeParse(pathOrderId);
  if (!parsed.success) throw new NotFound('no such order');
  if (partnerOrderIdOf(partner, body) !== parsed.data) {
    throw new InvalidPayload('the body is about a different order than the path');
  }
  const orderId = orderIdFor(partner, parsed.data);
  logger.setCorrelationId(orderId);
  return orderId;
}
