import type { z } from 'zod';
import {
  type CanonicalOrder,
  CanonicalOrderSchema,
  MAX_CANONICAL_ORDER_BYTES,
  type Modifier,
  type OrderItem,
  SkuSchema,
} from '../../schemas/order';
import { InvalidPayload, OrderTooLarge } from '../errors';

/** Parses with a schema, turning its complaint into a 400 that names the first bad field. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
  throw new InvalidPayload(`invalid ${what}${where}: ${issue?.message ?? 'rejected'}`);
}

/**
 * Free text from a partner as a POS ticket may print it: one line (newlines, tabs and other spacing
 * become a space), no control or invisible direction characters, no HTML (tags removed, and no `<`
 * or `>` left), no lone UTF-16 surrogates (which DynamoDB and EventBridge refuse).
 */
export function plainText(text: string): string {
  return text
    .replace(/\p{Cs}/gu, '\uFFFD')
    .replace(/[\s\u0085]+/gu, ' ')
    .replace(/[\p{Cc}\u061C\u200B\u200E\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/gu, '')
    .replace(/<\/?[A-Za-z!?][^<>]*>/g, '')
    .replace(/[<>]/g, '')
    .replace(/ {2,}/g, ' ')
    .trim();
}

/** Plain text, or nothing when nothing printable is left. */
const plainNote = (note: string | undefined): string | undefined =>
  note === undefined ? undefined : plainText(note) || undefined;

function plainItem(item: OrderItem): OrderItem {
  return defined({
    ...item,
    // The POS gets the menu's name after validation; until then an emptied name falls back to the sku.
    name: plainText(item.name) || item.sku,
    modifiers: item.modifiers.map((modifier) => ({ ...modifier, name: plainText(modifier.name) })),
    notes: plainNote(item.notes),
  });
}

/**
 * The adapter's result with its free text made plain, checked against the canonical schema so no
 * adapter can emit a malformed order, and refused (ORDER_TOO_LARGE) when it would not fit where the
 * workflow keeps it — option quantities multiply modifiers, so a small payload can grow large.
 */
export function canonical(order: CanonicalOrder): CanonicalOrder {
  const plain = defined({
    ...order,
    items: order.items.map(plainItem),
    customer: defined({
      firstName: plainText(order.customer.firstName),
      phone: plainNote(order.customer.phone),
    }),
    notes: plainNote(order.notes),
  });
  const parsed = parseOr400(CanonicalOrderSchema, plain, 'order');
  const bytes = Buffer.byteLength(JSON.stringify(parsed), 'utf8');
  if (bytes > MAX_CANONICAL_ORDER_BYTES) {
    throw new OrderTooLarge(
      `the order is ${bytes} bytes once canonical (modifiers repeated per quantity); the limit is ${MAX_CANONICAL_ORDER_BYTES}`,
    );
  }
  return parsed;
}

/** A partner modifier ordered n times becomes n canonical modifiers, each priced once. */
export function modifierTimes(quantity: number, modifier: Modifier): Modifier[] {
  return Array.from({ length: quantity }, () => ({ ...modifier }));
}

/** Partner ids of free modifiers ("no onions") need not be skus; keep the id only when it is one. */
export function skuOrNothing(id: string | undefined): { sku?: string } {
  return id !== undefined && SkuSchema.safeParse(id).success ? { sku: id } : {};
}

/** Only keys whose value is defined, so optional fields are absent rather than `undefined`. */
export function defined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
