/**
 * Uber Eats, modelled on its public Eats API: a sparse webhook notification (`orders.notification`)
 * after which the integrator fetches the order; signature = hex HMAC-SHA256 of the raw body.
 */
import { z } from 'zod';
import { CentsSchema, type DenyReason, IsoTimeSchema, NoteSchema } from '../order';
import type { PartnerApiRoutes } from './index';
import { PartnerOrderIdSchema, PartnerStoreIdSchema } from './index';
import { hmacSha256Hex, invert, type ReportedStatus, type SignedBytes } from './signing';
import { type ShownStore, type StoreCall, type StoreRoute, unixSeconds } from './store-push';

// ── webhooks ──────────────────────────────────────────────────────────────
const notification = <T extends string>(eventType: T) =>
  z.object({
    event_id: z.string().min(1).max(128),
    event_type: z.literal(eventType),
    /** Unix seconds. */
    event_time: z.number().int().nonnegative(),
    meta: z.object({
      resource_id: PartnerOrderIdSchema,
      /** The Uber Eats store id. */
      user_id: PartnerStoreIdSchema,
      status: z.string().max(32).optional(),
    }),
    resource_href: z.string().max(500).optional(),
  });

export const NewOrderWebhookSchema = notification('orders.notification');
export type NewOrderWebhook = z.infer<typeof NewOrderWebhookSchema>;
/** The courier is close: release the order to the kitchen. */
export const ReleaseWebhookSchema = notification('orders.release');
export type ReleaseWebhook = z.infer<typeof ReleaseWebhookSchema>;
export const CancelWebhookSchema = notification('orders.cancel');
export type CancelWebhook = z.infer<typeof CancelWebhookSchema>;

/** A release or cancel webhook as the order it names; anything but that exact event does not parse. */
export const OrderEventSchemas = {
  release: ReleaseWebhookSchema.transform((event) => event.meta.resource_id),
  cancel: CancelWebhookSchema.transform((event) => event.meta.resource_id),
};

/** Every Uber Eats webhook says when its event happened, inside the signed body. */
export const EventTimeSchema = z.object({ event_time: z.number().int().nonnegative() });

/**
 * How far `event_time` may be from now before a webhook is refused as a replay. Uber Eats documents
 * its retries (Order Notification and Order Release webhooks): exponential backoff from 1 s (1, 2,
 * 4 … s) until 7 deliveries in all, so its last retry leaves about 63 s after the first; it publishes
 * no per-attempt timeout. 300 s covers that with room for slow attempts and clock skew, and is the
 * window Grubhub's signatures get. Nothing genuine arrives later: an order not accepted within
 * 11.5 minutes is cancelled by Uber Eats anyway.
 */
export const EVENT_MAX_AGE_SECONDS = 300;

// ── the order, as fetched from GET /ubereats/v1/orders/{id} ────────────────
const MoneySchema = z.object({ amount: CentsSchema, currency_code: z.string().length(3).optional() });

const SelectedItemSchema = z.object({
  id: z.string().min(1).max(64),
  title: z.string().min(1).max(200),
  quantity: z.number().int().min(1).max(20).default(1),
  price: z.object({ unit_price: MoneySchema }),
});

const ModifierGroupSchema = z.object({
  id: z.string().max(64).optional(),
  title: z.string().max(200).optional(),
  selected_items: z.array(SelectedItemSchema).max(50),
});

export const CartItemSchema = z.object({
  /** The item id on Uber Eats' menu, which the brand publishes with its own skus. */
  id: z.string().min(1).max(64),
  instance_id: z.string().max(64).optional(),
  title: z.string().min(1).max(200),
  quantity: z.number().int().safe(),
  price: z.object({ unit_price: MoneySchema, total_price: MoneySchema.optional() }),
  selected_modifier_groups: z.array(ModifierGroupSchema).max(20).default([]),
  special_instructions: NoteSchema.optional(),
});

export const OrderSchema = z.object({
  id: PartnerOrderIdSchema,
  display_id: z.string().max(32).optional(),
  current_state: z.string().max(32).optional(),
  type: z.enum(['PICK_UP', 'DELIVERY_BY_UBER', 'DELIVERY_BY_RESTAURANT', 'DINE_IN']).optional(),
  store: z.object({ id: PartnerStoreIdSchema, name: z.string().max(200).optional() }),
  eater: z.object({
    first_name: z.string().max(100),
    last_name: z.string().max(100).optional(),
    phone: z.string().max(40).optional(),
    phone_code: z.string().max(16).optional(),
  }),
  cart: z.object({ items: z.array(CartItemSchema).max(200), special_instructions: NoteSchema.optional() }),
  payment: z.object({
    charges: z.object({ sub_total: MoneySchema, tax: MoneySchema, total: MoneySchema }),
  }),
  placed_at: IsoTimeSchema,
  estimated_ready_for_pickup_at: IsoTimeSchema.optional(),
});
export type Order = z.infer<typeof OrderSchema>;

// ── signing: X-Uber-Signature = lowercase hex HMAC-SHA256(secret, rawBody) ──
export const SIGNATURE_HEADER = 'X-Uber-Signature';

export function signatureFor(rawBody: SignedBytes, secret: string): string {
  return hmacSha256Hex(secret, rawBody);
}

// ── the partner API the middleware calls ─────────────────────────────────
export const api = {
  fetchOrder: { method: 'GET', path: '/ubereats/v1/orders/{orderId}' },
  accept: { method: 'POST', path: '/ubereats/v1/orders/{orderId}/accept' },
  deny: { method: 'POST', path: '/ubereats/v1/orders/{orderId}/deny' },
  status: { method: 'POST', path: '/ubereats/v1/orders/{orderId}/status' },
} as const satisfies PartnerApiRoutes;

/** Uber Eats authenticates integrators with an OAuth bearer token; our API key plays that part. */
export function apiAuthHeaders(apiKey: string): Record<string, string> {
  return { Authorization: `Bearer ${apiKey}` };
}

export const FetchOrderResponseSchema = OrderSchema;

export const AcceptRequestSchema = z.object({
  reason: z.string().max(200).optional(),
  /** The POS's id for the order. */
  external_reference_id: z.string().min(1).max(128),
  /** Unix seconds. */
  pickup_time: z.number().int().nonnegative().optional(),
});
export type AcceptRequest = z.infer<typeof AcceptRequestSchema>;

export const DENY_CODES = {
  STORE_OFFLINE: 'STORE_CLOSED',
  STORE_PAUSED: 'CAPACITY',
  STORE_BUSY: 'TOO_BUSY',
  ITEM_UNAVAILABLE: 'ITEM_AVAILABILITY',
  INVALID_ORDER: 'PRICING',
  POS_UNAVAILABLE: 'POS_OFFLINE',
  PARTNER_UNAVAILABLE: 'OTHER',
} as const satisfies Record<DenyReason, string>;
export const DENY_REASON_BY_CODE = invert(DENY_CODES);

export const DenyRequestSchema = z.object({
  reason: z.object({
    code: z.enum([
      'STORE_CLOSED',
      'CAPACITY',
      'TOO_BUSY',
      'ITEM_AVAILABILITY',
      'PRICING',
      'POS_OFFLINE',
      'OTHER',
    ]),
    explanation: z.string().max(500).optional(),
  }),
});
export type DenyRequest = z.infer<typeof DenyRequestSchema>;

export const STATUS_CODES = {
  RELEASED: 'IN_PREPARATION',
  CANCELLED: 'CANCELED',
  FAILED: 'FAILED',
} as const satisfies Record<ReportedStatus, string>;
export const STATUS_BY_CODE = invert(STATUS_CODES);

export const StatusRequestSchema = z.object({ status: z.enum(['IN_PREPARATION', 'CANCELED', 'FAILED']) });
export type StatusRequest = z.infer<typeof StatusRequestSchema>;

export const AcceptResponseSchema = z.object({
  id: PartnerOrderIdSchema,
  current_state: z.literal('ACCEPTED'),
});
export const DenyResponseSchema = z.object({ id: PartnerOrderIdSchema, current_state: z.literal('DENIED') });
export const StatusResponseSchema = z.object({ id: PartnerOrderIdSchema, current_state: z.string().max(32) });

export function buildAcceptRequest(posReference: string, pickupAt?: string): AcceptRequest {
  const pickup_time = pickupAt === undefined ? undefined : Math.floor(Date.parse(pickupAt) / 1000);
  return { external_reference_id: posReference, ...(pickup_time === undefined ? {} : { pickup_time }) };
}

export function buildDenyRequest(reason: DenyReason, explanation?: string): DenyRequest {
  return { reason: { code: DENY_CODES[reason], ...(explanation ? { explanation } : {}) } };
}

export function buildStatusRequest(status: ReportedStatus): StatusRequest {
  return { status: STATUS_CODES[status] };
}

// ── the store API: what Uber Eats shows for the store (ARCHITECTURE section 7) ──
export const storeApi = {
  storeStatus: { method: 'POST', path: '/ubereats/v1/eats/store/{storeId}/status' },
  itemSuspension: { method: 'POST', path: '/ubereats/v2/eats/stores/{storeId}/menus/items/{itemId}' },
} as const satisfies Record<string, StoreRoute>;

/** `ONLINE`, or `PAUSED` (our paused and offline alike) until `paused_until` when the pause has an end. */
export const StoreStatusRequestSchema = z
  .strictObject({
    status: z.enum(['ONLINE', 'PAUSED']),
    paused_until: IsoTimeSchema.optional(),
    reason: z.string().min(1).max(200).optional(),
  })
  .refine(
    (body) => body.status === 'PAUSED' || (body.paused_until === undefined && body.reason === undefined),
    {
      message: 'an ONLINE store has no paused_until or reason',
    },
  );
export type StoreStatusRequest = z.infer<typeof StoreStatusRequestSchema>;

/** An item suspended (until `suspend_until`, unix seconds, when the 86 has an end), or `null`: sold again. */
export const ItemSuspensionRequestSchema = z.strictObject({
  suspension_info: z
    .strictObject({
      suspension: z.strictObject({
        suspend_until: z.number().int().nonnegative().optional(),
        reason: z.string().min(1).max(200).optional(),
      }),
    })
    .nullable(),
});
export type ItemSuspensionRequest = z.infer<typeof ItemSuspensionRequestSchema>;

export function buildStoreStatusRequest(shown: ShownStore): StoreStatusRequest {
  if (shown.status === 'online') return { status: 'ONLINE' };
  return {
    status: 'PAUSED',
    ...(shown.status === 'paused' && shown.until ? { paused_until: shown.until } : {}),
    ...(shown.reason ? { reason: shown.reason } : {}),
  };
}

export function buildItemSuspensionRequest(item: ShownStore['items'][number]): ItemSuspensionRequest {
  if (item.available) return { suspension_info: null };
  return {
    suspension_info: {
      suspension: {
        ...(item.until ? { suspend_until: unixSeconds(item.until) } : {}),
        reason: 'OUT_OF_STOCK',
      },
    },
  };
}

/** The store's status, then every item (Uber Eats takes one item per call; busy mode has no Uber call). */
export function storePushCalls(shown: ShownStore, partnerStoreId: string, _now: Date): StoreCall[] {
  return [
    {
      name: 'storeStatus',
      route: storeApi.storeStatus,
      params: { storeId: partnerStoreId },
      body: buildStoreStatusRequest(shown),
    },
    ...shown.items.map((item) => ({
      name: 'itemSuspension',
      route: storeApi.itemSuspension,
      params: { storeId: partnerStoreId, itemId: item.sku },
      body: buildItemSuspensionRequest(item),
    })),
  ];
}
