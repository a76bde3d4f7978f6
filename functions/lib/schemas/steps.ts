/** What the state machines pass to each workflow step (see statemachines/*.asl.yml). */
import { z } from 'zod';
import { CanonicalOrderSchema, IsoTimeSchema, OrderIdSchema } from './order';
import { PartnerIdSchema, PartnerOrderIdSchema } from './partners/index';

const StepErrorSchema = z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional();

export const OrderStepSchema = z.object({ orderId: OrderIdSchema });
export const OrderWithContentStepSchema = z.object({ orderId: OrderIdSchema, order: CanonicalOrderSchema });
/** The throttle window the order holds a place in (from validation), null for a store without throttle. */
const ThrottleWindowSchema = IsoTimeSchema.nullable().optional();
export const HoldStepSchema = OrderWithContentStepSchema.extend({
  throttleWindow: ThrottleWindowSchema,
  /** The store's POS failures in a row as validation read them: a successful create resets them. */
  posFailures: z.number().int().nonnegative().optional(),
});
export const AcceptStepSchema = OrderWithContentStepSchema.extend({
  posReference: z.string().min(1),
  /** The store's prep minutes, from validation: a scheduled order is released that long before pickup. */
  prepMinutes: z.number().int().min(0).max(240).optional(),
  /** A busy kitchen's extra minutes, from validation: added to the pickup the partner is told. */
  busyMinutes: z.number().int().min(0).max(120).optional(),
});
export const SettleStepSchema = z.object({
  orderId: OrderIdSchema,
  error: StepErrorSchema,
  throttleWindow: ThrottleWindowSchema,
});
/** `workflowExecutionId`: the parent execution that claimed the order; only it may wait on it. */
export const WaitStepSchema = z.object({
  orderId: OrderIdSchema,
  taskToken: z.string().min(1),
  workflowExecutionId: z.string().min(1),
});
/** `release` is the wait's result: `{releasedBy}` from the courier, or the States.Timeout error. */
export const ReleaseStepSchema = z.object({
  orderId: OrderIdSchema,
  posReference: z.string().min(1),
  partner: PartnerIdSchema,
  partnerOrderId: PartnerOrderIdSchema,
  release: z
    .object({
      releasedBy: z.string().optional(),
      releasing: z.boolean().optional(),
      Error: z.string().optional(),
    })
    .passthrough()
    .optional(),
});
