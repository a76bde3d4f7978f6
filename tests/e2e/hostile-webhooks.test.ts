/**
 * What a hostile partner finds at the door, through the whole local cloud: webhooks that name the
 * order but carry the wrong event, events replayed after the partner stopped retrying, signatures
 * over bytes that are not UTF-8, spellings of a valid signature one partner took and another did not,
 * and store routes fed malformed ids or curl's default form content type. Each refusal is exact and
 * leaves the order where it was: same status and timeline, its POS ticket still held, the partner
 * still seeing it accepted.
 */
import { randomUUID } from 'node:crypto';
import { orderIdFor } from '../../functions/lib/domain/order';
import { signWebhook } from '../../functions/lib/domain/signatures';
import * as grubhub from '../../functions/lib/schemas/partners/grubhub';
import type { PartnerId } from '../../functions/lib/schemas/partners/index';
import * as ubereats from '../../functions/lib/schemas/partners/ubereats';
import { signedFetch } from '../../local/cloud/sigv4';
import { devPartnerSecrets } from '../../local/simulators/partner/index';
import {
  call,
  eventually,
  givenALocalCloud,
  type TestCloud,
  theOrder,
  theOrderReaches,
  thePosOrders,
  theWorkflowExecutionsOf,
  whatThePartnerSaw,
  whenThePartnerSays,
  whenThePartnerSendsAnOrder,
} from '../steps/local-cloud';

let t: TestCloud;
beforeAll(async () => {
  t = await givenALocalCloud();
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

const secrets = devPartnerSecrets();
const unixNow = () => Math.floor(Date.now() / 1000);
const bytesOf = (value: unknown) => Buffer.from(JSON.stringify(value));

interface Waiting {
  partner: PartnerId;
  partnerOrderId: string;
  orderId: string;
  /** GET /orders/{orderId} once the order waits for its courier. */
  view: { status: string; timeline: unknown[] };
}

/** A new order for store-001, accepted, held at the POS and waiting for its courier. */
async function givenAWaitingOrder(partner: PartnerId): Promise<Waiting> {
  const sent = await whenThePartnerSendsAnOrder(t, { partner, storeId: 'store-001', pickupInSeconds: 600 });
  expect(sent.webhookStatus).toBe(202);
  const orderId = sent.webhookBody.orderId as string;
  const view = await eventually(async () => {
    const order = (await theOrder(t, orderId)).body;
    return order?.timeline.some((e: { event: string }) => e.event === 'waiting-for-courier')
      ? order
      : undefined;
  }, `order ${orderId} to wait for its courier`);
  return { partner, partnerOrderId: sent.partnerOrderId, orderId, view };
}

/** Nothing happened to the order: same status and timeline, POS ticket held, the partner still sees it accepted. */
async function expectUntouched(order: Waiting) {
  const now = await theOrder(t, order.orderId);
  expect(now.body.status).toBe('ACCEPTED');
  expect(now.body.timeline).toEqual(order.view.timeline);
  expect(await thePosOrders(t, order.orderId)).toEqual([expect.objectContaining({ status: 'held' })]);
  expect((await whatThePartnerSaw(t, order.partner, order.partnerOrderId)).state).toBe('accepted');
}

/** Nothing of the order exists anywhere: no record, no workflow, no POS order. */
async function expectNoTraceOf(partner: PartnerId, partnerOrderId: string) {
  const orderId = orderIdFor(partner, partnerOrderId);
  expect((await theOrder(t, orderId)).status).toBe(404);
  expect(await theWorkflowExecutionsOf(t, orderId)).toEqual([]);
  expect(await thePosOrders(t, orderId)).toEqual([]);
}

/** POSTs exact bytes to the HTTP API and answers status and JSON body. */
async function post(path: string, bytes: Buffer, headers: Record<string, string>) {
  const response = await fetch(`${t.httpUrl}${path}`, { method: 'POST', headers, body: bytes });
  return { status: response.status, body: await response.json() };
}

/**
 * A webhook to the order's release or cancel route, signed by hand as the partner signs (the
 * simulator only sends the right event, freshly signed): `signed` are the bytes the signature covers.
 */
function sendSigned(
  order: Pick<Waiting, 'partner' | 'partnerOrderId'>,
  route: 'release' | 'cancel',
  bytes: Buffer,
  options: { signed?: Buffer; at?: Date; headers?: Record<string, string> } = {},
) {
  const signature = signWebhook(
    order.partner,
    options.signed ?? bytes,
    secrets[order.partner].signing,
    options.at ?? new Date(),
  );
  const path = `/webhooks/${order.partner}/orders/${encodeURIComponent(order.partnerOrderId)}/${route}`;
  return post(path, bytes, { 'content-type': 'application/json', ...signature, ...options.headers });
}

/** The partner's own release or cancel event for an order, as the simulator would send it. */
function eventOf(
  order: Pick<Waiting, 'partner' | 'partnerOrderId'>,
  kind: 'release' | 'cancel',
  eventTime = unixNow(),
) {
  switch (order.partner) {
    case 'doordash':
      return {
        event: { type: kind === 'release' ? 'dasher_arriving' : 'order_cancelled' },
        order: { id: order.partnerOrderId },
      };
    case 'grubhub':
      return {
        type: kind === 'release' ? 'DRIVER_ARRIVING' : 'ORDER_CANCELLED',
        order_uuid: order.partnerOrderId,
      };
    case 'ubereats':
      return {
        event_id: randomUUID(),
        event_type: kind === 'release' ? 'orders.release' : 'orders.cancel',
        event_time: eventTime,
        meta: { resource_id: order.partnerOrderId, user_id: 'ue-7c1f0a52-store-001', status: 'pos' },
      };
  }
}

const refused = (code: string) => ({ error: { code, message: expect.any(String) } });

describe('release and cancel act only on their own event', () => {
  test.each<PartnerId>(['doordash', 'grubhub'])(
    '%s: the courier-arriving (release) event posted to cancel is 400; the order keeps waiting, and its real cancel still works',
    async (partner) => {
      const order = await givenAWaitingOrder(partner);

      const answer = await sendSigned(order, 'cancel', bytesOf(eventOf(order, 'release')));

      expect(answer).toEqual({ status: 400, body: refused('INVALID_PAYLOAD') });
      await expectUntouched(order);
      const cancelled = await whenThePartnerSays(t, partner, order.partnerOrderId, 'cancel');
      expect(cancelled).toEqual({
        webhookStatus: 202,
        webhookBody: { orderId: order.orderId, status: 'CANCELLED' },
      });
    },
  );

  test('ubereats: a signed order notice for the order, posted to cancel, is 400 and cancels nothing', async () => {
    const order = await givenAWaitingOrder('ubereats');
    const notice = {
      event_id: randomUUID(),
      event_type: 'orders.notification',
      event_time: unixNow(),
      meta: { resource_id: order.partnerOrderId, user_id: 'ue-7c1f0a52-store-001', status: 'pos' },
    };

    const answer = await sendSigned(order, 'cancel', bytesOf(notice));

    expect(answer).toEqual({ status: 400, body: refused('INVALID_PAYLOAD') });
    await expectUntouched(order);
  });

  test('doordash: the cancel event posted to release is 400 and fires nothing in the kitchen', async () => {
    const order = await givenAWaitingOrder('doordash');

    const answer = await sendSigned(order, 'release', bytesOf(eventOf(order, 'cancel')));

    expect(answer).toEqual({ status: 400, body: refused('INVALID_PAYLOAD') });
    await expectUntouched(order);
  });
});

describe('events replayed after the partner stopped retrying', () => {
  const pastUberHorizon = () => unixNow() - ubereats.EVENT_MAX_AGE_SECONDS - 60;

  test('ubereats: a new-order notice dated past the retry horizon is 401 and leaves no trace', async () => {
    const sent = await whenThePartnerSendsAnOrder(t, {
      partner: 'ubereats',
      storeId: 'store-001',
      body: { event_time: pastUberHorizon() },
    });

    expect(sent.webhookStatus).toBe(401);
    expect(sent.webhookBody).toEqual(refused('UNAUTHORIZED'));
    await expectNoTraceOf('ubereats', sent.partnerOrderId);
  });

  test.each(['release', 'cancel'] as const)(
    'ubereats: a %s dated past the retry horizon is 401 and the order keeps waiting',
    async (kind) => {
      const order = await givenAWaitingOrder('ubereats');

      const answer = await sendSigned(order, kind, bytesOf(eventOf(order, kind, pastUberHorizon())));

      expect(answer).toEqual({ status: 401, body: refused('UNAUTHORIZED') });
      await expectUntouched(order);
    },
  );

  test.each(['release', 'cancel'] as const)(
    'grubhub: a %s signed outside the replay window is 401 and the order keeps waiting',
    async (kind) => {
      const order = await givenAWaitingOrder('grubhub');
      const at = new Date(Date.now() - (grubhub.REPLAY_WINDOW_SECONDS + 60) * 1000);

      const answer = await sendSigned(order, kind, bytesOf(eventOf(order, kind)), { at });

      expect(answer).toEqual({ status: 401, body: refused('UNAUTHORIZED') });
      await expectUntouched(order);
    },
  );
});

describe('signatures bind bytes', () => {
  test('grubhub: a new order whose bytes are not UTF-8, signed over those bytes, is refused and leaves no trace', async () => {
    const partnerOrderId = randomUUID();
    const now = Date.now();
    const order = {
      type: 'ORDER_PLACED',
      order_uuid: partnerOrderId,
      restaurant_id: '4410021',
      placed_at: new Date(now).toISOString(),
      pickup_time: new Date(now + 600_000).toISOString(),
      diner: { first_name: 'Aiko' },
      lines: [{ menu_item_id: 'TACO-POLLO', name: 'Pollo Asado Taco', quantity: 1, price: 425, options: [] }],
      charges: { subtotal: 425, tax: 38, total: 463 },
      special_instructions: 'NOTE',
    };
    const [before, after] = JSON.stringify(order).split('NOTE') as [string, string];
    const bytes = Buffer.concat([
      Buffer.from(`${before}extra `),
      Buffer.from([0xff]),
      Buffer.from(` salsa${after}`),
    ]);

    const answer = await post('/webhooks/grubhub/orders', bytes, {
      'content-type': 'application/json',
      ...signWebhook('grubhub', bytes, secrets.grubhub.signing, new Date()),
    });

    // API Gateway hands an application/json body to the function as text, by Content-Type alone:
    // bytes that are not UTF-8 arrive replaced, and the signature over the partner's bytes fails.
    expect(answer).toEqual({ status: 401, body: refused('UNAUTHORIZED') });
    await expectNoTraceOf('grubhub', partnerOrderId);
  });
});

describe('every spelling of a valid signature', () => {
  test('grubhub: a release signed in upper-case hex releases the order', async () => {
    const order = await givenAWaitingOrder('grubhub');
    const bytes = bytesOf(eventOf(order, 'release'));
    const signature = signWebhook('grubhub', bytes, secrets.grubhub.signing, new Date());
    const upper = {
      [grubhub.SIGNATURE_HEADER]: signature[grubhub.SIGNATURE_HEADER]!.replace(
        /v1=([0-9a-f]+)/,
        (_, hex: string) => `v1=${hex.toUpperCase()}`,
      ),
    };

    const answer = await sendSigned(order, 'release', bytes, { headers: upper });

    expect(answer.status).toBe(202);
    await theOrderReaches(t, order.orderId, 'RELEASED');
  });

  test('doordash: a cancel whose Authorization scheme is written `bearer` cancels the order', async () => {
    const order = await givenAWaitingOrder('doordash');

    const answer = await sendSigned(order, 'cancel', bytesOf(eventOf(order, 'cancel')), {
      headers: { Authorization: `bearer ${secrets.doordash.signing}` },
    });

    expect(answer).toEqual({ status: 202, body: { orderId: order.orderId, status: 'CANCELLED' } });
  });
});

describe('store and order routes an operator calls', () => {
  const longId = 'x'.repeat(2043);

  test('a 2,043-character id is a JSON 404 on the GETs and a JSON 400 on the PUTs, never a 500', async () => {
    expect(await call('GET', `${t.httpUrl}/orders/${longId}`)).toEqual({
      status: 404,
      body: refused('NOT_FOUND'),
    });
    expect(await call('GET', `${t.httpUrl}/stores/${longId}`)).toEqual({
      status: 404,
      body: refused('NOT_FOUND'),
    });
    expect(await call('PUT', `${t.httpUrl}/stores/${longId}/status`, { status: 'paused' })).toEqual({
      status: 400,
      body: refused('INVALID_PAYLOAD'),
    });
    expect(await call('PUT', `${t.httpUrl}/stores/${longId}/items/TACO-POLLO`, { available: false })).toEqual(
      {
        status: 400,
        body: refused('INVALID_PAYLOAD'),
      },
    );
    expect(await call('PUT', `${t.httpUrl}/stores/store-001/items/${longId}`, { available: false })).toEqual({
      status: 400,
      body: refused('INVALID_PAYLOAD'),
    });
  });

  /** A PUT as curl sends it with `-d`, `--aws-sigv4` and no header: `application/x-www-form-urlencoded`. */
  async function curlPut(path: string, body: Buffer | string) {
    const response = await signedFetch(`${t.httpUrl}${path}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    return { status: response.status, body: await response.json() };
  }
  const horchata = async () =>
    (
      (await call('GET', `${t.httpUrl}/stores/store-001`)).body.menu as {
        sku: string;
        available: boolean;
      }[]
    ).find((item) => item.sku === 'DRINK-HORCHATA');

  test('a JSON body sent with curl’s default form content type is applied: 200', async () => {
    const eighty6 = await curlPut('/stores/store-001/items/DRINK-HORCHATA', '{"available":false}');
    expect(eighty6.status).toBe(200);
    expect(await horchata()).toMatchObject({ available: false });

    const back = await curlPut('/stores/store-001/items/DRINK-HORCHATA', '{"available":true}');
    expect(back.status).toBe(200);
    expect(await horchata()).toMatchObject({ available: true });
  });

  test('a body that is not JSON (or not UTF-8) is still a JSON 400 and changes nothing', async () => {
    expect(await curlPut('/stores/store-001/status', 'status=paused')).toEqual({
      status: 400,
      body: refused('INVALID_PAYLOAD'),
    });
    const notUtf8 = Buffer.concat([Buffer.from('{"status":"pa'), Buffer.from([0xff]), Buffer.from('used"}')]);
    expect(await curlPut('/stores/store-001/status', notUtf8)).toEqual({
      status: 400,
      body: refused('INVALID_PAYLOAD'),
    });
    expect((await call('GET', `${t.httpUrl}/stores/store-001`)).body.status).toBe('online');
  });
});
