import { ReleaseStepSchema } from './lib/schemas/steps';
import { releaseToKitchen } from './lib/services/kitchen';
import { stepHandler } from './lib/step';

/** Workflow step: RELEASED by conditional write, then the POS fires the order. */
export const handler = stepHandler(ReleaseStepSchema, ({ orderId, posReference, release }) =>
  releaseToKitchen(orderId, posReference, {
    releasedBy: release?.Error === 'States.Timeout' ? 'timeout' : 'courier',
    alreadyReleasing: release?.releasing === true,
  }),
);
