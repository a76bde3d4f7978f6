/**
 * The POS simulator as a local process (default port 4020): the routes of simulators/pos/routes.ts
 * behind a local HTTP server, its order book kept across restarts in `<dataDir>/pos-simulator.json`.
 */

import { PosBookSnapshotSchema, PosOrderBook } from '../../../simulators/pos/orders';
import {
  DEV_POS_API_KEY,
  newPosState,
  type PosContext,
  type PosSimulatorState,
  posSimulatorRoutes,
} from '../../../simulators/pos/routes';
import { seededRandom } from '../../../simulators/shared/faults';
import { startJsonServer } from '../shared/http';
import { SnapshotFile } from '../shared/snapshot-file';

export type { PosOrder, PosOrderStatus } from '../../../simulators/pos/orders';
export {
  DEV_POS_API_KEY,
  POS_ENDPOINTS,
  type PosEndpoint,
  type PosSimulatorState,
} from '../../../simulators/pos/routes';

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
  /** Keeps the order book in `<dataDir>/pos-simulator.json` across restarts. Default: memory only. */
  dataDir?: string;
  /** With `dataDir`: start with an empty book and overwrite the file. */
  fresh?: boolean;
}

export interface PosSimulator {
  port: number;
  url: string;
  state: PosSimulatorState;
  /** Stops serving and writes the order book (with `dataDir`). */
  close(): Promise<void>;
}

export async function startPosSimulator(options: PosSimulatorOptions = {}): Promise<PosSimulator> {
  const host = options.host ?? '127.0.0.1';
  const random = options.seed === undefined ? Math.random : seededRandom(options.seed);
  let snapshotFile: SnapshotFile<typeof PosBookSnapshotSchema> | undefined;
  const book = new PosOrderBook(options.now ?? (() => new Date()), () => snapshotFile?.changed());
  if (options.dataDir) {
    snapshotFile = new SnapshotFile({
      dataDir: options.dataDir,
      fileName: POS_SNAPSHOT_FILE,
      fresh: options.fresh ?? false,
      schema: PosBookSnapshotSchema,
      snapshot: () => book.snapshot(),
    });
    const saved = snapshotFile.load();
    if (saved) book.restore(saved);
  }
  const state = newPosState(book, random, options.offlineStores);
  const ctx: PosContext = { state, apiKey: options.apiKey ?? DEV_POS_API_KEY };
  const server = await startJsonServer(posSimulatorRoutes(ctx), options.port ?? 4020, host);
  return {
    port: server.port,
    url: `http://${host}:${server.port}`,
    state,
    async close() {
      try {
        await server.close();
      } finally {
        await snapshotFile?.close();
      }
    },
  };
}
