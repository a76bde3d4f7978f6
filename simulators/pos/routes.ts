/**
 * The POS simulator's routes (a local process on port 4020, a Lambda function on non-production
 * stages): the store POS API of functions/lib/schemas/pos.ts — held
 * orders created under an idempotency key, found again by reference or number, fired or voided
 * later — with fault injection for the chaos the middleware must survive (errors with any status,
 * latency, offline stores, answers lost after the write), and its order book kept across restarts.
 */
import { z } from 'zod';
import { OrderIdSchema } from '../../functions/lib/schemas/order';
import {
  CreatePosOrderRequestSchema,
  FindPosOrdersResponseSchema,
  IDEMPOTENCY_KEY_HEADER,
  POS_API_KEY_HEADER,
  type PosOrderActionRequest,
  PosOrderActionRequestSchema,
  PosStoreIdSchema,
  posApi,
} from '../../functions/lib/schemas/pos';
import { FaultInjector, faultsSchema } from '../shared/faults';
import { newestRecords } from '../shared/record-store';
import {
  type Answer,
  DROPPED,
  HttpError,
  header,
  json,
  listingLimit,
  parseWith,
  type Request,
  type Route,
} from '../shared/routes';
import { createdAnswer, orderRow, orderView, type PosOrder, type PosOrderBook } from './orders';

export type { PosOrder, PosOrderStatus } from './orders';

/** The POS endpoints faults can be limited to. */
export const POS_ENDPOINTS = ['create', 'fire', 'void', 'lookup', 'health'] as const;
export type PosEndpoint = (typeof POS_ENDPOINTS)[number];

export interface PosSimulatorState {
  book: PosOrderBook;
  faults: FaultInjector<PosEndpoint>;
  offlineStores: Set<string>;
  /** Share of creates, fires and voids (0–1) that are applied but whose answer never arrives. */
  dropResponseAfterWrite: number;
}

export const DEV_POS_API_KEY = 'dev-only-pos-api-key';

export const PosFaultsSchema = faultsSchema(POS_ENDPOINTS).extend({
  offlineStores: z.array(z.string()).default([]),
  dropResponseAfterWrite: z.number().min(0).max(1).default(0),
});

export interface PosContext {
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
function answerOrDrop(ctx: PosContext, endpoint: PosEndpoint, answer: Answer): Answer {
  const { faults, dropResponseAfterWrite } = ctx.state;
  if (faults.covers(endpoint) && faults.chance(dropResponseAfterWrite)) return DROPPED;
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
  return answerOrDrop(ctx, 'create', json(201, createdAnswer(order)));
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
    return answerOrDrop(ctx, endpoint, json(200, act(order)));
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

export function faultsView(state: PosSimulatorState) {
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
      handle: (request) => json(200, newestRecords(book.orders, listingLimit(request)).map(orderRow)),
    },
    { method: 'DELETE', pattern: '/_control/orders', handle: () => json(200, { forgotten: book.clear() }) },
    { method: 'GET', pattern: '/_control/faults', handle: () => json(200, faultsView(ctx.state)) },
    { method: 'PUT', pattern: '/_control/faults', handle: (request) => setFaults(ctx, request) },
    { method: 'DELETE', pattern: '/_control/faults', handle: () => clearFaults(ctx) },
  ];
}

/** A POS with an empty book and no faults. */
export function newPosState(
  book: PosOrderBook,
  random: () => number,
  offlineStores: string[] = [],
): PosSimulatorState {
  return {
    book,
    faults: new FaultInjector(random, POS_ENDPOINTS),
    offlineStores: new Set(offlineStores),
    dropResponseAfterWrite: 0,
  };
}

/** The POS API and its `_control` API. */
export function posSimulatorRoutes(ctx: PosContext): Route[] {
  return [...posRoutes(ctx), ...controlRoutes(ctx)];
}
