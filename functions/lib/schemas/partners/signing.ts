import { createHmac } from 'node:crypto';

/** Lowercase hex HMAC-SHA256 — the primitive both Uber Eats and Grubhub sign with. */
export function hmacSha256Hex(secret: string, message: string): string {
  return createHmac('sha256', secret).update(message, 'utf8').digest('hex');
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
