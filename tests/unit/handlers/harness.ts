/**
 * What the handler tests share: the Lambda environment, AWS clients mocked with
 * aws-sdk-client-mock, a fake `fetch` for the POS and partner APIs, signed payload-2.0 events.
 *
 * Call `setHandlerEnv()` before importing a handler (`await import(...)`): configuration and
 * Powertools read the environment when their modules load.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { adaptOrder } from '../../../functions/lib/domain/adapters/index';
import { orderHash } from '../../../functions/lib/domain/order';
import { signWebhook } from '../../../functions/lib/domain/signatures';
import type { CanonicalOrder, OrderRecord } from '../../../functions/lib/schemas/order';
import type { PartnerId } from '../../../functions/lib/schemas/partners/index';
import { storeIdFor } from '../domain/fixtures';

export const ORDERS_TABLE = 'order-middleware-test-orders';
export const STORES_TABLE = 'order-middleware-test-stores';
export const IDEMPOTENCY_TABLE = 'order-middleware-test-idempotency';
export const EVENT_BUS_NAME = 'order-middleware-test-orders';
export const PARTNER_API_URL = 'http://partner.test';
export const POS_API_URL = 'http://pos.test';
export const SSM_PREFIX = '/order-middleware/test';
export const MAX_COURIER_WAIT_SECONDS = 900;

/** Signing secrets per partner, newest first: two are valid during a rotation. */
export const SIGNING_SECRETS: Record<PartnerId, [string, string]> = {
  ubereats: ['ue-secret-new', 'ue-secret-old'],
  doordash: ['dd-token-new', 'dd-token-old'],
  grubhub: ['gh-secret-new', 'gh-secret-old'],
};
export const PARTNER_API_KEY = 'partner-api-key';
export const POS_API_KEY = 'pos-api-key';

/**
 * `overrides`: e.g. the URLs of in-process simulators in place of the fake hosts. The functions read
 * those URLs from SSM; PARTNER_API_URL and POS_API_URL here only tell `ssmParameters()` what to answer.
 */
export function setHandlerEnv(overrides: Record<string, string> = {}): void {
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    ORDERS_TABLE,
    STORES_TABLE,
    IDEMPOTENCY_TABLE,
    EVENT_BUS_NAME,
    PARTNER_API_URL,
    POS_API_URL,
    SSM_PREFIX,
    STAGE: 'test',
    MAX_COURIER_WAIT_SECONDS: String(MAX_COURIER_WAIT_SECONDS),
    POWERTOOLS_SERVICE_NAME: 'order-middleware',
    POWERTOOLS_METRICS_NAMESPACE: 'OrderMiddleware',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    // Powertools then writes through the global console, where the line below can quieten it.
    POWERTOOLS_DEV: 'true',
    ...overrides,
  });
  const warn = console.warn.bind(console);
  console.warn = (...args: unknown[]) => {
    if (String(args[0]).startsWith('No application metrics to publish')) return;
    warn(...args);
  };
}

/** The SSM parameters the functions read, as GetParameter answers them. */
export function ssmParameters(): Record<string, string> {
  // The APIs' URLs are parameters too; setHandlerEnv's overrides (in-process simulators) name them.
  const parameters: Record<string, string> = {
    [`${SSM_PREFIX}/pos/api-key`]: POS_API_KEY,
    [`${SSM_PREFIX}/pos/api-url`]: process.env.POS_API_URL ?? POS_API_URL,
  };
  for (const [partner, secrets] of Object.entries(SIGNING_SECRETS)) {
    parameters[`${SSM_PREFIX}/partners/${partner}/signing-secrets`] = secrets.join(',');
    parameters[`${SSM_PREFIX}/partners/${partner}/api-key`] = PARTNER_API_KEY;
    parameters[`${SSM_PREFIX}/partners/${partner}/api-url`] = process.env.PARTNER_API_URL ?? PARTNER_API_URL;
  }
  return parameters;
}

export function lambdaContext(functionName = 'order-middleware-test-fn'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2025/06/01/[$LATEST]test',
    getRemainingTimeInMillis: () => 10_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface WebhookRequest {
  partner: string;
  /** `orders`, or `orders/{partnerOrderId}/release|cancel`. */
  action?: { partnerOrderId: string; kind: 'release' | 'cancel' };
  body: string;
  headers?: Record<string, string>;
}

/** A payload-2.0 event as API Gateway hands a webhook to the function. Headers are lowercased. */
export function webhookEvent({
  partner,
  action,
  body,
  headers = {},
}: WebhookRequest): APIGatewayProxyEventV2 {
  const routeKey = action
    ? `POST /webhooks/{partner}/orders/{partnerOrderId}/${action.kind}`
    : 'POST /webhooks/{partner}/orders';
  const rawPath = action
    ? `/webhooks/${partner}/orders/${action.partnerOrderId}/${action.kind}`
    : `/webhooks/${partner}/orders`;
  return httpEvent({
    routeKey,
    rawPath,
    pathParameters: { partner, ...(action ? { partnerOrderId: action.partnerOrderId } : {}) },
    body,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
  });
}

export function httpEvent(request: {
  routeKey: string;
  rawPath: string;
  pathParameters?: Record<string, string>;
  body?: string;
  headers?: Record<string, string>;
}): APIGatewayProxyEventV2 {
  const [method] = request.routeKey.split(' ');
  return {
    version: '2.0',
    routeKey: request.routeKey,
    rawPath: request.rawPath,
    rawQueryString: '',
    headers: request.headers ?? {},
    pathParameters: request.pathParameters,
    body: request.body,
    isBase64Encoded: false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.test',
      domainPrefix: 'api',
      http: {
        method: method!,
        path: request.rawPath,
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.7',
        userAgent: 'test',
      },
      requestId: randomUUID(),
      routeKey: request.routeKey,
      stage: '$default',
      time: '01/Jun/2025:18:00:00 +0000',
      timeEpoch: Date.now(),
    },
  };
}

/** A webhook the partner signs as it really would, with its current secret unless told otherwise. */
export function signedWebhook(
  partner: PartnerId,
  payload: unknown,
  options: { action?: WebhookRequest['action']; secret?: string; now?: Date } = {},
): APIGatewayProxyEventV2 {
  const body = JSON.stringify(payload);
  const secret = options.secret ?? SIGNING_SECRETS[partner][0];
  return webhookEvent({
    partner,
    action: options.action,
    body,
    headers: {
      'content-type': 'application/json',
      ...signWebhook(partner, body, secret, options.now ?? new Date()),
    },
  });
}

export interface HttpAnswer {
  statusCode: number;
  body: Record<string, unknown>;
}

/** A handler's answer with its JSON body parsed. */
export function answer(result: unknown): HttpAnswer {
  const { statusCode, headers, body } = result as {
    statusCode: number;
    headers: Record<string, string>;
    body: string;
  };
  if (headers['content-type'] !== 'application/json') throw new Error(`not JSON: ${headers['content-type']}`);
  return { statusCode, body: JSON.parse(body) as Record<string, unknown> };
}

// ── the POS and partner APIs, behind a fake fetch ──────────────────────────

export interface RecordedCall {
  method: string;
  url: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

type Reply = { status: number; body?: unknown };
type Route = { method: string; path: string | RegExp; reply: (call: RecordedCall) => Reply };

/**
 * `globalThis.fetch` replaced by routes of the POS and partner APIs. Every call is recorded;
 * a call no route answers gets 599, so a test sees it rather than a hang.
 */
export class FakeApis {
  readonly calls: RecordedCall[] = [];
  private routes: Route[] = [];
  private readonly realFetch = globalThis.fetch;

  install(): this {
    globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(String(input));
      const headers = Object.fromEntries(
        Object.entries((init?.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
      );
      const call: RecordedCall = {
        method: init?.method ?? 'GET',
        url: url.toString(),
        path: url.pathname,
        headers,
        body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      };
      this.calls.push(call);
      const route = this.routes.find(
        (r) =>
          r.method === call.method &&
          (typeof r.path === 'string' ? r.path === `${url.origin}${url.pathname}` : r.path.test(call.url)),
      );
      const reply = route
        ? route.reply(call)
        : { status: 599, body: { error: { code: 'NO_ROUTE', message: call.url } } };
      return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
        status: reply.status,
        headers: { 'content-type': 'application/json' },
      });
    }) as typeof fetch;
    return this;
  }

  uninstall(): void {
    globalThis.fetch = this.realFetch;
  }

  reset(): void {
    this.calls.length = 0;
    this.routes = [];
  }

  on(method: string, path: string | RegExp, reply: Reply | ((call: RecordedCall) => Reply)): this {
    this.routes.unshift({ method, path, reply: typeof reply === 'function' ? reply : () => reply });
    return this;
  }

  callsTo(method: string, pathPart: string): RecordedCall[] {
    return this.calls.filter((call) => call.method === method && call.path.includes(pathPart));
  }
}

/** The error a step handler threw, for asserting its ASL name and message. */
export async function stepError(run: Promise<unknown>): Promise<Error> {
  try {
    await run;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the step succeeded, but an error was expected');
}

// ── order records as the orders table holds them ──────────────────────────

/** The partner's order as the middleware keeps it: adapted from the partner fixture. */
export async function canonicalOrderFrom(partner: PartnerId, partnerOrder: unknown): Promise<CanonicalOrder> {
  return adaptOrder(partner, partnerOrder, { storeIdFor });
}

export function orderRecord(order: CanonicalOrder, overrides: Partial<OrderRecord> = {}): OrderRecord {
  const at = new Date().toISOString();
  return {
    orderId: order.orderId,
    partner: order.partner,
    partnerOrderId: order.partnerOrderId,
    storeId: order.storeId,
    status: 'RECEIVED',
    order,
    orderHash: orderHash(order),
    pickupAt: order.pickupAt,
    createdAt: at,
    updatedAt: at,
    timeline: [{ at, event: 'received', detail: `from ${order.partner}` }],
    ...overrides,
  };
}
