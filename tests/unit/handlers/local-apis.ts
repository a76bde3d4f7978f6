/**
 * The POS and partner APIs for the handler tests: the project's own POS and partner simulators,
 * started in this process on free ports (the same servers `npm start` runs, built on the same wire
 * schemas), so the handlers talk real HTTP to an order book that checks references, numbers and
 * states. `fetch` is wrapped to record every call the handlers make; failures come from the
 * simulators' fault injection, on the endpoints a test names.
 */
import type { CanonicalOrder } from '../../../functions/lib/schemas/order';
import { PARTNERS, type PartnerId } from '../../../functions/lib/schemas/partners/index';
import {
  type PartnerOrder,
  type PartnerSimulator,
  type PosOrder,
  type PosSimulator,
  startPartnerSimulator,
  startPosSimulator,
} from '../../../local/simulators/index';
import { orderKey, type PartnerOrderState } from '../../../local/simulators/partner/state';
import { PARTNER_API_KEY, POS_API_KEY, SIGNING_SECRETS } from './harness';

export interface ApiCall {
  method: string;
  /** The path without the query. */
  path: string;
  query: Record<string, string>;
  body: unknown;
}

type PosEndpoint = 'create' | 'fire' | 'void' | 'lookup';
type PartnerEndpoint = 'accept' | 'deny' | 'status';

export class LocalApis {
  readonly calls: ApiCall[] = [];
  private readonly realFetch = globalThis.fetch;

  private constructor(
    readonly pos: PosSimulator,
    readonly partner: PartnerSimulator,
  ) {}

  static async start(): Promise<LocalApis> {
    const pos = await startPosSimulator({ port: 0, apiKey: POS_API_KEY });
    const secrets = Object.fromEntries(
      PARTNERS.map((partner) => [partner, { signing: SIGNING_SECRETS[partner][0], apiKey: PARTNER_API_KEY }]),
    ) as Record<PartnerId, { signing: string; apiKey: string }>;
    const partner = await startPartnerSimulator({ port: 0, secrets, menuSource: 'static' });
    const apis = new LocalApis(pos, partner);
    apis.install();
    return apis;
  }

  /** `POS_API_URL` and `PARTNER_API_URL` for the handlers. */
  get env(): Record<string, string> {
    return { POS_API_URL: this.pos.url, PARTNER_API_URL: this.partner.url };
  }

  private install(): void {
    const realFetch = this.realFetch;
    globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      this.calls.push({
        method: init?.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
      });
      return realFetch(input, init);
    }) as typeof fetch;
  }

  async close(): Promise<void> {
    globalThis.fetch = this.realFetch;
    await Promise.all([this.pos.close(), this.partner.close()]);
  }

  /** Between tests: no calls recorded, no faults, empty order books. */
  reset(): void {
    this.calls.length = 0;
    this.pos.state.book.clear();
    this.pos.state.faults.clear();
    this.pos.state.offlineStores = new Set();
    this.partner.state.orders.clear();
    this.partner.state.faults.clear();
  }

  callsTo(method: string, pathPart: string | RegExp): ApiCall[] {
    return this.calls.filter(
      (call) =>
        call.method === method &&
        (typeof pathPart === 'string' ? call.path.includes(pathPart) : pathPart.test(call.path)),
    );
  }

  /** Calls to the POS API (every POS path starts with /pos/). */
  get posCalls(): ApiCall[] {
    return this.calls.filter((call) => call.path.startsWith('/pos/'));
  }

  // ── the POS ──────────────────────────────────────────────────────────────

  /** A held POS order made under our order id, as a create whose answer may have been lost. */
  posHolds(order: CanonicalOrder): PosOrder {
    return this.pos.state.book.create(order.storeId, order.orderId, {
      reference: order.orderId,
      items: order.items,
      total: order.total,
    }).order;
  }

  posOrder(posOrderId: string): PosOrder | undefined {
    return this.pos.state.book.orders.get(posOrderId);
  }

  /** Every POS order made under this reference, with its status. */
  posOrdersOf(reference: string): { posOrderId: string; status: string }[] {
    return this.pos.state.book
      .byReference(reference)
      .map(({ posOrderId, status }) => ({ posOrderId, status }));
  }

  /** The POS answers `status` on these endpoints, every call until `healPos()`. */
  posFails(endpoints: PosEndpoint[], status = 503): void {
    this.pos.state.faults.set({ errorRate: 1, latencyMs: 0, failNext: 0, errorStatus: status, endpoints });
  }

  healPos(): void {
    this.pos.state.faults.clear();
  }

  // ── the partner ──────────────────────────────────────────────────────────

  /** The partner knows the order, in this state (what it sent, and what it was told since). */
  partnerHolds(order: CanonicalOrder, state: PartnerOrderState = 'pending'): PartnerOrder {
    const known: PartnerOrder = {
      partner: order.partner,
      partnerOrderId: order.partnerOrderId,
      storeId: order.storeId,
      partnerStoreId: order.partnerStoreId,
      payload: { id: order.partnerOrderId },
      state,
      updates: [],
      calls: { fetch: 0, accept: 0, deny: 0, status: 0 },
      createdAt: new Date().toISOString(),
    };
    this.partner.state.orders.set(orderKey(order.partner, order.partnerOrderId), known);
    return known;
  }

  /** What the partner saw of the order: its state, deny reason and status reports. */
  partnerView(order: CanonicalOrder): PartnerOrder | undefined {
    return this.partner.state.orders.get(orderKey(order.partner, order.partnerOrderId));
  }

  /** The partner API answers `status` on these endpoints, every call until `healPartner()`. */
  partnerFails(endpoints: PartnerEndpoint[], status = 503): void {
    this.partner.state.faults.set({
      errorRate: 1,
      latencyMs: 0,
      failNext: 0,
      errorStatus: status,
      endpoints,
    });
  }

  healPartner(): void {
    this.partner.state.faults.clear();
  }
}
