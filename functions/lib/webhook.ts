import { partnerSigningSecrets } from './adapters/secrets';
import {
  type HttpError,
  InvalidPayload,
  PayloadTooLarge,
  Unauthorized,
  UnknownPartner,
  UnsupportedMediaType,
} from './domain/errors';
import { type FreshnessFailure, verifyFreshness, verifySignature } from './domain/signatures';
import { BodyBytesSchema, type HttpEvent, JsonBytesSchema, mediaType, requestPart } from './http';
import { logger } from './powertools';
import { MAX_WEBHOOK_BYTES } from './schemas/http';
import { isPartnerId, type PartnerId } from './schemas/partners/index';

export interface OpenedWebhook {
  partner: PartnerId;
  body: unknown;
}

/**
 * The checks every partner webhook passes, cheapest refusal first (architecture section 3):
 * unknown partner 404 → too large 413 → not JSON 415 → signature 401 → malformed 400.
 * The signature is checked over the body's bytes as they arrived, before anything decodes them;
 * only then are they read, as strict UTF-8 (400 otherwise) and JSON. A verified event older than the
 * partner's retry horizon is refused like a bad signature (401): no genuine delivery is that late,
 * so it can only be a replay of captured bytes — an authentication failure, as Grubhub's stale
 * signature timestamp already is.
 */
export async function openWebhook(event: HttpEvent, now = new Date()): Promise<OpenedWebhook> {
  const partner = event.pathParameters?.partner ?? '';
  if (!isPartnerId(partner)) throw new UnknownPartner(partner);

  const rawBody = BodyBytesSchema.parse(event);
  if (rawBody.length > MAX_WEBHOOK_BYTES) {
    throw new PayloadTooLarge(`webhook bodies are limited to ${MAX_WEBHOOK_BYTES} bytes`);
  }
  if (mediaType(event) !== 'application/json')
    throw new UnsupportedMediaType('send the webhook as application/json');

  const secrets = await partnerSigningSecrets(partner);
  const check = verifySignature(partner, rawBody, event.headers ?? {}, secrets, now);
  if (!check.ok) {
    logger.warn('webhook signature refused', { partner, reason: check.reason });
    throw new Unauthorized('the webhook signature is missing or does not verify');
  }

  const body = requestPart(JsonBytesSchema, rawBody);
  const fresh = verifyFreshness(partner, body, now);
  if (!fresh.ok) {
    logger.warn('webhook refused by its event time', { partner, reason: fresh.reason });
    throw STALE_REFUSALS[fresh.reason](partner);
  }
  return { partner, body };
}

const STALE_REFUSALS: Record<FreshnessFailure, (partner: PartnerId) => HttpError> = {
  'missing-event-time': (partner) =>
    new InvalidPayload(`the ${partner} webhook does not say when its event happened`),
  'stale-event': () => new Unauthorized('the webhook event is older than any delivery the partner retries'),
};
