/**
 * The local simulators keep bounded memory (issue 12): with a data folder, only the orders that may
 * still change and the newest N finished ones stay whole in memory; older ones live in the journal
 * and are read back from it. Each simulator here has a twin kept wholly in memory (no data folder)
 * that gets the very same calls at the same clock: whatever was evicted must answer exactly as the
 * twin does — by id, by reference, in the `_control` listings, after a late change and a restart.
 */
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { orderIdFor } from '../../../functions/lib/domain/order';
import { type PartnerId, partnerApiPath } from '../../../functions/lib/schemas/partners/index';
import { partnerWire } from '../../../functions/lib/schemas/partners/registry';
import {
  type CreatePosOrderRequest,
  IDEMPOTENCY_KEY_HEADER,
  POS_API_KEY_HEADER,
  posPaths,
} from '../../../functions/lib/schemas/pos';
import {
  type PartnerSecrets,
  type PartnerSimulator,
  type PosSimulator,
  startPartnerSimulator,
  startPosSimulator,
} from '../../../local/simulators/index';

const RETAINED = 3;
const clock = new Date('2025-06-01T18:00:00Z');
let dataDir: string;
const running: { close(): Promise<void> }[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'simulator-retention-'));
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((simulator) => simulator.close()));
  rmSync(dataDir, { recursive: true, force: true });
});

async function stop(simulator: { close(): Promise<void> }) {
  running.splice(running.indexOf(simulator), 1);
  await simulator.close();
}

async function call(base: string, method: string, route: string, body?: unknown, headers = {}) {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** The journal's bytes from `offset` on, as parsed lines. */
function linesFrom(file: string, offset: number): { c: string; k: string; v: Record<string, unknown> }[] {
  return readFileSync(file)
    .subarray(offset)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

// ── the POS ────────────────────────────────────────────────────────────────────

describe('the POS simulator with a data folder', () => {
  const API_KEY = 'retention-pos-key';
  const auth = { [POS_API_KEY_HEADER]: API_KEY };
  const journal = () => path.join(dataDir, 'pos-simulator.jsonl');
  const reference = (n: number) => orderIdFor('doordash', `dd-retained-${n}`);
  const posOrderId = (n: number) => `pos-${String(n).padStart(6, '0')}`;
  const request = (n: number, total = 1285): CreatePosOrderRequest => ({
    reference: reference(n),
    items: [{ sku: 'TACO-AL-PASTOR', name: 'Al Pastor Taco', quantity: 2, unitPrice: 450, modifiers: [] }],
    total,
  });

  let twin: PosSimulator;
  const start = async () => {
    const simulator = await startPosSimulator({
      port: 0,
      apiKey: API_KEY,
      now: () => clock,
      dataDir,
      retainedOrders: RETAINED,
    });
    running.push(simulator);
    return simulator;
  };
  beforeEach(async () => {
    twin = await startPosSimulator({ port: 0, apiKey: API_KEY, now: () => clock });
    running.push(twin);
  });

  /** The same call to the simulator under test and to its twin; both answers. */
  const both = async (pos: PosSimulator, method: string, route: string, body?: unknown, headers = {}) => {
    const answers = [];
    for (const at of [pos, twin])
      answers.push(await call(at.url, method, route, body, { ...auth, ...headers }));
    return answers;
  };
  const create = (pos: PosSimulator, n: number, total?: number) =>
    both(pos, 'POST', posPaths.createOrder('store-001'), request(n, total), {
      [IDEMPOTENCY_KEY_HEADER]: reference(n),
    });
  const act = (pos: PosSimulator, action: 'fire' | 'void', n: number) =>
    both(pos, 'POST', posPaths[`${action}Order`](posOrderId(n)), { reference: reference(n) });
  /** Orders `from` to `to`, created and fired: finished, so only the newest stay in memory. */
  async function firedOrders(pos: PosSimulator, from: number, to: number) {
    for (let n = from; n <= to; n += 1) {
      await create(pos, n);
      await act(pos, 'fire', n);
    }
  }

  /** Every read a caller can make answers as the twin's does. */
  async function expectSameAsTwin(pos: PosSimulator, count: number) {
    for (let n = 1; n <= count; n += 1) {
      const [byId, twinById] = await both(pos, 'GET', posPaths.getOrder(posOrderId(n)));
      expect(byId).toEqual(twinById);
      const [byReference, twinByReference] = await both(pos, 'GET', posPaths.findOrders(reference(n)));
      expect(byReference).toEqual(twinByReference);
      expect(byReference?.body.orders).toHaveLength(1);
    }
    const [listing, twinListing] = await both(pos, 'GET', '/_control/orders');
    expect(listing?.body).toHaveLength(count);
    expect(listing).toEqual(twinListing);
    const [newest, twinNewest] = await both(pos, 'GET', '/_control/orders?limit=3');
    expect(newest?.body).toEqual(listing?.body.slice(-3));
    expect(newest).toEqual(twinNewest);
  }

  test('keeps the held and the newest finished orders in memory; the rest answer from the journal, also after a restart', async () => {
    let pos = await start();
    for (let n = 1; n <= 10; n += 1) await create(pos, n);
    for (let n = 1; n <= 6; n += 1) await act(pos, 'fire', n);
    for (const n of [7, 8]) await act(pos, 'void', n);
    pos.flush();

    // Held 9 and 10, and the three newest finished (6, 7, 8).
    expect(pos.memoryStats()).toEqual({ orders: 10, ordersInMemory: 2 + RETAINED });
    await expectSameAsTwin(pos, 10);
    pos.flush();
    expect(pos.memoryStats()).toEqual({ orders: 10, ordersInMemory: 2 + RETAINED }); // read back, let go again

    // An evicted order's idempotency key still finds it, and still knows what it was made with.
    const [retried, twinRetried] = await create(pos, 1);
    expect(retried).toEqual(twinRetried);
    expect(retried).toEqual({
      status: 201,
      body: { posOrderId: posOrderId(1), reference: reference(1), status: 'held' },
    });
    const [reused] = await create(pos, 1, 999);
    expect(reused?.status).toBe(422);

    // Three newer finished orders push every one of 1–8 out; then a fired one is voided late.
    await firedOrders(pos, 11, 13);
    pos.flush();
    expect(pos.memoryStats()).toEqual({ orders: 13, ordersInMemory: 2 + RETAINED });
    const before = statSync(journal()).size;
    const [voided, twinVoided] = await act(pos, 'void', 2);
    pos.flush();

    expect(voided).toEqual({ status: 200, body: { status: 'voided' } });
    expect(voided).toEqual(twinVoided);
    // What a change costs: one line, the voided order's, whatever the number of orders.
    expect(linesFrom(journal(), before)).toEqual([
      { c: 'orders', k: posOrderId(2), v: expect.objectContaining({ status: 'voided' }) },
    ]);
    expect(pos.memoryStats()).toEqual({ orders: 13, ordersInMemory: 2 + RETAINED });
    await expectSameAsTwin(pos, 13);

    // A restart finds every order, the same bound, the numbering and the keys.
    await stop(pos);
    pos = await start();
    expect(pos.memoryStats()).toEqual({ orders: 13, ordersInMemory: 2 + RETAINED });
    await expectSameAsTwin(pos, 13);
    const [next, twinNext] = await create(pos, 14);
    expect(next).toEqual(twinNext);
    expect(next?.body.posOrderId).toBe(posOrderId(14));
    expect((await create(pos, 3))[0]).toEqual({
      status: 201,
      body: { posOrderId: posOrderId(3), reference: reference(3), status: 'held' },
    });
    expect((await create(pos, 3, 1))[0]?.status).toBe(422);
  });

  test('a torn last line (a crash mid-write) is ignored, and what follows is kept', async () => {
    let pos = await start();
    await firedOrders(pos, 1, 5);
    await stop(pos);
    appendFileSync(journal(), '{"c":"orders","k":"pos-000009","v":{"posOrderId":"pos-0');

    pos = await start();
    await expectSameAsTwin(pos, 5);
    await act(pos, 'void', 1);
    await create(pos, 6);
    await stop(pos);
    pos = await start();

    await expectSameAsTwin(pos, 6);
    expect((await create(pos, 7))[0]?.body.posOrderId).toBe(posOrderId(7));
  });

  test('a create torn off in its last line (a crash mid-write) never hands out a kept order number again', async () => {
    let pos = await start();
    await create(pos, 1);
    pos.flush();
    await create(pos, 2);
    await stop(pos);
    // Cut the file inside its last line: the end of the second create's lines is lost.
    const kept = readFileSync(journal());
    const lastLine = kept.lastIndexOf('\n', kept.length - 2) + 1;
    truncateSync(journal(), lastLine + Math.floor((kept.length - lastLine) / 2));

    pos = await start();
    const numbers = (await call(pos.url, 'GET', '/_control/orders')).body.map(
      (row: { posOrderId: string }) => row.posOrderId,
    );
    const next = await call(pos.url, 'POST', posPaths.createOrder('store-001'), request(3), {
      ...auth,
      [IDEMPOTENCY_KEY_HEADER]: reference(3),
    });

    expect(next.status).toBe(201);
    expect(numbers).not.toContain(next.body.posOrderId);
  });

  test('a create torn off before its idempotency key reached the file: a retry under that key still finds its order', async () => {
    let pos = await start();
    await create(pos, 1);
    pos.flush();
    const first = await call(pos.url, 'POST', posPaths.createOrder('store-001'), request(2), {
      ...auth,
      [IDEMPOTENCY_KEY_HEADER]: reference(2),
    });
    await stop(pos);
    // The key is the create's last line: cut inside it, the order is kept without it.
    const kept = readFileSync(journal());
    const lastLine = kept.lastIndexOf('\n', kept.length - 2) + 1;
    expect(kept.subarray(lastLine).toString()).toContain(reference(2));
    truncateSync(journal(), lastLine + Math.floor((kept.length - lastLine) / 2));

    pos = await start();
    const again = await call(pos.url, 'POST', posPaths.createOrder('store-001'), request(2), {
      ...auth,
      [IDEMPOTENCY_KEY_HEADER]: reference(2),
    });
    const orders = (await call(pos.url, 'GET', '/_control/orders')).body;

    expect(again.body.posOrderId).toBe(first.body.posOrderId);
    expect(orders).toHaveLength(2);
  });

  test('a data folder emptied while it runs (the cloud started fresh after it) is written again whole', async () => {
    let pos = await start();
    await firedOrders(pos, 1, 5);
    pos.flush();
    rmSync(dataDir, { recursive: true, force: true });
    await create(pos, 6);
    await stop(pos);
    pos = await start();

    await expectSameAsTwin(pos, 6);
  });

  test('LOCAL_SIMULATOR_RETAINED_ORDERS sets the bound; a value that is no number stops the start', async () => {
    const withSetting = async (setting: string) => {
      process.env['LOCAL_SIMULATOR_RETAINED_ORDERS'] = setting;
      try {
        const pos = await startPosSimulator({ port: 0, apiKey: API_KEY, now: () => clock, dataDir });
        running.push(pos);
        return pos;
      } finally {
        delete process.env['LOCAL_SIMULATOR_RETAINED_ORDERS'];
      }
    };
    const pos = await withSetting('1');
    await firedOrders(pos, 1, 3);
    pos.flush();

    expect(pos.memoryStats()).toEqual({ orders: 3, ordersInMemory: 1 });
    await expect(withSetting('lots')).rejects.toThrow('LOCAL_SIMULATOR_RETAINED_ORDERS');
  });

  test('forgetting every order is kept across a restart, and numbering goes on', async () => {
    let pos = await start();
    await firedOrders(pos, 1, 5);
    pos.flush();
    await both(pos, 'DELETE', '/_control/orders');
    await create(pos, 6);
    await stop(pos);
    pos = await start();

    const [listing, twinListing] = await both(pos, 'GET', '/_control/orders');
    expect(listing).toEqual(twinListing);
    expect(listing?.body.map((row: { posOrderId: string }) => row.posOrderId)).toEqual([posOrderId(6)]);
    expect(pos.memoryStats()).toEqual({ orders: 1, ordersInMemory: 1 });
    expect((await create(pos, 1))[0]?.body.posOrderId).toBe(posOrderId(7));
  });

  test('a damaged line before the last stops the start with the file name', async () => {
    const pos = await start();
    await create(pos, 1);
    await stop(pos);
    const kept = readFileSync(journal(), 'utf8');
    writeFileSync(journal(), `{"c":"orders","k":"pos-0\n${kept}`);

    await expect(start()).rejects.toThrow(journal());
  });

  test('the whole-book file of earlier versions is read into the journal once', async () => {
    const order = {
      posOrderId: posOrderId(5),
      reference: reference(5),
      storeId: 'store-001',
      status: 'fired',
      createRequests: 1,
      idempotencyKey: reference(5),
      request: request(5),
      createdAt: clock.toISOString(),
      firedAt: clock.toISOString(),
    };
    const legacy = path.join(dataDir, 'pos-simulator.json');
    writeFileSync(
      legacy,
      JSON.stringify({
        version: 1,
        sequence: 5,
        orders: [order],
        // Fingerprints were the request's stable JSON then.
        idempotencyKeys: [
          {
            key: reference(5),
            posOrderId: posOrderId(5),
            fingerprint: stableRequest('store-001', request(5)),
          },
        ],
      }),
    );

    const pos = await start();
    const listing = (await call(pos.url, 'GET', '/_control/orders')).body;
    const retried = await call(pos.url, 'POST', posPaths.createOrder('store-001'), request(5), {
      ...auth,
      [IDEMPOTENCY_KEY_HEADER]: reference(5),
    });
    const next = await call(pos.url, 'POST', posPaths.createOrder('store-001'), request(6), {
      ...auth,
      [IDEMPOTENCY_KEY_HEADER]: reference(6),
    });

    expect(listing).toEqual([expect.objectContaining({ posOrderId: posOrderId(5), status: 'fired' })]);
    expect(retried.body.posOrderId).toBe(posOrderId(5));
    expect(next.body.posOrderId).toBe(posOrderId(6));
    expect(() => statSync(legacy)).toThrow();
  });
});

/** The POS's fingerprint before digests: the request's JSON with keys sorted. */
function stableRequest(storeId: string, request: CreatePosOrderRequest): string {
  const sorted = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(sorted)
      : value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((key) => [key, sorted((value as Record<string, unknown>)[key])]),
          )
        : value;
  return JSON.stringify(sorted({ storeId, request }));
}

// ── the partners ───────────────────────────────────────────────────────────────

describe('the partner simulator with a data folder', () => {
  const secrets: Record<PartnerId, PartnerSecrets> = {
    ubereats: { signing: 'ue-secret', apiKey: 'ue-key' },
    doordash: { signing: 'dd-token', apiKey: 'dd-key' },
    grubhub: { signing: 'gh-secret', apiKey: 'gh-key' },
  };
  const ue = partnerWire.ubereats;
  const ueAuth = ue.apiAuthHeaders(secrets.ubereats.apiKey);
  const journal = () => path.join(dataDir, 'partner-simulator.jsonl');
  const id = (n: number) => `ue-retained-${n}`;
  let middleware: Server;
  let middlewareUrl: string;
  let twin: PartnerSimulator;

  // The middleware takes every webhook; what the partner then shows is driven through its API here.
  beforeAll(async () => {
    middleware = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const partnerOrderId = req.url?.split('/')[4] ?? 'new';
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ orderId: orderIdFor('ubereats', partnerOrderId), status: 'RECEIVED' }));
      });
    });
    await new Promise<void>((resolve) => middleware.listen(0, '127.0.0.1', resolve));
    middlewareUrl = `http://127.0.0.1:${(middleware.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => middleware.close(() => resolve())));

  const options = () => ({
    port: 0,
    middlewareUrl,
    secrets,
    seed: 7,
    now: () => clock,
    menuSource: 'static' as const,
  });
  const start = async () => {
    const simulator = await startPartnerSimulator({ ...options(), dataDir, retainedOrders: RETAINED });
    running.push(simulator);
    return simulator;
  };
  beforeEach(async () => {
    twin = await startPartnerSimulator(options());
    running.push(twin);
  });

  const both = async (
    partner: PartnerSimulator,
    method: string,
    route: string,
    body?: unknown,
    headers = {},
  ) => {
    const answers = [];
    for (const at of [partner, twin]) answers.push(await call(at.url, method, route, body, headers));
    return answers;
  };
  const place = (partner: PartnerSimulator, n: number) =>
    both(partner, 'POST', '/_control/orders', {
      partner: 'ubereats',
      storeId: 'store-001',
      partnerOrderId: id(n),
    });
  const api = (partner: PartnerSimulator, name: 'accept' | 'deny' | 'status', n: number, body: object) =>
    both(partner, 'POST', partnerApiPath(ue.api[name], id(n)), body, ueAuth);
  const release = (partner: PartnerSimulator, n: number) =>
    both(partner, 'POST', `/_control/orders/ubereats/${id(n)}/release`, {});

  async function expectSameAsTwin(partner: PartnerSimulator, count: number) {
    for (let n = 1; n <= count; n += 1) {
      const [view, twinView] = await both(partner, 'GET', `/_control/orders/ubereats/${id(n)}`);
      expect(view).toEqual(twinView);
      expect(view?.status).toBe(200);
    }
    const [listing, twinListing] = await both(partner, 'GET', '/_control/orders');
    expect(listing?.body).toHaveLength(count);
    expect(listing).toEqual(twinListing);
  }

  test('keeps the open and the newest finished orders in memory; an evicted one still answers and takes a late report', async () => {
    let partner = await start();
    for (let n = 1; n <= 8; n += 1) await place(partner, n);
    for (const n of [1, 2, 3, 4, 5, 7])
      await api(partner, 'accept', n, ue.buildAcceptRequest(`pos-00000${n}`));
    for (let n = 1; n <= 5; n += 1) await release(partner, n);
    await api(partner, 'deny', 6, ue.buildDenyRequest('STORE_OFFLINE'));
    partner.flush();

    // Open: 7 (accepted, not released) and 8 (pending); finished in memory: the newest three (4, 5, 6).
    expect(partner.memoryStats()).toEqual({ orders: 8, ordersInMemory: 2 + RETAINED });
    await expectSameAsTwin(partner, 8);
    const listed = (await call(partner.url, 'GET', '/_control/orders')).body as { releasedAt?: string }[];
    expect(listed.map((order) => order.releasedAt !== undefined)).toEqual([
      ...[true, true, true, true, true],
      ...[false, false, false],
    ]);

    // The partner API serves an evicted order as before (Uber Eats' fetch).
    const [fetched, twinFetched] = await both(
      partner,
      'GET',
      partnerApiPath(ue.api.fetchOrder!, id(1)),
      undefined,
      ueAuth,
    );
    expect(fetched?.status).toBe(200);
    expect(fetched).toEqual(twinFetched);
    partner.flush();
    expect(partner.memoryStats()).toEqual({ orders: 8, ordersInMemory: 2 + RETAINED });

    // A late status report on a released order that left memory (2: 1 came back when fetched) is kept.
    const before = statSync(journal()).size;
    const [reported, twinReported] = await api(partner, 'status', 2, ue.buildStatusRequest('RELEASED'));
    partner.flush();

    expect(reported?.status).toBe(200);
    expect(reported).toEqual(twinReported);
    expect(linesFrom(journal(), before)).toEqual([
      {
        c: 'orders',
        k: `ubereats/${id(2)}`,
        v: expect.objectContaining({ updates: [expect.objectContaining({ status: 'RELEASED' })] }),
      },
    ]);
    expect(partner.memoryStats()).toEqual({ orders: 8, ordersInMemory: 2 + RETAINED });
    await expectSameAsTwin(partner, 8);

    await stop(partner);
    partner = await start();

    expect(partner.memoryStats()).toEqual({ orders: 8, ordersInMemory: 2 + RETAINED });
    await expectSameAsTwin(partner, 8);
    const [view] = await both(partner, 'GET', `/_control/orders/ubereats/${id(2)}`);
    expect(view?.body.updates).toEqual([expect.objectContaining({ status: 'RELEASED' })]);
  });

  test('a store paused on a partner, then forgotten, stays forgotten across a restart', async () => {
    const shown = async (at: PartnerSimulator) =>
      (await call(at.url, 'GET', '/_control/stores/store-001')).body.partners.ubereats.status;
    let partner = await start();
    const paused = await call(
      partner.url,
      'POST',
      ue.storeApi.storeStatus!.path.replace('{storeId}', 'ue-7c1f0a52-store-001'),
      { status: 'PAUSED' },
      ueAuth,
    );
    expect(paused.status).toBe(204);
    await stop(partner);
    partner = await start();
    const pausedAfterRestart = await shown(partner);
    await call(partner.url, 'DELETE', '/_control/stores/store-001');
    await stop(partner);
    partner = await start();

    expect(pausedAfterRestart).toBe('paused');
    expect(await shown(partner)).toBe('online');
  });
});
