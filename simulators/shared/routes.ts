/**
 * The routing both simulators share, whatever carries the request (a local HTTP server, or API
 * Gateway in front of a Lambda function): a route table matched by method and path pattern, JSON
 * answers, `{"error":{"code","message"}}` errors.
 */
import { z } from 'zod';
import { limitParamSchema } from '../../functions/lib/schemas/operations';

/** An error a route throws to answer with that status and JSON error body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export interface Request {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Lower-cased names, as Node and API Gateway both hand them over. */
  headers: Record<string, string | string[] | undefined>;
  /** The raw body as received. */
  rawBody: string;
}

/** The change is made but its answer never reaches the caller (the simulators' lost-answer fault). */
export const DROPPED = { dropped: true } as const;

/** What a route returns: a status and a JSON body (none: an empty answer), or DROPPED. */
export type Answer = { status: number; body?: unknown } | typeof DROPPED;

export interface Route {
  method: string;
  /** `/a/{name}/b` — each `{name}` matches one path segment and lands in `params`. */
  pattern: string;
  handle(request: Request): Promise<Answer> | Answer;
}

export function json(status: number, body: unknown): Answer {
  return { status, body };
}

export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/** The JSON of a request body; 400 when it is not JSON. An empty body reads as `{}`. */
export function parseJson(request: Request): unknown {
  if (request.rawBody.trim() === '') return {};
  try {
    return JSON.parse(request.rawBody);
  } catch {
    throw new HttpError(400, 'MALFORMED_JSON', 'the request body is not valid JSON');
  }
}

/** Parses a request body with a schema; 400 naming the first bad field otherwise. */
export function parseWith<S extends z.ZodType>(schema: S, request: Request): z.infer<S> {
  const result = schema.safeParse(parseJson(request));
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
  throw new HttpError(
    400,
    'INVALID_REQUEST',
    `invalid request body${where}: ${issue?.message ?? 'rejected'}`,
  );
}

/** The most records a `_control` listing answers at once. */
export const LISTING_LIMIT_MAX = 1000;

/** A `_control` listing's query, as the operator API's are: an unknown parameter is refused, not ignored. */
const ListingQuerySchema = z
  .object({
    limit: limitParamSchema(LISTING_LIMIT_MAX).optional(),
  })
  .strict();

/**
 * A `_control` listing's `?limit=N` (1–1000): answer only the newest N records. Undefined without
 * one (every record, as before). A bad limit, or any other parameter, is a 400.
 */
export function listingLimit(request: Request): number | undefined {
  // A repeated parameter is joined with commas, as API Gateway hands it to a function.
  const names = [...new Set(request.query.keys())];
  const query = Object.fromEntries(names.map((name) => [name, request.query.getAll(name).join(',')]));
  const parsed = ListingQuerySchema.safeParse(query);
  if (parsed.success) return parsed.data.limit;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys')
    throw new HttpError(
      400,
      'UNKNOWN_PARAMETER',
      `unknown query parameter ${issue.keys.join(', ')}: a listing takes only limit`,
    );
  throw new HttpError(400, 'INVALID_LIMIT', `limit must be one whole number from 1 to ${LISTING_LIMIT_MAX}`);
}

export function header(request: Request, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function compile(pattern: string): RegExp {
  const source = pattern.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, '(?<$1>[^/]+)');
  return new RegExp(`^${source}$`);
}

function decodeParams(groups: Record<string, string> | undefined): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(groups ?? {})) {
    try {
      params[name] = decodeURIComponent(value);
    } catch {
      throw new HttpError(400, 'MALFORMED_PATH', `path segment "${name}" is not valid percent-encoding`);
    }
  }
  return params;
}

export type IncomingRequest = Omit<Request, 'params'>;

/** A route table ready to answer requests: unknown paths 404, wrong methods 405, HttpErrors their status. */
export function router(routes: readonly Route[]): (request: IncomingRequest) => Promise<Answer> {
  const compiled = routes.map((route) => ({ ...route, regex: compile(route.pattern) }));
  return async (request) => {
    try {
      const samePath = compiled.filter((route) => route.regex.test(request.path));
      const route = samePath.find((candidate) => candidate.method === request.method);
      if (!route) {
        if (samePath.length > 0)
          throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${request.method} not allowed on ${request.path}`);
        throw new HttpError(404, 'NOT_FOUND', `no route for ${request.method} ${request.path}`);
      }
      const params = decodeParams(route.regex.exec(request.path)?.groups);
      return await route.handle({ ...request, params });
    } catch (error) {
      if (error instanceof HttpError) return json(error.status, errorBody(error.code, error.message));
      if (isRetryRequest(error)) throw error;
      return json(500, errorBody('INTERNAL_ERROR', (error as Error).message));
    }
  };
}

/** Thrown by a state store to have the whole request run again on fresher state (simulators/lambda). */
export class RetryRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RetryRequest';
  }
}
const isRetryRequest = (error: unknown) => error instanceof RetryRequest;

export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
