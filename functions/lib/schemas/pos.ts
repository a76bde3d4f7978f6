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
  health: { method: 'GET', path: '/pos/v1/health' },
} as const;

export const posPaths = {
  createOrder: (storeId: string) => `/pos/v1/stores/${encodeURIComponent(storeId)}/orders`,
  fireOrder: (posOrderId: string) => `/pos/v1/orders/${encodeURIComponent(posOrderId)}/fire`,
  voidOrder: (posOrderId: string) => `/pos/v1/orders/${encodeURIComponent(posOrderId)}/void`,
  health: () => '/pos/v1/health',
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
export type VoidPosOrderResponse = z.infer<typeof VoidPosOrderResponseSchema>;

export const PosHealthResponseSchema = z.object({ status: z.enum(['ok', 'degraded']) });
export type PosHealthResponse = z.infer<typeof PosHealthResponseSchema>;

/** The POS's own error body (e.g. 503 store offline, 409 wrong state). */
export const PosErrorResponseSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});

/** Path params the POS validates. */
export const PosStoreIdSchema = StoreIdSchema;
