import { parseOr400 } from './domain/adapters/shared';
import { InvalidPayload, NotFound } from './domain/errors';
import { orderIdFor } from './domain/order';
import { logger } from './powertools';
import { PartnerOrderIdSchema } from './schemas/partners/index';
import { type OrderEventKind, partnerWire } from './schemas/partners/registry';
import type { OpenedWebhook } from './webhook';

/**
 * Our order id for a release or cancel webhook. The body must be exactly that partner's event of that
 * kind — not its other order event, not a new-order notice, not another partner's shape — and name
 * the order in the path; anything else is 400 and acts on nothing.
 */
export function orderForWebhook(
  { partner, body }: OpenedWebhook,
  kind: OrderEventKind,
  pathOrderId: string | undefined,
): string {
  const parsed = PartnerOrderIdSchema.safeParse(pathOrderId);
  if (!parsed.success) throw new NotFound('no such order');
  const named = parseOr400(partnerWire[partner].OrderEventSchemas[kind], body, `${partner} ${kind} webhook`);
  if (named !== parsed.data) throw new InvalidPayload('the body is about a different order than the path');
  const orderId = orderIdFor(partner, parsed.data);
  logger.setCorrelationId(orderId);
  return orderId;
}
