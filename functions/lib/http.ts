import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { isHttpError, toErrorResponse } from './domain/errors';
import { logger, metrics } from './powertools';

export type HttpEvent = APIGatewayProxyEventV2;
export type HttpResult = { statusCode: number; headers: Record<string, string>; body: string };

/** Every answer is JSON, built here and nowhere else. */
export function json(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** Domain errors carry their HTTP status and code; anything else is our fault and says nothing more. */
export function errorResult(error: unknown): HttpResult {
  const { status, body } = toErrorResponse(error);
  if (isHttpError(error)) logger.info('request refused', { status, code: error.code, reason: error.message });
  else logger.error('request failed', error as Error);
  return json(status, body);
}

/** The middy chain of every HTTP function: context-aware logs, metrics, JSON errors. */
export function httpHandler(handle: (event: HttpEvent, context: Context) => Promise<HttpResult>) {
  return middy(async (event: HttpEvent, context: Context): Promise<APIGatewayProxyResultV2> => {
    try {
      return await handle(event, context);
    } catch (error) {
      return errorResult(error);
    }
  })
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics));
}
