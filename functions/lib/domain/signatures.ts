/**
 * Webhook authentication per partner. Every comparison is constant-time, and every configured secret
 * is tried (two are valid during a rotation). Headers arrive lowercased (API Gateway payload 2.0);
 * they are looked up case-insensitively anyway.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as doordash from '../schemas/partners/doordash';
import * as grubhub from '../schemas/partners/grubhub';
import type { PartnerId } from '../schemas/partners/index';
import { hmacSha256Hex } from '../schemas/partners/signing';
import * as ubereats from '../schemas/partners/ubereats';

export type SignatureFailure =
  | 'no-secrets'
  | 'missing-signature'
  | 'malformed-signature'
  | 'stale-timestamp'
  | 'mismatch';
export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure };

type Headers = Record<string, string | undefined>;

const OK: SignatureCheck = { ok: true };
const fail = (reason: SignatureFailure): SignatureCheck => ({ ok: false, reason });

function header(headers: Headers, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === wanted) return value;
  return undefined;
}

/** Equal-length guard first: timingSafeEqual throws on different lengths. */
function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** True when any candidate matches; all are compared so timing does not tell which one did. */
function anyMatches(candidates: string[], matches: (candidate: string) => boolean): boolean {
  return candidates.map(matches).reduce((found, match) => found || match, false);
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function verifyUberEats(rawBody: string, headers: Headers, secrets: string[]): SignatureCheck {
  const given = header(headers, ubereats.SIGNATURE_HEADER)?.trim().toLowerCase();
  if (!given) return fail('missing-signature');
  if (!/^[0-9a-f]{64}$/.test(given)) return fail('malformed-signature');
  return anyMatches(secrets, (secret) => safeEqual(ubereats.signatureFor(rawBody, secret), given))
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

function verifyGrubhub(rawBody: string, headers: Headers, secrets: string[], now: Date): SignatureCheck {
  const value = header(headers, grubhub.SIGNATURE_HEADER);
  if (!value) return fail('missing-signature');
  const signature = grubhub.parseSignature(value);
  if (!signature) return fail('malformed-signature');
  const skewSeconds = Math.abs(Math.floor(now.getTime() / 1000) - signature.t);
  if (skewSeconds > grubhub.REPLAY_WINDOW_SECONDS) return fail('stale-timestamp');
  const expected = (secret: string) => hmacSha256Hex(secret, `${signature.t}.${rawBody}`);
  return anyMatches(secrets, (secret) => safeEqual(expected(secret), signature.v1)) ? OK : fail('mismatch');
}

/** Checks a webhook's signature or token against the partner's current secrets. */
export function verifySignature(
  partner: PartnerId,
  rawBody: string,
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

/** The headers a partner sends with a webhook, for the simulator and tests. */
export function signWebhook(
  partner: PartnerId,
  rawBody: string,
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
