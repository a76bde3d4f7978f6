import { OrderStepSchema } from './lib/schemas/steps';
import { settleCancelledOrder } from './lib/services/kitchen';
import { stepHandler } from './lib/step';

/** Workflow step: a cancelled order's owed work is paid (its POS order voided); CompensationOwed if not. */
export const handler = stepHandler(OrderStepSchema, ({ orderId }) => settleCancelledOrder(orderId));
