/** Customer details never reach the logs: names, phones, e-mails and addresses are masked. */

export const REDACTED = '[REDACTED]';

/** Compared lowercased with `_` and `-` removed, so `first_name`, `firstName` and `First-Name` all match. */
const PERSONAL_KEYS = new Set([
  'firstname',
  'lastname',
  'fullname',
  'phone',
  'phonenumber',
  'phonecode',
  'email',
  'address',
  'streetaddress',
  'street',
  'deliveryaddress',
  'dropoffaddress',
  'addressline1',
  'addressline2',
]);

const isPersonal = (key: string): boolean => PERSONAL_KEYS.has(key.toLowerCase().replace(/[_-]/g, ''));

/** A copy of `value` with every personal field masked, at any depth. The input is left untouched. */
export function redactCustomer<T>(value: T): T {
  return redact(value, new WeakSet()) as T;
}

function redact(value: unknown, seen: WeakSet<object>): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[Circular]';
  seen.add(value);
  if (Array.isArray(value)) return value.map((item) => redact(item, seen));
  return Object.fromEntries(
    Object.entries(value).map(([key, field]) => [
      key,
      isPersonal(key) && field !== undefined ? REDACTED : redact(field, seen),
    ]),
  );
}
