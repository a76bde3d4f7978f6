import { config } from '../config';
import { PosUnavailable } from '../domain/errors';
import { metrics } from '../powertools';
import {
  type CreatePosOrderRequest,
  CreatePosOrderResponseSchema,
  FirePosOrderResponseSchema,
  IDEMPOTENCY_KEY_HEADER,
  POS_API_KEY_HEADER,
  posPaths,
} from '../schemas/pos';
import { callJson, type JsonAnswer } from './http-client';
import { getSecret } from './secrets';

async function callPos(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const apiKey = await getSecret('pos/api-key');
  const started = Date.now();
  const answer = await callJson({
    method,
    url: `${config.posApiUrl}${path}`,
    headers: { [POS_API_KEY_HEADER]: apiKey, ...headers },
    body,
  });
  metrics.addMetric('PosCall', 'Count', 1);
  metrics.addMetric('PosLatency', 'Milliseconds', Date.now() - started);
  if (answer.status < 200 || answer.status >= 300) {
    metrics.addMetric('PosCallFailed', 'Count', 1);
    throw new PosUnavailable(`POS ${method} ${path} answered ${answer.status}: ${describe(answer)}`);
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

/** The kitchen starts on the order. Firing a fired order is a no-op at the POS. */
export async function firePosOrder(posOrderId: string): Promise<void> {
  FirePosOrderResponseSchema.parse(await callPos('POST', posPaths.fireOrder(posOrderId)));
}

export async function voidPosOrder(posOrderId: string): Promise<void> {
  await callPos('POST', posPaths.voidOrder(posOrderId));
}
