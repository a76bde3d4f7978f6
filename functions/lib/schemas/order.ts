import { z } from 'zod';
import { PartnerIdSchema, PartnerOrderIdSchema, PartnerStoreIdSchema } from './partners/index';

export const ORDER_STATUSES = [
  'RECEIVED',
  'ACCEPTED',
  'REJECTED',
  'RELEASED',
  'CANCELLED',
  'FAILED',
] as const;
export const OrderStatusSchema = z.enum(ORDER_STATUSES);
export type OrderStatus = z.infer<typeof OrderStatusSchema>;

export const DENY_REASONS = [
  'STORE_OFFLINE',
  'STORE_PAUSED',
  'STORE_BUSY',
  'ITEM_UNAVAILABLE',
  'INVALID_ORDER',
  'POS_UNAVAILABLE',
  'PARTNER_UNAVAILABLE',
] as const;
export const DenyReasonSchema = z.enum(DENY_REASONS);
export type DenyReason = z.infer<typeof DenyReasonSchema>;

/** Money is integer cents everywhere. */
export const CentsSchema = z.number().int().safe();
/**
 * Money in an order — prices, subtotal, tax, total — is never negative: no partner we speak sends
 * discounts as negative lines, and a negative amount would reach an order view as a negative total.
 * Such an order is refused at intake (400), so nothing is kept of it.
 */
export const OrderMoneySchema = CentsSchema.nonnegative();
/** How many of an item; zero or fewer is not an order (the upper bound is validation's, MAX_QUANTITY). */
export const QuantitySchema = z.number().int().safe().positive();
/** Our order id: `ord_` + 26 base32 characters (see domain/order.ts `orderIdFor`). */
export const OrderIdSchema = z.string().regex(/^ord_[a-z2-7]{26}$/, 'expected an order id');
export const StoreIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'expected a store id');
export const SkuSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected a sku');
export const IsoTimeSchema = z.iso.datetime({ offset: true });
/** Free text from partners (names, notes): bounded so one order cannot bloat a record. */
export const NoteSchema = z.string().max(500);

export const ModifierSchema = z.object({
  sku: SkuSchema.optional(),
  name: z.string().min(1).max(200),
  price: OrderMoneySchema,
});
export type Modifier = z.infer<typeof ModifierSchema>;

export const OrderItemSchema = z.object({
  sku: SkuSchema,
  name: z.string().min(1).max(200),
  quantity: QuantitySchema,
  unitPrice: OrderMoneySchema,
  modifiers: z.array(ModifierSchema).max(50),
  notes: NoteSchema.optional(),
});
export type OrderItem = z.infer<typeof OrderItemSchema>;

export const CustomerSchema = z.object({
  firstName: z.string().max(100),
  phone: z.string().max(40).optional(),
});
export type Customer = z.infer<typeof CustomerSchema>;

/** One order in our own terms, whichever partner sent it. */
export const CanonicalOrderSchema = z.object({
  orderId: OrderIdSchema,
  partner: PartnerIdSchema,
  partnerOrderId: PartnerOrderIdSchema,
  storeId: StoreIdSchema,
  partnerStoreId: PartnerStoreIdSchema,
  items: z.array(OrderItemSchema).max(200),
  subtotal: OrderMoneySchema,
  tax: OrderMoneySchema,
  total: OrderMoneySchema,
  currency: z.literal('USD'),
  customer: CustomerSchema,
  pickupAt: IsoTimeSchema.optional(),
  placedAt: IsoTimeSchema,
  notes: NoteSchema.optional(),
});
export type CanonicalOrder = z.infer<typeof CanonicalOrderSchema>;

/**
 * The most a canonical order may weigh as JSON (architecture section 3): it must fit, twice over, in
 * a 256 KiB Step Functions state or EventBridge event and a 400 KB DynamoDB item. Larger is refused
 * at intake with ORDER_TOO_LARGE.
 */
export const MAX_CANONICAL_ORDER_BYTES = 64 * 1024;

/** What happened to an order, when; `event` is a short kebab-case fact such as `accepted`. */
export const TimelineEntrySchema = z.object({
  at: IsoTimeSchema,
  event: z.string().min(1).max(64),
  detail: z.string().max(500).optional(),
});
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

/** The order record as stored in OrdersTable (docs/design.md). */
export const OrderRecordSchema = z.object({
  orderId: OrderIdSchema,
  partner: PartnerIdSchema,
  partnerOrderId: PartnerOrderIdSchema,
  storeId: StoreIdSchema,
  status: OrderStatusSchema,
  order: CanonicalOrderSchema,
  orderHash: z.string().min(1),
  posReference: z.string().optional(),
  denyReason: DenyReasonSchema.optional(),
  pickupAt: IsoTimeSchema.optional(),
  /** The throttle window this order holds a place in (its start, ISO); given back when it does not reach the kitchen. */
  throttleWindow: IsoTimeSchema.optional(),
  taskToken: z.string().optional(),
  releaseRequestedAt: IsoTimeSchema.optional(),
  /** Set only when an operator asked for the release (POST /orders/{orderId}/release); the courier otherwise. */
  releaseRequestedBy: z.literal('operator').optional(),
  /** Set when the POS fire starts; a cancel is refused from then on. */
  releasingAt: IsoTimeSchema.optional(),
  claimedBy: z.string().optional(),
  /** Work the ending still owes (domain/endings.ts), written with the ending; removed once done. */
  owesPosVoid: z.boolean().optional(),
  owesPartner: z
    .discriminatedUnion('call', [
      z.object({ call: z.literal('deny'), reason: DenyReasonSchema }),
      z.object({ call: z.literal('status'), status: z.enum(['RELEASED', 'CANCELLED', 'FAILED']) }),
    ])
    .optional(),
  /** The outcome event the ending puts on the bus itself, until the bus has taken it. */
  owesEvent: z.enum(['OrderCancelled', 'OrderFailed']).optional(),
  /** Who cancelled a CANCELLED order (its OrderCancelled says so too). */
  cancelledBy: z.enum(['partner', 'operator']).optional(),
  /** The reconciler's queue (a sparse index): present while work is owed, `owedAt` the next try. */
  owedQueue: z.literal('owed').optional(),
  owedAt: IsoTimeSchema.optional(),
  owedSince: IsoTimeSchema.optional(),
  owedAttempts: z.number().int().nonnegative().optional(),
  /** The order's total, beside the order itself so the list indexes can carry it (INCLUDE projection). */
  total: OrderMoneySchema.optional(),
  createdAt: IsoTimeSchema,
  /** The UTC date (`YYYY-MM-DD`) of `createdAt`: the `by-day` index's partition for the order list. */
  createdDay: z.string().optional(),
  updatedAt: IsoTimeSchema,
  timeline: z.array(TimelineEntrySchema),
});
export type OrderRecord = z.infer<typeof OrderRecordSchema>;

/** The answer of `GET /orders/{orderId}`: no task token, no customer. */
export const OrderViewSchema = z.object({
  orderId: OrderIdSchema,
  partner: PartnerIdSchema,
  partnerOrderId: PartnerOrderIdSchema,
  storeId: StoreIdSchema,
  status: OrderStatusSchema,
  items: z.array(OrderItemSchema),
  total: OrderMoneySchema,
  posReference: z.string().optional(),
  denyReason: DenyReasonSchema.optional(),
  pickupAt: IsoTimeSchema.optional(),
  timeline: z.array(TimelineEntrySchema),
});
export type OrderView = z.infer<typeof OrderViewSchema>;
