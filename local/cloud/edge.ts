/**
 * The AWS-compatible edge port (like LocalStack's 4566): one HTTP server for every service, which
 * routes each call by the service its SigV4 credential scope names (`Credential=…/<date>/<region>/
 * <service>/aws4_request`) — on AWS each service has its own host, so that is who the caller meant —
 * then by operation: `X-Amz-Target` for the JSON protocols, `Action` for the query protocol (SQS as
 * AWS CLI 2.9 sends it, STS), the REST paths for Lambda (Invoke and the read operations). DynamoDB is proxied to dynalite byte
 * for byte. An unsigned call is placed by its target, path or query `Version`. A service or operation
 * not emulated answers an error naming it, in the caller's protocol, never another service's error.
 * `GET /_localstack/health` answers as LocalStack's does. Signatures are not verified here: nothing
 * on this port is a security boundary.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsError, type ServiceApi } from './aws-error';
import { ASYNC_PAYLOAD_LIMIT_BYTES, payloadTooLarge, SYNC_PAYLOAD_LIMIT_BYTES } from './lambda/local-lambda';
import { parseAuthorization } from './sigv4';
import { handleSqsQuery } from './sqs';
import { handleStsQuery, queryErrorXml } from './sts';

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

export interface LambdaInvokeResult {
  statusCode: number;
  payload?: Buffer;
  /** `Unhandled` when the function failed: sent as `X-Amz-Function-Error` with the error payload. */
  functionError?: string;
  executedVersion?: string;
  requestId?: string;
  /** A service error (unknown function: 404 ResourceNotFoundException), sent in Lambda's REST-JSON error shape. */
  error?: { code: string; message: string };
}

export interface LambdaInvoker {
  /** Reports a service error either as `error` in the result or by throwing an AwsError. */
  invoke(functionName: string, payload: Buffer, invocationType: InvocationType): Promise<LambdaInvokeResult>;
}

export interface EdgeServices {
  stepfunctions?: ServiceApi;
  events?: ServiceApi;
  ssm?: ServiceApi;
  sqs?: ServiceApi;
  logs?: ServiceApi;
}

/** Lambda's REST read operations (ListFunctions, GetFunction…): undefined when the path is not one of them. */
export type LambdaRestApi = (
  method: string,
  path: string,
  query: URLSearchParams,
) => { status: number; body: unknown; errorType?: string } | undefined;

export interface EdgeOptions {
  port: number;
  host?: string;
  services: EdgeServices;
  /** dynalite's base URL, e.g. http://127.0.0.1:41234 */
  dynamodbEndpoint?: string;
  lambda?: LambdaInvoker;
  /** Lambda's read operations on their REST paths (local/cloud/lambda/api.ts). */
  lambdaApi?: LambdaRestApi;
  /** Called once per answered request (service name as in EdgeServices, or dynamodb / lambda / sts). */
  onRequest?: (service: string, operation: string, ms: number) => void;
  /** The `version` the LocalStack health endpoint reports. */
  version?: string;
}

export interface Edge {
  port: number;
  url: string;
  close(): Promise<void>;
}

type ServiceKey = keyof EdgeServices | 'dynamodb' | 'lambda' | 'sts';

/** `X-Amz-Target` prefix → service key. */
const TARGET_PREFIXES: Record<string, ServiceKey> = {
  AWSStepFunctions: 'stepfunctions',
  AWSEvents: 'events',
  AmazonSSM: 'ssm',
  AmazonSQS: 'sqs',
  DynamoDB_20120810: 'dynamodb',
  Logs_20140328: 'logs',
};

/** SigV4 signing name (the credential scope's service) → service key. */
const SIGNING_NAMES: Record<string, ServiceKey> = {
  states: 'stepfunctions',
  events: 'events',
  ssm: 'ssm',
  sqs: 'sqs',
  dynamodb: 'dynamodb',
  lambda: 'lambda',
  sts: 'sts',
  logs: 'logs',
};

/** The query protocol's `Version` → service key, for an unsigned form-encoded call. */
const QUERY_VERSIONS: Record<string, ServiceKey> = { '2012-11-05': 'sqs', '2011-06-15': 'sts' };

/** Services whose clients read errors as XML though they send no form (REST-XML protocol). */
const REST_XML_SERVICES = new Set(['s3', 's3-control', 'route53', 'cloudfront']);

/** The names LocalStack's health endpoint uses. */
const HEALTH_NAMES: Record<ServiceKey, string> = {
  stepfunctions: 'stepfunctions',
  events: 'events',
  ssm: 'ssm',
  sqs: 'sqs',
  dynamodb: 'dynamodb',
  lambda: 'lambda',
  sts: 'sts',
  logs: 'logs',
};

const LAMBDA_INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
const MAX_BODY_BYTES = 16 * 1024 * 1024;

export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    const started = performance.now();
    route(options, req, res)
      .then(({ service, operation }) => options.onRequest?.(service, operation, performance.now() - started))
      .catch((error: unknown) => {
        if (res.headersSent) res.destroy();
        else sendJsonError(res, 'application/json', asAwsError(error));
      });
  });
  server.keepAliveTimeout = 65_000; // SDK clients keep sockets open between calls
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Routed {
  service: string;
  operation: string;
}

/** The services this edge answers: those it was given, and STS always. */
function emulated(options: EdgeOptions): ServiceKey[] {
  const given = (Object.keys(options.services) as (keyof EdgeServices)[]).filter(
    (key) => options.services[key],
  );
  return [
    ...given,
    ...(options.dynamodbEndpoint ? (['dynamodb'] as const) : []),
    ...(options.lambda || options.lambdaApi ? (['lambda'] as const) : []),
    'sts' as const,
  ];
}

const signingNameOf = (key: ServiceKey) =>
  Object.keys(SIGNING_NAMES).find((name) => SIGNING_NAMES[name] === key) ?? key;

/** The service the caller signed for: the `Authorization` header's scope, or a presigned URL's. */
function scopedService(req: IncomingMessage, query: URLSearchParams): string | undefined {
  const fromHeader = parseAuthorization(headerOf(req, 'authorization'))?.service;
  if (fromHeader) return fromHeader;
  return /^[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request$/.exec(query.get('X-Amz-Credential') ?? '')?.[1];
}

const isForm = (req: IncomingMessage) =>
  (headerOf(req, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded');

async function route(options: EdgeOptions, req: IncomingMessage, res: ServerResponse): Promise<Routed> {
  const url = req.url ?? '/';
  const path = url.split('?')[0] ?? '/';
  const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  if (path === '/_localstack/health' && (req.method === 'GET' || req.method === 'HEAD')) {
    answerHealth(options, req, res);
    return { service: 'localstack', operation: 'health' };
  }
  const target = headerOf(req, 'x-amz-target');
  const [prefix = '', operation = ''] = target ? splitTarget(target) : [];
  const lambdaPath = LAMBDA_INVOKE_PATH.exec(path);
  const scoped = scopedService(req, query);
  // A form body is read once, here, when the query protocol may need its Version or Action.
  const form =
    !target && isForm(req) ? new URLSearchParams((await readBody(req)).toString('utf8')) : undefined;
  const params = form ?? query;

  let service: ServiceKey | undefined;
  if (scoped !== undefined) service = SIGNING_NAMES[scoped];
  else if (target) service = TARGET_PREFIXES[prefix];
  else if (lambdaPath || path.startsWith('/2015-03-31/')) service = 'lambda';
  else service = QUERY_VERSIONS[params.get('Version') ?? ''];
  const named =
    scoped ??
    (target ? prefix : params.get('Version') ? `the query API version ${params.get('Version')}` : undefined);
  const queryCall = !target && (form !== undefined || params.has('Action'));
  const xmlCaller = queryCall || REST_XML_SERVICES.has(scoped ?? '');

  if (!service || !emulated(options).includes(service)) {
    const what = named
      ? `The local cloud does not emulate the AWS service '${named}'`
      : `The local cloud cannot tell which AWS service ${req.method} ${path} is for (no SigV4 credential scope, X-Amz-Target or Version)`;
    const message = `${what}; it emulates ${emulated(options).map(signingNameOf).sort().join(', ')}.`;
    sendError(res, xmlCaller, new AwsError('ServiceNotEmulated', message, 501));
    return { service: named ?? 'unknown', operation: operation || params.get('Action') || 'unknown' };
  }
  if (target && TARGET_PREFIXES[prefix] !== service) {
    sendError(
      res,
      false,
      new AwsError(
        'UnknownOperationException',
        `${target} is not an operation of ${signingNameOf(service)}, the service this call is signed for`,
      ),
    );
    return { service, operation: operation || 'unknown' };
  }

  switch (service) {
    case 'lambda':
      if (req.method === 'POST' && lambdaPath) {
        await invokeLambda(options.lambda, decodeURIComponent(lambdaPath[1]!), req, res);
        return { service, operation: 'Invoke' };
      }
      {
        const answer = options.lambdaApi?.(req.method ?? 'GET', path, query);
        if (answer) {
          await readBody(req);
          sendRestJson(res, answer);
          return { service, operation: answer.errorType ? 'error' : lambdaOperationOf(req.method, path) };
        }
      }
      sendRestError(
        res,
        new AwsError(
          'UnknownOperationException',
          `Lambda ${req.method} ${path} is not emulated by the local cloud (it answers Invoke, ListFunctions, GetFunction and GetFunctionConfiguration)`,
          501,
        ),
      );
      return { service, operation: 'unknown' };
    case 'sts': {
      if (target) break;
      const requestId = randomUUID();
      const answer = handleStsQuery(params, requestId);
      sendXml(res, answer.status, answer.body, requestId);
      return { service, operation: answer.action };
    }
    case 'sqs':
      if (queryCall) return await answerSqsQuery(options.services.sqs, params, res);
      break;
    case 'dynamodb':
      if (target && options.dynamodbEndpoint) {
        await proxy(options.dynamodbEndpoint, req, res);
        return { service, operation };
      }
      break;
  }
  return await answerTarget(options, service, target, operation, req, res);
}

/** A JSON-protocol call (`X-Amz-Target`) to one of the services given as an API. */
async function answerTarget(
  options: EdgeOptions,
  service: ServiceKey,
  target: string | undefined,
  operation: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<Routed> {
  const contentType = headerOf(req, 'content-type') ?? '';
  const jsonType = contentType.startsWith('application/x-amz-json')
    ? contentType
    : 'application/x-amz-json-1.1';
  const api = service in options.services ? options.services[service as keyof EdgeServices] : undefined;
  const handler = api && Object.hasOwn(api, operation) ? api[operation] : undefined;
  const body = await readBody(req);
  if (!handler) {
    const message = target
      ? `Unknown operation ${target}: ${signingNameOf(service)} ${operation || '(none)'} is not emulated by the local cloud`
      : `Unknown operation ${req.method} ${req.url}: ${signingNameOf(service)} calls need an X-Amz-Target`;
    sendJsonError(res, jsonType, new AwsError('UnknownOperationException', message));
    return { service, operation: operation || 'unknown' };
  }
  await answerJson(handler, body, jsonType, res);
  return { service, operation };
}

/** LocalStack's `GET /_localstack/health`: what wait scripts and testcontainers poll. */
function answerHealth(options: EdgeOptions, req: IncomingMessage, res: ServerResponse) {
  const services = Object.fromEntries(
    emulated(options)
      .map((key) => [HEALTH_NAMES[key], 'running'] as const)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const body = JSON.stringify({ services, edition: 'community', version: options.version ?? '0.0.0' });
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** An error in the caller's protocol: XML for the query and REST-XML protocols (what their clients parse), else JSON. */
function sendError(res: ServerResponse, xml: boolean, error: AwsError) {
  if (!xml) {
    sendJsonError(res, 'application/x-amz-json-1.1', error);
    return;
  }
  const requestId = randomUUID();
  sendXml(
    res,
    error.status,
    queryErrorXml('https://local.cloud/doc/', error.code, error.message, requestId, error.status),
    requestId,
  );
}

function sendXml(res: ServerResponse, status: number, body: string, requestId: string) {
  res.writeHead(status, {
    'Content-Type': 'text/xml',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': requestId,
  });
  res.end(body);
}

function splitTarget(target: string): [string, string] {
  const dot = target.indexOf('.');
  return dot < 0 ? [target, ''] : [target.slice(0, dot), target.slice(dot + 1)];
}

async function answerJson(
  handler: (input: unknown) => Promise<unknown>,
  body: Buffer,
  contentType: string,
  res: ServerResponse,
) {
  let input: unknown;
  try {
    input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
  } catch {
    sendJsonError(
      res,
      contentType,
      new AwsError('SerializationException', 'The request body is not valid JSON'),
    );
    return;
  }
  try {
    const output = await handler(input ?? {});
    send(res, 200, contentType, JSON.stringify(output ?? {}, epochSecondsForDates));
  } catch (error) {
    sendJsonError(res, contentType, asAwsError(error));
  }
}

/** AWS JSON protocols carry timestamps as epoch seconds; services may return Date objects. */
function epochSecondsForDates(this: Record<string, unknown>, key: string, value: unknown) {
  const original = this[key];
  return original instanceof Date ? original.getTime() / 1000 : value;
}

function asAwsError(error: unknown): AwsError {
  if (error instanceof AwsError) return error;
  process.stderr.write(
    `edge: service failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return new AwsError('InternalFailure', error instanceof Error ? error.message : String(error), 500);
}

function sendJsonError(res: ServerResponse, contentType: string, error: AwsError) {
  res.setHeader('x-amzn-ErrorType', error.code);
  send(res, error.status, contentType, JSON.stringify({ __type: error.code, message: error.message }));
}

function send(res: ServerResponse, status: number, contentType: string, body: string | Buffer) {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(body);
}

async function answerSqsQuery(
  api: ServiceApi | undefined,
  params: URLSearchParams,
  res: ServerResponse,
): Promise<Routed> {
  const requestId = randomUUID();
  const answer = await handleSqsQuery(api ?? {}, params.toString(), requestId);
  res.writeHead(answer.status, {
    'Content-Type': 'text/xml',
    'Content-Length': Buffer.byteLength(answer.body),
    'x-amzn-RequestId': requestId,
  });
  res.end(answer.body);
  return { service: 'sqs', operation: answer.action || 'unknown' };
}

/** Lambda's REST-JSON Invoke: the payload is the raw body both ways. */
async function invokeLambda(
  lambda: LambdaInvoker | undefined,
  functionName: string,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const payload = await readBody(req);
  const invocationType = (headerOf(req, 'x-amz-invocation-type') ?? 'RequestResponse') as InvocationType;
  if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
    sendRestError(
      res,
      new AwsError('InvalidParameterValueException', `Invalid invocation type ${invocationType}`),
    );
    return;
  }
  if (!lambda) {
    sendRestError(res, new AwsError('ResourceNotFoundException', `Function not found: ${functionName}`, 404));
    return;
  }
  // Lambda weighs the request bytes as sent, before it reads them as JSON.
  const limit = invocationType === 'Event' ? ASYNC_PAYLOAD_LIMIT_BYTES : SYNC_PAYLOAD_LIMIT_BYTES;
  if (payload.length > limit) {
    sendRestError(
      res,
      payloadTooLarge(payload.length, invocationType === 'Event' ? 'Event' : 'RequestResponse'),
    );
    return;
  }
  try {
    const result = await lambda.invoke(nameFromArn(functionName), payload, invocationType);
    if (result.error) {
      sendRestError(res, new AwsError(result.error.code, result.error.message, result.statusCode));
      return;
    }
    const headers: Record<string, string> = {
      'X-Amz-Executed-Version': result.executedVersion ?? '$LATEST',
      'x-amzn-RequestId': result.requestId ?? randomUUID(),
    };
    if (result.functionError) headers['X-Amz-Function-Error'] = result.functionError;
    const status = invocationType === 'Event' ? 202 : invocationType === 'DryRun' ? 204 : result.statusCode;
    const body = invocationType === 'RequestResponse' ? (result.payload ?? Buffer.alloc(0)) : Buffer.alloc(0);
    res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': body.length });
    res.end(body);
  } catch (error) {
    sendRestError(res, asAwsError(error));
  }
}

/** The SDK accepts a name, a partial ARN (`123:function:name`) or a full ARN, optionally qualified. */
function nameFromArn(nameOrArn: string): string {
  const match = /(?:^|:)function:([^:]+)/.exec(nameOrArn);
  return match ? match[1]! : nameOrArn;
}

/** The read operation a Lambda REST path names, for the request log. */
function lambdaOperationOf(method: string | undefined, path: string): string {
  if (/\/functions\/?$/.test(path)) return 'ListFunctions';
  if (path.endsWith('/configuration')) return 'GetFunctionConfiguration';
  return method === 'GET' ? 'GetFunction' : 'unknown';
}

function sendRestJson(res: ServerResponse, answer: { status: number; body: unknown; errorType?: string }) {
  const body = JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-RequestId': randomUUID(),
    ...(answer.errorType && { 'x-amzn-ErrorType': answer.errorType }),
  });
  res.end(body);
}

function sendRestError(res: ServerResponse, error: AwsError) {
  const body = JSON.stringify({ Type: error.status >= 500 ? 'Service' : 'User', message: error.message });
  res.writeHead(error.status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'x-amzn-ErrorType': error.code,
    'x-amzn-RequestId': randomUUID(),
  });
  res.end(body);
}

/** Streams the request to dynalite and its answer back unchanged (body, CRC32 header and all). */
function proxy(endpoint: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const target = new URL(req.url ?? '/', endpoint);
  return new Promise((resolve, reject) => {
    const upstream = request(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.once('end', resolve);
        answer.once('error', reject);
      },
    );
    upstream.once('error', (error) => {
      if (res.headersSent) return reject(error);
      sendJsonError(
        res,
        'application/x-amz-json-1.0',
        new AwsError('ServiceUnavailable', `DynamoDB is not reachable: ${error.message}`, 503),
      );
      resolve();
    });
    req.pipe(upstream);
  });
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Each request's body, read once: routing may need a form body before the service reads it. */
const bodies = new WeakMap<IncomingMessage, Promise<Buffer>>();

function readBody(req: IncomingMessage): Promise<Buffer> {
  const known = bodies.get(req);
  if (known) return known;
  const body = readBodyOnce(req);
  bodies.set(req, body);
  return body;
}

function readBodyOnce(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new AwsError('RequestEntityTooLargeException', 'Request body too large', 413));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}
