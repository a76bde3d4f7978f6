/**
 * The POS simulator (default port 4020): the store POS API of functions/lib/schemas/pos.ts — held
 * orders created under an idempotency key, found again by reference or number, fired or voided
 * later — with fault injection for the chaos the middleware must survive (errors with any status,
 * latency, offline stores, answers lost after the write), and its order book kept across restarts.
 */
import { z } from 'zod';
import { OrderIdSchema } from '../../../functions/lib/schemas/order';
import {
  CreatePosOrderRequestSchema,
  FindPosOrdersResponseSchema,
  IDEMPOTENCY_KEY_HEADER,
  POS_API_KEY_HEADER,
  type PosOrderActionRequest,
  PosOrderActionRequestSchema,
  PosStoreIdSchema,
  posApi,
} from '../../../functions/lib/schemas/pos';
import { FaultInjector, faultsSchema, seededRandom } from '../shared/faults';
import {
  type Answer,
  HttpError,
  header,
  json,
  parseWith,
  type Request,
  type Route,
  startJsonServer,
} from '../shared/http';
import { SnapshotFile } from '../shared/snapshot-file';
import {
  createdAnswer,
  orderRow,
  orderView,
  PosBookSnapshotSchema,
  type PosOrder,
  PosOrderBook,
} from './orders';

export type { PosOrder, PosOrderStatus } from './orders';

/** The POS endpoints faults can be limited to. */
export const POS_ENDPOINTS = ['create', 'fire', 'void', 'lookup', 'health'] as const;
export type PosEndpoint = (typeof POS_ENDPOINTS)[number];

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

export interface PosSimulatorState {
  book: PosOrderBook;
  faults: FaultInjector<PosEndpoint>;
  offlineStores: Set<string>;
  /** Share of creates, fires and voids (0–1) that are applied but whose answer never arrives. */
  dropResponseAfterWrite: number;
}

export interface PosSimulator {
  port: number;
  url: string;
  state: PosSimulatorState;
  /** Stops serving and writes the order book (with `dataDir`). */
  close(): Promise<void>;
}

export const DEV_POS_API_KEY = 'dev-only-pos-api-key';

const PosFaultsSchema = faultsSchema(POS_ENDPOINTS).extend({
  offlineStores: z.array(z.string()).default([]),
  dropResponseAfterWrite: z.number().min(0).max(1).default(0),
});

interface PosContext {
  state: PosSimulatorState;
  apiKey: string;
}

/** Faults first (a POS that is down does not check keys), then the key. */
async function admit(ctx: PosContext, request: Request, endpoint: PosEndpoint): Promise<void> {
  await ctx.state.faults.admit(endpoint, 'POS_UNAVAILABLE', `the POS ${endpoint} endpoint`);
  if (header(request, POS_API_KEY_HEADER) !== ctx.apiKey) {
    throw new HttpError(401, 'UNAUTHORIZED', `missing or wrong ${POS_API_KEY_HEADER}`);
  }
}

function refuseIfOffline(ctx: PosContext, storeId: string): void {
  if (ctx.state.offlineStores.has(storeId)) {
    throw new HttpError(503, 'STORE_OFFLINE', `the POS of store ${storeId} is offline`);
  }
}

function storeIdOf(request: Request): string {
  const storeId = PosStoreIdSchema.safeParse(request.params['storeId']);
  if (!storeId.success) throw new HttpError(400, 'INVALID_STORE_ID', 'the store id in the path is malformed');
  return storeId.data;
}

/**
 * The change is made, then (for a share of calls) the socket is destroyed instead of answering: the
 * caller cannot tell a lost write from a lost request, and must find out (idempotency key, lookup).
 */
function answerOrDrop(ctx: PosContext, request: Request, endpoint: PosEndpoint, answer: Answer): Answer {
  const { faults, dropResponseAfterWrite } = ctx.state;
  if (faults.covers(endpoint) && faults.chance(dropResponseAfterWrite)) {
    request.res.destroy();
    return undefined;
  }
  return answer;
}

async function createOrder(ctx: PosContext, request: Request) {
  await admit(ctx, request, 'create');
  const storeId = storeIdOf(request);
  refuseIfOffline(ctx, storeId);
  const key = header(request, IDEMPOTENCY_KEY_HEADER);
  if (!key)
    throw new HttpError(400, 'IDEMPOTENCY_KEY_REQUIRED', `${IDEMPOTENCY_KEY_HEADER} header is required`);
  const body = parseWith(CreatePosOrderRequestSchema, request);
  const { order } = ctx.state.book.create(storeId, key, body);
  return answerOrDrop(ctx, request, 'create', json(201, createdAnswer(order)));
}

/**
 * Fire and void: the body names the reference the caller means, and the POS refuses (409, no
 * effect) when the order under that number was made for another one.
 */
function orderAction(
  ctx: PosContext,
  endpoint: 'fire' | 'void',
  act: (order: PosOrder) => unknown,
): Route['handle'] {
  return async (request) => {
    await admit(ctx, request, endpoint);
    const { reference }: PosOrderActionRequest = parseWith(PosOrderActionRequestSchema, request);
    const order = ctx.state.book.find(request.params['posOrderId'] ?? '');
    refuseIfOffline(ctx, order.storeId);
    if (order.reference !== reference) {
      throw new HttpError(
        409,
        'REFERENCE_MISMATCH',
        `POS order ${order.posOrderId} was made for another reference than ${reference}`,
      );
    }
    return answerOrDrop(ctx, request, endpoint, json(200, act(order)));
  };
}

/**
 * Lookups read the POS's order book, not the store's terminal: they answer for an offline store too
 * (only create, fire and void need the store's POS).
 */
async function findOrders(ctx: PosContext, request: Request) {
  await admit(ctx, request, 'lookup');
  const references = request.query.getAll('reference');
  if (references.length !== 1)
    throw new HttpError(400, 'REFERENCE_REQUIRED', 'exactly one reference query parameter is required');
  const reference = OrderIdSchema.safeParse(references[0]);
  if (!reference.success) throw new HttpError(400, 'INVALID_REFERENCE', 'the reference is not an order id');
  const orders = ctx.state.book.byReference(reference.data).map(orderView);
  return json(200, FindPosOrdersResponseSchema.parse({ orders }));
}

async function getOrder(ctx: PosContext, request: Request) {
  await admit(ctx, request, 'lookup');
  return json(200, orderView(ctx.state.book.find(request.params['posOrderId'] ?? '')));
}

/** The per-store check the POS probe uses: is this store's POS reachable? */
async function storeHealth(ctx: PosContext, request: Request) {
  await admit(ctx, request, 'health');
  refuseIfOffline(ctx, storeIdOf(request));
  return json(200, { status: 'ok' });
}

function setFaults(ctx: PosContext, request: Request) {
  const { offlineStores, dropResponseAfterWrite, ...faults } = parseWith(PosFaultsSchema, request);
  ctx.state.faults.set(faults);
  ctx.state.offlineStores = new Set(offlineStores);
  ctx.state.dropResponseAfterWrite = dropResponseAfterWrite;
  return json(200, faultsView(ctx.state));
}

function clearFaults(ctx: PosContext) {
  ctx.state.faults.clear();
  ctx.state.offlineStores = new Set();
  ctx.state.dropResponseAfterWrite = 0;
  return json(200, faultsView(ctx.state));
}

function faultsView(state: PosSimulatorState) {
  return {
    ...state.faults.settings,
    offlineStores: [...state.offlineStores],
    dropResponseAfterWrite: state.dropResponseAfterWrite,
  };
}

function isDegraded(state: PosSimulatorState): boolean {
  const { errorRate, latencyMs, failNext, endpoints } = state.faults.settings;
  const faulty = errorRate > 0 || latencyMs > 0 || failNext > 0 || state.dropResponseAfterWrite > 0;
  return state.offlineStores.size > 0 || (faulty && endpoints.length > 0);
}

function posRoutes(ctx: PosContext): Route[] {
  const { book } = ctx.state;
  return [
    { method: 'POST', pattern: posApi.createOrder.path, handle: (request) => createOrder(ctx, request) },
    {
      method: 'POST',
      pattern: posApi.fireOrder.path,
      handle: orderAction(ctx, 'fire', (order) => {
        book.fire(order);
        return { posOrderId: order.posOrderId, status: 'fired' };
      }),
    },
    {
      method: 'POST',
      pattern: posApi.voidOrder.path,
      handle: orderAction(ctx, 'void', (order) => {
        book.void(order);
        return { status: 'voided' };
      }),
    },
    { method: 'GET', pattern: posApi.findOrders.path, handle: (request) => findOrders(ctx, request) },
    { method: 'GET', pattern: posApi.getOrder.path, handle: (request) => getOrder(ctx, request) },
    { method: 'GET', pattern: posApi.storeHealth.path, handle: (request) => storeHealth(ctx, request) },
    {
      // The POS as a whole is never faulted here: it is how a caller learns that the POS is degraded.
      method: 'GET',
      pattern: posApi.health.path,
      handle(request) {
        if (header(request, POS_API_KEY_HEADER) !== ctx.apiKey) {
          throw new HttpError(401, 'UNAUTHORIZED', `missing or wrong ${POS_API_KEY_HEADER}`);
        }
        return json(200, { status: isDegraded(ctx.state) ? 'degraded' : 'ok' });
      },
    },
  ];
}

function controlRoutes(ctx: PosContext): Route[] {
  const { book } = ctx.state;
  return [
    {
      method: 'GET',
      pattern: '/_control/orders',
      handle: () => json(200, [...book.orders.values()].map(orderRow)),
    },
    { method: 'DELETE', pattern: '/_control/orders', handle: () => json(200, { forgotten: book.clear() }) },
    { method: 'GET', pattern: '/_control/faults', handle: () => json(200, faultsView(ctx.state)) },
    { method: 'PUT', pattern: '/_control/faults', handle: (request) => setFaults(ctx, request) },
    { method: 'DELETE', pattern: '/_control/faults', handle: () => clearFaults(ctx) },
  ];
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
  const state: PosSimulatorState = {
    book,
    faults: new FaultInjector(random, POS_ENDPOINTS),
    offlineStores: new Set(options.offlineStores ?? []),
    dropResponseAfterWrite: 0,
  };
  const ctx: PosContext = { state, apiKey: options.apiKey ?? DEV_POS_API_KEY };
  const server = await startJsonServer(
    [...posRoutes(ctx), ...controlRoutes(ctx)],
    options.port ?? 4020,
    host,
  );
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
