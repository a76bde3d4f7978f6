import { PosOrderMismatch, PosRefused, PosUnavailable } from '../domain/errors';
import { metrics } from '../powertools';
import {
  type CreatePosOrderRequest,
  CreatePosOrderResponseSchema,
  FindPosOrdersResponseSchema,
  FirePosOrderResponseSchema,
  IDEMPOTENCY_KEY_HEADER,
  POS_API_KEY_HEADER,
  PosHealthResponseSchema,
  type PosOrderView,
  posPaths,
} from '../schemas/pos';
import { callJson, type JsonAnswer } from './http-client';
import { getSecret, posApiUrl } from './secrets';

async function callPos(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  timeoutMs?: number,
) {
  const [apiKey, posUrl] = await Promise.all([getSecret('pos/api-key'), posApiUrl()]);
  const started = Date.now();
  const answer = await callJson({
    method,
    url: `${posUrl}${path}`,
    headers: { [POS_API_KEY_HEADER]: apiKey, ...headers },
    body,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  });
  metrics.addMetric('PosCall', 'Count', 1);
  metrics.addMetric('PosLatency', 'Milliseconds', Date.now() - started);
  if (answer.status < 200 || answer.status >= 300) {
    metrics.addMetric('PosCallFailed', 'Count', 1);
    const message = `POS ${method} ${path} answered ${answer.status}: ${describe(answer)}`;
    // 404 and 409 are the POS's word about that order number, not an outage.
    if (answer.status === 404 || answer.status === 409) throw new PosOrderMismatch(message);
    // Any other 4xx but a timeout or throttling is a refusal: asking again gets the same answer.
    if (answer.status >= 400 && answer.status < 500 && answer.status !== 408 && answer.status !== 429)
      throw new PosRefused(answer.status, message);
    throw new PosUnavailable(message);
  }
  return answer.body;
}

function describe(answer: JsonAnswer): string {
  return JSON.stringify(answer.body ?? '').slice(0, 300);
}

/** Holds the order in the store POS; our order id is the idempotency key, so a retry never makes a second one. */
export async function createHeldPosOrder(storeId: string, request: CreatePosOrderRequest): Promise<string> {
  const body = await callPos('POST', posPaths.createOrder(storeId), request, {
    [IDEMPOTENCY_KEY_HEADER]: request.reference,
  });
  return CreatePosOrderResponseSchema.parse(body).posOrderId;
}

/** The kitchen starts on the order. Firing a fired order is a no-op; the POS checks it is ours. */
export async function firePosOrder(posOrderId: string, reference: string): Promise<void> {
  FirePosOrderResponseSchema.parse(await callPos('POST', posPaths.fireOrder(posOrderId), { reference }));
}

/** Takes the order off the POS (a fired one gets a void ticket in the kitchen); the POS checks it is ours. */
export async function voidPosOrder(posOrderId: string, reference: string): Promise<void> {
  await callPos('POST', posPaths.voidOrder(posOrderId), { reference });
}

/** Every POS order made under our order id: how an order whose create answer was lost is found. */
export async function findPosOrders(reference: string): Promise<PosOrderView[]> {
  return FindPosOrdersResponseSchema.parse(await callPos('GET', posPaths.findOrders(reference))).orders;
}

/** A health check answers at once or not at all: a POS that hangs for longer counts as down. */
const HEALTH_TIMEOUT_MS = 2000;

/** The POS's health check for one store: throws when the store's POS does not answer healthy. */
export async function checkStorePosHealth(storeId: string): Promise<void> {
  PosHealthResponseSchema.parse(
    await callPos('GET', posPaths.storeHealth(storeId), undefined, {}, HEALTH_TIMEOUT_MS),
  );
}
