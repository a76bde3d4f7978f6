import { OrderWithContentStepSchema } from './lib/schemas/steps';
import { checkOrder } from './lib/services/kitchen';
import { stepHandler } from './lib/step';

/** Workflow step: store online, items available, prices from the menu; throws OrderDenied. */
export const handler = stepHandler(OrderWithContentStepSchema, ({ order }) => checkOrder(order));
