/**
 * Grubhub, in its own naming: the full order in the webhook (`order_uuid`, `lines`, `diner`), signed
 * `X-GH-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<rawBody>")>`; a signature whose
 * timestamp is more than 300 s away from now (either way) is a replay and is refused.
 */
import { z } from 'zod';
import { CentsSchema, type DenyReason, IsoTimeSchema, NoteSchema } from '../order';
import type { PartnerApiRoutes } from './index';
import { PartnerOrderIdSchema, PartnerStoreIdSchema } from './index';
import { hexBytes, hmacSha256Hex, invert, type ReportedStatus, type SignedBytes } from './signing';
import type { ShownStore, StoreCall, StoreRoute } from './store-push';

// ── the order (= the new-order webhook body) ──────────────────────────────
const OptionSchema = z.object({
  option_id: z.string().max(64).optional(),
  name: z.string().min(1).max(200),
  price: CentsSchema,
});

export const LineSchema = z.object({
  menu_item_id: z.string().min(1).max(64),
  name: z.string().min(1).max(200),
  quantity: z.number().int().safe(),
  /** Unit price in cents. */
  price: CentsSchema,
  options: z.array(OptionSchema).max(50).default([]),
  special_instructions: NoteSchema.optional(),
});

export const NewOrderWebhookSchema = z.object({
  type: z.literal('ORDER_PLACED'),
  order_uuid: PartnerOrderIdSchema,
  restaurant_id: PartnerStoreIdSchema,
  placed_at: IsoTimeSchema,
  pickup_time: IsoTimeSchema.optional(),
  diner: z.object({
    first_name: z.string().max(100),
    last_name: z.string().max(100).optional(),
    phone: z.string().max(40).optional(),
  }),
  lines: z.array(LineSchema).max(200),
  charges: z.object({ subtotal: CentsSchema, tax: CentsSchema, total: CentsSchema }),
  special_instructions: NoteSchema.optional(),
});
export type NewOrderWebhook = z.infer<typeof NewOrderWebhookSchema>;
export const OrderSchema = NewOrderWebhookSchema;
export type Order = NewOrderWebhook;

const orderEvent = <T extends string>(type: T) =>
  z.object({ type: z.literal(type), order_uuid: PartnerOrderIdSchema });
/** The driver is close: release the order to the kitchen. */
export const ReleaseWebhookSchema = orderEvent('DRIVER_ARRIVING');
export type ReleaseWebhook = z.infer<typeof ReleaseWebhookSchema>;
export const CancelWebhookSchema = orderEvent('ORDER_CANCELLED');
export type CancelWebhook = z.infer<typeof CancelWebhookSchema>;

/** A release or cancel webhook as the order it names; anything but that exact event does not parse. */
export const OrderEventSchemas = {
  release: ReleaseWebhookSchema.transform((event) => event.order_uuid),
  cancel: CancelWebhookSchema.transform((event) => event.order_uuid),
};

// ── signing ───────────────────────────────────────────────────────────────
export const SIGNATURE_HEADER = 'X-GH-Signature';
/**
 * The replay window, both ways from now. Grubhub re-signs every retry when it sends it, so `t` is the
 * moment of that delivery and a genuine one is never older than the network delay plus clock skew,
 * however old the event. Grubhub publishes no retry schedule we could find; five minutes is the
 * window this integration's contract sets (ARCHITECTURE section 3), and it bounds release, cancel
 * and new-order webhooks alike.
 */
export const REPLAY_WINDOW_SECONDS = 300;

export function signatureFor(rawBody: SignedBytes, secret: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmacSha256Hex(secret, `${unixSeconds}.`, rawBody)}`;
}

/** Splits `t=…,v1=…` (v1 as its bytes, hex in either case); undefined when either part is missing or malformed. */
export function parseSignature(value: string | undefined): { t: number; v1: Buffer } | undefined {
  if (value === undefined) return undefined;
  const parts = new Map(
    value.split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1).trim()] as const;
    }),
  );
  const t = parts.get('t');
  const v1 = hexBytes(parts.get('v1') ?? '', 32);
  if (t === undefined || !/^\d{1,12}$/.test(t) || v1 === undefined) return undefined;
  return { t: Number(t), v1 };
}

// ── the partner API the middleware calls ─────────────────────────────────
export const api = {
  accept: { method: 'POST', path: '/grubhub/v1/orders/{orderId}/accept' },
  deny: { method: 'POST', path: '/grubhub/v1/orders/{orderId}/deny' },
  status: { method: 'POST', path: '/grubhub/v1/orders/{orderId}/status' },
} as const satisfies PartnerApiRoutes;

export const API_KEY_HEADER = 'X-GH-Api-Key';

export function apiAuthHeaders(apiKey: string): Record<string, string> {
  return { [API_KEY_HEADER]: apiKey };
}

export const AcceptRequestSchema = z.object({
  /** The POS's id for the order. */
  pos_order_id: z.string().min(1).max(128),
  pickup_time: IsoTimeSchema.optional(),
});
export type AcceptRequest = z.infer<typeof AcceptRequestSchema>;

export const DENY_CODES = {
  STORE_OFFLINE: 'RESTAURANT_CLOSED',
  STORE_PAUSED: 'RESTAURANT_BUSY',
  STORE_BUSY: 'RESTAURANT_AT_CAPACITY',
  ITEM_UNAVAILABLE: 'ITEM_UNAVAILABLE',
  INVALID_ORDER: 'INVALID_ORDER',
  POS_UNAVAILABLE: 'POS_ERROR',
  PARTNER_UNAVAILABLE: 'OTHER',
} as const satisfies Record<DenyReason, string>;
export const DENY_REASON_BY_CODE = invert(DENY_CODES);

export const DenyRequestSchema = z.object({
  reason_code: z.enum([
    'RESTAURANT_CLOSED',
    'RESTAURANT_BUSY',
    'RESTAURANT_AT_CAPACITY',
    'ITEM_UNAVAILABLE',
    'INVALID_ORDER',
    'POS_ERROR',
    'OTHER',
  ]),
  message: z.string().max(500).optional(),
});
export type DenyRequest = z.infer<typeof DenyRequestSchema>;

export const STATUS_CODES = {
  RELEASED: 'IN_KITCHEN',
  CANCELLED: 'CANCELLED',
  FAILED: 'FAILED',
} as const satisfies Record<ReportedStatus, string>;
export const STATUS_BY_CODE = invert(STATUS_CODES);

export const StatusRequestSchema = z.object({ status: z.enum(['IN_KITCHEN', 'CANCELLED', 'FAILED']) });
export type StatusRequest = z.infer<typeof StatusRequestSchema>;

export const AcceptResponseSchema = z.object({
  order_uuid: PartnerOrderIdSchema,
  status: z.literal('CONFIRMED'),
});
export const DenyResponseSchema = z.object({
  order_uuid: PartnerOrderIdSchema,
  status: z.literal('REJECTED'),
});
export const StatusResponseSchema = z.object({
  order_uuid: PartnerOrderIdSchema,
  status: z.string().max(32),
});

export function buildAcceptRequest(posReference: string, pickupAt?: string): AcceptRequest {
  return { pos_order_id: posReference, ...(pickupAt === undefined ? {} : { pickup_time: pickupAt }) };
}

export function buildDenyRequest(reason: DenyReason, message?: string): DenyRequest {
  return { reason_code: DENY_CODES[reason], ...(message ? { message } : {}) };
}

export function buildStatusRequest(status: ReportedStatus): StatusRequest {
  return { status: STATUS_CODES[status] };
}

// ── the store API: what Grubhub shows for the merchant (ARCHITECTURE section 7) ──
export const storeApi = {
  posStatus: { method: 'PUT', path: '/grubhub/pos/v1/merchant/{storeId}/pos-status' },
  startBusy: { method: 'POST', path: '/grubhub/pos/v1/merchant/{storeId}/busy' },
  endBusy: { method: 'DELETE', path: '/grubhub/pos/v1/merchant/{storeId}/busy' },
  menuOverrides: {
    method: 'PATCH',
    path: '/grubhub/pos/v1/merchant/{storeId}/menu/schedules/overrides/external',
  },
} as const satisfies Record<string, StoreRoute>;

/** `OFFLINE` for our paused and offline alike; Grubhub answers 409 when it is already so (a success). */
export const PosStatusRequestSchema = z.strictObject({
  new_pos_status: z.enum(['ONLINE', 'OFFLINE']),
  reason: z.string().min(1).max(200).optional(),
});
export type PosStatusRequest = z.infer<typeof PosStatusRequestSchema>;

export const BusyRequestSchema = z.strictObject({
  eta_increase_seconds: z.number().int().min(60).max(7200),
  start_time: IsoTimeSchema,
  end_time: IsoTimeSchema.optional(),
});
export type BusyRequest = z.infer<typeof BusyRequestSchema>;

/** Items hidden (until `end`, when the 86 has one) or shown again, by their external (our) ids. */
export const MenuOverrideRequestSchema = z.strictObject({
  entity_ids: z.array(z.string().min(1).max(64)).min(1).max(500),
  schedule_override: z.strictObject({
    show_or_hide: z.enum(['HIDE', 'SHOW']),
    start: IsoTimeSchema,
    end: IsoTimeSchema.optional(),
  }),
});
export type MenuOverrideRequest = z.infer<typeof MenuOverrideRequestSchema>;

export function buildPosStatusRequest(shown: ShownStore): PosStatusRequest {
  if (shown.status === 'online') return { new_pos_status: 'ONLINE' };
  return { new_pos_status: 'OFFLINE', ...(shown.reason ? { reason: shown.reason } : {}) };
}

export function buildBusyRequest(busy: NonNullable<ShownStore['busy']>, now: Date): BusyRequest {
  return {
    eta_increase_seconds: busy.extraPrepMinutes * 60,
    start_time: now.toISOString(),
    ...(busy.until ? { end_time: busy.until } : {}),
  };
}

/** One SHOW for every available item, one HIDE per distinct end for the unavailable ones. */
export function buildMenuOverrideRequests(items: ShownStore['items'], now: Date): MenuOverrideRequest[] {
  const start = now.toISOString();
  const shown = items.filter((item) => item.available).map((item) => item.sku);
  const hiddenByEnd = new Map<string | undefined, string[]>();
  for (const item of items.filter((candidate) => !candidate.available)) {
    hiddenByEnd.set(item.until, [...(hiddenByEnd.get(item.until) ?? []), item.sku]);
  }
  return [
    ...(shown.length > 0
      ? [{ entity_ids: shown, schedule_override: { show_or_hide: 'SHOW' as const, start } }]
      : []),
    ...[...hiddenByEnd].map(([end, entity_ids]) => ({
      entity_ids,
      schedule_override: { show_or_hide: 'HIDE' as const, start, ...(end ? { end } : {}) },
    })),
  ];
}

/** pos-status, busy started or ended, then the item overrides. */
export function storePushCalls(shown: ShownStore, partnerStoreId: string, now: Date): StoreCall[] {
  const params = { storeId: partnerStoreId };
  return [
    { name: 'posStatus', route: storeApi.posStatus, params, body: buildPosStatusRequest(shown) },
    shown.busy
      ? { name: 'startBusy', route: storeApi.startBusy, params, body: buildBusyRequest(shown.busy, now) }
      : { name: 'endBusy', route: storeApi.endBusy, params },
    ...buildMenuOverrideRequests(shown.items, now).map((body) => ({
      name: 'menuOverrides',
      route: storeApi.menuOverrides,
      params,
      body,
    })),
  ];
}
