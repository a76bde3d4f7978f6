import { ReleaseStepSchema } from './lib/schemas/steps';
import { releaseToKitchen } from './lib/services/kitchen';
import { stepHandler } from './lib/step';

/** Workflow step: RELEASED by conditional write, then the POS fires the order. */
export const handler = stepHandler(ReleaseStepSchema, ({ orderId, release }) =>
  releaseToKitchen(orderId, release?.Error === 'States.Timeout' ? 'timeout' : 'courier'),
);
