/**
 * A short load run against a running target (`npm run load -- --target local|stack:NAME`): orders
 * sent through the target's partner simulator, each accepted and then released by its courier, as
 * partners do; every call signed as an IAM client signs (the deployed `_control` APIs are
 * IAM-authorized). No faults and no restarts — the target is shared (staging, an `npm start`). It
 * passes when every order ends RELEASED with exactly one POS order, fired.
 */
import type { TargetEndpoints } from '../../tests/steps/targets';
import { signedFetch } from '../cloud/sigv4';
import { inPool, PARTNERS } from './orders';
import { type Percentiles, percentiles } from './stats';

export interface TargetLoadSettings {
  orders: number;
  concurrency: number;
  pickupInSeconds: number;
  /** How long one order may take to be accepted, then to be released. */
  stepTimeoutMs?: number;
}

export interface TargetLoadReport {
  orders: number;
  released: number;
  /** Orders that did not end RELEASED, by what they ended as (or why they could not be driven). */
  notReleased: Record<string, number>;
  /** Orders with other than one fired POS order. */
  posMismatches: number;
  timeToAcceptMs: Percentiles;
  timeToReleaseMs: Percentiles;
  ordersPerSecond: number;
  examples: string[];
  passed: boolean;
}

type Call = (method: string, url: string, body?: unknown) => Promise<{ status: number; body: any }>;

function signedCaller(target: TargetEndpoints): Call {
  return async (method, url, body) => {
    const response = await signedFetch(
      url,
      {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        ...(body !== undefined && { body: JSON.stringify(body) }),
      },
      { credentials: await target.signing.credentials(), region: target.signing.region },
    );
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };
}

/** Polls the order until it is `status` (or ended otherwise); its status and when it was seen so. */
async function untilOrderIs(call: Call, url: string, status: string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await call('GET', url);
    const now = body?.status as string | undefined;
    if (now === status) return { status: now, at: Date.now() };
    if (now && ['REJECTED', 'CANCELLED', 'FAILED'].includes(now)) return { status: now, at: Date.now() };
    if (Date.now() > deadline) return { status: `still ${now ?? 'missing'}`, at: Date.now() };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export async function loadTarget(
  target: TargetEndpoints,
  settings: TargetLoadSettings,
  onOrderDone: () => void = () => {},
): Promise<TargetLoadReport> {
  const call = signedCaller(target);
  const stepTimeoutMs = settings.stepTimeoutMs ?? 60_000;
  const accepted: number[] = [];
  const released: number[] = [];
  const endings: string[] = [];
  const examples: string[] = [];
  const orderIds: string[] = [];
  const startedAt = Date.now();
  await inPool(
    Array.from({ length: settings.orders }, (_, i) => PARTNERS[i % PARTNERS.length]!),
    settings.concurrency,
    async (partner) => {
      try {
        const sentAt = Date.now();
        const sent = await call('POST', `${target.partnerUrl}/_control/orders`, {
          partner,
          storeId: 'store-001',
          pickupInSeconds: settings.pickupInSeconds,
        });
        const orderId = sent.body?.orderId ?? sent.body?.webhookBody?.orderId;
        if (sent.status !== 201 || sent.body.webhookStatus !== 202 || !orderId) {
          endings.push(`not sent (${sent.status}/${sent.body?.webhookStatus})`);
          if (examples.length < 10) examples.push(`${partner}: ${JSON.stringify(sent.body)}`);
          return;
        }
        orderIds.push(orderId);
        const orderUrl = `${target.httpUrl}/orders/${orderId}`;
        const accept = await untilOrderIs(call, orderUrl, 'ACCEPTED', stepTimeoutMs);
        if (accept.status !== 'ACCEPTED') {
          endings.push(accept.status);
          if (examples.length < 10) examples.push(`${orderId}: ${accept.status} instead of ACCEPTED`);
          return;
        }
        accepted.push(accept.at - sentAt);
        await call(
          'POST',
          `${target.partnerUrl}/_control/orders/${partner}/${sent.body.partnerOrderId}/release`,
          {},
        );
        const release = await untilOrderIs(call, orderUrl, 'RELEASED', stepTimeoutMs);
        endings.push(release.status);
        if (release.status === 'RELEASED') released.push(release.at - accept.at);
        else if (examples.length < 10) examples.push(`${orderId}: ${release.status} instead of RELEASED`);
      } finally {
        onOrderDone();
      }
    },
  );
  const drivenMs = Date.now() - startedAt;
  // Exactly one POS order per order, fired (the POS may hold other runs' orders: only ours count).
  const pos = await call('GET', `${target.posUrl}/_control/orders`);
  const tickets = new Map<string, string[]>();
  for (const ticket of (pos.body ?? []) as Array<{ reference: string; status: string }>)
    tickets.set(ticket.reference, [...(tickets.get(ticket.reference) ?? []), ticket.status]);
  const posMismatches = orderIds.filter((id) => (tickets.get(id) ?? []).join() !== 'fired').length;
  const notReleased: Record<string, number> = {};
  for (const ending of endings.filter((e) => e !== 'RELEASED'))
    notReleased[ending] = (notReleased[ending] ?? 0) + 1;
  return {
    orders: settings.orders,
    released: released.length,
    notReleased,
    posMismatches,
    timeToAcceptMs: percentiles(accepted),
    timeToReleaseMs: percentiles(released),
    ordersPerSecond: Math.round((settings.orders / (drivenMs / 1000)) * 10) / 10,
    examples,
    passed: released.length === settings.orders && posMismatches === 0,
  };
}
