/**
 * The store POS API. Orders are created *held* (the kitchen does not see them) and fired when the
 * courier is close. `Idempotency-Key: <our orderId>` is required on create, so a retried create
 * whose answer was lost returns the first order instead of making a second one.
 */
import { z } from 'zod';
import { IsoTimeSchema, NoteSchema, OrderIdSchema, SkuSchema, StoreIdSchema } from './order';

export const POS_API_KEY_HEADER = 'X-Pos-Api-Key';
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';

export const posApi = {
  createOrder: { method: 'POST', path: '/pos/v1/stores/{storeId}/orders' },
  fireOrder: { method: 'POST', path: '/pos/v1/orders/{posOrderId}/fire' },
  voidOrder: { method: 'POST', path: '/pos/v1/orders/{posOrderId}/void' },
  /** `?reference={orderId}`: how an order whose create answer was lost is found again. */
  findOrders: { method: 'GET', path: '/pos/v1/orders' },
  getOrder: { method: 'GET', path: '/pos/v1/orders/{posOrderId}' },
  health: { method: 'GET', path: '/pos/v1/health' },
  storeHealth: { method: 'GET', path: '/pos/v1/stores/{storeId}/health' },
} as const;

export const posPaths = {
  createOrder: (storeId: string) => `/pos/v1/stores/${encodeURIComponent(storeId)}/orders`,
  fireOrder: (posOrderId: string) => `/pos/v1/orders/${encodeURIComponent(posOrderId)}/fire`,
  voidOrder: (posOrderId: string) => `/pos/v1/orders/${encodeURIComponent(posOrderId)}/void`,
  findOrders: (reference: string) => `/pos/v1/orders?reference=${encodeURIComponent(reference)}`,
  getOrder: (posOrderId: string) => `/pos/v1/orders/${encodeURIComponent(posOrderId)}`,
  health: () => '/pos/v1/health',
  storeHealth: (storeId: string) => `/pos/v1/stores/${encodeURIComponent(storeId)}/health`,
};

const PosCents = z.number().int().nonnegative().safe();
export const PosOrderIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected a POS order id');

export const PosModifierSchema = z.object({
  sku: SkuSchema.optional(),
  name: z.string().min(1).max(200),
  price: PosCents,
});

export const PosItemSchema = z.object({
  sku: SkuSchema,
  name: z.string().min(1).max(200),
  quantity: z.number().int().positive().max(99),
  unitPrice: PosCents,
  modifiers: z.array(PosModifierSchema).max(50),
  notes: NoteSchema.optional(),
});
export type PosItem = z.infer<typeof PosItemSchema>;

export const CreatePosOrderRequestSchema = z.object({
  /** Our order id; the POS shows it and the simulator reports it as `reference`. */
  reference: OrderIdSchema,
  items: z.array(PosItemSchema).min(1).max(200),
  total: PosCents,
  pickupAt: IsoTimeSchema.optional(),
});
export type CreatePosOrderRequest = z.infer<typeof CreatePosOrderRequestSchema>;

export const CreatePosOrderResponseSchema = z.object({
  posOrderId: PosOrderIdSchema,
  reference: OrderIdSchema,
  status: z.literal('held'),
});
export type CreatePosOrderResponse = z.infer<typeof CreatePosOrderResponseSchema>;

export const FirePosOrderResponseSchema = z.object({
  posOrderId: PosOrderIdSchema,
  status: z.literal('fired'),
});
export type FirePosOrderResponse = z.infer<typeof FirePosOrderResponseSchema>;

export const VoidPosOrderResponseSchema = z.object({ status: z.literal('voided') });

/**
 * Fire and void name the order they mean: the POS refuses (409 REFERENCE_MISMATCH) when the POS order
 * it holds under that number was made for another reference, e.g. after the POS renumbered.
 */
export const PosOrderActionRequestSchema = z.object({ reference: OrderIdSchema });
export type PosOrderActionRequest = z.infer<typeof PosOrderActionRequestSchema>;

export const PosOrderStatusSchema = z.enum(['held', 'fired', 'voided']);
export const PosOrderViewSchema = z.object({
  posOrderId: PosOrderIdSchema,
  reference: OrderIdSchema,
  storeId: StoreIdSchema,
  status: PosOrderStatusSchema,
  createdAt: IsoTimeSchema,
  firedAt: IsoTimeSchema.optional(),
  voidedAt: IsoTimeSchema.optional(),
});
export type PosOrderView = z.infer<typeof PosOrderViewSchema>;

/** `GET /pos/v1/orders?reference=`: every POS order made under that reference (none, or one). */
export const FindPosOrdersResponseSchema = z.object({ orders: z.array(PosOrderViewSchema) });
export type VoidPosOrderResponse = z.infer<typeof VoidPosOrderResponseSchema>;

export const PosHealthResponseSchema = z.object({ status: z.enum(['ok', 'degraded']) });
export type PosHealthResponse = z.infer<typeof PosHealthResponseSchema>;

/** The POS's own error body (e.g. 503 store offline, 409 wrong state). */
export const PosErrorResponseSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});

/** Path params the POS validates. */
export const PosStoreIdSchema = StoreIdSchema;
