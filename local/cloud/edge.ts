/**
 * The AWS-compatible edge port (like LocalStack's 4566): one HTTP server that routes JSON-protocol
 * calls by `X-Amz-Target` to the local services, proxies DynamoDB to dynalite byte for byte,
 * answers Lambda Invoke on its REST path and SQS's form-encoded query protocol. Credentials and
 * signatures are accepted as they come: nothing here is a security boundary.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsError, type ServiceApi } from './aws-error';
import { handleSqsQuery } from './sqs';

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
}

export interface EdgeOptions {
  port: number;
  host?: string;
  services: EdgeServices;
  /** dynalite's base URL, e.g. http://127.0.0.1:41234 */
  dynamodbEndpoint?: string;
  lambda?: LambdaInvoker;
  /** Called once per answered request (service name as in EdgeServices, or dynamodb / lambda). */
  onRequest?: (service: string, operation: string, ms: number) => void;
}

export interface Edge {
  port: number;
  url: string;
  close(): Promise<void>;
}

/** `X-Amz-Target` prefix → service key. */
const TARGET_PREFIXES: Record<string, keyof EdgeServices | 'dynamodb'> = {
  AWSStepFunctions: 'stepfunctions',
  AWSEvents: 'events',
  AmazonSSM: 'ssm',
  AmazonSQS: 'sqs',
  DynamoDB_20120810: 'dynamodb',
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

async function route(options: EdgeOptions, req: IncomingMessage, res: ServerResponse): Promise<Routed> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  const lambdaPath = LAMBDA_INVOKE_PATH.exec(path);
  if (req.method === 'POST' && lambdaPath) {
    await invokeLambda(options.lambda, decodeURIComponent(lambdaPath[1]!), req, res);
    return { service: 'lambda', operation: 'Invoke' };
  }
  const target = headerOf(req, 'x-amz-target');
  const [prefix = '', operation = ''] = target ? splitTarget(target) : [];
  const service = TARGET_PREFIXES[prefix];
  if (service === 'dynamodb' && options.dynamodbEndpoint) {
    await proxy(options.dynamodbEndpoint, req, res);
    return { service, operation };
  }
  const contentType = headerOf(req, 'content-type') ?? '';
  if (!target && contentType.startsWith('application/x-www-form-urlencoded')) {
    return await answerSqsQuery(options.services.sqs, req, res);
  }
  const jsonType = contentType.startsWith('application/x-amz-json')
    ? contentType
    : 'application/x-amz-json-1.1';
  const api = service && service !== 'dynamodb' ? options.services[service] : undefined;
  const handler = api && Object.hasOwn(api, operation) ? api[operation] : undefined;
  const body = await readBody(req);
  if (!handler) {
    sendJsonError(
      res,
      jsonType,
      new AwsError('UnknownOperationException', `Unknown operation ${target ?? `${req.method} ${path}`}`),
    );
    return { service: service ?? 'unknown', operation: operation || 'unknown' };
  }
  await answerJson(handler, body, jsonType, res);
  return { service: service!, operation };
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
  req: IncomingMessage,
  res: ServerResponse,
): Promise<Routed> {
  const body = (await readBody(req)).toString('utf8');
  const requestId = randomUUID();
  const answer = await handleSqsQuery(api ?? {}, body, requestId);
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

function readBody(req: IncomingMessage): Promise<Buffer> {
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
