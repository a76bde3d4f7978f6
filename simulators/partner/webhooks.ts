/**
 * Sending webhooks to the middleware as a partner does: signed with the partner's scheme (or
 * deliberately not, for the negative tests), the exact signed bytes on the wire, keep-alive fetch.
 */
import { signWebhook } from '../../functions/lib/domain/signatures';
import { REPLAY_WINDOW_SECONDS } from '../../functions/lib/schemas/partners/grubhub';
import type { PartnerId } from '../../functions/lib/schemas/partners/index';
import type { PartnerShape, Payload } from './types';

export const SIGNATURE_MODES = ['valid', 'missing', 'wrong-secret', 'tampered', 'stale'] as const;
export type SignatureMode = (typeof SIGNATURE_MODES)[number];

export interface PartnerSecrets {
  /** The secret the partner signs with (DoorDash: its token). */
  signing: string;
  /** Used for `wrong-secret`; a fixed wrong value when absent. */
  wrongSecret?: string;
  /** What the middleware must present on this partner's API. */
  apiKey: string;
}

export interface WebhookAnswer {
  webhookStatus: number;
  webhookBody: unknown;
}

/** A signature older than any replay window: stale for Grubhub; Uber Eats and DoorDash sign no time. */
const STALE_BY_SECONDS = REPLAY_WINDOW_SECONDS * 2;
const WEBHOOK_TIMEOUT_MS = 30_000;

/** A changed copy of the payload: the first number in it goes up by one (a price, a quantity, a time). */
export function tampered(payload: unknown): unknown {
  let changed = false;
  const walk = (value: unknown): unknown => {
    if (changed) return value;
    if (typeof value === 'number') {
      changed = true;
      return value + 1;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, walk(inner)]));
    }
    return value;
  };
  const result = walk(payload);
  return changed ? result : { ...(payload as Payload), tampered: true };
}

/** The raw body and headers of one delivery in the given signature mode. */
export function signedDelivery(
  shape: PartnerShape,
  payload: unknown,
  secrets: PartnerSecrets,
  mode: SignatureMode,
  now: Date,
): { rawBody: string; headers: Record<string, string> } {
  const rawBody = JSON.stringify(payload);
  const sign = (body: string, secret: string, at = now) => signWebhook(shape.partner, body, secret, at);
  switch (mode) {
    case 'valid':
      return { rawBody, headers: sign(rawBody, secrets.signing) };
    case 'missing':
      return { rawBody, headers: {} };
    case 'wrong-secret':
      return { rawBody, headers: sign(rawBody, secrets.wrongSecret ?? `not-${secrets.signing}`) };
    case 'stale':
      return {
        rawBody,
        headers: sign(rawBody, secrets.signing, new Date(now.getTime() - STALE_BY_SECONDS * 1000)),
      };
    case 'tampered':
      // A token does not cover the body, so for DoorDash the token itself is what gets altered.
      if (!shape.signsBody) return { rawBody, headers: sign(rawBody, `${secrets.signing}x`) };
      return { rawBody: JSON.stringify(tampered(payload)), headers: sign(rawBody, secrets.signing) };
  }
}

/** POSTs the exact bytes; a network failure answers status 0 so the control API can still report it. */
export async function deliver(
  url: string,
  rawBody: string,
  headers: Record<string, string>,
): Promise<WebhookAnswer> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: rawBody,
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    });
    const text = await response.text();
    return { webhookStatus: response.status, webhookBody: parseOrText(text) };
  } catch (error) {
    return {
      webhookStatus: 0,
      webhookBody: { error: { code: 'NETWORK', message: (error as Error).message } },
    };
  }
}

function parseOrText(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function webhookUrl(
  middlewareUrl: string,
  partner: PartnerId,
  action?: { partnerOrderId: string; kind: 'release' | 'cancel' },
) {
  const base = `${middlewareUrl}/webhooks/${partner}/orders`;
  return action ? `${base}/${encodeURIComponent(action.partnerOrderId)}/${action.kind}` : base;
}
