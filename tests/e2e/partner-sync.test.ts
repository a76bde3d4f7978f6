/**
 * Stop orders at the source (issue 9): what a store manager does through our store routes reaches
 * every partner through the bus, the sync Lambda and each partner's store API — and the partner
 * simulator, playing the marketplace, then refuses the orders a customer could no longer place.
 */
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  call,
  eventually,
  givenALocalCloud,
  givenThePartnerApiFaults,
  type TestCloud,
  theOrderReaches,
  whenTheStoreSchedulesRun as theStoreSchedulesRunIn,
  whenThePartnerSendsAnOrder,
} from '../steps/local-cloud';

const PARTNERS = ['ubereats', 'doordash', 'grubhub'] as const;
type Shown = {
  status: string;
  pausedUntil?: string;
  extraPrepMinutes?: number;
  unavailableItems: string[];
  updates: unknown[];
};

let t: TestCloud;
beforeAll(async () => {
  t = await givenALocalCloud();
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

const store = (path = '') => `${t.httpUrl}/stores/store-001${path}`;
const placeOrder = (order: Record<string, unknown>) =>
  call('POST', `${t.partnerUrl}/_control/orders`, { storeId: 'store-001', ...order });

/** The store schedules now (expiries, POS probe, partner sweep), as their minute would. */
async function whenTheStoreSchedulesRun() {
  await theStoreSchedulesRunIn(t);
}

async function partnersShow(): Promise<Record<(typeof PARTNERS)[number], Shown>> {
  return (await call('GET', `${t.partnerUrl}/_control/stores/store-001`)).body.partners;
}

/** Waits until every partner shows what `check` wants, and answers what they show. */
function everyPartnerShows(check: (shown: Shown) => boolean, what: string) {
  return eventually(async () => {
    const shown = await partnersShow();
    return PARTNERS.every((partner) => check(shown[partner])) ? shown : undefined;
  }, `every partner to show ${what}`);
}

afterEach(async () => {
  await givenThePartnerApiFaults(t, undefined);
  // Back to a store that sells everything, pushed, then the partners forget it for the next test.
  await call('PUT', store('/status'), { status: 'online' });
  await call('PUT', store('/items/TACO-POLLO'), { available: true });
  await call('DELETE', store('/busy'));
  await everyPartnerShows(
    (shown) => shown.status === 'online' && !shown.unavailableItems.includes('TACO-POLLO'),
    'store-001 as it was',
  );
  await call('DELETE', `${t.partnerUrl}/_control/stores/store-001`);
});

test('86 an item: every partner shows it unavailable, orders for it are refused at the source; back on sale everywhere', async () => {
  const eighty6 = await call('PUT', store('/items/TACO-POLLO'), { available: false });
  expect(eighty6.status).toBe(200);

  await everyPartnerShows((shown) => shown.unavailableItems.includes('TACO-POLLO'), 'TACO-POLLO unavailable');

  for (const partner of PARTNERS) {
    const refused = await placeOrder({ partner, items: [{ sku: 'TACO-POLLO', quantity: 1 }] });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('ITEM_UNAVAILABLE_ON_PARTNER');
  }
  // The customer can still order the rest of the menu.
  const other = await whenThePartnerSendsAnOrder(t, {
    partner: 'doordash',
    storeId: 'store-001',
    items: [{ sku: 'TACO-VEG', quantity: 1 }],
  });
  await theOrderReaches(t, other.webhookBody.orderId, 'ACCEPTED');

  await call('PUT', store('/items/TACO-POLLO'), { available: true });
  await call('DELETE', store('/busy'));
  await everyPartnerShows((shown) => !shown.unavailableItems.includes('TACO-POLLO'), 'TACO-POLLO on sale');
  expect((await placeOrder({ partner: 'grubhub', items: [{ sku: 'TACO-POLLO', quantity: 1 }] })).status).toBe(
    201,
  );
});

test('86 with until: unavailable on every partner and refused at the source, then on sale everywhere by itself', async () => {
  const until = new Date(Date.now() + 3_000).toISOString();
  expect((await call('PUT', store('/items/TACO-POLLO'), { available: false, until })).status).toBe(200);

  await everyPartnerShows((s) => s.unavailableItems.includes('TACO-POLLO'), 'TACO-POLLO unavailable');
  expect(
    (await placeOrder({ partner: 'doordash', items: [{ sku: 'TACO-POLLO', quantity: 1 }] })).status,
  ).toBe(409);

  await new Promise((resolve) => setTimeout(resolve, Date.parse(until) - Date.now() + 200));
  // DoorDash's item call has no end: our schedule's expiry, pushed, brings it back there too.
  await whenTheStoreSchedulesRun();

  await everyPartnerShows((s) => !s.unavailableItems.includes('TACO-POLLO'), 'TACO-POLLO on sale again');
  expect(
    (await placeOrder({ partner: 'doordash', items: [{ sku: 'TACO-POLLO', quantity: 1 }] })).status,
  ).toBe(201);
});

test('busy mode: Grubhub shows the extra minutes, and none once it ends', async () => {
  expect((await call('PUT', store('/busy'), { extraPrepMinutes: 25 })).status).toBe(200);
  await eventually(
    async () => ((await partnersShow()).grubhub.extraPrepMinutes === 25 ? true : undefined),
    'Grubhub to show 25 extra minutes',
  );

  await call('DELETE', store('/busy'));

  await eventually(
    async () => ((await partnersShow()).grubhub.extraPrepMinutes === undefined ? true : undefined),
    'Grubhub to show no busy mode',
  );
});

test('pause the store: every partner shows it paused and takes no order; online again everywhere, orders flow', async () => {
  const until = new Date(Date.now() + 3_600_000).toISOString();
  const paused = await call('PUT', store('/status'), {
    status: 'paused',
    reason: 'Kitchen deep clean',
    until,
  });
  expect(paused.status).toBe(200);

  const shown = await everyPartnerShows((s) => s.status === 'paused', 'store-001 paused');
  // Uber Eats and DoorDash carry the pause's end; Grubhub's pos-status has none.
  expect(shown.ubereats.pausedUntil).toBe(until);
  expect(shown.doordash.pausedUntil).toBe(until);
  for (const partner of PARTNERS) {
    const refused = await placeOrder({ partner });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('STORE_PAUSED_ON_PARTNER');
  }

  await call('PUT', store('/status'), { status: 'online' });
  await everyPartnerShows((s) => s.status === 'online', 'store-001 online');
  const next = await whenThePartnerSendsAnOrder(t, { partner: 'ubereats', storeId: 'store-001' });
  await theOrderReaches(t, next.webhookBody.orderId, 'ACCEPTED');
});

test('partners down while the store pauses: the sync fails into its DLQ; once they answer, the sweep shows the pause everywhere', async () => {
  await givenThePartnerApiFaults(t, { errorRate: 1, endpoints: ['store'] });
  const queue = { url: t.resource('StoreSyncDLQ') };
  const sqs = new SQSClient(t.aws);

  await call('PUT', store('/status'), { status: 'paused', reason: 'Short staffed' });

  // Syncs of earlier changes still retrying while the partners are down land there too.
  const deadLettered: unknown[] = [];
  const dead = await eventually(
    async () => {
      const received = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      // Lambda's on-failure destination wraps the event in `requestPayload` on AWS; locally it is the event.
      for (const message of received.Messages ?? []) {
        const body = JSON.parse(message.Body!);
        deadLettered.push(body.requestPayload ?? body);
      }
      return deadLettered.find(
        (event) =>
          (event as { 'detail-type'?: string })['detail-type'] === 'StoreStatusChanged' &&
          (event as { detail?: { status?: string } }).detail?.status === 'paused',
      );
    },
    'the failed push of the pause in the store-sync DLQ',
    30_000,
  );
  expect(dead).toMatchObject({ detail: { storeId: 'store-001', status: 'paused', reason: 'Short staffed' } });
  // The pause was the last change: once its retries are spent (and a margin for the earlier ones'),
  // nothing but the sweep is left to push it.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  for (const shown of Object.values(await partnersShow())) expect(shown.status).toBe('online');

  await givenThePartnerApiFaults(t, undefined);
  await whenTheStoreSchedulesRun();

  await everyPartnerShows((s) => s.status === 'paused', 'store-001 paused after the sweep');
}, 60_000);
