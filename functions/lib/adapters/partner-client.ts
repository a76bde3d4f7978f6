import { PartnerRefused, PartnerUnavailable } from '../domain/errors';
import type { DenyReason } from '../schemas/order';
import * as doordash from '../schemas/partners/doordash';
import * as grubhub from '../schemas/partners/grubhub';
import { type PartnerApiRoute, type PartnerId, partnerApiPath } from '../schemas/partners/index';
import type { ReportedStatus } from '../schemas/partners/signing';
import * as ubereats from '../schemas/partners/ubereats';
import { callJson, isRetryable } from './http-client';
import { getSecret, partnerApiUrl } from './secrets';

/** Each partner's API, as its schema module describes it; adding a partner adds a line here. */
const partnerApis = { ubereats, doordash, grubhub } satisfies Record<PartnerId, unknown>;

async function callPartner(
  partner: PartnerId,
  route: PartnerApiRoute,
  partnerOrderId: string,
  body?: unknown,
) {
  const apiKey = await getSecret(`partners/${partner}/api-key`);
  const path = partnerApiPath(route, partnerOrderId);
  const answer = await callJson({
    method: route.method,
    url: `${await partnerApiUrl(partner)}${path}`,
    headers: partnerApis[partner].apiAuthHeaders(apiKey),
    body,
  });
  if (answer.status >= 200 && answer.status < 300) return answer.body;
  const message = `${partner} ${route.method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body ?? '').slice(0, 300)}`;
  if (isRetryable(answer.status)) throw new PartnerUnavailable(message);
  throw new PartnerRefused(answer.status, message);
}

export type FetchedOrder = { found: true; order: unknown } | { found: false };

/**
 * Uber Eats sends a sparse notification; the order itself is fetched from its API. An order Uber Eats
 * does not know (404) is `found: false`; an outage (5xx, 429, timeout) throws PartnerUnavailable.
 */
export async function fetchUberEatsOrder(partnerOrderId: string): Promise<FetchedOrder> {
  try {
    return { found: true, order: await callPartner('ubereats', ubereats.api.fetchOrder, partnerOrderId) };
  } catch (error) {
    if (error instanceof PartnerRefused && error.status === 404) return { found: false };
    throw error;
  }
}

export async function acceptWithPartner(
  partner: PartnerId,
  partnerOrderId: string,
  posReference: string,
  pickupAt?: string,
): Promise<void> {
  const api = partnerApis[partner];
  await callPartner(partner, api.api.accept, partnerOrderId, api.buildAcceptRequest(posReference, pickupAt));
}

export async function denyWithPartner(
  partner: PartnerId,
  partnerOrderId: string,
  reason: DenyReason,
  explanation?: string,
): Promise<void> {
  const api = partnerApis[partner];
  await callPartner(partner, api.api.deny, partnerOrderId, api.buildDenyRequest(reason, explanation));
}

export async function reportStatusToPartner(
  partner: PartnerId,
  partnerOrderId: string,
  status: ReportedStatus,
): Promise<void> {
  const api = partnerApis[partner];
  await callPartner(partner, api.api.status, partnerOrderId, api.buildStatusRequest(status));
}
