import { WaitStepSchema } from './lib/schemas/steps';
import { waitForCourier } from './lib/services/courier';
import { stepHandler } from './lib/step';

/** Invoked with the workflow's task token (.waitForTaskToken); the workflow waits until release, cancel or timeout. */
export const handler = stepHandler(WaitStepSchema, async ({ orderId, taskToken, workflowExecutionId }) => {
  await waitForCourier(orderId, taskToken, workflowExecutionId);
  return { waiting: true };
});
