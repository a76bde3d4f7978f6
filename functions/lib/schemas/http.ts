/** The middleware's own HTTP answers: one error body for every route, and the webhook answers. */
import { z } from 'zod';
import { OrderIdSchema, OrderStatusSchema } from './order';
import { PartnerIdSchema, PartnerOrderIdSchema } from './partners/index';

export const ERROR_CODES = [
  'UNKNOWN_PARTNER',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNAUTHORIZED',
  'INVALID_PAYLOAD',
  /** The order is well formed but its canonical form exceeds MAX_CANONICAL_ORDER_BYTES. */
  'ORDER_TOO_LARGE',
  'ORDER_CONFLICT',
  'NOT_FOUND',
  /** A partner API we must ask before answering (Uber Eats' order fetch) is down: retry later. */
  'PARTNER_UNAVAILABLE',
  'INTERNAL_ERROR',
] as const;
export const ErrorCodeSchema = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCodeSchema>;

/** `{"error":{"code","message"}}` — code is one of ERROR_CODES; kept open so a new code cannot break a reader. */
export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string().min(1), message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** 202 of `POST /webhooks/{partner}/orders`, identical for a re-delivery. */
export const OrderWebhookAnswerSchema = z.object({
  orderId: OrderIdSchema,
  partner: PartnerIdSchema,
  partnerOrderId: PartnerOrderIdSchema,
  status: OrderStatusSchema,
});
export type OrderWebhookAnswer = z.infer<typeof OrderWebhookAnswerSchema>;

/** 202 of the release and cancel webhooks. */
export const OrderActionAnswerSchema = z.object({ orderId: OrderIdSchema, status: OrderStatusSchema });
export type OrderActionAnswer = z.infer<typeof OrderActionAnswerSchema>;

/** Webhook bodies above this many bytes are refused with 413 (EventBridge and Step Functions cap at 256 KB). */
export const MAX_WEBHOOK_BYTES = 256 * 1024;
