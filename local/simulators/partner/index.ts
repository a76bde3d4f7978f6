/**
 * The partner simulator (default port 4010): plays Uber Eats, DoorDash and Grubhub at once. It sends
 * their signed webhooks to the middleware when told to through `_control`, and serves the partner
 * APIs the middleware calls back (fetch, accept, deny, status).
 */
import { readFileSync } from 'node:fs';
import { PARTNERS, type PartnerId } from '../../../functions/lib/schemas/partners/index';
import type { Store } from '../../../functions/lib/schemas/store';
import { PARTNER_SHAPES, partnerRoutes } from '../../../simulators/partner/routes';
import {
  isFinishedPartnerOrder,
  orderKey,
  PARTNER_ENDPOINTS,
  type PartnerOrder,
  PartnerOrderSchema,
  type PartnerSimulatorState,
  PartnerSnapshotSchema,
  type PartnerStore,
  PartnerStoreSchema,
  storeKey,
} from '../../../simulators/partner/state';
import type { PartnerSecrets } from '../../../simulators/partner/webhooks';
import { FaultInjector, seededRandom } from '../../../simulators/shared/faults';
import { signedFetch } from '../../cloud/sigv4';
import { startJsonServer } from '../shared/http';
import { Journal, retainedOrdersFromEnv } from '../shared/journal';

export type { PartnerOrder, PartnerSimulatorState, PartnerStore } from '../../../simulators/partner/state';
export type { PartnerSecrets, SignatureMode } from '../../../simulators/partner/webhooks';
export { PARTNER_SHAPES };

export interface PartnerSimulatorOptions {
  /** 0 picks a free port. Default 4010. */
  port?: number;
  host?: string;
  /** Where webhooks go. Default http://127.0.0.1:3000 */
  middlewareUrl?: string;
  /** Default: the development-only values of local/dev-secrets.json (stage `local`). */
  secrets?: Record<PartnerId, PartnerSecrets>;
  /** Stores with menus and partner store ids. Default: the demo stores. */
  stores?: readonly Store[];
  /** `live` (default) asks the middleware which items are available; `static` uses `stores` only. */
  menuSource?: 'live' | 'static';
  /** Seeds the PRNG behind faults and generated orders, for repeatable runs. */
  seed?: number;
  now?: () => Date;
  /**
   * Keeps the partners' orders in `<dataDir>/partner-simulator.jsonl` across restarts, with only the
   * open and the newest finished orders in memory. Default: memory only, every order whole in memory.
   */
  dataDir?: string;
  /** With `dataDir`: start with no orders and remove the file. */
  fresh?: boolean;
  /** With `dataDir`: finished orders kept whole in memory. Default: LOCAL_SIMULATOR_RETAINED_ORDERS or 500. */
  retainedOrders?: number;
}

export interface PartnerSimulator {
  port: number;
  url: string;
  state: PartnerSimulatorState;
  /** Orders the partners know, and how many of them are whole in memory (all of them without `dataDir`). */
  memoryStats(): { orders: number; ordersInMemory: number };
  /** Writes what changed to the journal now (with `dataDir`; it happens by itself within 100 ms). */
  flush(): void;
  /** Stops serving and writes the orders (with `dataDir`). */
  close(): Promise<void>;
}

export const PARTNER_JOURNAL_FILE = 'partner-simulator.jsonl';
/** The whole-state file of earlier versions, read once into the journal. */
export const PARTNER_SNAPSHOT_FILE = 'partner-simulator.json';

/** The partners' secrets from the committed development-only file: the newest signing secret of each. */
export function devPartnerSecrets(
  file: string | URL = new URL('../../dev-secrets.json', import.meta.url),
): Record<PartnerId, PartnerSecrets> {
  const { parameters } = JSON.parse(readFileSync(file, 'utf8')) as {
    parameters: Record<string, { value: string }>;
  };
  const value = (name: string) => {
    const parameter = parameters[`/order-middleware/local/${name}`];
    if (!parameter) throw new Error(`dev-secrets.json has no ${name}`);
    return parameter.value;
  };
  const secretsOf = (partner: PartnerId): PartnerSecrets => ({
    signing: value(`partners/${partner}/signing-secrets`).split(',')[0] ?? '',
    apiKey: value(`partners/${partner}/api-key`),
  });
  return Object.fromEntries(PARTNERS.map((partner) => [partner, secretsOf(partner)])) as Record<
    PartnerId,
    PartnerSecrets
  >;
}

export async function startPartnerSimulator(
  options: PartnerSimulatorOptions = {},
): Promise<PartnerSimulator> {
  const host = options.host ?? '127.0.0.1';
  const middlewareUrl = (options.middlewareUrl ?? 'http://127.0.0.1:3000').replace(/\/+$/, '');
  const secrets = options.secrets ?? devPartnerSecrets();
  const now = options.now ?? (() => new Date());
  const random = options.seed === undefined ? Math.random : seededRandom(options.seed);
  const journal = options.dataDir ? partnerJournal(options.dataDir, options) : undefined;
  const orders = journal?.orders ?? new Map<string, PartnerOrder>();
  const stores = journal?.stores ?? new Map<string, PartnerStore>();
  const state: PartnerSimulatorState = {
    orders,
    stores,
    faults: new FaultInjector(random, PARTNER_ENDPOINTS),
    // One process holds the state: the middleware's calls back see a change at once.
    persist: async () => {},
    amendOrder(key, change) {
      const order = orders.get(key);
      if (!order) return;
      change(order);
      orders.set(key, order);
    },
  };
  const routes = partnerRoutes({
    state,
    middlewareUrl,
    secrets,
    signedFetch: (url, init) => signedFetch(url, init),
    stores: options.stores,
    menuSource: options.menuSource,
    now,
    random,
  });
  const server = await startJsonServer(routes, options.port ?? 4010, host);
  return {
    port: server.port,
    url: `http://${host}:${server.port}`,
    state,
    memoryStats: () => ({ orders: orders.size, ordersInMemory: journal?.orders.inMemory ?? orders.size }),
    flush: () => journal?.file.flush(),
    async close() {
      try {
        await server.close();
      } finally {
        journal?.file.close();
      }
    },
  };
}

/** The partners' orders and stores in one journal, loaded (and compacted) now. */
function partnerJournal(dataDir: string, options: PartnerSimulatorOptions) {
  const file = new Journal({
    dataDir,
    fileName: PARTNER_JOURNAL_FILE,
    fresh: options.fresh ?? false,
    legacy: { fileName: PARTNER_SNAPSHOT_FILE, lines: legacyLines },
  });
  const orders = file.collection<PartnerOrder>('orders', {
    schema: PartnerOrderSchema,
    finished: isFinishedPartnerOrder,
    retained: options.retainedOrders ?? retainedOrdersFromEnv(),
  });
  const stores = file.collection<PartnerStore>('stores', { schema: PartnerStoreSchema });
  file.load();
  return { file, orders, stores };
}

/** `partner-simulator.json` as journal lines. */
function legacyLines(json: unknown) {
  const { orders, stores } = PartnerSnapshotSchema.parse(json);
  return [
    ...orders.map((order) => ({ c: 'orders', k: orderKey(order.partner, order.partnerOrderId), v: order })),
    ...stores.map((store) => ({ c: 'stores', k: storeKey(store.partner, store.partnerStoreId), v: store })),
  ];
}
