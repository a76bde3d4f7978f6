import { OrderStepSchema } from './lib/schemas/steps';
import { voidCancelledOrder } from './lib/services/kitchen';
import { stepHandler } from './lib/step';

/** Workflow step: a cancelled order's held POS order is voided. */
export const handler = stepHandler(OrderStepSchema, async ({ orderId }) => {
  await voidCancelledOrder(orderId);
  return { voided: true };
});
