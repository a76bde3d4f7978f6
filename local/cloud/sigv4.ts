/**
 * SigV4 for the local cloud, in one place: signing as any IAM client does (the tests, the tools and
 * the partner simulator reading GET /stores all sign with the local credentials, service
 * `execute-api`), reading the credential scope of an `Authorization` header (the edge routes by its
 * service), and verifying a signature by recomputing it with the same signer (`LOCAL_IAM=strict`).
 */
import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '../../simulators/lambda/sha256';

/** The local cloud's credentials (ARCHITECTURE section 7, "IAM locally"). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT_ID = '000000000000';
/** Who the local credentials are: the account's root, as LocalStack answers GetCallerIdentity. */
export const LOCAL_CALLER_ARN = `arn:aws:iam::${LOCAL_ACCOUNT_ID}:root`;

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** Temporary credentials' token (an assumed role, OIDC in CI): signed and sent as `x-amz-security-token`. */
  sessionToken?: string;
}

const signers = new Map<string, SignatureV4>();
function signerFor(credentials: Credentials, region: string, service: string): SignatureV4 {
  const key = `${credentials.accessKeyId}\n${credentials.secretAccessKey}\n${credentials.sessionToken ?? ''}\n${region}\n${service}`;
  let signer = signers.get(key);
  if (!signer) {
    signer = new SignatureV4({ credentials, region, service, sha256: Sha256 });
    signers.set(key, signer);
  }
  return signer;
}

export interface SignOptions {
  credentials?: Credentials;
  region?: string;
  service?: string;
  signingDate?: Date;
}

/**
 * The headers to send with a request signed for `execute-api` (by default) with the local
 * credentials: the given headers plus `authorization`, `x-amz-date` and `x-amz-content-sha256`.
 * `host` is signed but left out of the answer, since fetch sets it (to the same value).
 */
export async function signedHeaders(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: string | Buffer,
  options: SignOptions = {},
): Promise<Record<string, string>> {
  const target = new URL(url);
  const signer = signerFor(
    options.credentials ?? LOCAL_CREDENTIALS,
    options.region ?? LOCAL_REGION,
    options.service ?? 'execute-api',
  );
  const signed = await signer.sign(
    {
      method: method.toUpperCase(),
      protocol: target.protocol,
      hostname: target.hostname,
      ...(target.port ? { port: Number(target.port) } : {}),
      path: target.pathname,
      query: queryOf(target.search.slice(1)),
      headers: { ...headers, host: target.host },
      ...(body !== undefined && { body }),
    },
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  const { host: _host, ...rest } = signed.headers;
  return rest;
}

/** `fetch` with the request signed as an IAM client signs it (the local credentials, `execute-api`). */
export async function signedFetch(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    signal?: AbortSignal;
  } = {},
  options: SignOptions = {},
): Promise<Response> {
  const method = init.method ?? 'GET';
  const headers = await signedHeaders(method, url, init.headers, init.body, options);
  return fetch(url, {
    method,
    headers,
    ...(init.body !== undefined && { body: init.body }),
    ...(init.signal && { signal: init.signal }),
  });
}

// ── reading and verifying ─────────────────────────────────────────────────────

export interface SigV4Authorization {
  accessKeyId: string;
  /** yyyymmdd of the credential scope. */
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/**
 * The parts of an `AWS4-HMAC-SHA256 Credential=…/<date>/<region>/<service>/aws4_request,
 * SignedHeaders=…, Signature=…` header; undefined for anything else (no header, another scheme, a
 * part missing).
 */
export function parseAuthorization(header: string | undefined): SigV4Authorization | undefined {
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const parts: Record<string, string> = {};
  for (const part of (match[1] ?? '').split(',')) {
    const at = part.indexOf('=');
    if (at > 0) parts[part.slice(0, at).trim()] = part.slice(at + 1).trim();
  }
  const scope = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(parts.Credential ?? '');
  if (!scope || !parts.SignedHeaders || !parts.Signature) return undefined;
  return {
    accessKeyId: scope[1] ?? '',
    date: scope[2] ?? '',
    region: scope[3] ?? '',
    service: scope[4] ?? '',
    signedHeaders: parts.SignedHeaders.split(';').map((name) => name.trim().toLowerCase()),
    signature: parts.Signature.toLowerCase(),
  };
}

export interface ReceivedRequest {
  method: string;
  /** The path as it came on the wire (still percent-encoded), without the query. */
  path: string;
  rawQueryString: string;
  /** Lowercased names, repeated headers joined with ','. */
  headers: Record<string, string | undefined>;
  body: Buffer;
}

export type Verdict = { ok: true } | { ok: false; message: string };

/** The message API Gateway gives a signature that does not match. */
export const SIGNATURE_MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
/** The message AWS gives an access key it does not know. */
export const UNKNOWN_ACCESS_KEY = 'The security token included in the request is invalid.';
const MAX_SKEW_MS = 5 * 60_000;

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/**
 * Recomputes the signature of a request received with `authorization` and compares: the access key
 * must be known (`credentials`), the scope's service `service`, the time within 5 minutes, the
 * payload hash (when sent) that of the body, and the signature the one the same signer makes over the
 * headers the client says it signed.
 */
export async function verifySignature(
  request: ReceivedRequest,
  authorization: SigV4Authorization,
  options: { service: string; credentials?: readonly Credentials[]; now?: Date },
): Promise<Verdict> {
  const known = (options.credentials ?? [LOCAL_CREDENTIALS]).find(
    (c) => c.accessKeyId === authorization.accessKeyId,
  );
  if (!known) return { ok: false, message: UNKNOWN_ACCESS_KEY };
  if (authorization.service !== options.service)
    return { ok: false, message: `Credential should be scoped to correct service: '${options.service}'. ` };
  const amzDate = request.headers['x-amz-date'] ?? '';
  const when = AMZ_DATE.exec(amzDate);
  if (!when)
    return {
      ok: false,
      message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    };
  const [, y, mo, d, h, mi, s] = when.map(Number) as number[];
  const signingDate = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  const now = options.now ?? new Date();
  if (Math.abs(now.getTime() - signingDate.getTime()) > MAX_SKEW_MS) {
    return {
      ok: false,
      message: `Signature expired: ${amzDate} is now earlier or later than 5 min. from ${now.toISOString()}`,
    };
  }
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  const sentHash = request.headers['x-amz-content-sha256'];
  if (sentHash !== undefined && sentHash !== bodyHash) return { ok: false, message: SIGNATURE_MISMATCH };

  const headers: Record<string, string> = {};
  for (const name of authorization.signedHeaders) {
    const value = request.headers[name];
    if (value === undefined) return { ok: false, message: SIGNATURE_MISMATCH };
    headers[name] = value;
  }
  // A signer of its own: it must add no header (no payload-hash header the client did not sign).
  const signer = new SignatureV4({
    credentials: known,
    region: authorization.region,
    service: authorization.service,
    sha256: Sha256,
    applyChecksum: false,
  });
  const recomputed = await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname: (request.headers.host ?? '').split(':')[0] ?? '',
      // The path as sent: the signer encodes each segment once more, as SigV4 does for all but S3.
      path: request.path,
      query: queryOf(request.rawQueryString),
      headers,
      body: request.body,
    },
    { signingDate, signableHeaders: new Set(authorization.signedHeaders) },
  );
  const signature = parseAuthorization(recomputed.headers.authorization)?.signature;
  return signature === authorization.signature ? { ok: true } : { ok: false, message: SIGNATURE_MISMATCH };
}

const decode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** The query as the signer takes it (names and values decoded; it encodes them itself), `+` kept as is. */
function queryOf(rawQueryString: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const pair of rawQueryString ? rawQueryString.split('&') : []) {
    const at = pair.indexOf('=');
    const name = decode(at < 0 ? pair : pair.slice(0, at));
    const value = decode(at < 0 ? '' : pair.slice(at + 1));
    const seen = query[name];
    query[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return query;
}
