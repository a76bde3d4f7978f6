/**
 * The HTTP API (API Gateway v2) on one port: matches routes, builds the payload format 2.0 event
 * exactly as API Gateway does — a text body kept character for character, any other body base64 so
 * no byte is lost, since partner signatures are computed over the bytes — invokes the route's
 * function and maps its answer back to HTTP.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { type Credentials, parseAuthorization, type SigV4Authorization, verifySignature } from './sigv4';

export interface HttpApiRoute {
  /** `METHOD /path/{param}/{proxy+}`, `ANY /path`, or `$default`. */
  routeKey: string;
  functionName: string;
  /** `AWS_IAM`: callers must sign with SigV4 (as the template's route says); anything else is open. */
  authorizationType?: string;
}

/**
 * How the IAM-authorized routes check callers: `signed` wants a SigV4 `Authorization` for
 * `execute-api`, `strict` also recomputes the signature with the local credentials, `off` lets
 * unsigned calls through.
 */
export type IamMode = 'signed' | 'strict' | 'off';
export const IAM_MODES: readonly IamMode[] = ['signed', 'strict', 'off'];

export type HttpApiInvoke = (
  functionName: string,
  event: APIGatewayProxyEventV2,
) => Promise<{ payload?: unknown; error?: unknown }>;

export interface HttpApiOptions {
  port: number;
  host?: string;
  routes: HttpApiRoute[];
  invoke: HttpApiInvoke;
  stage?: string;
  accountId?: string;
  apiId?: string;
  /** Default `signed`. */
  iam?: IamMode;
  /** The keys `strict` accepts (default: the local credentials). */
  credentials?: readonly Credentials[];
  /** Told why a request ended in a 500 (function error, malformed response). */
  log?: (line: string) => void;
}

export interface HttpApi {
  port: number;
  close(): Promise<void>;
}

/** API Gateway's payload limit for HTTP APIs. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

type Segment =
  | { kind: 'literal'; value: string }
  | { kind: 'param'; name: string }
  | { kind: 'greedy'; name: string };

interface CompiledRoute extends HttpApiRoute {
  method: string;
  segments: Segment[];
}

interface Matched {
  route: CompiledRoute;
  pathParameters: Record<string, string>;
}

interface HttpResponse {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

class MalformedResponse extends Error {}

// ── routes ────────────────────────────────────────────────────────────────────

function compileRoute(route: HttpApiRoute): CompiledRoute {
  if (route.routeKey === '$default') return { ...route, method: 'ANY', segments: [] };
  const [method = '', path = ''] = route.routeKey.split(' ');
  const segments = path
    .split('/')
    .filter(Boolean)
    .map((part): Segment => {
      const variable = /^\{(.+?)(\+?)\}$/.exec(part);
      if (!variable) return { kind: 'literal', value: part };
      return { kind: variable[2] ? 'greedy' : 'param', name: variable[1] ?? '' };
    });
  return { ...route, method: method.toUpperCase(), segments };
}

const decode = (value: string) => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

function matchPath(segments: Segment[], parts: string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (const [index, segment] of segments.entries()) {
    const part = parts[index];
    if (segment.kind === 'greedy') {
      if (part === undefined) return undefined;
      parameters[segment.name] = decode(parts.slice(index).join('/'));
      return parameters;
    }
    if (part === undefined || part === '') return undefined;
    if (segment.kind === 'literal' && segment.value !== part) return undefined;
    if (segment.kind === 'param') parameters[segment.name] = decode(part);
  }
  return parts.length === segments.length ? parameters : undefined;
}

/** API Gateway prefers the most specific route: literal over variable over greedy, then an exact method. */
function specificity(route: CompiledRoute): number[] {
  const rank = { literal: 0, param: 1, greedy: 2 };
  return [...route.segments.map((segment) => rank[segment.kind]), route.method === 'ANY' ? 1 : 0];
}

function moreSpecific(a: CompiledRoute, b: CompiledRoute): boolean {
  const [left, right] = [specificity(a), specificity(b)];
  for (let i = 0; i < Math.min(left.length, right.length); i++) {
    if (left[i] !== right[i]) return (left[i] ?? 0) < (right[i] ?? 0);
  }
  return left.length > right.length;
}

function findRoute(routes: CompiledRoute[], method: string, path: string): Matched | undefined {
  const parts = path.split('/').slice(1);
  let best: Matched | undefined;
  for (const route of routes) {
    if (route.routeKey === '$default' || (route.method !== 'ANY' && route.method !== method)) continue;
    const pathParameters = matchPath(route.segments, parts);
    if (pathParameters && (!best || moreSpecific(route, best.route))) best = { route, pathParameters };
  }
  const fallback = routes.find((route) => route.routeKey === '$default');
  return best ?? (fallback && { route: fallback, pathParameters: {} });
}

// ── request → event ───────────────────────────────────────────────────────────

/** Lowercased names, repeated headers joined with ',', cookies taken out (they travel in `cookies`). */
function headersOf(req: IncomingMessage): { headers: Record<string, string>; cookies: string[] } {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = (req.rawHeaders[i] ?? '').toLowerCase();
    const value = req.rawHeaders[i + 1] ?? '';
    if (name === 'cookie')
      cookies.push(
        ...value
          .split(';')
          .map((cookie) => cookie.trim())
          .filter(Boolean),
      );
    else headers[name] = name in headers ? `${headers[name]},${value}` : value;
  }
  return { headers, cookies };
}

function queryParametersOf(rawQueryString: string): Record<string, string> | undefined {
  if (!rawQueryString) return undefined;
  const parameters: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    parameters[name] = name in parameters ? `${parameters[name]},${value}` : value;
  }
  return parameters;
}

/**
 * The media types an HTTP API hands to Lambda as text. API Gateway decides by the Content-Type header
 * alone ("infers the need for encoding based on the content-type header", AWS Compute Blog, "Handling
 * binary data using Amazon API Gateway HTTP APIs"); the docs do not list the types, and this list is
 * the one measured on AWS (ministack PR #766): `+json` and `+xml` types, form-urlencoded and a
 * missing Content-Type all arrive base64-encoded.
 */
const TEXT_TYPES = new Set(['application/json', 'application/xml', 'application/javascript']);

const isTextType = (mediaType: string) => mediaType.startsWith('text/') || TEXT_TYPES.has(mediaType);

/**
 * Text-typed bodies arrive as a string, every other body as base64, by Content-Type alone. A string
 * cannot hold bytes that are not UTF-8: they arrive as U+FFFD, as any UTF-8 decoder that does not
 * fail writes them (what AWS puts there is undocumented and unmeasured; not base64, since the
 * Content-Type alone decides that). A function must not take such text for the bytes: a partner's
 * signature over its original bytes then fails to verify, which is the safe way to fail.
 */
function encodeBody(
  body: Buffer,
  contentType: string | undefined,
): { body?: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { isBase64Encoded: false };
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (isTextType(mediaType)) {
    return { body: new TextDecoder('utf-8', { ignoreBOM: true }).decode(body), isBase64Encoded: false };
  }
  return { body: body.toString('base64'), isBase64Encoded: true };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `12/Mar/2020:19:03:58 +0000`, API Gateway's request time. */
function requestTime(at: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const day = `${two(at.getUTCDate())}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()}`;
  return `${day}:${two(at.getUTCHours())}:${two(at.getUTCMinutes())}:${two(at.getUTCSeconds())} +0000`;
}

/** Shaped like API Gateway's ids, e.g. `JKJaXmPLvHcESHA=`. */
const newRequestId = () => randomBytes(11).toString('base64');

interface EventInput {
  req: IncomingMessage;
  matched: Matched;
  rawPath: string;
  rawQueryString: string;
  body: Buffer;
  requestId: string;
  stage: string;
  accountId: string;
  apiId: string;
  /** The signer, on an IAM-authorized route called signed. */
  caller?: SigV4Authorization;
}

/**
 * `requestContext.authorizer.iam` as API Gateway fills it for an IAM-authorized route. Locally every
 * key belongs to the account's root (as LocalStack's STS says), so the caller is the account.
 */
function iamAuthorizer(caller: SigV4Authorization, accountId: string) {
  return {
    iam: {
      accessKey: caller.accessKeyId,
      accountId,
      callerId: accountId,
      cognitoIdentity: null,
      principalOrgId: null,
      userArn: `arn:aws:iam::${accountId}:root`,
      userId: accountId,
    },
  };
}

function buildEvent(input: EventInput): APIGatewayProxyEventV2 {
  const { req, matched, rawPath, rawQueryString, requestId, stage } = input;
  const { headers, cookies } = headersOf(req);
  const sourceIp = (req.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  headers['x-forwarded-for'] ??= sourceIp;
  headers['x-forwarded-port'] ??= String(req.socket.localPort ?? '');
  headers['x-forwarded-proto'] ??= 'http';
  headers['x-amzn-trace-id'] ??=
    `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
  const domainName = headers.host ?? 'localhost';
  const queryStringParameters = queryParametersOf(rawQueryString);
  const hasPathParameters = Object.keys(matched.pathParameters).length > 0;
  const now = new Date();
  return {
    version: '2.0',
    routeKey: matched.route.routeKey,
    rawPath,
    rawQueryString,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(queryStringParameters && { queryStringParameters }),
    requestContext: {
      accountId: input.accountId,
      apiId: input.apiId,
      domainName,
      domainPrefix: domainName.split('.')[0] ?? domainName,
      http: {
        method: req.method ?? 'GET',
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: matched.route.routeKey,
      stage,
      time: requestTime(now),
      timeEpoch: now.getTime(),
      ...(input.caller && { authorizer: iamAuthorizer(input.caller, input.accountId) }),
    },
    ...(hasPathParameters && { pathParameters: matched.pathParameters }),
    ...encodeBody(input.body, headers['content-type']),
  };
}

/** Reads the whole body; past the limit it keeps draining (so the client can read the 413) but keeps nothing. */
function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else chunks.length = 0;
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

// ── function answer → response ────────────────────────────────────────────────

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const jsonResponse = (statusCode: number, value: unknown): HttpResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
});

function structuredHeaders(result: Record<string, unknown>): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(
    isRecord(result.multiValueHeaders) ? result.multiValueHeaders : {},
  )) {
    if (Array.isArray(values)) headers[name.toLowerCase()] = values.map(String);
  }
  for (const [name, value] of Object.entries(isRecord(result.headers) ? result.headers : {})) {
    headers[name.toLowerCase()] = String(value);
  }
  if (Array.isArray(result.cookies) && result.cookies.length > 0)
    headers['set-cookie'] = result.cookies.map(String);
  return headers;
}

/** Format 2.0: an object with a statusCode is a response; any other value is a 200 JSON body. */
function toHttpResponse(payload: unknown): HttpResponse {
  if (!isRecord(payload) || !('statusCode' in payload)) return jsonResponse(200, payload ?? null);
  const { statusCode, body = '', isBase64Encoded } = payload;
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599
  ) {
    throw new MalformedResponse(`statusCode ${JSON.stringify(statusCode)} is not an HTTP status`);
  }
  if (typeof body !== 'string') throw new MalformedResponse(`body is a ${typeof body}, not a string`);
  return {
    statusCode,
    headers: structuredHeaders(payload),
    body: Buffer.from(body, isBase64Encoded === true ? 'base64' : 'utf8'),
  };
}

function send(res: ServerResponse, response: HttpResponse): void {
  res.writeHead(response.statusCode, { ...response.headers, 'content-length': response.body.length });
  res.end(response.body);
}

const message = (statusCode: number, text: string) => jsonResponse(statusCode, { message: text });

// ── server ────────────────────────────────────────────────────────────────────

/** Strips `/<stage>` from the path when the stage is named (a `$default` stage has no prefix). */
function routePath(rawPath: string, stage: string): string | undefined {
  if (stage === '$default') return rawPath;
  const prefix = `/${stage}`;
  if (rawPath === prefix) return '/';
  return rawPath.startsWith(`${prefix}/`) ? rawPath.slice(prefix.length) : undefined;
}

async function respond(
  req: IncomingMessage,
  requestId: string,
  options: Required<HttpApiOptions>,
  routes: CompiledRoute[],
): Promise<HttpResponse> {
  const url = req.url ?? '/';
  const queryAt = url.indexOf('?');
  const rawPath = queryAt < 0 ? url : url.slice(0, queryAt);
  const rawQueryString = queryAt < 0 ? '' : url.slice(queryAt + 1);
  const path = routePath(rawPath, options.stage);
  const matched = path === undefined ? undefined : findRoute(routes, req.method ?? 'GET', path);
  const body = await readBody(req);
  if (body === 'too-large') return message(413, 'Request Entity Too Large');
  if (!matched) return message(404, 'Not Found');
  let caller: SigV4Authorization | undefined;
  if (matched.route.authorizationType === 'AWS_IAM') {
    const checked = await checkIam(req, { path: rawPath, rawQueryString, body }, options);
    if ('refused' in checked) return checked.refused;
    caller = checked.caller;
  }
  const event = buildEvent({ req, matched, rawPath, rawQueryString, body, requestId, ...options, caller });
  const { functionName } = matched.route;
  try {
    const result = await options.invoke(functionName, event);
    if (result.error) {
      options.log(`${requestId} ${functionName} failed: ${JSON.stringify(result.error)}`);
      return message(500, 'Internal Server Error');
    }
    return toHttpResponse(result.payload);
  } catch (error) {
    options.log(`${requestId} ${functionName}: ${(error as Error).message}`);
    return message(500, 'Internal Server Error');
  }
}

/**
 * API Gateway's IAM check, as far as `mode` asks: a SigV4 `Authorization` header scoped to
 * `execute-api` (else 403 Forbidden, or AWS's words for a header that is not SigV4 for this service),
 * and under `strict` a signature that verifies with a known key.
 */
async function checkIam(
  req: IncomingMessage,
  received: { path: string; rawQueryString: string; body: Buffer },
  options: Required<HttpApiOptions>,
): Promise<{ caller?: SigV4Authorization } | { refused: HttpResponse }> {
  const header = req.headers.authorization;
  if (options.iam === 'off' && !header) return {};
  const caller = parseAuthorization(header);
  if (!caller) {
    if (options.iam === 'off') return {};
    return {
      refused: message(
        403,
        header
          ? "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters."
          : 'Forbidden',
      ),
    };
  }
  if (caller.service !== 'execute-api' && options.iam !== 'off') {
    return { refused: message(403, "Credential should be scoped to correct service: 'execute-api'. ") };
  }
  if (options.iam !== 'strict') return { caller };
  const { headers } = headersOf(req);
  if (req.headers.cookie) headers.cookie = req.headers.cookie;
  const verdict = await verifySignature({ method: req.method ?? 'GET', ...received, headers }, caller, {
    service: 'execute-api',
    credentials: options.credentials,
  });
  return verdict.ok ? { caller } : { refused: message(403, verdict.message) };
}

export async function startHttpApi(options: HttpApiOptions): Promise<HttpApi> {
  const settings: Required<HttpApiOptions> = {
    host: '127.0.0.1',
    stage: '$default',
    accountId: '000000000000',
    apiId: 'local',
    iam: 'signed',
    credentials: [{ accessKeyId: 'local', secretAccessKey: 'local' }],
    log: (line) => console.error(`[http-api] ${line}`),
    ...options,
  };
  const routes = options.routes.map(compileRoute);
  const server = createServer({ keepAlive: true }, (req, res) => {
    const requestId = newRequestId();
    res.setHeader('apigw-requestid', requestId);
    respond(req, requestId, settings, routes).then(
      (response) => send(res, response),
      () => send(res, message(500, 'Internal Server Error')),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
