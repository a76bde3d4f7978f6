import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { adaptOrder, partnerOrderIdOf } from '../../../functions/lib/domain/adapters/index';
import { DEMO_STORES } from '../../../functions/lib/domain/demo-stores';
import { orderIdFor } from '../../../functions/lib/domain/order';
import { verifySignature } from '../../../functions/lib/domain/signatures';
import * as doordash from '../../../functions/lib/schemas/partners/doordash';
import * as grubhub from '../../../functions/lib/schemas/partners/grubhub';
import { PARTNERS, type PartnerId, partnerApiPath } from '../../../functions/lib/schemas/partners/index';
import { partnerWire } from '../../../functions/lib/schemas/partners/registry';
import {
  type ShownStore,
  type StoreCall,
  storeCallPath,
} from '../../../functions/lib/schemas/partners/store-push';
import type { MenuItem } from '../../../functions/lib/schemas/store';
import { parseAuthorization, verifySignature as verifySigV4 } from '../../../local/cloud/sigv4';
import {
  type PartnerSecrets,
  type PartnerSimulator,
  startPartnerSimulator,
} from '../../../local/simulators/index';

// ── a tiny middleware: verifies webhooks with the domain's own check, records what arrived ──
interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  rawBody: string;
}

const secrets: Record<PartnerId, PartnerSecrets> = {
  ubereats: { signing: 'ue-secret', wrongSecret: 'ue-old', apiKey: 'ue-key' },
  doordash: { signing: 'dd-token', apiKey: 'dd-key' },
  grubhub: { signing: 'gh-secret', apiKey: 'gh-key' },
};

let received: Received[] = [];
let liveMenu: MenuItem[] | undefined;
let middleware: Server;
let middlewareUrl: string;
let simulator: PartnerSimulator;
let clock = new Date('2025-06-01T18:00:00Z');

function answerWebhook(path: string, rawBody: string, headers: IncomingMessage['headers']) {
  const partner = path.split('/')[2] as PartnerId;
  const check = verifySignature(
    partner,
    rawBody,
    headers as Record<string, string>,
    [secrets[partner].signing],
    clock,
  );
  if (!check.ok) return { status: 401, body: { error: { code: 'UNAUTHORIZED', message: check.reason } } };
  const partnerOrderId = path.split('/')[4] ?? partnerOrderIdOf(partner, JSON.parse(rawBody));
  return {
    status: 202,
    body: { orderId: orderIdFor(partner, partnerOrderId), partner, partnerOrderId, status: 'RECEIVED' },
  };
}

beforeAll(async () => {
  middleware = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      received.push({ method: req.method ?? '', path, headers: req.headers, rawBody });
      let answer: { status: number; body: unknown } = {
        status: 404,
        body: { error: { code: 'NOT_FOUND', message: path } },
      };
      if (path.startsWith('/webhooks/')) answer = answerWebhook(path, rawBody, req.headers);
      else if (path === '/stores/store-001' && liveMenu)
        answer = {
          status: 200,
          body: { storeId: 'store-001', name: 'x', status: 'online', version: 0, menu: liveMenu },
        };
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => middleware.listen(0, '127.0.0.1', resolve));
  const { port } = middleware.address() as AddressInfo;
  middlewareUrl = `http://127.0.0.1:${port}`;
  simulator = await startPartnerSimulator({
    port: 0,
    middlewareUrl,
    secrets,
    seed: 7,
    now: () => clock,
  });
});

afterAll(async () => {
  await simulator.close();
  await new Promise<void>((resolve) => middleware.close(() => resolve()));
});

beforeEach(async () => {
  received = [];
  liveMenu = undefined;
  clock = new Date('2025-06-01T18:00:00Z');
  await call('DELETE', '/_control/orders');
  await call('DELETE', '/_control/faults');
  await call('DELETE', '/_control/stores/store-001');
});

const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
  callAt(simulator, method, path, body, headers);

async function callAt(
  at: PartnerSimulator,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${at.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

const placeOrder = (request: Record<string, unknown>) =>
  call('POST', '/_control/orders', { storeId: 'store-001', ...request });
const lastWebhook = () => received.filter((r) => r.path.startsWith('/webhooks/')).at(-1)!;
const store001 = DEMO_STORES.find((store) => store.storeId === 'store-001')!;
const menuPrice = (sku: string) => store001.menu.find((item) => item.sku === sku)?.price;

/** The partner's full order: fetched from the partner API for Uber Eats, the webhook for the others. */
async function fullOrder(partner: PartnerId, partnerOrderId: string, webhookBody: unknown) {
  const fetchRoute = partnerWire[partner].api.fetchOrder;
  if (!fetchRoute) return webhookBody;
  const fetched = await call(
    'GET',
    partnerApiPath(fetchRoute, partnerOrderId),
    undefined,
    partnerWire[partner].apiAuthHeaders(secrets[partner].apiKey),
  );
  expect(fetched.status).toBe(200);
  return fetched.body;
}

describe('new-order webhooks', () => {
  test.each(PARTNERS)('%s sends a signed order in its own format, priced from the menu', async (partner) => {
    const placed = await placeOrder({ partner, pickupInSeconds: 900 });

    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ partner, webhookStatus: 202 });
    expect(placed.body.orderId).toBe(orderIdFor(partner, placed.body.partnerOrderId));
    const webhook = lastWebhook();
    expect(webhook.path).toBe(`/webhooks/${partner}/orders`);
    expect(webhook.headers['content-type']).toBe('application/json');
    const body = partnerWire[partner].NewOrderWebhookSchema.parse(JSON.parse(webhook.rawBody));
    expect(
      verifySignature(
        partner,
        webhook.rawBody,
        webhook.headers as Record<string, string>,
        [secrets[partner].signing],
        clock,
      ),
    ).toEqual({ ok: true });

    const order = await adaptOrder(partner, await fullOrder(partner, placed.body.partnerOrderId, body), {
      storeIdFor: (p, partnerStoreId) =>
        store001.partnerStoreIds[p] === partnerStoreId ? 'store-001' : undefined,
    });
    expect(order.storeId).toBe('store-001');
    expect(order.items.length).toBeGreaterThan(0);
    for (const item of order.items) expect(item.unitPrice).toBe(menuPrice(item.sku));
    expect(order.items[0]?.modifiers.map((m) => m.name)).toContain('No onions');
    const lines = order.items.reduce(
      (sum, i) => sum + (i.unitPrice + i.modifiers.reduce((s, m) => s + m.price, 0)) * i.quantity,
      0,
    );
    expect(order.subtotal).toBe(lines);
    expect(order.total).toBe(order.subtotal + order.tax);
    expect(order.pickupAt && Date.parse(order.pickupAt)).toBe(clock.getTime() + 900_000);
  });

  test('orders exactly the items asked for, with the menu price unless one is given', async () => {
    const placed = await placeOrder({
      partner: 'grubhub',
      items: [
        { sku: 'TACO-POLLO', quantity: 3 },
        { sku: 'NOT-ON-MENU', quantity: 1, unitPrice: 99 },
      ],
    });
    const body = grubhub.NewOrderWebhookSchema.parse(JSON.parse(lastWebhook().rawBody));

    expect(placed.body.webhookStatus).toBe(202);
    expect(body.lines.map((l) => [l.menu_item_id, l.quantity, l.price])).toEqual([
      ['TACO-POLLO', 3, 425],
      ['NOT-ON-MENU', 1, 99],
    ]);
    expect(body.restaurant_id).toBe(store001.partnerStoreIds.grubhub);
  });

  test('a store the brand does not know still gets an order, under our store id as the partner store id', async () => {
    const placed = await placeOrder({ partner: 'grubhub', storeId: 'store-999' });
    const body = grubhub.NewOrderWebhookSchema.parse(JSON.parse(lastWebhook().rawBody));

    expect(placed.body.webhookStatus).toBe(202);
    expect(body.restaurant_id).toBe('store-999');
    expect(body.lines.length).toBeGreaterThan(0);
  });

  test('picks only items the middleware says are available right now', async () => {
    liveMenu = store001.menu.map((item) => ({ ...item, available: item.sku === 'TACO-VEG' }));

    for (let i = 0; i < 5; i += 1) await placeOrder({ partner: 'doordash' });

    const skus = received
      .filter((r) => r.path === '/webhooks/doordash/orders')
      .flatMap((r) =>
        doordash.NewOrderWebhookSchema.parse(JSON.parse(r.rawBody)).order.categories.flatMap((category) =>
          category.items.map((item) => item.merchant_supplied_id),
        ),
      );
    expect(new Set(skus)).toEqual(new Set(['TACO-VEG']));
  });

  test('body overrides are deep-merged into the payload before signing', async () => {
    const placed = await placeOrder({
      partner: 'doordash',
      body: JSON.parse(
        '{"order":{"consumer":{"first_name":"<script>"},"__proto__":{"polluted":true}},"extra":1}',
      ),
    });
    const body = JSON.parse(lastWebhook().rawBody);

    expect(placed.body.webhookStatus).toBe(202);
    expect(body.extra).toBe(1);
    expect(body.order.consumer.first_name).toBe('<script>');
    expect(body.order.consumer.last_name).toEqual(expect.any(String));
    expect(Object.hasOwn(body.order, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('signature modes', () => {
  const reasonOf = (answer: { body: { webhookBody?: { error?: { message?: string } } } }) =>
    answer.body.webhookBody?.error?.message;

  test.each(PARTNERS)(
    '%s: missing, wrong-secret and tampered are refused by the verifier',
    async (partner) => {
      expect(reasonOf(await placeOrder({ partner, signature: 'missing' }))).toBe('missing-signature');
      expect(reasonOf(await placeOrder({ partner, signature: 'wrong-secret' }))).toBe('mismatch');
      const tampered = await placeOrder({ partner, signature: 'tampered' });
      expect(tampered.status).toBe(201);
      expect(tampered.body.webhookStatus).toBe(401);
      expect(reasonOf(tampered)).toBe('mismatch');
      // Tampering keeps the body a valid order, so only the signature can catch it.
      expect(() =>
        partnerWire[partner].NewOrderWebhookSchema.parse(JSON.parse(lastWebhook().rawBody)),
      ).not.toThrow();
    },
  );

  test('wrong-secret signs with the configured old secret', async () => {
    await placeOrder({ partner: 'ubereats', signature: 'wrong-secret' });
    const webhook = lastWebhook();
    expect(
      verifySignature(
        'ubereats',
        webhook.rawBody,
        webhook.headers as Record<string, string>,
        ['ue-old'],
        clock,
      ),
    ).toEqual({ ok: true });
  });

  test('stale is outside the Grubhub replay window; Uber Eats signs no time, so stale still verifies', async () => {
    const staleGrubhub = await placeOrder({ partner: 'grubhub', signature: 'stale' });
    expect(staleGrubhub.body.webhookStatus).toBe(401);
    expect(reasonOf(staleGrubhub)).toBe('stale-timestamp');
    expect((await placeOrder({ partner: 'ubereats', signature: 'stale' })).body.webhookStatus).toBe(202);
  });
});

describe('release, cancel and redelivery', () => {
  test.each(PARTNERS)(
    '%s release and cancel webhooks are signed and parse with the schemas',
    async (partner) => {
      const { body: placed } = await placeOrder({ partner });
      const base = `/_control/orders/${partner}/${placed.partnerOrderId}`;

      const released = await call('POST', `${base}/release`);
      const releaseHook = lastWebhook();
      const cancelled = await call('POST', `${base}/cancel`);
      const cancelHook = lastWebhook();

      expect(released.body.webhookStatus).toBe(202);
      expect(releaseHook.path).toBe(`/webhooks/${partner}/orders/${placed.partnerOrderId}/release`);
      partnerWire[partner].ReleaseWebhookSchema.parse(JSON.parse(releaseHook.rawBody));
      expect(cancelled.body.webhookStatus).toBe(202);
      expect(cancelHook.path).toBe(`/webhooks/${partner}/orders/${placed.partnerOrderId}/cancel`);
      partnerWire[partner].CancelWebhookSchema.parse(JSON.parse(cancelHook.rawBody));
      expect((await call('GET', base)).body.state).toBe('cancelled');
    },
  );

  test('redelivery re-signs each delivery with a fresh timestamp and the same body', async () => {
    const { body: placed } = await placeOrder({ partner: 'grubhub' });
    const first = lastWebhook();
    clock = new Date(clock.getTime() + 400_000); // past the first signature's replay window

    const again = await call('POST', `/_control/orders/grubhub/${placed.partnerOrderId}/redeliver`, {
      times: 3,
      concurrent: true,
    });

    expect(again.body.webhookStatuses).toEqual([202, 202, 202]);
    const deliveries = received.filter((r) => r.path === '/webhooks/grubhub/orders').slice(1);
    expect(deliveries).toHaveLength(3);
    for (const delivery of deliveries) {
      expect(delivery.rawBody).toBe(first.rawBody);
      expect(delivery.headers['x-gh-signature']).not.toBe(first.headers['x-gh-signature']);
    }
  });

  test('sequential redelivery of a tampered order sends it correctly signed', async () => {
    const { body: placed } = await placeOrder({ partner: 'ubereats', signature: 'tampered' });
    const again = await call('POST', `/_control/orders/ubereats/${placed.partnerOrderId}/redeliver`, {
      times: 2,
      concurrent: false,
    });
    expect(again.body.webhookStatuses).toEqual([202, 202]);
  });

  test('an order the partner never sent is 404 on the control API', async () => {
    const answer = await call('POST', '/_control/orders/doordash/nope/release');
    expect(answer.status).toBe(404);
    expect(answer.body.error.code).toBe('ORDER_NOT_FOUND');
  });
});

describe('the partner API the middleware calls', () => {
  const apiCall = (
    partner: PartnerId,
    name: 'accept' | 'deny' | 'status',
    id: string,
    body: unknown,
    key = secrets[partner].apiKey,
  ) =>
    call(
      'POST',
      partnerApiPath(partnerWire[partner].api[name], id),
      body,
      partnerWire[partner].apiAuthHeaders(key),
    );

  test.each(PARTNERS)('%s: wrong API key is 401 and nothing is recorded', async (partner) => {
    const { body: placed } = await placeOrder({ partner });
    const answer = await apiCall(
      partner,
      'accept',
      placed.partnerOrderId,
      partnerWire[partner].buildAcceptRequest('pos-1'),
      'wrong',
    );
    expect(answer.status).toBe(401);
    expect((await call('GET', `/_control/orders/${partner}/${placed.partnerOrderId}`)).body.state).toBe(
      'pending',
    );
  });

  test.each(PARTNERS)('%s: accept records the POS reference and is idempotent', async (partner) => {
    const { body: placed } = await placeOrder({ partner });
    const request = partnerWire[partner].buildAcceptRequest('pos-000042', '2025-06-01T18:20:00.000Z');

    const first = await apiCall(partner, 'accept', placed.partnerOrderId, request);
    const second = await apiCall(partner, 'accept', placed.partnerOrderId, request);

    expect(first.status).toBe(200);
    partnerWire[partner].AcceptResponseSchema.parse(first.body);
    expect(second).toEqual(first);
    const seen = (await call('GET', `/_control/orders/${partner}/${placed.partnerOrderId}`)).body;
    expect(seen).toMatchObject({
      state: 'accepted',
      posReference: 'pos-000042',
      pickupAt: '2025-06-01T18:20:00.000Z',
    });
    expect(seen.calls.accept).toBe(2);
  });

  test.each(PARTNERS)(
    '%s: deny is recorded in our deny reason terms; accept after deny is 409',
    async (partner) => {
      const { body: placed } = await placeOrder({ partner });

      const denied = await apiCall(
        partner,
        'deny',
        placed.partnerOrderId,
        partnerWire[partner].buildDenyRequest('ITEM_UNAVAILABLE', '86d'),
      );
      const accepted = await apiCall(
        partner,
        'accept',
        placed.partnerOrderId,
        partnerWire[partner].buildAcceptRequest('pos-1'),
      );

      expect(denied.status).toBe(200);
      partnerWire[partner].DenyResponseSchema.parse(denied.body);
      expect(accepted.status).toBe(409);
      const seen = (await call('GET', `/_control/orders/${partner}/${placed.partnerOrderId}`)).body;
      expect(seen).toMatchObject({ state: 'denied', denyReason: 'ITEM_UNAVAILABLE' });
      expect(seen.posReference).toBeUndefined();
    },
  );

  test('status updates are recorded in order, CANCELLED ends the order', async () => {
    const { body: placed } = await placeOrder({ partner: 'ubereats' });
    for (const status of ['RELEASED', 'CANCELLED'] as const) {
      const answer = await apiCall(
        'ubereats',
        'status',
        placed.partnerOrderId,
        partnerWire.ubereats.buildStatusRequest(status),
      );
      partnerWire.ubereats.StatusResponseSchema.parse(answer.body);
    }
    const seen = (await call('GET', `/_control/orders/ubereats/${placed.partnerOrderId}`)).body;
    expect(seen.updates.map((u: { status: string; code: string }) => [u.status, u.code])).toEqual([
      ['RELEASED', 'IN_PREPARATION'],
      ['CANCELLED', 'CANCELED'],
    ]);
    expect(seen.state).toBe('cancelled');
  });

  const seenBy = async (partner: PartnerId, partnerOrderId: string) =>
    (await call('GET', `/_control/orders/${partner}/${partnerOrderId}`)).body;
  const acceptedOrder = async (partner: PartnerId) => {
    const { body: placed } = await placeOrder({ partner });
    await apiCall(partner, 'accept', placed.partnerOrderId, partnerWire[partner].buildAcceptRequest('pos-7'));
    return placed.partnerOrderId as string;
  };

  test.each(PARTNERS)(
    '%s: status FAILED cancels an accepted order once; the repeat is recorded with no second effect',
    async (partner) => {
      const id = await acceptedOrder(partner);
      const failed = partnerWire[partner].buildStatusRequest('FAILED');

      const first = await apiCall(partner, 'status', id, failed);
      const cancelledAt = clock.toISOString();
      clock = new Date(clock.getTime() + 60_000);
      const again = await apiCall(partner, 'status', id, failed);

      expect(first.status).toBe(200);
      partnerWire[partner].StatusResponseSchema.parse(first.body);
      expect(again).toEqual(first);
      const seen = await seenBy(partner, id);
      expect(seen).toMatchObject({ state: 'cancelled', cancelledAt, posReference: 'pos-7' });
      expect(seen.updates.map((u: { status: string }) => u.status)).toEqual(['FAILED', 'FAILED']);
      expect(seen.calls.status).toBe(2);
    },
  );

  test('status RELEASED keeps an accepted order accepted and marks it released once', async () => {
    const id = await acceptedOrder('doordash');
    const released = partnerWire.doordash.buildStatusRequest('RELEASED');

    await apiCall('doordash', 'status', id, released);
    const releasedAt = clock.toISOString();
    clock = new Date(clock.getTime() + 60_000);
    await apiCall('doordash', 'status', id, released);

    const seen = await seenBy('doordash', id);
    expect(seen).toMatchObject({ state: 'accepted', releasedAt });
    expect(seen.updates).toHaveLength(2);
  });

  test('a status report leaves a denied order denied', async () => {
    const { body: placed } = await placeOrder({ partner: 'grubhub' });
    await apiCall(
      'grubhub',
      'deny',
      placed.partnerOrderId,
      partnerWire.grubhub.buildDenyRequest('STORE_OFFLINE'),
    );

    const failed = await apiCall(
      'grubhub',
      'status',
      placed.partnerOrderId,
      partnerWire.grubhub.buildStatusRequest('FAILED'),
    );

    expect(failed.status).toBe(200);
    const seen = await seenBy('grubhub', placed.partnerOrderId);
    expect(seen).toMatchObject({ state: 'denied', denyReason: 'STORE_OFFLINE' });
    expect(seen.cancelledAt).toBeUndefined();
  });

  test('deny on an accepted or a cancelled order is 409; accept on a cancelled one is 409', async () => {
    const accepted = await acceptedOrder('ubereats');
    const cancelled = await acceptedOrder('ubereats');
    await apiCall('ubereats', 'status', cancelled, partnerWire.ubereats.buildStatusRequest('CANCELLED'));
    const deny = partnerWire.ubereats.buildDenyRequest('STORE_PAUSED');

    const answers = [
      await apiCall('ubereats', 'deny', accepted, deny),
      await apiCall('ubereats', 'deny', cancelled, deny),
      await apiCall('ubereats', 'accept', cancelled, partnerWire.ubereats.buildAcceptRequest('pos-8')),
    ];

    expect(answers.map((answer) => [answer.status, answer.body.error.code])).toEqual([
      [409, 'ORDER_STATE_CONFLICT'],
      [409, 'ORDER_STATE_CONFLICT'],
      [409, 'ORDER_STATE_CONFLICT'],
    ]);
    expect((await seenBy('ubereats', accepted)).state).toBe('accepted');
    expect(await seenBy('ubereats', cancelled)).toMatchObject({ state: 'cancelled', posReference: 'pos-7' });
  });

  test('deny again on a denied order is 200 and keeps the first reason', async () => {
    const { body: placed } = await placeOrder({ partner: 'doordash' });
    const first = await apiCall(
      'doordash',
      'deny',
      placed.partnerOrderId,
      partnerWire.doordash.buildDenyRequest('ITEM_UNAVAILABLE'),
    );
    const again = await apiCall(
      'doordash',
      'deny',
      placed.partnerOrderId,
      partnerWire.doordash.buildDenyRequest('STORE_PAUSED'),
    );

    expect(again).toEqual(first);
    const seen = await seenBy('doordash', placed.partnerOrderId);
    expect(seen).toMatchObject({ state: 'denied', denyReason: 'ITEM_UNAVAILABLE' });
    expect(seen.calls.deny).toBe(2);
  });

  test('a body the schema refuses is 400; an unknown order is 404; malformed JSON is 400', async () => {
    const { body: placed } = await placeOrder({ partner: 'doordash' });
    const bad = await apiCall('doordash', 'accept', placed.partnerOrderId, {
      merchant_supplied_id: 'x',
      order_status: 'maybe',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_REQUEST');
    expect(
      (await apiCall('doordash', 'accept', 'unknown-order', partnerWire.doordash.buildAcceptRequest('p')))
        .status,
    ).toBe(404);
    expect((await apiCall('doordash', 'accept', placed.partnerOrderId, '{not json')).status).toBe(400);
    expect((await call('GET', '/nowhere')).status).toBe(404);
  });

  test('the control GET lists every order the partner sent', async () => {
    await placeOrder({ partner: 'ubereats' });
    await placeOrder({ partner: 'grubhub' });
    const listed = (await call('GET', '/_control/orders')).body;
    expect(listed.map((o: { partner: string }) => o.partner).sort()).toEqual(['grubhub', 'ubereats']);
    // ?limit=N: the newest N, as the POS's listing takes it (a bad one is a 400).
    expect((await call('GET', '/_control/orders?limit=1')).body).toEqual(listed.slice(-1));
    const refused = await call('GET', '/_control/orders?limit=0');
    expect([refused.status, refused.body.error.code]).toEqual([400, 'INVALID_LIMIT']);
  });
});

describe('faults on the partner API', () => {
  const accept = (id: string) =>
    call(
      'POST',
      partnerApiPath(partnerWire.grubhub.api.accept, id),
      partnerWire.grubhub.buildAcceptRequest('pos-9'),
      partnerWire.grubhub.apiAuthHeaders('gh-key'),
    );
  const report = (id: string) =>
    call(
      'POST',
      partnerApiPath(partnerWire.grubhub.api.status, id),
      partnerWire.grubhub.buildStatusRequest('RELEASED'),
      partnerWire.grubhub.apiAuthHeaders('gh-key'),
    );

  test('failNext fails only the named endpoints, n times, then recovers', async () => {
    const { body: placed } = await placeOrder({ partner: 'grubhub' });
    await call('PUT', '/_control/faults', { errorRate: 0, latencyMs: 0, endpoints: ['accept'], failNext: 2 });

    const statuses = [
      (await accept(placed.partnerOrderId)).status,
      (await report(placed.partnerOrderId)).status,
    ];
    statuses.push((await accept(placed.partnerOrderId)).status, (await accept(placed.partnerOrderId)).status);

    expect(statuses).toEqual([503, 200, 503, 200]);
    const seen = (await call('GET', `/_control/orders/grubhub/${placed.partnerOrderId}`)).body;
    expect(seen.calls.accept).toBe(1); // failed calls never reached the order
  });

  test('errorRate 1 fails every call with a JSON error until the faults are deleted', async () => {
    const { body: placed } = await placeOrder({ partner: 'grubhub' });
    await call('PUT', '/_control/faults', { errorRate: 1, latencyMs: 0 });

    const failed = await report(placed.partnerOrderId);
    await call('DELETE', '/_control/faults');

    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe('PARTNER_UNAVAILABLE');
    expect((await report(placed.partnerOrderId)).status).toBe(200);
  });

  test('errorStatus: injected failures answer with that status and a JSON error, and have no effect', async () => {
    const { body: placed } = await placeOrder({ partner: 'grubhub' });
    await call('PUT', '/_control/faults', { errorRate: 1, errorStatus: 500, endpoints: ['accept'] });

    const failed = await accept(placed.partnerOrderId);

    expect(failed.status).toBe(500);
    expect(failed.body.error).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
      message: expect.stringContaining('injected fault'),
    });
    const seen = (await call('GET', `/_control/orders/grubhub/${placed.partnerOrderId}`)).body;
    expect(seen.state).toBe('pending');
    expect(seen.calls.accept).toBe(0);
  });

  test('DELETE /_control/faults resets errorStatus and endpoints too', async () => {
    await call('PUT', '/_control/faults', { errorRate: 1, errorStatus: 404, endpoints: ['fetch'] });
    const cleared = await call('DELETE', '/_control/faults');
    expect(cleared.body).toEqual({
      errorRate: 0,
      latencyMs: 0,
      failNext: 0,
      errorStatus: 503,
      endpoints: ['fetch', 'accept', 'deny', 'status', 'store'],
    });
  });

  test('fault settings are validated', async () => {
    expect((await call('PUT', '/_control/faults', { errorRate: 2 })).status).toBe(400);
    expect((await call('PUT', '/_control/faults', { endpoints: ['cook'] })).status).toBe(400);
    expect((await call('PUT', '/_control/faults', { errorStatus: 302 })).status).toBe(400);
    expect((await call('PUT', '/_control/faults', { errorStatus: 600 })).status).toBe(400);
  });
});

describe('the partners’ orders across restarts', () => {
  let dataDir: string;
  const started: PartnerSimulator[] = [];
  const start = async (fresh?: boolean) => {
    const started_ = await startPartnerSimulator({
      port: 0,
      middlewareUrl,
      secrets,
      seed: 7,
      now: () => clock,
      dataDir,
      fresh,
    });
    started.push(started_);
    return started_;
  };
  const stop = async (at: PartnerSimulator) => {
    started.splice(started.indexOf(at), 1);
    await at.close();
  };
  const place = async (at: PartnerSimulator, request: Record<string, unknown>) =>
    (await callAt(at, 'POST', '/_control/orders', { storeId: 'store-001', ...request })).body;
  const fetchUberEats = (at: PartnerSimulator, id: string) =>
    callAt(
      at,
      'GET',
      partnerApiPath(partnerWire.ubereats.api.fetchOrder!, id),
      undefined,
      partnerWire.ubereats.apiAuthHeaders(secrets.ubereats.apiKey),
    );

  beforeEach(() => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'partner-simulator-'));
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((at) => at.close()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a restart keeps what each partner sent and was told; it still serves and redelivers the same order', async () => {
    const before = await start();
    const doordashOrder = await place(before, {
      partner: 'doordash',
      body: JSON.parse('{"order":{"__proto__":{"polluted":true}}}'),
    });
    const sentBody = lastWebhook().rawBody;
    await callAt(
      before,
      partnerWire.doordash.api.accept.method,
      partnerApiPath(partnerWire.doordash.api.accept, doordashOrder.partnerOrderId),
      partnerWire.doordash.buildAcceptRequest('pos-000031'),
      partnerWire.doordash.apiAuthHeaders(secrets.doordash.apiKey),
    );
    const uberEatsOrder = await place(before, { partner: 'ubereats' });
    const served = await fetchUberEats(before, uberEatsOrder.partnerOrderId);
    const seen = (await callAt(before, 'GET', '/_control/orders')).body;
    await stop(before);

    const after = await start();
    const kept = (await callAt(after, 'GET', '/_control/orders')).body;
    const servedAgain = await fetchUberEats(after, uberEatsOrder.partnerOrderId);
    const redelivered = await callAt(
      after,
      'POST',
      `/_control/orders/doordash/${doordashOrder.partnerOrderId}/redeliver`,
      { times: 1 },
    );

    expect(seen).toHaveLength(2);
    expect(kept).toEqual(seen);
    expect(kept[0]).toMatchObject({ state: 'accepted', posReference: 'pos-000031' });
    expect(servedAgain).toEqual(served);
    expect(redelivered.body.webhookStatuses).toEqual([202]);
    expect(lastWebhook().rawBody).toBe(sentBody);
  });

  test('each change reaches partner-simulator.jsonl soon, without waiting for close', async () => {
    const at = await start();
    const placed = await place(at, { partner: 'grubhub' });

    const deadline = Date.now() + 2000;
    let saved: { c: string; v: { partnerOrderId: string } }[] = [];
    while (saved.length === 0 && Date.now() < deadline) {
      const lines = readFileSync(path.join(dataDir, 'partner-simulator.jsonl'), 'utf8').split('\n');
      saved = lines.filter(Boolean).map((line) => JSON.parse(line));
      if (saved.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(saved.filter((line) => line.c === 'orders').map((line) => line.v.partnerOrderId)).toEqual([
      placed.partnerOrderId,
    ]);
  });

  test('a restart keeps what each partner shows for each store', async () => {
    const before = await start();
    await tellPartner(
      'ubereats',
      { status: 'paused', items: menuOf001({ 'TACO-POLLO': { available: false } }) },
      before,
    );
    const shown = (await callAt(before, 'GET', '/_control/stores/store-001')).body;
    await stop(before);

    const after = await start();

    expect((await callAt(after, 'GET', '/_control/stores/store-001')).body).toEqual(shown);
    expect(shown.partners.ubereats).toMatchObject({ status: 'paused', unavailableItems: ['TACO-POLLO'] });
  });

  test('fresh starts with no orders and overwrites the file', async () => {
    const before = await start();
    await place(before, { partner: 'grubhub' });
    await stop(before);

    const fresh = await start(true);
    expect((await callAt(fresh, 'GET', '/_control/orders')).body).toEqual([]);
    await stop(fresh);
    const after = await start();
    expect((await callAt(after, 'GET', '/_control/orders')).body).toEqual([]);
  });
});

// ── the partners as the marketplace: what each shows for our store ──────────

/** Sends a partner the calls our mapping makes for `shown`, with that partner's API key. */
async function tellPartner(partner: PartnerId, shown: ShownStore, at = simulator) {
  const partnerStoreId = store001.partnerStoreIds[partner]!;
  const answers = [];
  for (const storeCall of partnerWire[partner].storePushCalls(shown, partnerStoreId, clock) as StoreCall[]) {
    answers.push(
      await callAt(
        at,
        storeCall.route.method,
        storeCallPath(storeCall.route, storeCall.params),
        storeCall.body,
        partnerWire[partner].apiAuthHeaders(secrets[partner].apiKey),
      ),
    );
  }
  return answers;
}

const menuOf001 = (overrides: Record<string, Partial<ShownStore['items'][number]>> = {}) =>
  store001.menu.map((item) => ({ sku: item.sku, available: true, ...overrides[item.sku] }));
const IN_AN_HOUR = () => new Date(clock.getTime() + 3600_000).toISOString();
const shownBy = async (partner: PartnerId, storeId = 'store-001') =>
  (await call('GET', `/_control/stores/${storeId}`)).body.partners[partner];

describe('the partners as the marketplace: store state', () => {
  test('a store no partner was told about shows online with everything on sale, on every partner', async () => {
    const view = await call('GET', '/_control/stores/store-001');

    expect(view.status).toBe(200);
    expect(view.body.storeId).toBe('store-001');
    for (const partner of PARTNERS) {
      expect(view.body.partners[partner]).toEqual({
        partnerStoreId: store001.partnerStoreIds[partner],
        status: 'online',
        unavailableItems: [],
        updates: [],
      });
    }
  });

  test.each(PARTNERS)(
    '%s: a pause with an end, an 86 and busy mode as its store API was told them',
    async (partner) => {
      const until = IN_AN_HOUR();
      const answers = await tellPartner(partner, {
        status: 'paused',
        reason: 'Kitchen deep clean',
        until,
        changedBy: 'operator',
        busy: { extraPrepMinutes: 15 },
        items: menuOf001({ 'BURRITO-CARNE': { available: false } }),
      });

      expect(answers.map((answer) => answer.status).every((status) => status >= 200 && status < 300)).toBe(
        true,
      );
      const shown = await shownBy(partner);
      expect(shown).toMatchObject({ status: 'paused', unavailableItems: ['BURRITO-CARNE'] });
      // Grubhub's pos-status carries no end; Uber Eats and DoorDash end the pause by themselves.
      if (partner !== 'grubhub') expect(shown.pausedUntil).toBe(until);
      // Only Grubhub has a busy call among section 7's.
      expect(shown.extraPrepMinutes).toBe(partner === 'grubhub' ? 15 : undefined);
      expect(shown.updates.length).toBe(answers.length);
    },
  );

  test.each(PARTNERS)('%s: online again and the item back on sale', async (partner) => {
    await tellPartner(partner, {
      status: 'offline',
      items: menuOf001({ 'TACO-POLLO': { available: false } }),
    });
    await tellPartner(partner, { status: 'online', items: menuOf001() });

    expect(await shownBy(partner)).toMatchObject({ status: 'online', unavailableItems: [] });
  });

  test('Grubhub answers 409 to a pos-status the merchant already has', async () => {
    const [first] = await tellPartner('grubhub', { status: 'paused', items: [] });
    const [again] = await tellPartner('grubhub', { status: 'paused', items: [] });

    expect(first?.status).toBe(204);
    expect(again?.status).toBe(409);
  });

  test('a pause or an 86 whose end has passed is over on the partner by itself', async () => {
    const until = IN_AN_HOUR();
    await tellPartner('ubereats', {
      status: 'paused',
      until,
      items: menuOf001({ 'TACO-VEG': { available: false, until } }),
    });
    expect(await shownBy('ubereats')).toMatchObject({ status: 'paused', unavailableItems: ['TACO-VEG'] });

    clock = new Date(Date.parse(until) + 1000);

    expect(await shownBy('ubereats')).toMatchObject({ status: 'online', unavailableItems: [] });
  });

  test('the store API checks the API key, the body schema, and takes faults on endpoint "store"', async () => {
    const route = partnerWire.doordash.storeApi.storeStatus!;
    const path = storeCallPath(route, { storeId: 'dd-881001' });
    const auth = partnerWire.doordash.apiAuthHeaders(secrets.doordash.apiKey);

    expect((await call(route.method, path, { is_active: true })).status).toBe(401);
    expect((await call(route.method, path, { is_active: false }, auth)).status).toBe(400);
    await call('PUT', '/_control/faults', { failNext: 1, endpoints: ['store'] });
    expect((await call(route.method, path, { is_active: true }, auth)).status).toBe(503);
    expect((await call(route.method, path, { is_active: true }, auth)).status).toBe(200);
    // Refused calls change nothing and are not recorded.
    expect((await shownBy('doordash')).updates.map((update: { call: string }) => update.call)).toEqual([
      'storeStatus',
    ]);
  });

  test('DELETE /_control/stores/{storeId} makes every partner forget the store', async () => {
    for (const partner of PARTNERS) await tellPartner(partner, { status: 'offline', items: menuOf001() });

    const forgotten = await call('DELETE', '/_control/stores/store-001');

    expect(forgotten.body).toEqual({ storeId: 'store-001', forgotten: 3 });
    for (const partner of PARTNERS)
      expect(await shownBy(partner)).toMatchObject({ status: 'online', updates: [] });
  });
});

describe('the marketplace refuses orders it would not take', () => {
  test.each(PARTNERS)(
    '%s: a store it shows paused gets no order (409 STORE_PAUSED_ON_PARTNER)',
    async (partner) => {
      await tellPartner(partner, { status: 'paused', reason: 'Rush', items: menuOf001() });
      received = [];

      const placed = await placeOrder({ partner });

      expect(placed.status).toBe(409);
      expect(placed.body.error.code).toBe('STORE_PAUSED_ON_PARTNER');
      expect(received.filter((r) => r.path.startsWith('/webhooks/'))).toEqual([]);
    },
  );

  test.each(PARTNERS)(
    '%s: an item it shows unavailable is not ordered (409 ITEM_UNAVAILABLE_ON_PARTNER)',
    async (partner) => {
      await tellPartner(partner, {
        status: 'online',
        items: menuOf001({ 'BURRITO-CARNE': { available: false } }),
      });
      received = [];

      const placed = await placeOrder({ partner, items: [{ sku: 'BURRITO-CARNE', quantity: 1 }] });

      expect(placed.status).toBe(409);
      expect(placed.body.error.code).toBe('ITEM_UNAVAILABLE_ON_PARTNER');
      expect(received.filter((r) => r.path.startsWith('/webhooks/'))).toEqual([]);
    },
  );

  test('only the partner that shows the pause refuses; the others still send', async () => {
    await tellPartner('doordash', { status: 'paused', items: menuOf001() });

    expect((await placeOrder({ partner: 'doordash' })).status).toBe(409);
    expect((await placeOrder({ partner: 'grubhub' })).status).toBe(201);
  });

  test('without items named, the customer picks only what the partner has on sale', async () => {
    const onSale = ['TACO-CARNITAS', 'SIDE-GUAC'];
    await tellPartner('grubhub', {
      status: 'online',
      items: store001.menu.map((item) => ({ sku: item.sku, available: onSale.includes(item.sku) })),
    });

    const skus = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const placed = await placeOrder({ partner: 'grubhub' });
      expect(placed.status).toBe(201);
      const body = JSON.parse(lastWebhook().rawBody) as { lines: { menu_item_id: string }[] };
      for (const line of body.lines) skus.add(line.menu_item_id);
    }
    expect([...skus]).toEqual(['TACO-CARNITAS']);
  });

  test('ignoreStoreState sends the order anyway: one placed before the partner was told', async () => {
    await tellPartner('ubereats', { status: 'paused', items: menuOf001() });

    expect((await placeOrder({ partner: 'ubereats', ignoreStoreState: true })).status).toBe(201);
  });
});

describe('reading our store API', () => {
  test('the live menu is read with a SigV4 signature for execute-api, as an IAM client', async () => {
    liveMenu = store001.menu.map((item) => ({ ...item, available: item.sku === 'TACO-VEG' }));

    await placeOrder({ partner: 'doordash' });

    const read = received.find((r) => r.path === '/stores/store-001');
    expect(read?.method).toBe('GET');
    expect(read?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
    );
    expect(read?.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
  });

  test('its signature verifies with the local credentials, as LOCAL_IAM=strict checks it', async () => {
    liveMenu = store001.menu;

    await placeOrder({ partner: 'doordash' });

    const read = received.find((r) => r.path === '/stores/store-001')!;
    const headers = Object.fromEntries(
      Object.entries(read.headers).map(([name, value]) => [
        name,
        Array.isArray(value) ? value.join(',') : value,
      ]),
    );
    const request = {
      method: read.method,
      path: read.path,
      rawQueryString: '',
      headers,
      body: Buffer.from(read.rawBody),
    };
    const authorization = parseAuthorization(headers.authorization)!;
    expect(await verifySigV4(request, authorization, { service: 'execute-api' })).toEqual({ ok: true });
    // and the check is real: the same signature over another path does not verify
    expect(
      await verifySigV4({ ...request, path: '/stores/store-002' }, authorization, { service: 'execute-api' }),
    ).toMatchObject({ ok: false });
  });
});
