import { OrderWithContentStepSchema } from './lib/schemas/steps';
import { checkOrder } from './lib/services/kitchen';
import { stepHandler } from './lib/step';

/**
 * Workflow step: store online, items available, prices from the menu, a place in the store's
 * throttle window (the pickup may move); throws OrderDenied.
 */
export const handler = stepHandler(OrderWithContentStepSchema, ({ orderId, order }) =>
  checkOrder(orderId, order),
);
