import { z } from 'zod';

/** The partners the middleware speaks to; their ids appear in routes (`/webhooks/{partner}/…`). */
export const PARTNERS = ['ubereats', 'doordash', 'grubhub'] as const;

export const PartnerIdSchema = z.enum(PARTNERS);
export type PartnerId = z.infer<typeof PartnerIdSchema>;

export function isPartnerId(value: unknown): value is PartnerId {
  return typeof value === 'string' && (PARTNERS as readonly string[]).includes(value);
}

/**
 * An id a partner gives us. It ends up in URL paths and keys, so only URL-safe characters,
 * which every real partner id (UUIDs, numeric ids) already is.
 */
export const PartnerOrderIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected an id of letters, digits, ".", "_" or "-"');
export const PartnerStoreIdSchema = PartnerOrderIdSchema;

/** One call of a partner API; `path` holds `{orderId}` where the partner's order id goes. */
export interface PartnerApiRoute {
  method: 'GET' | 'POST';
  path: string;
}

/** The partner API calls the middleware makes; `fetchOrder` only for partners that send sparse webhooks. */
export interface PartnerApiRoutes {
  fetchOrder?: PartnerApiRoute;
  accept: PartnerApiRoute;
  deny: PartnerApiRoute;
  status: PartnerApiRoute;
}

/** Builds the request path of a partner API call for one order. */
export function partnerApiPath(route: PartnerApiRoute, partnerOrderId: string): string {
  return route.path.replace('{orderId}', encodeURIComponent(partnerOrderId));
}

/** Matches a request path against a route template; returns the order id, or undefined. */
export function matchPartnerApiPath(
  route: PartnerApiRoute,
  method: string,
  path: string,
): string | undefined {
  if (method.toUpperCase() !== route.method) return undefined;
  const [before, after] = route.path.split('{orderId}') as [string, string];
  if (!path.startsWith(before) || !path.endsWith(after)) return undefined;
  const id = path.slice(before.length, path.length - after.length);
  if (id.length === 0 || id.includes('/')) return undefined;
  return decodeURIComponent(id);
}
