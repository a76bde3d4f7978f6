import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { z } from 'zod';
import { type HttpError, InvalidPayload, isHttpError, toErrorResponse } from './domain/errors';
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

// ── reading requests ────────────────────────────────────────────────────────

/** The request's media type, lowercased and without parameters (`application/json; charset=utf-8` → `application/json`). */
export function mediaType(event: HttpEvent): string {
  return (event.headers?.['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * The body's bytes exactly as the client sent them. API Gateway (payload 2.0) hands a text-typed body
 * over as a string and base64-encodes every other one, by Content-Type alone.
 */
export const BodyBytesSchema = z
  .object({ body: z.string().optional(), isBase64Encoded: z.boolean().optional() })
  .transform(
    ({ body = '', isBase64Encoded }): Uint8Array => Buffer.from(body, isBase64Encoded ? 'base64' : 'utf8'),
  );

/** Throws on bytes that are not UTF-8 instead of replacing them, so no two byte strings read alike. */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes → the JSON value they spell: bytes that are not UTF-8 are refused, never replaced; so is text that is not JSON. */
export const JsonBytesSchema = z
  .custom<Uint8Array>((value) => ArrayBuffer.isView(value), 'expected the body bytes')
  .transform((bytes, ctx) => {
    let text: string;
    try {
      text = strictUtf8.decode(bytes);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'the body is not valid UTF-8' });
      return z.NEVER;
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'the body is not valid JSON' });
      return z.NEVER;
    }
  });

/** A request's JSON body as `schema` reads it, whatever its Content-Type says. */
export const jsonBody = <S extends z.ZodType>(schema: S) =>
  BodyBytesSchema.pipe(JsonBytesSchema).pipe(schema);

/**
 * Parses one part of a request (path parameters, body) with its schema. A refusal is the HTTP error
 * `refuse` makes — 400 INVALID_PAYLOAD naming the first issue unless told otherwise — before any
 * table or service is touched.
 */
export function requestPart<S extends z.ZodType>(
  schema: S,
  value: unknown,
  refuse: (message: string) => HttpError = (message) => new InvalidPayload(message),
): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw refuse(
    issue?.path.length ? `${issue.path.join('.')}: ${issue.message}` : (issue?.message ?? 'invalid'),
  );
}
