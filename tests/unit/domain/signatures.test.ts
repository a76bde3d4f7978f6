import { createHmac } from 'node:crypto';
import { signWebhook, verifyFreshness, verifySignature } from '../../../functions/lib/domain/signatures';
import { PARTNERS, type PartnerId } from '../../../functions/lib/schemas/partners/index';
import * as ubereats from '../../../functions/lib/schemas/partners/ubereats';
import { doorDashWebhook, grubhubWebhook, uberEatsNotice } from './fixtures';

const NOW = new Date('2025-06-01T18:00:00Z');
const SECRET = 'whsec_current_0123456789';
const OLD_SECRET = 'whsec_previous_9876543210';

const bodies: Record<PartnerId, string> = {
  ubereats: JSON.stringify(uberEatsNotice()),
  doordash: JSON.stringify(doorDashWebhook()),
  grubhub: JSON.stringify(grubhubWebhook()),
};

/** Headers as API Gateway payload 2.0 delivers them: lowercased names. */
const lowercased = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

const signed = (partner: PartnerId, secret = SECRET, at = NOW) =>
  lowercased(signWebhook(partner, bodies[partner], secret, at));

/** Flips one character of a header value, keeping its length and alphabet. */
const changeOneByte = (value: string) => {
  const last = value.at(-1);
  return value.slice(0, -1) + (last === '0' ? '1' : '0');
};

describe.each(PARTNERS)('%s webhook authentication', (partner) => {
  const body = bodies[partner];

  it('accepts a correctly signed webhook', () => {
    expect(verifySignature(partner, body, signed(partner), [SECRET], NOW)).toEqual({ ok: true });
  });

  it('refuses a signature with one changed byte', () => {
    const headers = Object.fromEntries(
      Object.entries(signed(partner)).map(([k, v]) => [k, changeOneByte(v)]),
    );
    expect(verifySignature(partner, body, headers, [SECRET], NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a webhook signed with another secret', () => {
    const headers = signed(partner, 'whsec_attacker');
    expect(verifySignature(partner, body, headers, [SECRET], NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a webhook without its header', () => {
    expect(verifySignature(partner, body, { 'content-type': 'application/json' }, [SECRET], NOW)).toEqual({
      ok: false,
      reason: 'missing-signature',
    });
  });

  it('accepts the previous secret during a rotation', () => {
    const headers = signed(partner, OLD_SECRET);
    expect(verifySignature(partner, body, headers, [SECRET, OLD_SECRET], NOW)).toEqual({ ok: true });
  });

  it('refuses everything when no secret is configured', () => {
    expect(verifySignature(partner, body, signed(partner), [], NOW)).toEqual({
      ok: false,
      reason: 'no-secrets',
    });
    expect(verifySignature(partner, body, signed(partner, ''), [''], NOW)).toEqual({
      ok: false,
      reason: 'no-secrets',
    });
  });

  it('finds the header whatever its case', () => {
    const headers = signWebhook(partner, body, SECRET, NOW);
    expect(verifySignature(partner, body, headers, [SECRET], NOW)).toEqual({ ok: true });
  });
});

describe.each(['ubereats', 'grubhub'] as const)('%s signs the raw body', (partner) => {
  it('refuses the same JSON re-serialised (whitespace changed)', () => {
    const pretty = JSON.stringify(JSON.parse(bodies[partner]), null, 2);
    expect(verifySignature(partner, pretty, signed(partner), [SECRET], NOW)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('refuses a body changed by one byte', () => {
    const body = bodies[partner];
    const at = body.indexOf('1');
    const tampered = `${body.slice(0, at)}2${body.slice(at + 1)}`;
    expect(tampered).not.toBe(bodies[partner]);
    expect(verifySignature(partner, tampered, signed(partner), [SECRET], NOW).ok).toBe(false);
  });
});

describe('DoorDash shared token', () => {
  it('authenticates the sender only: a re-serialised body still passes (TLS protects the body)', () => {
    const pretty = JSON.stringify(JSON.parse(bodies.doordash), null, 2);
    expect(verifySignature('doordash', pretty, signed('doordash'), [SECRET], NOW)).toEqual({ ok: true });
  });

  it('refuses a token that is only a prefix of the secret', () => {
    const headers = { authorization: `Bearer ${SECRET.slice(0, 10)}` };
    expect(verifySignature('doordash', bodies.doordash, headers, [SECRET], NOW).ok).toBe(false);
  });

  it('refuses an Authorization header that is not a bearer token', () => {
    const headers = { authorization: `Basic ${SECRET}` };
    expect(verifySignature('doordash', bodies.doordash, headers, [SECRET], NOW)).toEqual({
      ok: false,
      reason: 'malformed-signature',
    });
  });
});

describe('Grubhub replay window', () => {
  const body = bodies.grubhub;
  const secondsFromNow = (s: number) => new Date(NOW.getTime() + s * 1000);

  it('accepts a signature 300 s old or 300 s ahead', () => {
    expect(
      verifySignature('grubhub', body, signed('grubhub', SECRET, secondsFromNow(-300)), [SECRET], NOW).ok,
    ).toBe(true);
    expect(
      verifySignature('grubhub', body, signed('grubhub', SECRET, secondsFromNow(300)), [SECRET], NOW).ok,
    ).toBe(true);
  });

  it('refuses a stale signature (301 s old)', () => {
    const headers = signed('grubhub', SECRET, secondsFromNow(-301));
    expect(verifySignature('grubhub', body, headers, [SECRET], NOW)).toEqual({
      ok: false,
      reason: 'stale-timestamp',
    });
  });

  it('refuses a signature from the future (301 s ahead)', () => {
    const headers = signed('grubhub', SECRET, secondsFromNow(301));
    expect(verifySignature('grubhub', body, headers, [SECRET], NOW)).toEqual({
      ok: false,
      reason: 'stale-timestamp',
    });
  });

  it('refuses a signature whose timestamp was moved (signed t is part of the MAC)', () => {
    const header = signed('grubhub')['x-gh-signature']!;
    const t = Math.floor(NOW.getTime() / 1000);
    const moved = header.replace(`t=${t}`, `t=${t + 10}`);
    expect(verifySignature('grubhub', body, { 'x-gh-signature': moved }, [SECRET], NOW)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('refuses a header without v1', () => {
    const headers = { 'x-gh-signature': `t=${Math.floor(NOW.getTime() / 1000)}` };
    expect(verifySignature('grubhub', body, headers, [SECRET], NOW)).toEqual({
      ok: false,
      reason: 'malformed-signature',
    });
  });
});

describe('Uber Eats signature format', () => {
  it('is the lowercase hex HMAC-SHA256 of the raw body in X-Uber-Signature', () => {
    const headers = signWebhook('ubereats', 'abc', 'key', NOW);
    // HMAC-SHA256("key", "abc"), computed independently.
    expect(headers).toEqual({
      'X-Uber-Signature': '9c196e32dc0175f86f4b1cb89289d6619de6bee699e4c378e68309ed97a1a6ab',
    });
  });
});

describe('Grubhub signature format', () => {
  // Grubhub's scheme, written out here: X-GH-Signature: t=<unix seconds>,v1=<lowercase hex
  // HMAC-SHA256(secret, "<t>.<raw body>")>. The literal was computed with
  // `printf '%s' '1748800800.{"order_uuid":"gh-1"}' | openssl dgst -sha256 -hmac key`.
  const body = '{"order_uuid":"gh-1"}';
  const t = 1748800800; // NOW in unix seconds
  const vector = 'e1421b05fc4bc59cca4325fce1426bc6d5a8f53eb275c7d9073bd52303aca36a';

  it('node:crypto agrees with the openssl vector (the test computes the scheme, not our signer)', () => {
    expect(createHmac('sha256', 'key').update(`${t}.${body}`, 'utf8').digest('hex')).toBe(vector);
    expect(Math.floor(NOW.getTime() / 1000)).toBe(t);
  });

  it('our signer writes exactly that header', () => {
    expect(signWebhook('grubhub', body, 'key', NOW)).toEqual({ 'X-GH-Signature': `t=${t},v1=${vector}` });
  });

  it('our verifier takes the header built by hand, and refuses it for a body one byte off', () => {
    const headers = { 'x-gh-signature': `t=${t},v1=${vector}` };
    expect(verifySignature('grubhub', body, headers, ['key'], NOW)).toEqual({ ok: true });
    expect(verifySignature('grubhub', body.replace('gh-1', 'gh-2'), headers, ['key'], NOW)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('the signed time is part of the MAC: the same v1 under another t is refused', () => {
    const headers = { 'x-gh-signature': `t=${t - 1},v1=${vector}` };
    expect(verifySignature('grubhub', body, headers, ['key'], NOW)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });
});

describe('DoorDash authorization format', () => {
  // DoorDash's scheme, written out here: no signature over the body; the webhook carries
  // `Authorization: Bearer <the shared token>` and the token must equal a configured secret.
  it('our signer writes exactly "Authorization: Bearer <token>"', () => {
    expect(signWebhook('doordash', '{"any":"body"}', 'tok_123', NOW)).toEqual({
      Authorization: 'Bearer tok_123',
    });
  });

  it('our verifier takes the header built by hand, whatever the body, and only for that token', () => {
    const headers = { authorization: 'Bearer tok_123' };
    expect(verifySignature('doordash', '{"a":1}', headers, ['tok_123'], NOW)).toEqual({ ok: true });
    expect(verifySignature('doordash', 'other bytes', headers, ['tok_123'], NOW)).toEqual({ ok: true });
    expect(verifySignature('doordash', '{"a":1}', headers, ['tok_1234'], NOW)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(
      verifySignature('doordash', '{"a":1}', { authorization: 'Basic tok_123' }, ['tok_123'], NOW),
    ).toEqual({ ok: false, reason: 'malformed-signature' });
  });
});

describe.each(['ubereats', 'grubhub'] as const)('%s signs bytes, not text', (partner) => {
  // Three bodies that read alike once decoded with replacement characters: 0xFF, 0xFE and the
  // UTF-8 of U+FFFD itself. Only the bytes that were signed may verify.
  const withByte = (...middle: number[]) =>
    Buffer.concat([Buffer.from('{"note":"a'), Buffer.from(middle), Buffer.from('b"}')]);
  const signedBytes = withByte(0xff);
  const otherBytes = withByte(0xfe);
  const replacement = withByte(0xef, 0xbf, 0xbd);
  const headersFor = (body: Buffer) => lowercased(signWebhook(partner, body, SECRET, NOW));

  it('verifies the exact bytes that were signed', () => {
    expect(verifySignature(partner, signedBytes, headersFor(signedBytes), [SECRET], NOW)).toEqual({
      ok: true,
    });
  });

  it('refuses other bytes that decode to the same text', () => {
    expect(signedBytes.toString('utf8')).toBe(otherBytes.toString('utf8'));
    expect(signedBytes.toString('utf8')).toBe(replacement.toString('utf8'));
    for (const body of [otherBytes, replacement]) {
      expect(verifySignature(partner, body, headersFor(signedBytes), [SECRET], NOW)).toEqual({
        ok: false,
        reason: 'mismatch',
      });
    }
    expect(verifySignature(partner, signedBytes, headersFor(replacement), [SECRET], NOW)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('a string stands for its UTF-8 bytes, as it goes on the wire', () => {
    const text = bodies[partner];
    expect(verifySignature(partner, Buffer.from(text, 'utf8'), signed(partner), [SECRET], NOW)).toEqual({
      ok: true,
    });
  });
});

describe('hex signatures in either case', () => {
  const upper = (headers: Record<string, string>) =>
    Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [
        name,
        value.replace(/[0-9a-f]{64}/, (hex) => hex.toUpperCase()),
      ]),
    );

  it.each(['ubereats', 'grubhub'] as const)('%s accepts its signature in upper-case hex', (partner) => {
    const headers = upper(signed(partner));
    expect(Object.values(headers).join()).toMatch(/[0-9A-F]{64}/);
    expect(verifySignature(partner, bodies[partner], headers, [SECRET], NOW)).toEqual({ ok: true });
  });

  it.each(['ubereats', 'grubhub'] as const)('%s accepts mixed-case hex too', (partner) => {
    const headers = Object.fromEntries(
      Object.entries(signed(partner)).map(([name, value]) => [
        name,
        value.replace(/[0-9a-f]{64}/, (hex) =>
          hex.replace(/[a-f]/g, (c, at: number) => (at % 2 ? c.toUpperCase() : c)),
        ),
      ]),
    );
    expect(verifySignature(partner, bodies[partner], headers, [SECRET], NOW)).toEqual({ ok: true });
  });

  it.each(['ubereats', 'grubhub'] as const)('%s refuses hex that is not 32 bytes', (partner) => {
    const headers = Object.fromEntries(
      Object.entries(signed(partner)).map(([name, value]) => [name, value.replace(/([0-9a-f]{64})/, '$1ab')]),
    );
    expect(verifySignature(partner, bodies[partner], headers, [SECRET], NOW)).toEqual({
      ok: false,
      reason: 'malformed-signature',
    });
  });
});

describe('DoorDash Authorization scheme', () => {
  it.each(['bearer', 'BEARER', 'Bearer', 'bEaReR'])(
    'accepts the scheme written %s (RFC 7235: case-insensitive)',
    (scheme) => {
      const headers = { authorization: `${scheme} ${SECRET}` };
      expect(verifySignature('doordash', bodies.doordash, headers, [SECRET], NOW)).toEqual({ ok: true });
    },
  );

  it('still refuses a token it does not know, in any scheme case', () => {
    expect(
      verifySignature('doordash', bodies.doordash, { authorization: 'bearer nope' }, [SECRET], NOW),
    ).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });
});

describe('event age', () => {
  const nowSeconds = Math.floor(NOW.getTime() / 1000);
  const notice = (eventTime: number) => ({ ...uberEatsNotice(), event_time: eventTime });
  const horizon = ubereats.EVENT_MAX_AGE_SECONDS;

  it('Uber Eats: an event up to its retry horizon old (or ahead) is fresh', () => {
    expect(verifyFreshness('ubereats', notice(nowSeconds), NOW)).toEqual({ ok: true });
    expect(verifyFreshness('ubereats', notice(nowSeconds - horizon), NOW)).toEqual({ ok: true });
    expect(verifyFreshness('ubereats', notice(nowSeconds + horizon), NOW)).toEqual({ ok: true });
  });

  it('Uber Eats: an event past the horizon is a replay, whichever event it is', () => {
    for (const event_type of ['orders.notification', 'orders.release', 'orders.cancel']) {
      const old = { ...notice(nowSeconds - horizon - 1), event_type };
      expect(verifyFreshness('ubereats', old, NOW)).toEqual({ ok: false, reason: 'stale-event' });
    }
    expect(verifyFreshness('ubereats', notice(nowSeconds + horizon + 1), NOW)).toEqual({
      ok: false,
      reason: 'stale-event',
    });
  });

  it('Uber Eats: a body without event_time cannot be dated', () => {
    const { event_time: _, ...undated } = uberEatsNotice();
    expect(verifyFreshness('ubereats', undated, NOW)).toEqual({ ok: false, reason: 'missing-event-time' });
    expect(verifyFreshness('ubereats', { ...undated, event_time: '1748800788' }, NOW)).toEqual({
      ok: false,
      reason: 'missing-event-time',
    });
  });

  it('the horizon covers Uber Eats retries (7 sends, backoff from 1 s doubling) and stays short', () => {
    const lastRetryAfter = [1, 2, 4, 8, 16, 32].reduce((sum, wait) => sum + wait, 0);
    expect(horizon).toBeGreaterThan(lastRetryAfter);
    expect(horizon).toBeLessThanOrEqual(300);
  });

  it('Grubhub and DoorDash date nothing in the body: freshness is the signature’s (or nobody’s) business', () => {
    expect(verifyFreshness('grubhub', grubhubWebhook(), NOW)).toEqual({ ok: true });
    expect(verifyFreshness('doordash', doorDashWebhook(), NOW)).toEqual({ ok: true });
  });
});
