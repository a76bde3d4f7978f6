import { createHmac } from 'node:crypto';

/**
 * What a partner signs: the exact bytes of the body. A string stands for its UTF-8 bytes, which is
 * what goes on the wire; the receiving side always passes the bytes it got.
 */
export type SignedBytes = string | Uint8Array;

const bytesOf = (message: SignedBytes): Uint8Array =>
  typeof message === 'string' ? Buffer.from(message, 'utf8') : message;

/** HMAC-SHA256 over bytes — the primitive both Uber Eats and Grubhub sign with. */
export function hmacSha256(secret: string, ...parts: SignedBytes[]): Buffer {
  const mac = createHmac('sha256', secret);
  for (const part of parts) mac.update(bytesOf(part));
  return mac.digest();
}

/** The same HMAC as lowercase hex, as the partners put it in their headers. */
export function hmacSha256Hex(secret: string, ...parts: SignedBytes[]): string {
  return hmacSha256(secret, ...parts).toString('hex');
}

/** The bytes of a hex string of `bytes` bytes, whatever the case of its digits; undefined if it is not one. */
export function hexBytes(value: string, bytes: number): Buffer | undefined {
  return new RegExp(`^[0-9a-f]{${bytes * 2}}$`, 'i').test(value) ? Buffer.from(value, 'hex') : undefined;
}

/** Turns a code table into its inverse, for the side that receives the partner's codes. */
export function invert<K extends string, V extends string>(table: Record<K, V>): Record<V, K> {
  return Object.fromEntries(Object.entries(table).map(([k, v]) => [v, k])) as Record<V, K>;
}

/** The order statuses the middleware reports to a partner through its status endpoint. */
export type ReportedStatus = 'RELEASED' | 'CANCELLED' | 'FAILED';
export const REPORTED_STATUSES = [
  'RELEASED',
  'CANCELLED',
  'FAILED',
] as const satisfies readonly ReportedStatus[];
