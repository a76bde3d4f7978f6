/**
 * Webhook authentication per partner. Signatures are computed over the body's bytes exactly as they
 * arrived — never over text decoded from them, which can map different bytes to the same string.
 * Every comparison is constant-time over decoded bytes (hex in either case), and every configured
 * secret is tried (two are valid during a rotation). Headers arrive lowercased (API Gateway payload
 * 2.0); they are looked up case-insensitively anyway.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as doordash from '../schemas/partners/doordash';
import * as grubhub from '../schemas/partners/grubhub';
import type { PartnerId } from '../schemas/partners/index';
import { hexBytes, hmacSha256, type SignedBytes } from '../schemas/partners/signing';
import * as ubereats from '../schemas/partners/ubereats';

export type SignatureFailure =
  | 'no-secrets'
  | 'missing-signature'
  | 'malformed-signature'
  | 'stale-timestamp'
  | 'mismatch';
export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure };

export type FreshnessFailure = 'missing-event-time' | 'stale-event';
export type FreshnessCheck = { ok: true } | { ok: false; reason: FreshnessFailure };

type Headers = Record<string, string | undefined>;

const OK = { ok: true } as const;
const fail = <R extends string>(reason: R) => ({ ok: false, reason }) as const;

function header(headers: Headers, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** Equal-length guard first: timingSafeEqual throws on different lengths. */
function safeEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True when any candidate matches; all are compared so timing does not tell which one did. */
function anyMatches(candidates: string[], matches: (candidate: string) => boolean): boolean {
  return candidates.map(matches).reduce((found, match) => found || match, false);
}

/** True when a signed unix time is within `windowSeconds` of now, either way. */
function withinWindow(unixSeconds: number, now: Date, windowSeconds: number): boolean {
  return Math.abs(Math.floor(now.getTime() / 1000) - unixSeconds) <= windowSeconds;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

function verifyUberEats(rawBody: SignedBytes, headers: Headers, secrets: string[]): SignatureCheck {
  const value = header(headers, ubereats.SIGNATURE_HEADER);
  if (!value) return fail('missing-signature');
  const given = hexBytes(value.trim(), 32);
  if (!given) return fail('malformed-signature');
  return anyMatches(secrets, (secret) => safeEqual(hmacSha256(secret, rawBody), given))
    ? OK
    : fail('mismatch');
}

/** A shared token: it authenticates the sender but not the body (documented in schemas/partners/doordash). */
function verifyDoorDash(headers: Headers, secrets: string[]): SignatureCheck {
  const value = header(headers, doordash.AUTH_HEADER);
  if (!value) return fail('missing-signature');
  const token = doordash.bearerToken(value.trim());
  if (!token) return fail('malformed-signature');
  // Hashing both sides first makes the compare constant-time whatever the token's length.
  return anyMatches(secrets, (secret) => safeEqual(sha256(secret), sha256(token))) ? OK : fail('mismatch');
}

function verifyGrubhub(rawBody: SignedBytes, headers: Headers, secrets: string[], now: Date): SignatureCheck {
  const value = header(headers, grubhub.SIGNATURE_HEADER);
  if (!value) return fail('missing-signature');
  const signature = grubhub.parseSignature(value);
  if (!signature) return fail('malformed-signature');
  if (!withinWindow(signature.t, now, grubhub.REPLAY_WINDOW_SECONDS)) return fail('stale-timestamp');
  const expected = (secret: string) => hmacSha256(secret, `${signature.t}.`, rawBody);
  return anyMatches(secrets, (secret) => safeEqual(expected(secret), signature.v1)) ? OK : fail('mismatch');
}

/**
 * Checks a webhook's signature or token against the partner's current secrets. `rawBody` is the
 * body's bytes as received (a string stands for its UTF-8 bytes).
 */
export function verifySignature(
  partner: PartnerId,
  rawBody: SignedBytes,
  headers: Headers,
  secrets: string[],
  now: Date,
): SignatureCheck {
  const usable = secrets.filter((secret) => secret.length > 0);
  if (usable.length === 0) return fail('no-secrets');
  switch (partner) {
    case 'ubereats':
      return verifyUberEats(rawBody, headers, usable);
    case 'doordash':
      return verifyDoorDash(headers, usable);
    case 'grubhub':
      return verifyGrubhub(rawBody, headers, usable, now);
  }
}

/**
 * Whether a verified webhook is recent enough to be the partner's own delivery rather than a replay
 * of one, for partners that sign a time inside the body (Uber Eats' `event_time`). Grubhub signs
 * its time in the header, checked with the signature; DoorDash signs no time at all (README:
 * remaining risk).
 */
export function verifyFreshness(partner: PartnerId, body: unknown, now: Date): FreshnessCheck {
  switch (partner) {
    case 'ubereats': {
      const signed = ubereats.EventTimeSchema.safeParse(body);
      if (!signed.success) return fail('missing-event-time');
      return withinWindow(signed.data.event_time, now, ubereats.EVENT_MAX_AGE_SECONDS)
        ? OK
        : fail('stale-event');
    }
    case 'grubhub':
    case 'doordash':
      return OK;
  }
}

/** The headers a partner sends with a webhook, for the simulator and tests. */
export function signWebhook(
  partner: PartnerId,
  rawBody: SignedBytes,
  secret: string,
  now: Date,
): Record<string, string> {
  switch (partner) {
    case 'ubereats':
      return { [ubereats.SIGNATURE_HEADER]: ubereats.signatureFor(rawBody, secret) };
    case 'doordash':
      return { [doordash.AUTH_HEADER]: doordash.authorizationFor(secret) };
    case 'grubhub':
      return {
        [grubhub.SIGNATURE_HEADER]: grubhub.signatureFor(rawBody, secret, Math.floor(now.getTime() / 1000)),
      };
  }
}
