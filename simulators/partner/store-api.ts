/**
 * Each partner's store API (ARCHITECTURE section 7), on the paths of its schema module's `storeApi`
 * table: API key checked as on its order API, faults (endpoint `store`) applied, bodies read with
 * the partner's own schemas, and what the partner then shows for the store kept per partner.
 */
import * as doordash from '../../functions/lib/schemas/partners/doordash';
import * as grubhub from '../../functions/lib/schemas/partners/grubhub';
import type { PartnerId } from '../../functions/lib/schemas/partners/index';
import { partnerWire } from '../../functions/lib/schemas/partners/registry';
import * as ubereats from '../../functions/lib/schemas/partners/ubereats';
import { HttpError, header, json, parseWith, type Request, type Route } from '../shared/routes';
import { type PartnerSimulatorState, type PartnerStore, storeKey, unknownStore } from './state';
import type { PartnerSecrets } from './webhooks';

interface StoreApiContext {
  state: PartnerSimulatorState;
  partner: PartnerId;
  secrets: PartnerSecrets;
  now: () => Date;
}

type Answer = { status: number; body?: unknown };
/** Reads one call and changes the store; answers what the partner answers. */
type StoreHandler = (store: PartnerStore, request: Request, now: Date) => Answer;

const paused = (store: PartnerStore, until: string | undefined, reason: string | undefined) => {
  store.status = 'paused';
  if (until) store.pausedUntil = until;
  else delete store.pausedUntil;
  if (reason) store.reason = reason;
  else delete store.reason;
};
const online = (store: PartnerStore) => {
  store.status = 'online';
  delete store.pausedUntil;
  delete store.reason;
};
const setItem = (store: PartnerStore, sku: string, available: boolean, until?: string) => {
  if (available) delete store.unavailable[sku];
  else store.unavailable[sku] = until ? { until } : {};
};

const handlers: {
  [P in PartnerId]: Record<keyof (typeof partnerWire)[P]['storeApi'] & string, StoreHandler>;
} = {
  ubereats: {
    storeStatus(store, request) {
      const body = parseWith(ubereats.StoreStatusRequestSchema, request);
      if (body.status === 'ONLINE') online(store);
      else paused(store, body.paused_until, body.reason);
      return { status: 204 };
    },
    itemSuspension(store, request) {
      const body = parseWith(ubereats.ItemSuspensionRequestSchema, request);
      const sku = request.params['itemId'] ?? '';
      const until = body.suspension_info?.suspension.suspend_until;
      setItem(
        store,
        sku,
        body.suspension_info === null,
        until === undefined ? undefined : new Date(until * 1000).toISOString(),
      );
      return { status: 200, body: { id: sku, suspension_info: body.suspension_info } };
    },
  },
  doordash: {
    storeStatus(store, request) {
      const body = parseWith(doordash.StoreStatusRequestSchema, request);
      if (body.is_active) online(store);
      else paused(store, body.end_time, body.notes ?? body.reason);
      return { status: 200, body: { merchant_supplied_id: store.partnerStoreId, is_active: body.is_active } };
    },
    itemStatus(store, request) {
      const body = parseWith(doordash.ItemStatusRequestSchema, request);
      for (const item of body) setItem(store, item.merchant_supplied_id, item.is_active);
      return {
        status: 200,
        body: body.map((item) => ({ ...item, status: 'success' })),
      };
    },
  },
  grubhub: {
    posStatus(store, request) {
      const body = parseWith(grubhub.PosStatusRequestSchema, request);
      const already = (store.status === 'online') === (body.new_pos_status === 'ONLINE');
      if (body.new_pos_status === 'ONLINE') online(store);
      else paused(store, undefined, body.reason);
      // Grubhub answers 409 when the merchant already has that status; the caller counts it a success.
      return already
        ? { status: 409, body: { error: { code: 'ALREADY_IN_STATUS', message: body.new_pos_status } } }
        : { status: 204 };
    },
    startBusy(store, request) {
      const body = parseWith(grubhub.BusyRequestSchema, request);
      store.extraPrepMinutes = Math.round(body.eta_increase_seconds / 60);
      if (body.end_time) store.busyUntil = body.end_time;
      else delete store.busyUntil;
      return { status: 204 };
    },
    endBusy(store) {
      delete store.extraPrepMinutes;
      delete store.busyUntil;
      return { status: 204 };
    },
    menuOverrides(store, request) {
      const { entity_ids, schedule_override } = parseWith(grubhub.MenuOverrideRequestSchema, request);
      for (const sku of entity_ids)
        setItem(store, sku, schedule_override.show_or_hide === 'SHOW', schedule_override.end);
      return { status: 200, body: { entity_ids, schedule_override } };
    },
  },
};

function checkApiKey(ctx: StoreApiContext, request: Request): void {
  const expected = partnerWire[ctx.partner].apiAuthHeaders(ctx.secrets.apiKey);
  const presented = Object.entries(expected).every(([name, value]) => header(request, name) === value);
  if (!presented) throw new HttpError(401, 'UNAUTHORIZED', `missing or wrong ${ctx.partner} API credentials`);
}

/** The store routes of one partner, from its schema module's `storeApi` table. */
export function storeApiRoutes(ctx: StoreApiContext): Route[] {
  const routes = partnerWire[ctx.partner].storeApi;
  const partnerHandlers = handlers[ctx.partner] as Record<string, StoreHandler>;
  return Object.entries(routes).map(([name, route]) => ({
    method: route.method,
    pattern: route.path,
    async handle(request: Request) {
      await ctx.state.faults.admit('store', 'PARTNER_UNAVAILABLE', `${ctx.partner} store ${name}`);
      checkApiKey(ctx, request);
      const handler = partnerHandlers[name];
      if (!handler) throw new HttpError(404, 'NOT_FOUND', `${ctx.partner} has no store call ${name}`);
      const partnerStoreId = request.params['storeId'] ?? '';
      const key = storeKey(ctx.partner, partnerStoreId);
      const store = structuredClone(ctx.state.stores.get(key) ?? unknownStore(ctx.partner, partnerStoreId));
      const now = ctx.now();
      // A body the schema refuses throws before anything changes; the update is recorded only once read.
      const answer = handler(store, request, now);
      store.updates.push({
        at: now.toISOString(),
        call: name,
        ...(request.rawBody.trim() === '' ? {} : { body: JSON.parse(request.rawBody) }),
      });
      ctx.state.stores.set(key, store);
      if (answer.body !== undefined) return json(answer.status, answer.body);
      return { status: answer.status };
    },
  }));
}
