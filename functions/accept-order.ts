import { AcceptStepSchema } from './lib/schemas/steps';
import { acceptOrder } from './lib/services/kitchen';
import { stepHandler } from './lib/step';

/** Workflow step: accept with the partner, carrying the POS reference; answers how long to wait for the courier. */
export const handler = stepHandler(
  AcceptStepSchema,
  ({ orderId, order, posReference, prepMinutes, busyMinutes }) =>
    acceptOrder(orderId, order, posReference, prepMinutes, new Date(), busyMinutes),
);
