/**
 * DoorDash, modelled on its public Marketplace integration: the full order arrives in the webhook,
 * prices in cents, the brand's own ids in `merchant_supplied_id`.
 *
 * Auth is a shared token, not a signature: the webhook carries `Authorization: Bearer <token>` and
 * the token must equal one of the configured secrets. It proves who sent the request but not that
 * the body is unchanged (TLS covers that), so it is weaker than the HMAC schemes of the others.
 */
import { z } from 'zod';
import { CentsSchema, type DenyReason, IsoTimeSchema, NoteSchema } from '../order';
import type { PartnerApiRoutes } from './index';
import { PartnerOrderIdSchema, PartnerStoreIdSchema } from './index';
import { invert, type ReportedStatus } from './signing';
import type { ShownStore, StoreCall, StoreRoute } from './store-push';

// ── the order ─────────────────────────────────────────────────────────────
const OptionSchema = z.object({
  merchant_supplied_id: z.string().max(64).optional(),
  name: z.string().min(1).max(200),
  quantity: z.number().int().min(1).max(20).default(1),
  price: CentsSchema,
});

const ExtraSchema = z.object({
  merchant_supplied_id: z.string().max(64).optional(),
  name: z.string().max(200).optional(),
  options: z.array(OptionSchema).max(50),
});

export const ItemSchema = z.object({
  merchant_supplied_id: z.string().min(1).max(64),
  name: z.string().min(1).max(200),
  quantity: z.number().int().safe(),
  /** Unit price in cents. */
  price: CentsSchema,
  extras: z.array(ExtraSchema).max(20).default([]),
  special_instructions: NoteSchema.optional(),
});

const CategorySchema = z.object({
  merchant_supplied_id: z.string().max(64).optional(),
  name: z.string().max(200).optional(),
  items: z.array(ItemSchema).max(200),
});

export const OrderSchema = z.object({
  id: PartnerOrderIdSchema,
  store: z.object({
    merchant_supplied_id: PartnerStoreIdSchema,
    provider_type: z.string().max(32).optional(),
  }),
  consumer: z.object({
    first_name: z.string().max(100),
    last_name: z.string().max(100).optional(),
    phone: z.string().max(40).optional(),
  }),
  categories: z.array(CategorySchema).max(50),
  /** Cents; DoorDash sends no grand total, it is subtotal + tax. */
  subtotal: CentsSchema,
  tax: CentsSchema,
  is_pickup: z.boolean().optional(),
  estimated_pickup_time: IsoTimeSchema.optional(),
  created_at: IsoTimeSchema,
  special_instructions: NoteSchema.optional(),
});
export type Order = z.infer<typeof OrderSchema>;

// ── webhooks ──────────────────────────────────────────────────────────────
export const NewOrderWebhookSchema = z.object({
  event: z.object({ type: z.literal('order_created'), status: z.string().max(32).optional() }),
  order: OrderSchema,
});
export type NewOrderWebhook = z.infer<typeof NewOrderWebhookSchema>;

const orderEvent = <T extends string>(type: T) =>
  z.object({
    event: z.object({ type: z.literal(type) }),
    order: z.object({ id: PartnerOrderIdSchema }),
  });
/** The Dasher is close: release the order to the kitchen. */
export const ReleaseWebhookSchema = orderEvent('dasher_arriving');
export type ReleaseWebhook = z.infer<typeof ReleaseWebhookSchema>;
export const CancelWebhookSchema = orderEvent('order_cancelled');
export type CancelWebhook = z.infer<typeof CancelWebhookSchema>;

/** A release or cancel webhook as the order it names; anything but that exact event does not parse. */
export const OrderEventSchemas = {
  release: ReleaseWebhookSchema.transform((event) => event.order.id),
  cancel: CancelWebhookSchema.transform((event) => event.order.id),
};

// ── auth: Authorization: Bearer <shared token> ───────────────────────────
export const AUTH_HEADER = 'Authorization';

export function authorizationFor(token: string): string {
  return `Bearer ${token}`;
}

/**
 * The token of an `Authorization` value, or undefined when it is not a bearer token. The scheme
 * name is case-insensitive (RFC 7235 §2.1), so `bearer` and `BEARER` are the same scheme.
 */
export function bearerToken(value: string | undefined): string | undefined {
  const match = value?.match(/^Bearer +(\S+)$/i);
  return match?.[1];
}

// ── the partner API the middleware calls ─────────────────────────────────
export const api = {
  accept: { method: 'POST', path: '/doordash/v1/orders/{orderId}/accept' },
  deny: { method: 'POST', path: '/doordash/v1/orders/{orderId}/deny' },
  status: { method: 'POST', path: '/doordash/v1/orders/{orderId}/status' },
} as const satisfies PartnerApiRoutes;

export function apiAuthHeaders(apiKey: string): Record<string, string> {
  return { Authorization: `Bearer ${apiKey}` };
}

export const AcceptRequestSchema = z.object({
  /** The POS's id for the order. */
  merchant_supplied_id: z.string().min(1).max(128),
  order_status: z.literal('success'),
  estimated_pickup_time: IsoTimeSchema.optional(),
});
export type AcceptRequest = z.infer<typeof AcceptRequestSchema>;

export const DENY_CODES = {
  STORE_OFFLINE: 'store_closed',
  STORE_PAUSED: 'store_busy',
  STORE_BUSY: 'store_at_capacity',
  ITEM_UNAVAILABLE: 'item_unavailable',
  INVALID_ORDER: 'invalid_order',
  POS_UNAVAILABLE: 'pos_unavailable',
  PARTNER_UNAVAILABLE: 'other',
} as const satisfies Record<DenyReason, string>;
export const DENY_REASON_BY_CODE = invert(DENY_CODES);

export const DenyRequestSchema = z.object({
  order_status: z.literal('fail'),
  failure_reason: z.enum([
    'store_closed',
    'store_busy',
    'store_at_capacity',
    'item_unavailable',
    'invalid_order',
    'pos_unavailable',
    'other',
  ]),
  failure_reason_description: z.string().max(500).optional(),
});
export type DenyRequest = z.infer<typeof DenyRequestSchema>;

export const STATUS_CODES = {
  RELEASED: 'preparing',
  CANCELLED: 'cancelled',
  FAILED: 'failed',
} as const satisfies Record<ReportedStatus, string>;
export const STATUS_BY_CODE = invert(STATUS_CODES);

export const StatusRequestSchema = z.object({ order_status: z.enum(['preparing', 'cancelled', 'failed']) });
export type StatusRequest = z.infer<typeof StatusRequestSchema>;

export const AcceptResponseSchema = z.object({
  id: PartnerOrderIdSchema,
  order_status: z.literal('confirmed'),
});
export const DenyResponseSchema = z.object({ id: PartnerOrderIdSchema, order_status: z.literal('failed') });
export const StatusResponseSchema = z.object({ id: PartnerOrderIdSchema, order_status: z.string().max(32) });

export function buildAcceptRequest(posReference: string, pickupAt?: string): AcceptRequest {
  return {
    merchant_supplied_id: posReference,
    order_status: 'success',
    ...(pickupAt === undefined ? {} : { estimated_pickup_time: pickupAt }),
  };
}

export function buildDenyRequest(reason: DenyReason, description?: string): DenyRequest {
  return {
    order_status: 'fail',
    failure_reason: DENY_CODES[reason],
    ...(description ? { failure_reason_description: description } : {}),
  };
}

export function buildStatusRequest(status: ReportedStatus): StatusRequest {
  return { order_status: STATUS_CODES[status] };
}

// ── the store API: what DoorDash shows for the store (ARCHITECTURE section 7) ──
export const storeApi = {
  storeStatus: { method: 'PUT', path: '/doordash/api/v1/stores/{storeId}/status' },
  itemStatus: { method: 'PATCH', path: '/doordash/api/v1/stores/{storeId}/items/status' },
} as const satisfies Record<string, StoreRoute>;

/** DoorDash's deactivation reasons (a subset of its list): the POS unreachable, or anything else. */
export const DEACTIVATION_REASONS = [
  'store_pos_connectivity_issues',
  'operational_issues',
  'out_of_food',
  'staffing_issues',
  'store_closed',
] as const;

export const StoreStatusRequestSchema = z
  .strictObject({
    is_active: z.boolean(),
    reason: z.enum(DEACTIVATION_REASONS).optional(),
    notes: z.string().max(500).optional(),
    /** When a deactivation ends by itself. */
    end_time: IsoTimeSchema.optional(),
  })
  .refine((body) => !body.is_active || (body.reason === undefined && body.end_time === undefined), {
    message: 'an active store has no reason or end_time',
  })
  .refine((body) => body.is_active || body.reason !== undefined, {
    message: 'a deactivation needs a reason',
  });
export type StoreStatusRequest = z.infer<typeof StoreStatusRequestSchema>;

export const ItemStatusRequestSchema = z
  .array(z.strictObject({ merchant_supplied_id: z.string().min(1).max(64), is_active: z.boolean() }))
  .min(1)
  .max(500);
export type ItemStatusRequest = z.infer<typeof ItemStatusRequestSchema>;

/** A result per item: an item DoorDash does not know is `failed`, the others `success`. */
export const ItemStatusResponseSchema = z.array(
  z.object({
    merchant_supplied_id: z.string(),
    is_active: z.boolean(),
    status: z.enum(['success', 'failed']),
    error: z.string().max(500).optional(),
  }),
);

export function buildStoreStatusRequest(shown: ShownStore): StoreStatusRequest {
  if (shown.status === 'online') return { is_active: true };
  return {
    is_active: false,
    reason: shown.changedBy === 'pos-health' ? 'store_pos_connectivity_issues' : 'operational_issues',
    ...(shown.reason ? { notes: shown.reason } : {}),
    ...(shown.status === 'paused' && shown.until ? { end_time: shown.until } : {}),
  };
}

export function buildItemStatusRequest(items: ShownStore['items']): ItemStatusRequest {
  return items.map((item) => ({ merchant_supplied_id: item.sku, is_active: item.available }));
}

/** The store's status, then every item in one PATCH (DoorDash has no busy call here). */
export function storePushCalls(shown: ShownStore, partnerStoreId: string, _now: Date): StoreCall[] {
  const params = { storeId: partnerStoreId };
  return [
    { name: 'storeStatus', route: storeApi.storeStatus, params, body: buildStoreStatusRequest(shown) },
    ...(shown.items.length === 0
      ? []
      : [
          {
            name: 'itemStatus',
            route: storeApi.itemStatus,
            params,
            body: buildItemStatusRequest(shown.items),
          },
        ]),
  ];
}
