/**
 * The partners' store APIs (ARCHITECTURE section 7): one push tells one partner the whole store as
 * it is — status, busy mode, every item — in the calls its schema module maps it to.
 */
import { PartnerRefused, PartnerUnavailable } from '../domain/errors';
import * as doordash from '../schemas/partners/doordash';
import type { PartnerId } from '../schemas/partners/index';
import { partnerWire } from '../schemas/partners/registry';
import { type ShownStore, type StoreCall, storeCallPath } from '../schemas/partners/store-push';
import { callJson, isRetryable } from './http-client';
import { getSecret, partnerApiUrl } from './secrets';

/** Grubhub answers 409 to a pos-status the merchant already has: the partner shows what we asked. */
const alreadySo = (partner: PartnerId, call: StoreCall, status: number) =>
  partner === 'grubhub' && call.name === 'posStatus' && status === 409;

async function send(partner: PartnerId, call: StoreCall, apiKey: string): Promise<void> {
  const path = storeCallPath(call.route, call.params);
  const answer = await callJson({
    method: call.route.method,
    url: `${await partnerApiUrl(partner)}${path}`,
    headers: partnerWire[partner].apiAuthHeaders(apiKey),
    body: call.body,
  });
  const what = `${partner} ${call.route.method} ${path}`;
  if ((answer.status >= 200 && answer.status < 300) || alreadySo(partner, call, answer.status)) {
    if (partner === 'doordash' && call.name === 'itemStatus') checkItemResults(what, answer.body);
    return;
  }
  const message = `${what} answered ${answer.status}: ${JSON.stringify(answer.body ?? '').slice(0, 300)}`;
  if (isRetryable(answer.status)) throw new PartnerUnavailable(message);
  throw new PartnerRefused(answer.status, message);
}

/** DoorDash answers 200 with a result per item; an item it did not take is a failed push. */
function checkItemResults(what: string, body: unknown): void {
  const results = doordash.ItemStatusResponseSchema.safeParse(body);
  const failed = results.success ? results.data.filter((item) => item.status !== 'success') : [];
  if (!results.success || failed.length > 0) {
    throw new PartnerRefused(
      200,
      `${what}: items not taken: ${results.success ? failed.map((item) => item.merchant_supplied_id).join(', ') : 'unreadable answer'}`,
    );
  }
}

/**
 * Makes `partner` show `shown` for its store `partnerStoreId`. The calls touch different things
 * (the status, busy mode, each item or group of items), so they go out together; the first failure
 * throws once all have answered. Answers the number of calls made.
 */
export async function pushStoreToPartner(
  partner: PartnerId,
  partnerStoreId: string,
  shown: ShownStore,
  now: Date,
): Promise<number> {
  const apiKey = await getSecret(`partners/${partner}/api-key`);
  const calls = partnerWire[partner].storePushCalls(shown, partnerStoreId, now);
  const answers = await Promise.allSettled(calls.map((call) => send(partner, call, apiKey)));
  const failure = answers.find((answer) => answer.status === 'rejected');
  if (failure) throw failure.reason;
  return calls.length;
}
