import { SettleStepSchema } from './lib/schemas/steps';
import { settleUnplacedOrder } from './lib/services/kitchen';
import { stepHandler } from './lib/step';

/** Workflow step: an order that will not reach the kitchen is denied or failed, the partner told. */
export const handler = stepHandler(SettleStepSchema, ({ orderId, error, throttleWindow }) =>
  settleUnplacedOrder(orderId, error, new Date(), throttleWindow ?? null),
);
