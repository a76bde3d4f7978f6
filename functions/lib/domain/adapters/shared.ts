import type { z } from 'zod';
import { type CanonicalOrder, CanonicalOrderSchema, type Modifier, SkuSchema } from '../../schemas/order';
import { InvalidPayload } from '../errors';

/** Parses with a schema, turning its complaint into a 400 that names the first bad field. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
  throw new InvalidPayload(`invalid ${what}${where}: ${issue?.message ?? 'rejected'}`);
}

/** The adapter's result, checked against the canonical schema so no adapter can emit a malformed order. */
export function canonical(order: CanonicalOrder): CanonicalOrder {
  return parseOr400(CanonicalOrderSchema, order, 'order');
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
