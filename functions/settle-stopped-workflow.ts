import { z } from 'zod';
import { logger } from './lib/powertools';
import { settleStoppedWorkflow } from './lib/services/kitchen';
import { stepHandler } from './lib/step';

/**
 * Step Functions' "Execution Status Change" event for an order workflow that stopped unsettled —
 * a broken step, a timeout, an operator's StopExecution. The workflow's input is the OrderReceived
 * event, so the order id is in it; it becomes the correlation id of the handler's log lines.
 */
const StoppedWorkflowSchema = z
  .looseObject({
    detail: z.looseObject({
      executionArn: z.string(),
      status: z.enum(['FAILED', 'TIMED_OUT', 'ABORTED']),
      input: z.string(),
      cause: z.string().nullish(),
    }),
  })
  .transform(({ detail }) => ({
    ...detail,
    orderId: z.looseObject({ detail: z.looseObject({ orderId: z.string() }) }).parse(JSON.parse(detail.input))
      .detail.orderId,
  }));

/**
 * Ends the order FAILED when the stopped execution still owned it unended, pays what that owes, and
 * publishes OrderFailed. The event is owed from the ending's write: a failed publish throws, so the
 * invocation is retried (asynchronous Lambda) and the retry publishes it; the reconciler, if no retry can.
 */
export const handler = stepHandler(
  StoppedWorkflowSchema,
  async ({ orderId, executionArn, status, cause }) => {
    logger.setCorrelationId(orderId);
    const outcome = await settleStoppedWorkflow(orderId, { executionArn, status, cause: cause ?? undefined });
    if (!outcome) return { settled: false };
    logger.warn('order ended by its stopped workflow', { executionArn, status, owed: outcome.owed });
    return { settled: true, owed: outcome.owed };
  },
);
