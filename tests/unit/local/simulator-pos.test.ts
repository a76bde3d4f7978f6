import { orderIdFor } from '../../../functions/lib/domain/order';
import {
  type CreatePosOrderRequest,
  CreatePosOrderResponseSchema,
  FirePosOrderResponseSchema,
  IDEMPOTENCY_KEY_HEADER,
  POS_API_KEY_HEADER,
  posPaths,
  VoidPosOrderResponseSchema,
} from '../../../functions/lib/schemas/pos';
import { type PosSimulator, startPosSimulator } from '../../../local/simulators/index';

const API_KEY = 'test-pos-key';
let pos: PosSimulator;

beforeAll(async () => {
  pos = await startPosSimulator({ port: 0, apiKey: API_KEY, offlineStores: ['store-002'], seed: 1 });
});
afterAll(() => pos.close());
beforeEach(async () => {
  await call('DELETE', '/_control/orders');
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${pos.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const reference = (n: number) => orderIdFor('doordash', `dd-${n}`);
const heldOrder = (n: number, total = 1285): CreatePosOrderRequest => ({
  reference: reference(n),
  items: [
    {
      sku: 'TACO-AL-PASTOR',
      name: 'Al Pastor Taco',
      quantity: 2,
      unitPrice: 450,
      modifiers: [{ name: 'No onions', price: 0 }],
      notes: 'extra lime',
    },
    { sku: 'DRINK-HORCHATA', name: 'Horchata', quantity: 1, unitPrice: 385, modifiers: [] },
  ],
  total,
  pickupAt: '2025-06-01T18:20:00Z',
});

const auth = { [POS_API_KEY_HEADER]: API_KEY };
const create = (request: unknown, key?: string, storeId = 'store-001', headers = auth) =>
  call('POST', posPaths.createOrder(storeId), request, {
    ...headers,
    ...(key ? { [IDEMPOTENCY_KEY_HEADER]: key } : {}),
  });
const fire = (posOrderId: string) => call('POST', posPaths.fireOrder(posOrderId), undefined, auth);
const voidIt = (posOrderId: string) => call('POST', posPaths.voidOrder(posOrderId), undefined, auth);
interface PosRow {
  posOrderId: string;
  reference: string;
  status: string;
  createRequests: number;
  total: number;
}
const posOrders = async (): Promise<PosRow[]> => (await call('GET', '/_control/orders')).body;

async function withFaults(faults: Record<string, unknown>, act: () => Promise<void>) {
  await call('PUT', '/_control/faults', faults);
  try {
    await act();
  } finally {
    await call('PUT', '/_control/faults', { offlineStores: ['store-002'] });
  }
}

describe('creating held orders', () => {
  test('creates a held order the control API lists with its reference', async () => {
    const created = await create(heldOrder(1), reference(1));

    expect(created.status).toBe(201);
    const answer = CreatePosOrderResponseSchema.parse(created.body);
    expect(answer.reference).toBe(reference(1));
    expect(await posOrders()).toEqual([
      expect.objectContaining({
        posOrderId: answer.posOrderId,
        reference: reference(1),
        storeId: 'store-001',
        status: 'held',
        createRequests: 1,
        total: 1285,
      }),
    ]);
  });

  test('the same idempotency key never makes a second order, and counts the requests', async () => {
    const first = await create(heldOrder(2), reference(2));
    const second = await create(heldOrder(2), reference(2));

    expect(second).toEqual(first);
    const orders = await posOrders();
    expect(orders).toHaveLength(1);
    expect(orders[0]?.createRequests).toBe(2);
  });

  test('the same key with a different request is 422 and changes nothing', async () => {
    await create(heldOrder(3), reference(3));
    const conflicting = await create(heldOrder(3, 9999), reference(3));

    expect(conflicting.status).toBe(422);
    expect(conflicting.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const orders = await posOrders();
    expect(orders.map((o) => [o.total, o.createRequests])).toEqual([[1285, 1]]);
  });

  test('no idempotency key is 400, a wrong API key 401, a malformed order 400', async () => {
    const noKey = await create(heldOrder(4));
    expect(noKey.status).toBe(400);
    expect(noKey.body.error.code).toBe('IDEMPOTENCY_KEY_REQUIRED');
    expect(
      (await create(heldOrder(4), reference(4), 'store-001', { [POS_API_KEY_HEADER]: 'nope' })).status,
    ).toBe(401);
    expect((await create({ ...heldOrder(4), items: [] }, reference(4))).status).toBe(400);
    expect((await create('{oops', reference(4))).status).toBe(400);
    expect(await posOrders()).toEqual([]);
  });
});

describe('fire and void', () => {
  test('held → fired; firing again is a no-op; a fired order cannot be voided', async () => {
    const { posOrderId } = (await create(heldOrder(5), reference(5))).body;

    const fired = await fire(posOrderId);
    const firedAgain = await fire(posOrderId);
    const voided = await voidIt(posOrderId);

    expect(fired.status).toBe(200);
    expect(FirePosOrderResponseSchema.parse(fired.body)).toEqual({ posOrderId, status: 'fired' });
    expect(firedAgain).toEqual(fired);
    expect(voided.status).toBe(409);
    expect((await posOrders())[0]?.status).toBe('fired');
  });

  test('held → voided; voiding again is a no-op; a voided order cannot be fired', async () => {
    const { posOrderId } = (await create(heldOrder(6), reference(6))).body;

    const voided = await voidIt(posOrderId);
    const voidedAgain = await voidIt(posOrderId);
    const fired = await fire(posOrderId);

    expect(VoidPosOrderResponseSchema.parse(voided.body)).toEqual({ status: 'voided' });
    expect(voidedAgain.status).toBe(200);
    expect(fired.status).toBe(409);
    expect((await posOrders())[0]?.status).toBe('voided');
  });

  test('an unknown POS order is 404', async () => {
    expect((await fire('pos-999999')).status).toBe(404);
  });
});

describe('faults', () => {
  test('an offline store answers 503 STORE_OFFLINE and writes nothing', async () => {
    const answer = await create(heldOrder(7), reference(7), 'store-002');

    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('STORE_OFFLINE');
    expect(await posOrders()).toEqual([]);
  });

  test('taking a store offline later stops firing its orders', async () => {
    const { posOrderId } = (await create(heldOrder(8), reference(8))).body;
    await withFaults({ offlineStores: ['store-001'] }, async () => {
      expect((await fire(posOrderId)).status).toBe(503);
    });
    expect((await fire(posOrderId)).status).toBe(200);
  });

  test('dropResponseAfterWrite: the caller sees a socket error, the order exists, a retry gets it back', async () => {
    let failure: unknown;
    await withFaults({ dropResponseAfterWrite: 1 }, async () => {
      failure = await create(heldOrder(9), reference(9)).catch((error: unknown) => error);
    });
    const retried = await create(heldOrder(9), reference(9));

    expect((failure as Error).message).toBe('fetch failed'); // the socket closed without an answer
    expect(retried.status).toBe(201);
    const orders = await posOrders();
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ posOrderId: retried.body.posOrderId, createRequests: 2 });
  });

  test('failNext fails the next calls with 503, then the POS recovers', async () => {
    await withFaults({ failNext: 2 }, async () => {
      const statuses = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await create(heldOrder(10), reference(10))).status);
      expect(statuses).toEqual([503, 503, 201]);
    });
    expect((await posOrders())[0]?.createRequests).toBe(1);
  });

  test('errorRate with a seed fails a share of calls; health reports degraded meanwhile', async () => {
    await withFaults({ errorRate: 0.5 }, async () => {
      const statuses = [];
      for (let i = 0; i < 40; i += 1)
        statuses.push((await create(heldOrder(100 + i), reference(100 + i))).status);
      const failed = statuses.filter((status) => status === 503).length;
      expect(failed).toBeGreaterThan(5);
      expect(failed).toBeLessThan(35);
      expect((await posOrders()).length).toBe(40 - failed);
      expect((await call('GET', posPaths.health(), undefined, auth)).body).toEqual({ status: 'degraded' });
    });
  });

  test('latencyMs holds every answer back at least that long', async () => {
    await withFaults({ latencyMs: 150 }, async () => {
      const started = performance.now();
      expect((await create(heldOrder(12), reference(12))).status).toBe(201);
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    });
  });

  test('DELETE /_control/faults clears everything, offline stores included', async () => {
    await call('PUT', '/_control/faults', { errorRate: 1, latencyMs: 0, offlineStores: ['store-001'] });
    const cleared = await call('DELETE', '/_control/faults');

    expect(cleared.body).toEqual({
      errorRate: 0,
      latencyMs: 0,
      failNext: 0,
      offlineStores: [],
      dropResponseAfterWrite: 0,
    });
    expect((await create(heldOrder(11), reference(11), 'store-002')).status).toBe(201);
    expect((await call('GET', posPaths.health(), undefined, auth)).body).toEqual({ status: 'ok' });
    await call('PUT', '/_control/faults', { offlineStores: ['store-002'] });
  });

  test('fault settings are validated and unknown paths are 404', async () => {
    expect((await call('PUT', '/_control/faults', { dropResponseAfterWrite: 3 })).status).toBe(400);
    expect((await call('GET', '/pos/v2/nothing')).status).toBe(404);
  });
});
