/** The operator API's wire formats (ARCHITECTURE section 7): order list, operator cancel, dead letters. */
import { z } from 'zod';
import { IsoTimeSchema, OrderIdSchema, OrderMoneySchema, OrderStatusSchema, StoreIdSchema } from './order';
import { PartnerIdSchema, PartnerOrderIdSchema } from './partners/index';

export const LIST_LIMIT_DEFAULT = 50;
export const LIST_LIMIT_MAX = 100;

/** A `?limit=` query parameter, as a string from the query: a whole number from 1 to `max`. */
export const limitParamSchema = (max: number) =>
  z
    .string()
    .regex(new RegExp(`^\\d{1,${String(max).length}}$`), 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1).max(max));

/** `GET /orders?status=&storeId=&partner=&since=&limit=&cursor=`; an unknown parameter is refused, not ignored. */
export const ListOrdersQuerySchema = z
  .object({
    status: OrderStatusSchema.optional(),
    storeId: StoreIdSchema.optional(),
    partner: PartnerIdSchema.optional(),
    since: IsoTimeSchema.transform((at) => new Date(at).toISOString()).optional(),
    limit: limitParamSchema(LIST_LIMIT_MAX).optional(),
    cursor: z.string().min(1).max(4096).optional(),
  })
  .strict();
export type ListOrdersQuery = z.infer<typeof ListOrdersQuerySchema>;

/** One line of the list: what the list indexes carry (resources/data.yml), nothing more. */
export const OrderListItemSchema = z.object({
  orderId: OrderIdSchema,
  partner: PartnerIdSchema,
  partnerOrderId: PartnerOrderIdSchema,
  storeId: StoreIdSchema,
  status: OrderStatusSchema,
  total: OrderMoneySchema.optional(),
  createdAt: IsoTimeSchema,
  updatedAt: IsoTimeSchema,
});
export type OrderListItem = z.infer<typeof OrderListItemSchema>;

export const OrderListAnswerSchema = z.object({
  orders: z.array(OrderListItemSchema),
  cursor: z.string().optional(),
});
export type OrderListAnswer = z.infer<typeof OrderListAnswerSchema>;

/** `POST /orders/{orderId}/cancel`: the operator says why, in a line the timeline shows. */
export const OperatorCancelRequestSchema = z.object({ reason: z.string().trim().min(1).max(200) });

export const OrderPathSchema = z.object({ orderId: OrderIdSchema });

/** A queue name as SQS allows it. */
export const QueueNameSchema = z.string().regex(/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/, 'expected a queue name');

export const DeadLettersAnswerSchema = z.object({
  queues: z.array(z.object({ name: z.string(), messages: z.number().int().nonnegative() })),
});
export type DeadLettersAnswer = z.infer<typeof DeadLettersAnswerSchema>;

export const RedriveAnswerSchema = z.object({
  name: z.string(),
  redriven: z.number().int().nonnegative(),
  /** Messages that are not events this redrive can send back; they stay in the queue. */
  left: z.number().int().nonnegative().optional(),
});
export type RedriveAnswer = z.infer<typeof RedriveAnswerSchema>;

/** A dead-lettered EventBridge event, as a rule's DLQ holds it (the message body is the event). */
export const DeadLetteredEventSchema = z.object({
  source: z.string().min(1),
  'detail-type': z.string().min(1),
  detail: z.record(z.string(), z.unknown()),
  resources: z.array(z.string()).optional(),
});
