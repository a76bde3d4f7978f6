/**
 * What intake no longer believes without checking: an order's size once canonical, an Uber Eats
 * notice whose order the Uber API cannot serve or serves for another id or store, modifiers that pass
 * for menu items, hostile free text, pickup times out of any sane window, negative money.
 * Every refusal is a documented 4xx (or a 503 the partner retries) and leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import { orderIdFor } from '../../functions/lib/domain/order';
import { signWebhook } from '../../functions/lib/domain/signatures';
import { devPartnerSecrets } from '../../local/simulators/partner/index';
import {
  eventually,
  givenALocalCloud,
  givenThePartnerApiFaults,
  type TestCloud,
  theOrder,
  theOrderReaches,
  thePosOrders,
  theWorkflowExecutionsOf,
  whatThePartnerSaw,
  whenThePartnerRedelivers,
  whenThePartnerSendsAnOrder,
} from '../steps/local-cloud';

let t: TestCloud;
beforeAll(async () => {
  t = await givenALocalCloud();
}, 120_000);
afterAll(async () => {
  await t?.stop();
});
afterEach(async () => {
  await givenThePartnerApiFaults(t, undefined);
});

const PARTNERS = ['ubereats', 'doordash', 'grubhub'] as const;
const errorBody = (code: string) => ({ error: { code, message: expect.any(String) } });

/** Nothing of the order exists anywhere: no record, no workflow, no POS order. */
async function expectNoTraceOf(partner: string, partnerOrderId: string) {
  const orderId = orderIdFor(partner as never, partnerOrderId);
  expect((await theOrder(t, orderId)).status).toBe(404);
  expect(await theWorkflowExecutionsOf(t, orderId)).toEqual([]);
  expect(await thePosOrders(t, orderId)).toEqual([]);
}

async function thePartnerIsTold(partner: string, partnerOrderId: string, expected: Record<string, unknown>) {
  return eventually(
    async () => {
      const seen = await whatThePartnerSaw(t, partner, partnerOrderId);
      return Object.entries(expected).every(([key, value]) => seen[key] === value) ? seen : undefined;
    },
    `${partner} to see ${JSON.stringify(expected)}`,
  );
}

/** An Uber Eats notice posted by hand, signed as Uber Eats signs: for an order the simulator never made. */
async function postUberEatsNotice(partnerOrderId: string) {
  const body = JSON.stringify({
    event_id: randomUUID(),
    event_type: 'orders.notification',
    event_time: Math.floor(Date.now() / 1000),
    meta: { resource_id: partnerOrderId, user_id: 'ue-7c1f0a52-store-001', status: 'pos' },
  });
  const secret = devPartnerSecrets().ubereats.signing;
  const response = await fetch(`${t.httpUrl}/webhooks/ubereats/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signWebhook('ubereats', body, secret, new Date()) },
    body,
  });
  return { status: response.status, body: await response.json() };
}

describe('an order that grows past the service limits once canonical', () => {
  test('a ~20 KB DoorDash order whose option quantities multiply modifiers is refused 400 ORDER_TOO_LARGE, nothing kept', async () => {
    const option = (quantity: number) => ({
      merchant_supplied_id: 'SIDE-GUAC',
      name: `Guacamole, ${'extra fresh and chunky '.repeat(8)}`.slice(0, 200),
      quantity,
      price: 250,
    });
    const item = {
      merchant_supplied_id: 'TACO-AL-PASTOR',
      name: 'Al Pastor Taco',
      quantity: 1,
      price: 450,
      extras: [{ name: 'Extras', options: [option(20), option(20), option(10)] }],
    };
    const items = 22;
    const subtotal = items * (450 + 50 * 250);
    const body = {
      order: {
        categories: [{ name: 'Tacos', items: Array.from({ length: items }, () => item) }],
        subtotal,
        tax: Math.round(subtotal * 0.08875),
      },
    };
    expect(JSON.stringify(body).length).toBeLessThan(24 * 1024);

    const sent = await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001', body });

    expect(sent.webhookStatus).toBe(400);
    expect(sent.webhookBody).toEqual(errorBody('ORDER_TOO_LARGE'));
    await expectNoTraceOf('doordash', sent.partnerOrderId);
  });
});

describe('an Uber Eats notice the Uber Eats API cannot back', () => {
  test('for an order Uber Eats does not know (its API answers 404): 400, nothing kept', async () => {
    const partnerOrderId = randomUUID();
    const answer = await postUberEatsNotice(partnerOrderId);
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual(errorBody('INVALID_PAYLOAD'));
    await expectNoTraceOf('ubereats', partnerOrderId);
  });

  test('while the Uber Eats API is down: 503 so Uber Eats retries, nothing kept; the retry is taken', async () => {
    await givenThePartnerApiFaults(t, { errorRate: 1, endpoints: ['fetch'] });
    const sent = await whenThePartnerSendsAnOrder(t, { partner: 'ubereats', storeId: 'store-001' });
    expect(sent.webhookStatus).toBe(503);
    expect(sent.webhookBody).toEqual(errorBody('PARTNER_UNAVAILABLE'));
    await expectNoTraceOf('ubereats', sent.partnerOrderId);

    await givenThePartnerApiFaults(t, undefined);
    const retry = await whenThePartnerRedelivers(t, 'ubereats', sent.partnerOrderId, {
      times: 1,
      concurrent: false,
    });
    expect(retry.webhookStatuses).toEqual([202]);
    await theOrderReaches(t, orderIdFor('ubereats', sent.partnerOrderId), 'ACCEPTED');
  });

  test('when the fetched order carries another id than the notice: 400, nothing kept under either id', async () => {
    const otherId = randomUUID();
    const sent = await whenThePartnerSendsAnOrder(t, {
      partner: 'ubereats',
      storeId: 'store-001',
      order: { id: otherId },
    });
    expect(sent.webhookStatus).toBe(400);
    expect(sent.webhookBody).toEqual(errorBody('INVALID_PAYLOAD'));
    await expectNoTraceOf('ubereats', sent.partnerOrderId);
    await expectNoTraceOf('ubereats', otherId);
  });

  test('when the fetched order is for another store than the notice (one we also serve): 400, nothing kept', async () => {
    const sent = await whenThePartnerSendsAnOrder(t, {
      partner: 'ubereats',
      storeId: 'store-001',
      order: { store: { id: 'ue-2b9d44e1-store-002' } },
    });
    expect(sent.webhookStatus).toBe(400);
    expect(sent.webhookBody).toEqual(errorBody('INVALID_PAYLOAD'));
    await expectNoTraceOf('ubereats', sent.partnerOrderId);
  });
});

describe.each(PARTNERS)('a %s option named like a menu item', (partner) => {
  test('at price 0 is denied INVALID_ORDER and never reaches the POS as a free modifier', async () => {
    const sent = await whenThePartnerSendsAnOrder(t, {
      partner,
      storeId: 'store-001',
      items: [{ sku: 'TACO-POLLO', quantity: 1, modifiers: [{ name: 'Carne Asada Burrito', price: 0 }] }],
    });
    expect(sent.webhookStatus).toBe(202);
    const orderId = sent.webhookBody.orderId as string;
    const order = await theOrderReaches(t, orderId, 'REJECTED');
    expect(order.denyReason).toBe('INVALID_ORDER');
    await thePartnerIsTold(partner, sent.partnerOrderId, { state: 'denied', denyReason: 'INVALID_ORDER' });
    expect(await thePosOrders(t, orderId)).toEqual([]);
  });
});

describe('hostile free text', () => {
  const hostile =
    'Ring\tthe\r\nbell\u0007\u0000 <script>alert(1)</script><img src=x onerror=alert(2)> \u202Eevil';

  test.each(PARTNERS)(
    '%s: notes and modifier names reach the POS without control characters or HTML',
    async (partner) => {
      const sent = await whenThePartnerSendsAnOrder(t, {
        partner,
        storeId: 'store-001',
        items: [
          {
            sku: 'TACO-AL-PASTOR',
            quantity: 1,
            notes: hostile,
            // Short: Uber Eats makes an option id of it, at most 64 characters.
            modifiers: [{ name: 'No <b>onions</b>\u0007\r\nplease', price: 0 }],
          },
        ],
        notes: hostile,
      });
      expect(sent.webhookStatus).toBe(202);
      const orderId = sent.webhookBody.orderId as string;
      const order = await theOrderReaches(t, orderId, 'ACCEPTED');

      const [pos, ...more] = await thePosOrders(t, orderId);
      expect(more).toEqual([]);
      expect(pos.items).toEqual([
        expect.objectContaining({
          sku: 'TACO-AL-PASTOR',
          notes: 'Ring the bell alert(1) evil',
          modifiers: [expect.objectContaining({ name: 'No onions please', price: 0 })],
        }),
      ]);
      expect(order.items[0].notes).toBe('Ring the bell alert(1) evil');
      const workflowInput = JSON.parse((await theWorkflowExecutionsOf(t, orderId))[0]!.input);
      expect(workflowInput.detail.order.notes).toBe('Ring the bell alert(1) evil');
      for (const seen of [JSON.stringify(pos), JSON.stringify(order), JSON.stringify(workflowInput)]) {
        expect(seen).not.toMatch(/[<>\u202E]|\\u000[07]|\\[nrt]/u);
      }
    },
  );
});

describe.each(PARTNERS)('a %s pickup time out of any sane window', (partner) => {
  test.each([
    ['30 days ahead', 30 * 24 * 3600],
    ['in 1969', -Math.floor(Date.now() / 1000) - 3600],
  ])('%s is refused 400, nothing kept', async (_, pickupInSeconds) => {
    const sent = await whenThePartnerSendsAnOrder(t, { partner, storeId: 'store-001', pickupInSeconds });
    expect(sent.webhookStatus).toBe(400);
    expect(sent.webhookBody).toEqual(errorBody('INVALID_PAYLOAD'));
    expect(sent.webhookBody.error.message).toMatch(/pickup/);
    await expectNoTraceOf(partner, sent.partnerOrderId);
  });
});

describe('negative money', () => {
  test('a negative quantity (which showed a REJECTED order with a negative total) is refused 400, nothing kept', async () => {
    const sent = await whenThePartnerSendsAnOrder(t, {
      partner: 'doordash',
      storeId: 'store-001',
      items: [{ sku: 'BURRITO-CARNE', quantity: -1 }],
    });
    expect(sent.webhookStatus).toBe(400);
    expect(sent.webhookBody).toEqual(errorBody('INVALID_PAYLOAD'));
    await expectNoTraceOf('doordash', sent.partnerOrderId);
  });

  test('a negative unit price is refused 400, nothing kept', async () => {
    const sent = await whenThePartnerSendsAnOrder(t, {
      partner: 'grubhub',
      storeId: 'store-001',
      items: [{ sku: 'BURRITO-CARNE', quantity: 1, unitPrice: -1195 }],
    });
    expect(sent.webhookStatus).toBe(400);
    expect(sent.webhookBody).toEqual(errorBody('INVALID_PAYLOAD'));
    await expectNoTraceOf('grubhub', sent.partnerOrderId);
  });
});
