/**
 * The partner simulator's `_control` API (architecture §4): make the partner send new-order,
 * release and cancel webhooks, redeliver, inspect what the partner saw, and inject faults.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { PARTNERS, type PartnerId, PartnerIdSchema } from '../../functions/lib/schemas/partners/index';
import type { MenuItem } from '../../functions/lib/schemas/store';
import { faultsSchema } from '../shared/faults';
import { deepMerge } from '../shared/merge';
import { newestRecords } from '../shared/record-store';
import { HttpError, json, listingLimit, parseWith, type Request, type Route } from '../shared/routes';
import { draftOrder } from './order-draft';
import {
  orderKey,
  orderView,
  PARTNER_ENDPOINTS,
  type PartnerOrder,
  type PartnerSimulatorState,
  type StoreShown,
  storeKey,
  storeShownAt,
  unknownStore,
} from './state';
import type { StoreCatalog } from './stores';
import type { PartnerShape, Payload } from './types';
import {
  deliver,
  type PartnerSecrets,
  SIGNATURE_MODES,
  type SignatureMode,
  signedDelivery,
  type WebhookAnswer,
  webhookUrl,
} from './webhooks';

export interface ControlContext {
  state: PartnerSimulatorState;
  shapes: Record<PartnerId, PartnerShape>;
  secrets: Record<PartnerId, PartnerSecrets>;
  catalog: StoreCatalog;
  middlewareUrl: string;
  now: () => Date;
  random: () => number;
}

const DEFAULT_PICKUP_IN_SECONDS = 600;

const ModifierSchema = z.object({ sku: z.string().optional(), name: z.string(), price: z.number().int() });

const NewOrderSchema = z.object({
  partner: PartnerIdSchema,
  storeId: z.string().min(1).max(64),
  /** Not in the architecture table: pins the partner's order id (re-sending an order under the same id). */
  partnerOrderId: z.string().min(1).max(200).optional(),
  items: z
    .array(
      z.object({
        sku: z.string().min(1),
        quantity: z.number().int(),
        unitPrice: z.number().int().optional(),
        modifiers: z.array(ModifierSchema).optional(),
        notes: z.string().optional(),
      }),
    )
    .optional(),
  pickupInSeconds: z.number().int().default(DEFAULT_PICKUP_IN_SECONDS),
  notes: z.string().optional(),
  signature: z.enum(SIGNATURE_MODES).default('valid'),
  /** Deep-merged into the webhook payload. */
  body: z.record(z.string(), z.unknown()).optional(),
  /** Uber Eats only: deep-merged into the order its API serves (the webhook itself is sparse). */
  order: z.record(z.string(), z.unknown()).optional(),
  /**
   * Not in the architecture table: the customer ordered before the partner was told the store paused
   * or the item sold out (an order in flight while a push travels), so the partner's own store
   * state is not checked. For tests of the middleware's own refusals.
   */
  ignoreStoreState: z.boolean().default(false),
});

const ActionSchema = z.object({ signature: z.enum(SIGNATURE_MODES).default('valid') });
const RedeliverSchema = z.object({
  times: z.number().int().min(1).max(1000).default(1),
  concurrent: z.boolean().default(false),
});
const PartnerFaultsSchema = faultsSchema(PARTNER_ENDPOINTS);

function partnerOf(request: Request): PartnerId {
  const partner = PartnerIdSchema.safeParse(request.params['partner']);
  if (!partner.success)
    throw new HttpError(404, 'UNKNOWN_PARTNER', `no partner "${request.params['partner']}"`);
  return partner.data;
}

function knownOrder(ctx: ControlContext, request: Request): PartnerOrder {
  const partner = partnerOf(request);
  const partnerOrderId = request.params['partnerOrderId'] ?? '';
  const order = ctx.state.orders.get(orderKey(partner, partnerOrderId));
  if (!order)
    throw new HttpError(
      404,
      'ORDER_NOT_FOUND',
      `the simulator never sent ${partner} order ${partnerOrderId}`,
    );
  return order;
}

async function send(
  ctx: ControlContext,
  order: PartnerOrder,
  payload: unknown,
  mode: SignatureMode,
  url: string,
) {
  const { rawBody, headers } = signedDelivery(
    ctx.shapes[order.partner],
    payload,
    ctx.secrets[order.partner],
    mode,
    ctx.now(),
  );
  return deliver(url, rawBody, headers);
}

/** What `partner` shows for our store now: as it was told, or online with everything when never told. */
function shownBy(ctx: ControlContext, partner: PartnerId, storeId: string): StoreShown {
  const partnerStoreId = ctx.catalog.partnerStoreId(storeId, partner);
  const store =
    ctx.state.stores.get(storeKey(partner, partnerStoreId)) ?? unknownStore(partner, partnerStoreId);
  return storeShownAt(store, ctx.now());
}

/**
 * The marketplace would not let the customer order from a store it shows paused, nor an item it
 * shows unavailable (409, section 7). Without items named, the customer picks among what is on sale.
 */
function onSale(
  ctx: ControlContext,
  input: z.infer<typeof NewOrderSchema>,
  menu: readonly MenuItem[],
): readonly MenuItem[] {
  if (input.ignoreStoreState) return menu;
  const shown = shownBy(ctx, input.partner, input.storeId);
  if (shown.status === 'paused')
    throw new HttpError(
      409,
      'STORE_PAUSED_ON_PARTNER',
      `${input.partner} shows store ${input.storeId} paused${shown.pausedUntil ? ` until ${shown.pausedUntil}` : ''}`,
    );
  const unavailable = new Set(shown.unavailableItems);
  const refused = input.items?.find((item) => unavailable.has(item.sku));
  if (refused)
    throw new HttpError(
      409,
      'ITEM_UNAVAILABLE_ON_PARTNER',
      `${input.partner} shows ${refused.sku} unavailable at store ${input.storeId}`,
    );
  return menu.filter((item) => !unavailable.has(item.sku));
}

/** Builds the order, remembers it (the middleware may fetch it while the webhook is in flight), sends it. */
async function placeOrder(ctx: ControlContext, request: Request) {
  const input = parseWith(NewOrderSchema, request);
  const shape = ctx.shapes[input.partner];
  const menu = onSale(ctx, input, await ctx.catalog.menu(input.storeId));
  const draft = draftOrder({
    partnerOrderId: input.partnerOrderId ?? randomUUID(),
    partnerStoreId: ctx.catalog.partnerStoreId(input.storeId, input.partner),
    storeName: ctx.catalog.storeName(input.storeId),
    menu,
    items: input.items,
    pickupInSeconds: input.pickupInSeconds,
    notes: input.notes,
    now: ctx.now(),
    random: ctx.random,
  });
  const built = shape.newOrder(draft);
  const payload = (input.body ? deepMerge(built.webhook, input.body) : built.webhook) as Payload;
  const fetchable =
    built.fetchable && input.order ? (deepMerge(built.fetchable, input.order) as Payload) : built.fetchable;
  const partnerOrderId = shape.partnerOrderIdOf(payload) ?? draft.partnerOrderId;
  const order = remember(ctx, {
    partner: input.partner,
    partnerOrderId,
    storeId: input.storeId,
    partnerStoreId: draft.partnerStoreId,
    payload,
    ...(fetchable ? { fetchable } : {}),
  });
  // The middleware may fetch the order (Uber Eats) while the webhook is in flight.
  await ctx.state.persist();
  const answer = await send(
    ctx,
    order,
    payload,
    input.signature,
    webhookUrl(ctx.middlewareUrl, input.partner),
  );
  return json(201, { partner: input.partner, partnerOrderId, ...orderIdOf(answer), ...answer });
}

/** A re-sent id keeps what the partner saw so far but sends (and serves) the new payload. */
function remember(
  ctx: ControlContext,
  sent: Pick<
    PartnerOrder,
    'partner' | 'partnerOrderId' | 'storeId' | 'partnerStoreId' | 'payload' | 'fetchable'
  >,
) {
  const key = orderKey(sent.partner, sent.partnerOrderId);
  const existing = ctx.state.orders.get(key);
  const order: PartnerOrder = existing
    ? { ...existing, ...sent }
    : {
        ...sent,
        state: 'pending',
        updates: [],
        calls: { fetch: 0, accept: 0, deny: 0, status: 0 },
        createdAt: ctx.now().toISOString(),
      };
  ctx.state.orders.set(key, order);
  return order;
}

function orderIdOf(answer: WebhookAnswer): { orderId?: string } {
  const body = answer.webhookBody as { orderId?: unknown } | null;
  return typeof body?.orderId === 'string' ? { orderId: body.orderId } : {};
}

function orderAction(ctx: ControlContext, kind: 'release' | 'cancel'): Route['handle'] {
  return async (request) => {
    const order = knownOrder(ctx, request);
    const { signature } = parseWith(ActionSchema, request);
    const shape = ctx.shapes[order.partner];
    const payload =
      kind === 'release' ? shape.releaseWebhook(order, ctx.now()) : shape.cancelWebhook(order, ctx.now());
    const url = webhookUrl(ctx.middlewareUrl, order.partner, { partnerOrderId: order.partnerOrderId, kind });
    await ctx.state.persist();
    const answer = await send(ctx, order, payload, signature, url);
    if (answer.webhookStatus >= 200 && answer.webhookStatus < 300) {
      const at = ctx.now().toISOString();
      ctx.state.amendOrder(orderKey(order.partner, order.partnerOrderId), (sent) => {
        if (kind === 'release') sent.releasedAt = at;
        else {
          sent.state = 'cancelled';
          sent.cancelledAt = at;
        }
      });
    }
    return json(200, answer);
  };
}

/** The same order again, each delivery validly re-signed at its own moment, as partners retry. */
async function redeliver(ctx: ControlContext, request: Request) {
  const order = knownOrder(ctx, request);
  const { times, concurrent } = parseWith(RedeliverSchema, request);
  const url = webhookUrl(ctx.middlewareUrl, order.partner);
  await ctx.state.persist();
  const once = () => send(ctx, order, order.payload, 'valid', url);
  const answers: WebhookAnswer[] = [];
  if (concurrent) answers.push(...(await Promise.all(Array.from({ length: times }, once))));
  else for (let i = 0; i < times; i += 1) answers.push(await once());
  return json(200, {
    webhookStatuses: answers.map((answer) => answer.webhookStatus),
    webhookBodies: answers.map((answer) => answer.webhookBody),
  });
}

/** What each partner shows for our store (section 7's `_control/stores` answer). */
function storeView(ctx: ControlContext, storeId: string) {
  return {
    storeId,
    partners: Object.fromEntries(PARTNERS.map((partner) => [partner, shownBy(ctx, partner, storeId)])),
  };
}

/** The partners forget what they were told about the store: online, everything on sale. */
function forgetStore(ctx: ControlContext, storeId: string) {
  let forgotten = 0;
  for (const partner of PARTNERS) {
    if (ctx.state.stores.delete(storeKey(partner, ctx.catalog.partnerStoreId(storeId, partner))))
      forgotten += 1;
  }
  return { storeId, forgotten };
}

function setFaults(ctx: ControlContext, request: Request) {
  ctx.state.faults.set(parseWith(PartnerFaultsSchema, request));
  return json(200, ctx.state.faults.settings);
}

export function controlRoutes(ctx: ControlContext): Route[] {
  const orderPath = '/_control/orders/{partner}/{partnerOrderId}';
  return [
    { method: 'POST', pattern: '/_control/orders', handle: (request) => placeOrder(ctx, request) },
    {
      method: 'GET',
      pattern: '/_control/orders',
      handle: (request) => json(200, newestRecords(ctx.state.orders, listingLimit(request)).map(orderView)),
    },
    {
      method: 'DELETE',
      pattern: '/_control/orders',
      handle() {
        const forgotten = ctx.state.orders.size;
        ctx.state.orders.clear();
        return json(200, { forgotten });
      },
    },
    {
      method: 'GET',
      pattern: orderPath,
      handle: (request) => json(200, orderView(knownOrder(ctx, request))),
    },
    { method: 'POST', pattern: `${orderPath}/release`, handle: orderAction(ctx, 'release') },
    { method: 'POST', pattern: `${orderPath}/cancel`, handle: orderAction(ctx, 'cancel') },
    { method: 'POST', pattern: `${orderPath}/redeliver`, handle: (request) => redeliver(ctx, request) },
    {
      method: 'GET',
      pattern: '/_control/stores/{storeId}',
      handle: (request) => json(200, storeView(ctx, request.params['storeId'] ?? '')),
    },
    {
      method: 'DELETE',
      pattern: '/_control/stores/{storeId}',
      handle: (request) => json(200, forgetStore(ctx, request.params['storeId'] ?? '')),
    },
    { method: 'GET', pattern: '/_control/faults', handle: () => json(200, ctx.state.faults.settings) },
    { method: 'PUT', pattern: '/_control/faults', handle: (request) => setFaults(ctx, request) },
    {
      method: 'DELETE',
      pattern: '/_control/faults',
      handle() {
        ctx.state.faults.clear();
        return json(200, ctx.state.faults.settings);
      },
    },
  ];
}
