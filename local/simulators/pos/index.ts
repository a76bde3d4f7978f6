/**
 * The POS simulator (default port 4020): the store POS API of functions/lib/schemas/pos.ts — held
 * orders created under an idempotency key, fired or voided later — with fault injection for the
 * chaos the middleware must survive (errors, latency, offline stores, answers lost after the write).
 */
import { z } from 'zod';
import {
  CreatePosOrderRequestSchema,
  IDEMPOTENCY_KEY_HEADER,
  POS_API_KEY_HEADER,
  PosStoreIdSchema,
  posApi,
} from '../../../functions/lib/schemas/pos';
import { BaseFaultsSchema, FaultInjector, seededRandom } from '../shared/faults';
import {
  HttpError,
  header,
  json,
  parseWith,
  type Request,
  type Route,
  startJsonServer,
} from '../shared/http';
import { createdAnswer, orderRow, type PosOrder, PosOrderBook } from './orders';

export type { PosOrder, PosOrderStatus } from './orders';

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
}

export interface PosSimulatorState {
  book: PosOrderBook;
  faults: FaultInjector;
  offlineStores: Set<string>;
  /** Share of creates (0–1) that are written but whose answer never arrives. */
  dropResponseAfterWrite: number;
}

export interface PosSimulator {
  port: number;
  url: string;
  state: PosSimulatorState;
  close(): Promise<void>;
}

export const DEV_POS_API_KEY = 'dev-only-pos-api-key';

const PosFaultsSchema = BaseFaultsSchema.extend({
  offlineStores: z.array(z.string()).default([]),
  dropResponseAfterWrite: z.number().min(0).max(1).default(0),
});

interface PosContext {
  state: PosSimulatorState;
  apiKey: string;
}

/** Faults first (a POS that is down does not check keys), then the key. */
async function admit(ctx: PosContext, request: Request): Promise<void> {
  if (await ctx.state.faults.strike())
    throw new HttpError(503, 'POS_UNAVAILABLE', 'the POS is failing (injected fault)');
  if (header(request, POS_API_KEY_HEADER) !== ctx.apiKey) {
    throw new HttpError(401, 'UNAUTHORIZED', `missing or wrong ${POS_API_KEY_HEADER}`);
  }
}

function refuseIfOffline(ctx: PosContext, storeId: string): void {
  if (ctx.state.offlineStores.has(storeId)) {
    throw new HttpError(503, 'STORE_OFFLINE', `the POS of store ${storeId} is offline`);
  }
}

async function createOrder(ctx: PosContext, request: Request) {
  await admit(ctx, request);
  const storeId = PosStoreIdSchema.safeParse(request.params['storeId']);
  if (!storeId.success) throw new HttpError(400, 'INVALID_STORE_ID', 'the store id in the path is malformed');
  refuseIfOffline(ctx, storeId.data);
  const key = header(request, IDEMPOTENCY_KEY_HEADER);
  if (!key)
    throw new HttpError(400, 'IDEMPOTENCY_KEY_REQUIRED', `${IDEMPOTENCY_KEY_HEADER} header is required`);
  const body = parseWith(CreatePosOrderRequestSchema, request);
  const { order } = ctx.state.book.create(storeId.data, key, body);
  if (ctx.state.faults.chance(ctx.state.dropResponseAfterWrite)) {
    request.res.destroy(); // written, but the caller never learns it: only the idempotency key saves it
    return undefined;
  }
  return json(201, createdAnswer(order));
}

function orderAction(ctx: PosContext, act: (order: PosOrder) => unknown): Route['handle'] {
  return async (request) => {
    await admit(ctx, request);
    const order = ctx.state.book.find(request.params['posOrderId'] ?? '');
    refuseIfOffline(ctx, order.storeId);
    return json(200, act(order));
  };
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
  const { errorRate, latencyMs, failNext } = state.faults.settings;
  return state.offlineStores.size > 0 || errorRate > 0 || latencyMs > 0 || failNext > 0;
}

function posRoutes(ctx: PosContext): Route[] {
  const { book } = ctx.state;
  return [
    { method: 'POST', pattern: posApi.createOrder.path, handle: (request) => createOrder(ctx, request) },
    {
      method: 'POST',
      pattern: posApi.fireOrder.path,
      handle: orderAction(ctx, (order) => {
        book.fire(order);
        return { posOrderId: order.posOrderId, status: 'fired' };
      }),
    },
    {
      method: 'POST',
      pattern: posApi.voidOrder.path,
      handle: orderAction(ctx, (order) => {
        book.void(order);
        return { status: 'voided' };
      }),
    },
    {
      // Health is never faulted itself: it is how a caller learns that the POS is degraded.
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
  const state: PosSimulatorState = {
    book: new PosOrderBook(options.now ?? (() => new Date())),
    faults: new FaultInjector(random),
    offlineStores: new Set(options.offlineStores ?? []),
    dropResponseAfterWrite: 0,
  };
  const ctx: PosContext = { state, apiKey: options.apiKey ?? DEV_POS_API_KEY };
  const server = await startJsonServer(
    [...posRoutes(ctx), ...controlRoutes(ctx)],
    options.port ?? 4020,
    host,
  );
  return { port: server.port, url: `http://${host}:${server.port}`, state, close: server.close };
}
