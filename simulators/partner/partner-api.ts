/**
 * The partner APIs the middleware calls (fetch order, accept, deny, status), on the paths of each
 * partner's schema module: API key checked, request bodies validated with the partner's schemas,
 * faults applied, and what the middleware said recorded on the order.
 */
import { partnerWire } from '../../functions/lib/schemas/partners/registry';
import { HttpError, header, json, parseWith, type Request, type Route } from '../shared/routes';
import { type OrderEndpoint, orderKey, type PartnerOrder, type PartnerSimulatorState } from './state';
import type { PartnerShape } from './types';
import type { PartnerSecrets } from './webhooks';

interface ApiContext {
  state: PartnerSimulatorState;
  shape: PartnerShape;
  secrets: PartnerSecrets;
  now: () => Date;
}

function checkApiKey(ctx: ApiContext, request: Request): void {
  const expected = partnerWire[ctx.shape.partner].apiAuthHeaders(ctx.secrets.apiKey);
  const presented = Object.entries(expected).every(([name, value]) => header(request, name) === value);
  if (!presented)
    throw new HttpError(401, 'UNAUTHORIZED', `missing or wrong ${ctx.shape.partner} API credentials`);
}

function knownOrder(ctx: ApiContext, partnerOrderId: string): PartnerOrder {
  const order = ctx.state.orders.get(orderKey(ctx.shape.partner, partnerOrderId));
  if (!order)
    throw new HttpError(404, 'ORDER_NOT_FOUND', `${ctx.shape.partner} has no order ${partnerOrderId}`);
  return order;
}

function refuseUnless(order: PartnerOrder, allowed: PartnerOrder['state'][], action: string): void {
  if (!allowed.includes(order.state)) {
    throw new HttpError(409, 'ORDER_STATE_CONFLICT', `cannot ${action} an order that is ${order.state}`);
  }
}

const handlers: Record<OrderEndpoint, (ctx: ApiContext, order: PartnerOrder, request: Request) => unknown> = {
  fetch(_ctx, order) {
    if (!order.fetchable)
      throw new HttpError(404, 'ORDER_NOT_FOUND', 'this partner serves no order to fetch');
    return order.fetchable;
  },

  accept(ctx, order, request) {
    const accept = ctx.shape.readAccept(
      parseWith(partnerWire[ctx.shape.partner].AcceptRequestSchema, request),
    );
    refuseUnless(order, ['pending', 'accepted'], 'accept');
    if (order.state === 'pending') {
      order.state = 'accepted';
      order.posReference = accept.posReference;
      if (accept.pickupAt) order.pickupAt = accept.pickupAt;
    }
    return ctx.shape.acceptAnswer(order.partnerOrderId);
  },

  deny(ctx, order, request) {
    const deny = ctx.shape.readDeny(parseWith(partnerWire[ctx.shape.partner].DenyRequestSchema, request));
    refuseUnless(order, ['pending', 'denied'], 'deny');
    if (order.state === 'pending') {
      order.state = 'denied';
      order.denyReason = deny.denyReason;
      if (deny.explanation) order.denyExplanation = deny.explanation;
    }
    return ctx.shape.denyAnswer(order.partnerOrderId);
  },

  /**
   * Every report is recorded; its effect happens once. FAILED and CANCELLED end a live order (the
   * partner cancels its side); RELEASED marks an accepted order released. A denied order stays denied.
   */
  status(ctx, order, request) {
    const report = ctx.shape.readStatus(
      parseWith(partnerWire[ctx.shape.partner].StatusRequestSchema, request),
    );
    const at = ctx.now().toISOString();
    order.updates.push({ at, ...report });
    const live = order.state === 'pending' || order.state === 'accepted';
    if ((report.status === 'CANCELLED' || report.status === 'FAILED') && live) {
      order.state = 'cancelled';
      order.cancelledAt = at;
    }
    if (report.status === 'RELEASED' && order.state === 'accepted') order.releasedAt ??= at;
    return ctx.shape.statusAnswer(order.partnerOrderId, report.code);
  },
};

const ENDPOINT_BY_ROUTE = { fetchOrder: 'fetch', accept: 'accept', deny: 'deny', status: 'status' } as const;

/** The routes of one partner's API, from its schema module's `api` table. */
export function partnerApiRoutes(ctx: ApiContext): Route[] {
  const api = partnerWire[ctx.shape.partner].api;
  return Object.entries(ENDPOINT_BY_ROUTE).flatMap(([name, endpoint]) => {
    const route = api[name as keyof typeof api];
    if (!route) return [];
    return [
      {
        method: route.method,
        pattern: route.path,
        async handle(request: Request) {
          await ctx.state.faults.admit(endpoint, 'PARTNER_UNAVAILABLE', `${ctx.shape.partner} ${endpoint}`);
          checkApiKey(ctx, request);
          const order = knownOrder(ctx, request.params['orderId'] ?? '');
          order.calls[endpoint] += 1;
          try {
            return json(200, handlers[endpoint](ctx, order, request));
          } finally {
            // Counted (and changed) even when refused: stored again so that the change is kept.
            ctx.state.orders.set(orderKey(order.partner, order.partnerOrderId), order);
          }
        },
      },
    ];
  });
}
