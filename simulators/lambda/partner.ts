/**
 * The partner simulator as a Lambda function behind its own HTTP API (non-production stages): the
 * same partner APIs and `_control` API as the local process (`_control` IAM-authorized on that API),
 * webhooks signed with the stage's real secrets from SSM and sent to the stack's own HTTP API, state
 * in the simulators' DynamoDB table (state-table.ts says how and why).
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { getSecret } from '../../functions/lib/adapters/secrets';
import { requiredEnv } from '../../functions/lib/config';
import { PARTNERS, type PartnerId } from '../../functions/lib/schemas/partners/index';
import { partnerRoutes } from '../partner/routes';
import {
  orderKey,
  PARTNER_ENDPOINTS,
  type PartnerOrder,
  type PartnerSimulatorState,
  type PartnerStore,
  storeKey,
} from '../partner/state';
import type { PartnerSecrets } from '../partner/webhooks';
import { FaultInjector, faultsSchema } from '../shared/faults';
import { requestOf, resultOf, type SimulatorModel, serveRequest } from './serve';
import { roleSignedFetch } from './signed-fetch';
import { StateTable } from './state-table';

const table = new StateTable(requiredEnv('SIMULATOR_TABLE'), 'partner');
const PartnerFaultsSchema = faultsSchema(PARTNER_ENDPOINTS);
const ORDER = 'order#';
const STORE = 'store#';
const FAULTS = 'faults';

/** Each partner's newest signing secret and the API key the middleware must present, from SSM. */
async function stageSecrets(): Promise<Record<PartnerId, PartnerSecrets>> {
  const secrets = await Promise.all(
    PARTNERS.map(async (partner) => {
      const [signing, apiKey] = await Promise.all([
        getSecret(`partners/${partner}/signing-secrets`),
        getSecret(`partners/${partner}/api-key`),
      ]);
      return [partner, { signing: signing.split(',')[0]?.trim() ?? '', apiKey }] as const;
    }),
  );
  return Object.fromEntries(secrets) as Record<PartnerId, PartnerSecrets>;
}

const partnerModel: SimulatorModel<PartnerSimulatorState> = {
  restore(items, hooks) {
    const orders = new Map<string, PartnerOrder>();
    const stores = new Map<string, PartnerStore>();
    const faults = new FaultInjector(Math.random, PARTNER_ENDPOINTS);
    // Items this function wrote itself: read back as written, so an unchanged one compares equal.
    for (const [sk, json] of items) {
      if (sk.startsWith(ORDER)) orders.set(sk.slice(ORDER.length), JSON.parse(json));
      else if (sk.startsWith(STORE)) stores.set(sk.slice(STORE.length), JSON.parse(json));
      else if (sk === FAULTS) faults.set(PartnerFaultsSchema.parse(JSON.parse(json)));
    }
    return {
      orders,
      stores,
      faults,
      persist: () => hooks.persist(),
      amendOrder(key, change) {
        const order = orders.get(key);
        if (order) change(order);
        hooks.amend((state) => {
          const again = state.orders.get(key);
          if (again) change(again);
        });
      },
    };
  },
  items(state) {
    const items = new Map<string, string>();
    for (const order of state.orders.values())
      items.set(ORDER + orderKey(order.partner, order.partnerOrderId), JSON.stringify(order));
    for (const store of state.stores.values())
      items.set(STORE + storeKey(store.partner, store.partnerStoreId), JSON.stringify(store));
    items.set(FAULTS, JSON.stringify(state.faults.settings));
    return items;
  },
  async routes(state) {
    return partnerRoutes({
      state,
      middlewareUrl: requiredEnv('MIDDLEWARE_URL').replace(/\/+$/, ''),
      secrets: await stageSecrets(),
      signedFetch: roleSignedFetch,
      now: () => new Date(),
      random: Math.random,
    });
  },
};

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  return resultOf(await serveRequest(table, partnerModel, requestOf(event)));
}
