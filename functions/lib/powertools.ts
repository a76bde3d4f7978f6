import { Logger } from '@aws-lambda-powertools/logger';
import { search } from '@aws-lambda-powertools/logger/correlationId';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** The one Logger and Metrics every function imports; the order id is the correlation id. */
export const logger = new Logger({ correlationIdSearchFn: search });

export const metrics = new Metrics({ defaultDimensions: { service: 'order-middleware' } });

/** Keys that never reach a log line: customer details and secrets. */
const REDACTED_KEYS = new Set([
  'customer',
  'firstName',
  'lastName',
  'name',
  'phone',
  'address',
  'email',
  'taskToken',
]);

export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, REDACTED_KEYS.has(k) ? '[redacted]' : redact(v)]),
    );
  }
  return value;
}
