import { NotFound } from './lib/domain/errors';
import { type HttpEvent, httpHandler, json, jsonBody, requestPart } from './lib/http';
import { logger } from './lib/powertools';
import type { OrderActionAnswer } from './lib/schemas/http';
import { OperatorCancelRequestSchema, OrderPathSchema } from './lib/schemas/operations';
import { cancelOrder, requestRelease } from './lib/services/courier';

/** The order a route names; something that cannot be an order id is unknown (404), unread. */
function orderOf(event: HttpEvent): string {
  const { orderId } = requestPart(OrderPathSchema, event.pathParameters, () => new NotFound('no such order'));
  logger.setCorrelationId(orderId);
  return orderId;
}

/** Operator routes on one order (IAM on AWS), with the same rules, races and answers as the partner's webhooks. */
const routes: Record<string, (event: HttpEvent) => Promise<OrderActionAnswer>> = {
  /** Cancel: the POS order is voided and the partner told CANCELLED; OrderCancelled says `operator`. */
  'POST /orders/{orderId}/cancel': async (event) => {
    const orderId = orderOf(event);
    const { reason } = requestPart(jsonBody(OperatorCancelRequestSchema), event);
    return { orderId, status: await cancelOrder(orderId, new Date(), { by: 'operator', reason }) };
  },
  /** Release to the kitchen now; before the order waits, remembered until it does. */
  'POST /orders/{orderId}/release': async (event) => {
    const orderId = orderOf(event);
    return { orderId, status: await requestRelease(orderId, 'operator') };
  },
};

export const handler = httpHandler(async (event) => {
  const route = routes[event.routeKey];
  if (!route) throw new NotFound(`no route ${event.routeKey}`);
  return json(202, await route(event));
});
