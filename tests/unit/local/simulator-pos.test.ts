import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { orderIdFor } from '../../../functions/lib/domain/order';
import {
  type CreatePosOrderRequest,
  CreatePosOrderResponseSchema,
  FindPosOrdersResponseSchema,
  FirePosOrderResponseSchema,
  IDEMPOTENCY_KEY_HEADER,
  POS_API_KEY_HEADER,
  PosOrderViewSchema,
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

interface CallOptions {
  headers?: Record<string, string>;
  /** Another simulator than the shared one (restarts). */
  at?: PosSimulator;
  signal?: AbortSignal;
}

async function call(method: string, path: string, body?: unknown, options: CallOptions = {}) {
  const response = await fetch(`${(options.at ?? pos).url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...options.headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    ...(options.signal ? { signal: options.signal } : {}),
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

const auth: Record<string, string> = { [POS_API_KEY_HEADER]: API_KEY };
const create = (request: unknown, key?: string, storeId = 'store-001', headers = auth, at?: PosSimulator) =>
  call('POST', posPaths.createOrder(storeId), request, {
    headers: { ...headers, ...(key ? { [IDEMPOTENCY_KEY_HEADER]: key } : {}) },
    at,
  });
/** Fire and void name the reference they mean: by default the one the order was made for. */
const fire = (posOrderId: string, ref: unknown, at?: PosSimulator) =>
  call('POST', posPaths.fireOrder(posOrderId), ref === undefined ? undefined : { reference: ref }, {
    headers: auth,
    at,
  });
const voidIt = (posOrderId: string, ref: unknown) =>
  call('POST', posPaths.voidOrder(posOrderId), ref === undefined ? undefined : { reference: ref }, {
    headers: auth,
  });
const findByReference = (ref: string, headers = auth) =>
  call('GET', posPaths.findOrders(ref), undefined, { headers });
const getOrder = (posOrderId: string, headers = auth) =>
  call('GET', posPaths.getOrder(posOrderId), undefined, { headers });
const storeHealth = (storeId: string, headers = auth) =>
  call('GET', posPaths.storeHealth(storeId), undefined, { headers });
interface PosRow {
  posOrderId: string;
  reference: string;
  storeId: string;
  status: string;
  createRequests: number;
  total: number;
  firedAt?: string;
  voidedAt?: string;
}
const posOrders = async (at?: PosSimulator): Promise<PosRow[]> =>
  (await call('GET', '/_control/orders', undefined, { at })).body;
const posOrder = async (posOrderId: string) =>
  (await posOrders()).find((row) => row.posOrderId === posOrderId);

/** The shared simulator's faults for one act; afterwards only store-002 stays offline. */
async function withFaults(faults: Record<string, unknown>, act: () => Promise<void>) {
  const set = await call('PUT', '/_control/faults', faults);
  expect(set.status).toBe(200);
  try {
    await act();
  } finally {
    await call('PUT', '/_control/faults', { offlineStores: ['store-002'] });
  }
}

/** Polls until `check` answers something, or fails after two seconds. */
async function eventually<T>(check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('never happened');
    await new Promise((resolve) => setTimeout(resolve, 20));
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

describe('the control listing', () => {
  test('?limit=N answers the newest N orders, in the listing’s order; without it, every order', async () => {
    for (let n = 1; n <= 5; n += 1) await create(heldOrder(n), reference(n));
    await fire((await posOrders())[3]!.posOrderId, reference(4)); // a change does not make an order newer

    const all = await posOrders();
    expect(all.map((row) => row.reference)).toEqual([1, 2, 3, 4, 5].map(reference));
    const newest = await call('GET', '/_control/orders?limit=2');
    expect(newest).toEqual({ status: 200, body: all.slice(-2) });
    expect((await call('GET', '/_control/orders?limit=1000')).body).toEqual(all);
  });

  test('a bad limit or another parameter is a 400 JSON error', async () => {
    await create(heldOrder(1), reference(1));
    for (const [query, code] of [
      ['limit=0', 'INVALID_LIMIT'],
      ['limit=1001', 'INVALID_LIMIT'],
      ['limit=abc', 'INVALID_LIMIT'],
      ['limit=2.5', 'INVALID_LIMIT'],
      ['limit=', 'INVALID_LIMIT'],
      ['limit=1&limit=2', 'INVALID_LIMIT'],
      ['status=held', 'UNKNOWN_PARAMETER'],
    ]) {
      const answer = await call('GET', `/_control/orders?${query}`);
      expect([query, answer.status, answer.body?.error?.code]).toEqual([query, 400, code]);
    }
  });
});

describe('fire and void', () => {
  test('held → fired; firing again answers the same and changes nothing', async () => {
    const { posOrderId } = (await create(heldOrder(5), reference(5))).body;

    const fired = await fire(posOrderId, reference(5));
    const firedAt = (await posOrder(posOrderId))?.firedAt;
    const firedAgain = await fire(posOrderId, reference(5));

    expect(fired.status).toBe(200);
    expect(FirePosOrderResponseSchema.parse(fired.body)).toEqual({ posOrderId, status: 'fired' });
    expect(firedAgain).toEqual(fired);
    expect(firedAt).toEqual(expect.any(String));
    expect(await posOrder(posOrderId)).toMatchObject({ status: 'fired', firedAt });
  });

  test('a fired order can be voided (a void ticket for the kitchen): firedAt kept, voidedAt set', async () => {
    const { posOrderId } = (await create(heldOrder(6), reference(6))).body;
    await fire(posOrderId, reference(6));
    const firedAt = (await posOrder(posOrderId))?.firedAt;

    const voided = await voidIt(posOrderId, reference(6));
    const voidedAgain = await voidIt(posOrderId, reference(6));
    const firedAfterVoid = await fire(posOrderId, reference(6));

    expect(voided.status).toBe(200);
    expect(VoidPosOrderResponseSchema.parse(voided.body)).toEqual({ status: 'voided' });
    expect(voidedAgain).toEqual(voided);
    expect(firedAfterVoid.status).toBe(409);
    expect(firedAfterVoid.body.error.code).toBe('ORDER_VOIDED');
    const row = await posOrder(posOrderId);
    expect(row).toMatchObject({ status: 'voided', firedAt, voidedAt: expect.any(String) });
    expect(row?.firedAt).toBe(firedAt);
  });

  test('held → voided; voiding again is a no-op; a voided order cannot be fired', async () => {
    const { posOrderId } = (await create(heldOrder(7), reference(7))).body;

    const voided = await voidIt(posOrderId, reference(7));
    const voidedAt = (await posOrder(posOrderId))?.voidedAt;
    const voidedAgain = await voidIt(posOrderId, reference(7));
    const fired = await fire(posOrderId, reference(7));

    expect(VoidPosOrderResponseSchema.parse(voided.body)).toEqual({ status: 'voided' });
    expect(voidedAgain).toEqual(voided);
    expect(fired.status).toBe(409);
    expect(fired.body.error.code).toBe('ORDER_VOIDED');
    const row = await posOrder(posOrderId);
    expect(row).toMatchObject({ status: 'voided', voidedAt });
    expect(row?.firedAt).toBeUndefined();
  });

  test('fire and void name the reference in their body: missing or malformed is 400 and changes nothing', async () => {
    const { posOrderId } = (await create(heldOrder(8), reference(8))).body;

    const answers = [
      await fire(posOrderId, undefined),
      await voidIt(posOrderId, undefined),
      await fire(posOrderId, 'not-an-order-id'),
      await voidIt(posOrderId, 42),
      await call('POST', posPaths.fireOrder(posOrderId), '{oops', { headers: auth }),
    ];

    expect(answers.map((answer) => answer.status)).toEqual([400, 400, 400, 400, 400]);
    expect(answers[0]?.body.error.code).toBe('INVALID_REQUEST');
    expect((await posOrder(posOrderId))?.status).toBe('held');
  });

  test('another order’s reference is 409 REFERENCE_MISMATCH and changes nothing', async () => {
    const { posOrderId: held } = (await create(heldOrder(9), reference(9))).body;
    const { posOrderId: fired } = (await create(heldOrder(10), reference(10))).body;
    await fire(fired, reference(10));

    const fireMismatch = await fire(held, reference(10));
    const voidHeldMismatch = await voidIt(held, reference(10));
    const voidFiredMismatch = await voidIt(fired, reference(9));

    for (const answer of [fireMismatch, voidHeldMismatch, voidFiredMismatch]) {
      expect(answer.status).toBe(409);
      expect(answer.body.error.code).toBe('REFERENCE_MISMATCH');
    }
    expect((await posOrder(held))?.status).toBe('held');
    expect(await posOrder(fired)).toMatchObject({ status: 'fired' });
    expect((await posOrder(fired))?.voidedAt).toBeUndefined();
  });

  test('an unknown POS order is 404; a wrong API key 401', async () => {
    expect((await fire('pos-999999', reference(1))).status).toBe(404);
    expect((await voidIt('pos-999999', reference(1))).status).toBe(404);
    const { posOrderId } = (await create(heldOrder(11), reference(11))).body;
    const unauthorized = await call(
      'POST',
      posPaths.fireOrder(posOrderId),
      { reference: reference(11) },
      { headers: { [POS_API_KEY_HEADER]: 'nope' } },
    );
    expect(unauthorized.status).toBe(401);
    expect((await posOrder(posOrderId))?.status).toBe('held');
  });
});

describe('finding orders', () => {
  test('by reference: the orders made under our order id, in the contract’s shape', async () => {
    const { posOrderId } = (await create(heldOrder(20), reference(20))).body;
    await create(heldOrder(21), reference(21));
    await fire(posOrderId, reference(20));

    const found = await findByReference(reference(20));

    expect(found.status).toBe(200);
    const { orders } = FindPosOrdersResponseSchema.parse(found.body);
    const row = await posOrder(posOrderId);
    expect(orders).toEqual([
      {
        posOrderId,
        reference: reference(20),
        storeId: 'store-001',
        status: 'fired',
        createdAt: expect.any(String),
        firedAt: row?.firedAt,
      },
    ]);
  });

  test('by reference: none is an empty list; missing or malformed reference is 400; no key 401', async () => {
    await create(heldOrder(22), reference(22));

    expect(await findByReference(reference(23))).toEqual({ status: 200, body: { orders: [] } });
    const missing = await call('GET', '/pos/v1/orders', undefined, { headers: auth });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toEqual({ code: 'REFERENCE_REQUIRED', message: expect.any(String) });
    const malformed = await findByReference('pos-000001');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('INVALID_REFERENCE');
    expect((await findByReference(reference(22), {})).status).toBe(401);
  });

  test('by number: the order, or 404 ORDER_NOT_FOUND; no key 401', async () => {
    const { posOrderId } = (await create(heldOrder(24), reference(24))).body;
    await voidIt(posOrderId, reference(24));

    const found = await getOrder(posOrderId);

    expect(found.status).toBe(200);
    expect(PosOrderViewSchema.parse(found.body)).toEqual({
      posOrderId,
      reference: reference(24),
      storeId: 'store-001',
      status: 'voided',
      createdAt: expect.any(String),
      voidedAt: (await posOrder(posOrderId))?.voidedAt,
    });
    const unknown = await getOrder('pos-999999');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('ORDER_NOT_FOUND');
    expect((await getOrder(posOrderId, {})).status).toBe(401);
  });

  test('lookups read the order book while the store’s POS is offline (only create, fire and void need it)', async () => {
    const { posOrderId } = (await create(heldOrder(25), reference(25))).body;
    await withFaults({ offlineStores: ['store-001'] }, async () => {
      expect((await fire(posOrderId, reference(25))).status).toBe(503);
      expect((await getOrder(posOrderId)).status).toBe(200);
      expect((await findByReference(reference(25))).body.orders).toHaveLength(1);
    });
  });
});

describe('store health', () => {
  test('200 ok for a store whose POS is reachable, 503 JSON error for an offline one, 401 without key', async () => {
    expect(await storeHealth('store-001')).toEqual({ status: 200, body: { status: 'ok' } });
    const offline = await storeHealth('store-002');
    expect(offline.status).toBe(503);
    expect(offline.body.error).toEqual({ code: 'STORE_OFFLINE', message: expect.any(String) });
    expect((await storeHealth('store-001', {})).status).toBe(401);
    expect((await call('GET', posPaths.health(), undefined, { headers: auth })).body).toEqual({
      status: 'degraded', // store-002 is offline
    });
  });

  test('an injected fault on health makes the probe see the POS failing, then it recovers', async () => {
    await withFaults({ offlineStores: ['store-002'], endpoints: ['health'], failNext: 1 }, async () => {
      const failed = await storeHealth('store-001');
      expect(failed.status).toBe(503);
      expect(failed.body.error.code).toBe('POS_UNAVAILABLE');
      expect((await storeHealth('store-001')).status).toBe(200);
    });
  });
});

describe('faults', () => {
  test('an offline store answers 503 STORE_OFFLINE and writes nothing', async () => {
    const answer = await create(heldOrder(30), reference(30), 'store-002');

    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('STORE_OFFLINE');
    expect(await posOrders()).toEqual([]);
  });

  test('taking a store offline later stops firing its orders', async () => {
    const { posOrderId } = (await create(heldOrder(31), reference(31))).body;
    await withFaults({ offlineStores: ['store-001'] }, async () => {
      expect((await fire(posOrderId, reference(31))).status).toBe(503);
    });
    expect((await fire(posOrderId, reference(31))).status).toBe(200);
  });

  test('endpoints limit the faults: only fires fail, creates, voids, lookups and health answer', async () => {
    const { posOrderId: toFire } = (await create(heldOrder(32), reference(32))).body;
    await withFaults({ errorRate: 1, endpoints: ['fire'], offlineStores: ['store-002'] }, async () => {
      const created = await create(heldOrder(33), reference(33));
      const voided = await voidIt(created.body.posOrderId, reference(33));
      const found = await findByReference(reference(32));
      const health = await storeHealth('store-001');
      const fired = await fire(toFire, reference(32));

      expect([created.status, voided.status, found.status, health.status]).toEqual([201, 200, 200, 200]);
      expect(fired.status).toBe(503);
      expect(fired.body.error.code).toBe('POS_UNAVAILABLE');
    });
    expect((await posOrder(toFire))?.status).toBe('held');
  });

  test('endpoints are validated; omitted, they are all of them', async () => {
    expect((await call('PUT', '/_control/faults', { endpoints: ['cook'] })).status).toBe(400);
    const set = await call('PUT', '/_control/faults', { errorRate: 0 });
    expect(set.body.endpoints).toEqual(['create', 'fire', 'void', 'lookup', 'health']);
    await call('PUT', '/_control/faults', { offlineStores: ['store-002'] });
  });

  test('errorStatus: injected failures answer with that status and a JSON error, and write nothing', async () => {
    for (const [errorStatus, code] of [
      [500, 'INTERNAL_SERVER_ERROR'],
      [404, 'NOT_FOUND'],
    ] as const) {
      await withFaults({ errorRate: 1, errorStatus, endpoints: ['create'] }, async () => {
        const answer = await create(heldOrder(34), reference(34));
        expect(answer.status).toBe(errorStatus);
        expect(answer.body.error).toEqual({ code, message: expect.stringContaining('injected fault') });
      });
    }
    expect(await posOrders()).toEqual([]);
  });

  test('errorStatus must be an HTTP error status (400–599)', async () => {
    for (const errorStatus of [399, 600, 503.5, '500']) {
      expect((await call('PUT', '/_control/faults', { errorRate: 1, errorStatus })).status).toBe(400);
    }
    expect((await call('GET', '/_control/faults')).body.errorRate).toBe(0);
  });

  test('dropResponseAfterWrite: the caller sees a socket error, the order exists, a retry gets it back', async () => {
    let failure: unknown;
    await withFaults({ dropResponseAfterWrite: 1 }, async () => {
      failure = await create(heldOrder(35), reference(35)).catch((error: unknown) => error);
    });
    const retried = await create(heldOrder(35), reference(35));

    expect((failure as Error).message).toBe('fetch failed'); // the socket closed without an answer
    expect(retried.status).toBe(201);
    const orders = await posOrders();
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({ posOrderId: retried.body.posOrderId, createRequests: 2 });
  });

  test('dropResponseAfterWrite on fire: no answer, but the order is fired; firing again answers', async () => {
    const { posOrderId } = (await create(heldOrder(36), reference(36))).body;
    let failure: unknown;
    await withFaults({ dropResponseAfterWrite: 1, endpoints: ['fire'] }, async () => {
      failure = await fire(posOrderId, reference(36)).catch((error: unknown) => error);
    });

    expect((failure as Error).message).toBe('fetch failed');
    expect((await posOrder(posOrderId))?.status).toBe('fired');
    expect((await fire(posOrderId, reference(36))).body).toEqual({ posOrderId, status: 'fired' });
  });

  test('dropResponseAfterWrite on void: no answer, but the order is voided; the lookup shows it', async () => {
    const { posOrderId } = (await create(heldOrder(37), reference(37))).body;
    let failure: unknown;
    await withFaults({ dropResponseAfterWrite: 1, endpoints: ['void'] }, async () => {
      failure = await voidIt(posOrderId, reference(37)).catch((error: unknown) => error);
    });

    expect((failure as Error).message).toBe('fetch failed');
    expect((await getOrder(posOrderId)).body).toMatchObject({
      status: 'voided',
      voidedAt: expect.any(String),
    });
  });

  test('a refused call is answered, not dropped: dropResponseAfterWrite applies to changes only', async () => {
    const { posOrderId } = (await create(heldOrder(38), reference(38))).body;
    await withFaults({ dropResponseAfterWrite: 1, endpoints: ['fire'] }, async () => {
      const mismatch = await fire(posOrderId, reference(39));
      expect(mismatch.status).toBe(409);
    });
    expect((await posOrder(posOrderId))?.status).toBe('held');
  });

  test('latency comes before the change: a caller that gives up first finds the order written later', async () => {
    await withFaults({ latencyMs: 500, endpoints: ['create'] }, async () => {
      const gaveUp = await call('POST', posPaths.createOrder('store-001'), heldOrder(40), {
        headers: { ...auth, [IDEMPOTENCY_KEY_HEADER]: reference(40) },
        signal: AbortSignal.timeout(50),
      }).catch((error: unknown) => error);
      const whenItGaveUp = await posOrders();

      expect((gaveUp as Error).name).toBe('TimeoutError');
      expect(whenItGaveUp).toEqual([]);
      const late = await eventually(async () => (await posOrders())[0]);
      expect(late).toMatchObject({ reference: reference(40), status: 'held', createRequests: 1 });
    });
  });

  test('failNext fails the next calls with 503, then the POS recovers', async () => {
    await withFaults({ failNext: 2 }, async () => {
      const statuses = [];
      for (let i = 0; i < 3; i += 1) statuses.push((await create(heldOrder(41), reference(41))).status);
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
      expect((await call('GET', posPaths.health(), undefined, { headers: auth })).body).toEqual({
        status: 'degraded',
      });
    });
  });

  test('latencyMs holds every answer back at least that long', async () => {
    await withFaults({ latencyMs: 150 }, async () => {
      const started = performance.now();
      expect((await create(heldOrder(42), reference(42))).status).toBe(201);
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    });
  });

  test('DELETE /_control/faults clears everything, offline stores included', async () => {
    await call('PUT', '/_control/faults', {
      errorRate: 1,
      latencyMs: 0,
      errorStatus: 500,
      endpoints: ['fire'],
      offlineStores: ['store-001'],
      dropResponseAfterWrite: 0.5,
    });
    const cleared = await call('DELETE', '/_control/faults');

    expect(cleared.body).toEqual({
      errorRate: 0,
      latencyMs: 0,
      failNext: 0,
      errorStatus: 503,
      endpoints: ['create', 'fire', 'void', 'lookup', 'health'],
      offlineStores: [],
      dropResponseAfterWrite: 0,
    });
    expect((await create(heldOrder(43), reference(43), 'store-002')).status).toBe(201);
    expect((await call('GET', posPaths.health(), undefined, { headers: auth })).body).toEqual({
      status: 'ok',
    });
    await call('PUT', '/_control/faults', { offlineStores: ['store-002'] });
  });

  test('fault settings are validated and unknown paths are 404', async () => {
    expect((await call('PUT', '/_control/faults', { dropResponseAfterWrite: 3 })).status).toBe(400);
    expect((await call('GET', '/pos/v2/nothing')).status).toBe(404);
  });
});

describe('the order book across restarts', () => {
  let dataDir: string;
  const started: PosSimulator[] = [];
  const start = async (fresh?: boolean) => {
    const simulator = await startPosSimulator({ port: 0, apiKey: API_KEY, dataDir, fresh });
    started.push(simulator);
    return simulator;
  };
  const stop = async (simulator: PosSimulator) => {
    started.splice(started.indexOf(simulator), 1);
    await simulator.close();
  };
  const snapshotFile = () => path.join(dataDir, 'pos-simulator.json');

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'pos-simulator-'));
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((simulator) => simulator.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a restart keeps the orders and their keys, and numbering goes on', async () => {
    const before = await start();
    const first = (await create(heldOrder(50), reference(50), 'store-001', auth, before)).body;
    await create(heldOrder(51), reference(51), 'store-001', auth, before);
    await fire(first.posOrderId, reference(50), before);
    const rows = await posOrders(before);
    await stop(before);

    const after = await start();
    const retried = await create(heldOrder(50), reference(50), 'store-001', auth, after);
    const reused = await create(heldOrder(50, 1), reference(50), 'store-001', auth, after);
    const next = await create(heldOrder(52), reference(52), 'store-001', auth, after);

    expect(rows.map((row) => [row.posOrderId, row.status])).toEqual([
      ['pos-000001', 'fired'],
      ['pos-000002', 'held'],
    ]);
    expect(retried).toEqual({ status: 201, body: first }); // the key still finds the first order
    expect(reused.status).toBe(422); // and still knows what it was made with
    expect(next.body.posOrderId).toBe('pos-000003');
    const kept = await posOrders(after);
    expect(kept.slice(0, 2)).toEqual([{ ...rows[0], createRequests: 2 }, rows[1]]);
    expect((await fire(first.posOrderId, reference(50), after)).status).toBe(200);
  });

  test('each change reaches the journal soon, without waiting for close', async () => {
    const simulator = await start();
    await create(heldOrder(53), reference(53), 'store-001', auth, simulator);

    const saved = await eventually(async () => {
      const lines = readFileSync(path.join(dataDir, 'pos-simulator.jsonl'), 'utf8').split('\n');
      const records = lines.filter(Boolean).map((line) => JSON.parse(line));
      return records.length > 0 ? records : undefined;
    });
    expect(saved.filter((line) => line.c === 'orders').map((line) => line.v.reference)).toEqual([
      reference(53),
    ]);
    expect(saved).toContainEqual({ c: 'counters', k: 'sequence', v: 1 });
  });

  test('fresh starts with an empty book, overwrites the file and numbers from 1 again', async () => {
    const before = await start();
    await create(heldOrder(54), reference(54), 'store-001', auth, before);
    await stop(before);

    const fresh = await start(true);
    expect(await posOrders(fresh)).toEqual([]);
    await stop(fresh);
    const after = await start();
    expect(await posOrders(after)).toEqual([]);
    expect((await create(heldOrder(54), reference(54), 'store-001', auth, after)).body.posOrderId).toBe(
      'pos-000001',
    );
  });

  test('faults are not kept across a restart', async () => {
    const before = await start();
    await create(heldOrder(55), reference(55), 'store-001', auth, before); // so there is a file to keep
    await call('PUT', '/_control/faults', { errorRate: 1, offlineStores: ['store-001'] }, { at: before });
    await stop(before);

    const after = await start();
    const faults = (await call('GET', '/_control/faults', undefined, { at: after })).body;
    expect(faults).toMatchObject({ errorRate: 0, offlineStores: [] });
    expect(await posOrders(after)).toHaveLength(1);
  });

  test('a file that is not a snapshot stops the start with its name', async () => {
    writeFileSync(snapshotFile(), '{"version":1,"orders":"nope"}');
    await expect(start()).rejects.toThrow(snapshotFile());
  });
});
