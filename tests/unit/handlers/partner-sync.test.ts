/**
 * The partner sync against a real DynamoDB (dynalite, the tables of resources/data.yml) and the
 * project's partner simulator over HTTP: store changes made by the store service, their events
 * delivered to syncStoreToPartners in any order, and what every partner then shows.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { demoStore } from '../../../functions/lib/domain/demo-stores';
import { PARTNERS, type PartnerId } from '../../../functions/lib/schemas/partners/index';
import type { Store } from '../../../functions/lib/schemas/store';
import { startTestTables } from './dynamo-tables';
import { lambdaContext, STORES_TABLE, setHandlerEnv, ssmParameters } from './harness';
import { LocalApis } from './local-apis';

const tables = await startTestTables();
const apis = await LocalApis.start();
setHandlerEnv(apis.env);
const { handler } = await import('../../../functions/sync-store-to-partners');
const { setItemAvailability, setStoreStatus, setBusy } = await import(
  '../../../functions/lib/services/stores'
);
const { syncStoreToPartners, resyncLaggingStores, laggingPartners, PartnerSyncFailed } = await import(
  '../../../functions/lib/services/partner-sync'
);
const { recordPartnerSync, readStoreNow } = await import('../../../functions/lib/adapters/partner-sync-repo');

const ssm = mockClient(SSMClient);
const bus = mockClient(EventBridgeClient);

const STORE = 'store-001';
const partnerStoreIds = demoStore(STORE)!.partnerStoreIds as Record<PartnerId, string>;

afterAll(async () => {
  await apis.close();
  await tables.close();
});

beforeEach(async () => {
  await tables.clear();
  apis.reset();
  apis.partner.state.stores.clear();
  for (const mock of [ssm, bus]) mock.reset();
  ssm
    .on(GetParameterCommand)
    .callsFake(({ Name }) => ({ Parameter: { Name, Value: ssmParameters()[Name] } }));
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
  await givenStore(freshStore(STORE));
});

/** A demo store with every item on sale and nothing changed yet (the demo data 86es one item). */
function freshStore(storeId: string): Store {
  const store = demoStore(storeId)!;
  store.menu = store.menu.map(({ sku, name, price }) => ({ sku, name, price, available: true }));
  return store;
}

async function givenStore(store: Store) {
  await tables.doc.send(
    new PutCommand({ TableName: STORES_TABLE, Item: { pk: `STORE#${store.storeId}`, ...store } }),
  );
}

/** Every store event the store service put on the bus so far, as EventBridge delivers it to a target. */
function publishedEvents() {
  return bus.commandCalls(PutEventsCommand).flatMap((sent) =>
    (sent.args[0].input.Entries ?? []).map((entry) => ({
      version: '0',
      id: `evt-${Math.random()}`,
      'detail-type': entry.DetailType,
      source: entry.Source,
      account: '123456789012',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [],
      detail: JSON.parse(entry.Detail ?? '{}'),
    })),
  );
}

const deliver = (event: unknown) =>
  handler(event, lambdaContext('order-middleware-test-syncStoreToPartners'));

/** What each partner shows for the store now, as the simulator's `_control` answers it. */
async function partnersShow(storeId = STORE) {
  const response = await fetch(`${apis.partner.url}/_control/stores/${storeId}`);
  return (
    (await response.json()) as { partners: Record<PartnerId, { status: string; unavailableItems: string[] }> }
  ).partners;
}

const STORE_API = /^\/(ubereats\/v\d\/eats\/stores?|doordash\/api\/v1\/stores|grubhub\/pos\/v1\/merchant)\//;
const storeCalls = () => apis.calls.filter((call) => STORE_API.test(call.path));

describe('a store change reaches every partner', () => {
  test('an 86 and a pause: every partner shows them; partnerSync records the versions pushed', async () => {
    await setItemAvailability(STORE, 'BURRITO-CARNE', { available: false });
    await setStoreStatus(STORE, { status: 'paused', reason: 'Kitchen deep clean' });

    for (const event of publishedEvents()) await deliver(event);

    const shown = await partnersShow();
    for (const partner of PARTNERS) {
      expect(shown[partner]).toMatchObject({ status: 'paused', unavailableItems: ['BURRITO-CARNE'] });
    }
    const store = await readStoreNow(STORE);
    for (const partner of PARTNERS) {
      expect(store?.partnerSync?.[partner]).toMatchObject({
        version: 1,
        changes: 2,
        itemVersions: expect.objectContaining({ 'BURRITO-CARNE': 1, 'TACO-POLLO': 0 }),
      });
    }
    expect(laggingPartners(store!)).toEqual([]);
  });

  test('a POS-health style pause and busy mode reach DoorDash and Grubhub in their own fields', async () => {
    await setBusy(STORE, { extraPrepMinutes: 20 });
    await setStoreStatus(STORE, { status: 'offline' });

    await syncStoreToPartners(STORE);

    const doordashStatus = storeCalls().filter((call) => call.path.endsWith('/dd-881001/status'));
    expect(doordashStatus.at(-1)?.body).toEqual({ is_active: false, reason: 'operational_issues' });
    const grubhubBusy = storeCalls().filter((call) => call.path.endsWith('/4410021/busy'));
    expect(grubhubBusy.at(-1)).toMatchObject({ method: 'POST', body: { eta_increase_seconds: 1200 } });
  });

  test('a partner the store is not on is not called', async () => {
    const store = freshStore(STORE);
    delete store.partnerStoreIds.grubhub;
    await givenStore(store);

    await syncStoreToPartners(STORE);

    expect(storeCalls().filter((call) => call.path.startsWith('/grubhub/'))).toEqual([]);
    expect(storeCalls().filter((call) => call.path.startsWith('/doordash/')).length).toBeGreaterThan(0);
  });
});

describe('an older change never wins', () => {
  test('an older event delivered after a newer one leaves every partner showing the newer state', async () => {
    await setItemAvailability(STORE, 'TACO-POLLO', { available: false }); // item version 1
    await setItemAvailability(STORE, 'TACO-POLLO', { available: true }); // item version 2
    const [older, newer] = publishedEvents();
    expect(older?.detail).toMatchObject({ sku: 'TACO-POLLO', available: false, version: 1 });

    await deliver(newer);
    await deliver(older);

    const shown = await partnersShow();
    for (const partner of PARTNERS) expect(shown[partner].unavailableItems).toEqual([]);
    expect((await readStoreNow(STORE))?.partnerSync?.ubereats?.itemVersions['TACO-POLLO']).toBe(2);
  });

  test('an older pause delivered after the store came back online does not pause it on any partner', async () => {
    await setStoreStatus(STORE, { status: 'paused', reason: 'Rush' });
    await setStoreStatus(STORE, { status: 'online' });
    const [pause, back] = publishedEvents();

    await deliver(back);
    await deliver(pause);

    const shown = await partnersShow();
    for (const partner of PARTNERS) expect(shown[partner].status).toBe('online');
  });

  test('two pushes racing, the older one landing last: it re-reads, pushes again, and the latest state stays', async () => {
    await setItemAvailability(STORE, 'TACO-VEG', { available: false }); // what the slow push reads
    const interloper = new AsyncLocalStorage<boolean>();
    let holding = true;
    let held: Promise<void> | undefined;
    const realFetch = globalThis.fetch;
    // The slow push's first round is held at its first partner call until a change and a whole
    // newer push have landed; then its calls go out, older than what the partners already show.
    globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const isStoreCall = STORE_API.test(new URL(String(input)).pathname);
      if (isStoreCall && holding && !interloper.getStore()) {
        held ??= interloper.run(true, async () => {
          await setItemAvailability(STORE, 'TACO-VEG', { available: true });
          await syncStoreToPartners(STORE);
          holding = false; // the slow push's later rounds go straight out
        });
        await held;
      }
      return realFetch(input, init);
    }) as typeof fetch;
    let slow: Awaited<ReturnType<typeof syncStoreToPartners>>;
    try {
      slow = await syncStoreToPartners(STORE);
    } finally {
      globalThis.fetch = realFetch;
    }

    expect(slow.rounds).toBe(2);
    const shown = await partnersShow();
    for (const partner of PARTNERS) expect(shown[partner].unavailableItems).toEqual([]);
    // The race was real: each partner got TACO-VEG unavailable after it had been told available.
    const ubereatsVeg = storeCalls()
      .filter((call) => call.path.endsWith('/menus/items/TACO-VEG'))
      .map((call) => (call.body as { suspension_info: unknown }).suspension_info === null);
    expect(ubereatsVeg).toEqual([true, false, true]);
    expect((await readStoreNow(STORE))?.partnerSync?.grubhub?.itemVersions['TACO-VEG']).toBe(2);
  });

  test('what is recorded as pushed is never lowered', async () => {
    const pushed = (changes: number) => ({
      version: changes,
      itemVersions: {},
      changes,
      at: new Date().toISOString(),
    });

    expect(await recordPartnerSync(STORE, 'doordash', pushed(5), false)).toBe(true);
    expect(await recordPartnerSync(STORE, 'doordash', pushed(3), true)).toBe(false);
    expect(await recordPartnerSync(STORE, 'doordash', pushed(5), true)).toBe(true);

    expect((await readStoreNow(STORE))?.partnerSync?.doordash?.changes).toBe(5);
  });
});

describe('a partner that does not take the push', () => {
  test('fails the invocation (retried, then the DLQ); the partners that took it are recorded, the sweep catches up', async () => {
    await setItemAvailability(STORE, 'CHIPS-SALSA', { available: false });
    const [event] = publishedEvents();
    apis.partner.state.faults.set({
      errorRate: 0,
      latencyMs: 0,
      failNext: 1,
      errorStatus: 503,
      endpoints: ['store'],
    });

    await expect(deliver(event)).rejects.toBeInstanceOf(PartnerSyncFailed);

    const afterFailure = await readStoreNow(STORE);
    expect(laggingPartners(afterFailure!)).toHaveLength(1);

    const sweep = await resyncLaggingStores();

    expect(sweep).toMatchObject({ lagging: 1, synced: 1, failed: 0 });
    const shown = await partnersShow();
    for (const partner of PARTNERS) expect(shown[partner].unavailableItems).toEqual(['CHIPS-SALSA']);
    expect(laggingPartners((await readStoreNow(STORE))!)).toEqual([]);
  });

  test('a push that fails forgets what that partner was last told, so the sweep pushes it again', async () => {
    // Every partner shows the store and partnerSync says so; then a push (e.g. a stale one's
    // re-push) fails for one partner: what it shows now is unknown, whatever partnerSync said.
    await syncStoreToPartners(STORE);
    expect(laggingPartners((await readStoreNow(STORE))!)).toEqual([]);
    apis.partner.state.faults.set({
      errorRate: 0,
      latencyMs: 0,
      failNext: 1,
      errorStatus: 503,
      endpoints: ['store'],
    });

    await expect(syncStoreToPartners(STORE)).rejects.toBeInstanceOf(PartnerSyncFailed);

    expect(laggingPartners((await readStoreNow(STORE))!)).toHaveLength(1);
    expect(await resyncLaggingStores()).toMatchObject({ lagging: 1, synced: 1, failed: 0 });
    expect(laggingPartners((await readStoreNow(STORE))!)).toEqual([]);
  });

  test('a sweep out of time reports the stores it did not reach as lagging instead of running on', async () => {
    await setStoreStatus(STORE, { status: 'paused', reason: 'Rush' }); // its event is lost
    apis.calls.length = 0;

    expect(await resyncLaggingStores(() => new Date(), -1)).toMatchObject({
      lagging: 1,
      synced: 0,
      failed: 1,
    });
    expect(storeCalls()).toEqual([]);
  });

  test('the sweep pushes a store whose change event never arrived, and leaves stores in sync alone', async () => {
    await givenStore(freshStore('store-002'));
    await setStoreStatus(STORE, { status: 'paused', reason: 'Rush' }); // its event is lost
    await syncStoreToPartners('store-002');
    apis.calls.length = 0;

    const sweep = await resyncLaggingStores();

    expect(sweep).toMatchObject({ stores: 2, lagging: 1, synced: 1 });
    expect(storeCalls().some((call) => call.path.includes('store-002') || call.path.includes('881002'))).toBe(
      false,
    );
    const shown = await partnersShow();
    for (const partner of PARTNERS) expect(shown[partner].status).toBe('paused');
    expect(await resyncLaggingStores()).toMatchObject({ lagging: 0 });
  });
});

test('partner store ids come from the store record', () => {
  expect(partnerStoreIds).toEqual({
    ubereats: 'ue-7c1f0a52-store-001',
    doordash: 'dd-881001',
    grubhub: '4410021',
  });
});
