/**
 * The POS simulator as a Lambda function behind its own HTTP API (non-production stages): the same
 * POS API and `_control` API as the local process (`_control` IAM-authorized on that API), checking
 * the stage's real POS API key from SSM, its order book in the simulators' DynamoDB table.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { getSecret } from '../../functions/lib/adapters/secrets';
import { requiredEnv } from '../../functions/lib/config';
import { type PosOrder, PosOrderBook } from '../pos/orders';
import {
  faultsView,
  newPosState,
  PosFaultsSchema,
  type PosSimulatorState,
  posSimulatorRoutes,
} from '../pos/routes';
import { requestOf, resultOf, type SimulatorModel, serveRequest } from './serve';
import { StateTable } from './state-table';

const table = new StateTable(requiredEnv('SIMULATOR_TABLE'), 'pos');
const ORDER = 'order#';
const KEY = 'key#';
const SEQUENCE = 'sequence';
const FAULTS = 'faults';

const posModel: SimulatorModel<PosSimulatorState> = {
  restore(items) {
    const orders: PosOrder[] = [];
    const idempotencyKeys: { key: string; posOrderId: string; fingerprint: string }[] = [];
    for (const [sk, json] of items) {
      if (sk.startsWith(ORDER)) orders.push(JSON.parse(json));
      else if (sk.startsWith(KEY)) idempotencyKeys.push({ key: sk.slice(KEY.length), ...JSON.parse(json) });
    }
    const book = new PosOrderBook(() => new Date());
    book.restore({ version: 1, sequence: Number(items.get(SEQUENCE) ?? 0), orders, idempotencyKeys });
    const state = newPosState(book, Math.random);
    const saved = items.get(FAULTS);
    if (saved) {
      const { offlineStores, dropResponseAfterWrite, ...faults } = PosFaultsSchema.parse(JSON.parse(saved));
      state.faults.set(faults);
      state.offlineStores = new Set(offlineStores);
      state.dropResponseAfterWrite = dropResponseAfterWrite;
    }
    return state;
  },
  items(state) {
    const snapshot = state.book.snapshot();
    const items = new Map<string, string>();
    for (const order of snapshot.orders) items.set(ORDER + order.posOrderId, JSON.stringify(order));
    for (const { key, posOrderId, fingerprint } of snapshot.idempotencyKeys)
      items.set(KEY + key, JSON.stringify({ posOrderId, fingerprint }));
    items.set(SEQUENCE, String(snapshot.sequence));
    items.set(FAULTS, JSON.stringify(faultsView(state)));
    return items;
  },
  async routes(state) {
    return posSimulatorRoutes({ state, apiKey: await getSecret('pos/api-key') });
  },
};

export async function handler(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
  return resultOf(await serveRequest(table, posModel, requestOf(event)));
}
