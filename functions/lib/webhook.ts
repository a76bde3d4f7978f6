import { partnerSigningSecrets } from './adapters/secrets';
import {
  InvalidPayload,
  PayloadTooLarge,
  Unauthorized,
  UnknownPartner,
  UnsupportedMediaType,
} from './domain/errors';
import { verifySignature } from './domain/signatures';
import type { HttpEvent } from './http';
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
 * The signature is checked over the raw bytes, before anything parses them.
 */
export async function openWebhook(event: HttpEvent, now = new Date()): Promise<OpenedWebhook> {
  const partner = event.pathParameters?.partner ?? '';
  if (!isPartnerId(partner)) throw new UnknownPartner(partner);

  const rawBody = event.isBase64Encoded
    ? Buffer.from(event.body ?? '', 'base64').toString('utf8')
    : (event.body ?? '');
  if (Buffer.byteLength(rawBody, 'utf8') > MAX_WEBHOOK_BYTES) {
    throw new PayloadTooLarge(`webhook bodies are limited to ${MAX_WEBHOOK_BYTES} bytes`);
  }
  const contentType = (event.headers?.['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json')
    throw new UnsupportedMediaType('send the webhook as application/json');

  const check = verifySignature(
    partner,
    rawBody,
    event.headers ?? {},
    await partnerSigningSecrets(partner),
    now,
  );
  if (!check.ok) {
    logger.warn('webhook signature refused', { partner, reason: check.reason });
    throw new Unauthorized('the webhook signature is missing or does not verify');
  }

  try {
    return { partner, body: JSON.parse(rawBody) };
  } catch {
    throw new InvalidPayload('the body is not valid JSON');
  }
}
