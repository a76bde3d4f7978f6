import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { z } from 'zod';
import { logger, metrics } from './powertools';

/**
 * The middy chain of every workflow step: the order id is the correlation id of every log line,
 * the input is parsed with its schema, errors propagate by name to the state machine's Retry/Catch.
 */
export function stepHandler<S extends z.ZodType, R>(
  schema: S,
  step: (input: z.infer<S>, context: Context) => Promise<R>,
) {
  return middy(async (event: unknown, context: Context) => step(schema.parse(event), context))
    .use(injectLambdaContext(logger, { resetKeys: true, correlationIdPath: 'orderId' }))
    .use(logMetrics(metrics));
}
