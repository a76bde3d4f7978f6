import { ReleaseStepSchema } from './lib/schemas/steps';
import { releaseToKitchen } from './lib/services/kitchen';
import { stepHandler } from './lib/step';

/** Workflow step: marked releasing, the POS fires the order, the partner is told, then RELEASED. */
export const handler = stepHandler(
  ReleaseStepSchema,
  ({ orderId, posReference, release, partner, partnerOrderId }) =>
    releaseToKitchen(orderId, posReference, {
      releasedBy:
        release?.Error === 'States.Timeout'
          ? 'timeout'
          : release?.releasedBy === 'operator'
            ? 'operator'
            : 'courier',
      alreadyReleasing: release?.releasing === true,
      partner,
      partnerOrderId,
    }),
);
