/**
 * The small HTTP toolkit both simulators share: a route table matched by method and path pattern,
 * JSON answers, `{"error":{"code","message"}}` errors, and a server that listens on any port (0 too).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';

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
  headers: IncomingMessage['headers'];
  /** The raw body as received. */
  rawBody: string;
  req: IncomingMessage;
  res: ServerResponse;
}

/** What a route returns: a status and a JSON body, or `undefined` when it answered (or dropped) itself. */
export type Answer = { status: number; body: unknown } | undefined;

export interface Route {
  method: string;
  /** `/a/{name}/b` — each `{name}` matches one path segment and lands in `params`. */
  pattern: string;
  handle(request: Request): Promise<Answer> | Answer;
}

const MAX_BODY_BYTES = 1024 * 1024;

export function json(status: number, body: unknown): Answer {
  return { status, body };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
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

export function header(request: Request, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function compile(pattern: string): RegExp {
  const source = pattern.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, '(?<$1>[^/]+)');
  return new RegExp(`^${source}$`);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new HttpError(413, 'PAYLOAD_TOO_LARGE', 'request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
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

async function dispatch(routes: readonly CompiledRoute[], req: IncomingMessage, res: ServerResponse) {
  const { pathname: path, searchParams: query } = new URL(req.url ?? '/', 'http://simulator');
  const method = (req.method ?? 'GET').toUpperCase();
  const samePath = routes.filter((route) => route.regex.test(path));
  const route = samePath.find((candidate) => candidate.method === method);
  if (!route) {
    req.resume();
    if (samePath.length > 0)
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${method} not allowed on ${path}`);
    throw new HttpError(404, 'NOT_FOUND', `no route for ${method} ${path}`);
  }
  const params = decodeParams(route.regex.exec(path)?.groups);
  const rawBody = await readBody(req);
  const answer = await route.handle({ method, path, params, query, headers: req.headers, rawBody, req, res });
  if (answer && !res.headersSent && !res.destroyed) sendJson(res, answer.status, answer.body);
}

type CompiledRoute = Route & { regex: RegExp };

export interface JsonServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Starts a JSON server for the routes; unknown paths answer 404, thrown HttpErrors their status. */
export async function startJsonServer(
  routes: readonly Route[],
  port: number,
  host: string,
): Promise<JsonServer> {
  const compiled = routes.map((route) => ({ ...route, regex: compile(route.pattern) }));
  const server = createServer((req, res) => {
    dispatch(compiled, req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return void res.destroy();
      if (error instanceof HttpError)
        return sendJson(res, error.status, errorBody(error.code, error.message));
      sendJson(res, 500, errorBody('INTERNAL_ERROR', (error as Error).message));
    });
  });
  server.keepAliveTimeout = 65_000; // the middleware's fetch keeps sockets open between calls
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export function delay(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}
