/**
 * The POS simulator as a local process (default port 4020): the routes of simulators/pos/routes.ts
 * behind a local HTTP server, its order book kept across restarts in `<dataDir>/pos-simulator.jsonl`
 * (a journal: shared/journal.ts), with only the held orders and the newest finished ones in memory.
 */

import { z } from 'zod';
import {
  IdempotencyRecordSchema,
  isFinishedPosOrder,
  PosBookSnapshotSchema,
  type PosOrder,
  PosOrderBook,
  PosOrderRecordSchema,
} from '../../../simulators/pos/orders';
import {
  DEV_POS_API_KEY,
  newPosState,
  type PosContext,
  type PosSimulatorState,
  posSimulatorRoutes,
} from '../../../simulators/pos/routes';
import { seededRandom } from '../../../simulators/shared/faults';
import { startJsonServer } from '../shared/http';
import { Journal, retainedOrdersFromEnv } from '../shared/journal';

export type { PosOrder, PosOrderStatus } from '../../../simulators/pos/orders';
export {
  DEV_POS_API_KEY,
  POS_ENDPOINTS,
  type PosEndpoint,
  type PosSimulatorState,
} from '../../../simulators/pos/routes';

export const POS_JOURNAL_FILE = 'pos-simulator.jsonl';
/** The whole-book file of earlier versions, read once into the journal. */
export const POS_SNAPSHOT_FILE = 'pos-simulator.json';

export interface PosSimulatorOptions {
  /** 0 picks a free port. Default 4020. */
  port?: number;
  host?: string;
  /** What the middleware must send in X-Pos-Api-Key. Default: the development-only key. */
  apiKey?: string;
  /** Stores whose POS is unreachable from the start. */
  offlineStores?: string[];
  /** Seeds the PRNG behind errorRate and dropResponseAfterWrite, for repeatable runs. */
  seed?: number;
  now?: () => Date;
  /**
   * Keeps the order book in `<dataDir>/pos-simulator.jsonl` across restarts, with only the held and
   * the newest finished orders in memory. Default: memory only, every order kept whole in memory.
   */
  dataDir?: string;
  /** With `dataDir`: start with an empty book and remove the file. */
  fresh?: boolean;
  /** With `dataDir`: finished orders kept whole in memory. Default: LOCAL_SIMULATOR_RETAINED_ORDERS or 500. */
  retainedOrders?: number;
}

export interface PosSimulator {
  port: number;
  url: string;
  state: PosSimulatorState;
  /** Orders in the book, and how many of them are whole in memory (all of them without `dataDir`). */
  memoryStats(): { orders: number; ordersInMemory: number };
  /** Writes what changed to the journal now (with `dataDir`; it happens by itself within 100 ms). */
  flush(): void;
  /** Stops serving and writes the order book (with `dataDir`). */
  close(): Promise<void>;
}

export async function startPosSimulator(options: PosSimulatorOptions = {}): Promise<PosSimulator> {
  const host = options.host ?? '127.0.0.1';
  const random = options.seed === undefined ? Math.random : seededRandom(options.seed);
  const journal = options.dataDir ? posJournal(options.dataDir, options) : undefined;
  const book = new PosOrderBook(options.now ?? (() => new Date()), journal?.records);
  const state = newPosState(book, random, options.offlineStores);
  const ctx: PosContext = { state, apiKey: options.apiKey ?? DEV_POS_API_KEY };
  const server = await startJsonServer(posSimulatorRoutes(ctx), options.port ?? 4020, host);
  return {
    port: server.port,
    url: `http://${host}:${server.port}`,
    state,
    memoryStats: () => ({
      orders: book.orders.size,
      ordersInMemory: journal?.records.orders.inMemory ?? book.orders.size,
    }),
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

/** The book's three kinds of record in one journal, loaded (and compacted) now. */
function posJournal(dataDir: string, options: PosSimulatorOptions) {
  const file = new Journal({
    dataDir,
    fileName: POS_JOURNAL_FILE,
    fresh: options.fresh ?? false,
    legacy: { fileName: POS_SNAPSHOT_FILE, lines: legacyLines },
  });
  // Each write puts the collections' lines in this order. The counter goes first: a write cut off
  // by a crash then never keeps an order whose number the counter has not passed (it would be
  // given again, over that order).
  const records = {
    counters: file.collection('counters', { schema: z.number().int().nonnegative() }),
    orders: file.collection<PosOrder>('orders', {
      schema: PosOrderRecordSchema,
      finished: isFinishedPosOrder,
      retained: options.retainedOrders ?? retainedOrdersFromEnv(),
    }),
    keys: file.collection('keys', { schema: IdempotencyRecordSchema }),
  };
  file.load();
  return { file, records };
}

/** `pos-simulator.json` as journal lines. */
function legacyLines(json: unknown) {
  const { sequence, orders, idempotencyKeys } = PosBookSnapshotSchema.parse(json);
  return [
    { c: 'counters', k: 'sequence', v: sequence },
    ...orders.map((order) => ({ c: 'orders', k: order.posOrderId, v: order })),
    ...idempotencyKeys.map(({ key, ...seen }) => ({ c: 'keys', k: key, v: seen })),
  ];
}
