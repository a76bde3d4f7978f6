/**
 * The store routes and the store schedule, as an operator and the minute timer use them. The stores
 * table is a real DynamoDB (dynalite, tables from resources/data.yml): the version conditions that
 * make a lost race retry are DynamoDB's to evaluate. The bus is mocked: what was published is read
 * from the PutEvents calls.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { demoStore } from '../../../functions/lib/domain/demo-stores';
import {
  StoreStatusChangedDetailSchema,
  storeEventDetailSchemas,
} from '../../../functions/lib/schemas/events';
import { type Store, StoreViewSchema } from '../../../functions/lib/schemas/store';
import { DynamoWatch, startTestTables } from './dynamo-tables';
import { answer, EVENT_BUS_NAME, httpEvent, lambdaContext, STORES_TABLE, setHandlerEnv } from './harness';

const tables = await startTestTables();
setHandlerEnv();
const stores = (await import('../../../functions/stores')).handler;
const service = await import('../../../functions/lib/services/stores');
const dynamo = new DynamoWatch((await import('../../../functions/lib/adapters/dynamo')).dynamo);
const bus = mockClient(EventBridgeClient);

afterAll(() => tables.close());

beforeEach(async () => {
  await tables.clear();
  dynamo.reset();
  bus.reset();
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
  await tableHolds(demoStore('store-001')!);
});

const minutesFromNow = (minutes: number) => new Date(Date.now() + minutes * 60_000).toISOString();

async function tableHolds(store: Store): Promise<void> {
  await tables.doc.send(
    new PutCommand({ TableName: STORES_TABLE, Item: { pk: `STORE#${store.storeId}`, ...store } }),
  );
}

async function stored(storeId = 'store-001'): Promise<Store> {
  const { Item } = await tables.doc.send(
    new GetCommand({ TableName: STORES_TABLE, Key: { pk: `STORE#${storeId}` }, ConsistentRead: true }),
  );
  if (!Item) throw new Error(`no ${storeId} in the stores table`);
  const { pk: _pk, ...store } = Item;
  return store as Store;
}

/** Someone else's change to the store, straight to the table, e.g. between our read and our write. */
const meanwhile = (expression: string, values: Record<string, unknown>) => async () => {
  await tables.doc.send(
    new UpdateCommand({
      TableName: STORES_TABLE,
      Key: { pk: 'STORE#store-001' },
      UpdateExpression: expression,
      // status and until are DynamoDB reserved words
      ...(expression.includes('#') && {
        ExpressionAttributeNames: Object.fromEntries(
          [...expression.matchAll(/#(\w+)/g)].map(([name, word]) => [name, word!]),
        ),
      }),
      ExpressionAttributeValues: values,
    }),
  );
};

const call = async (routeKey: string, pathParameters: Record<string, string>, body?: unknown) => {
  const rawPath = routeKey
    .split(' ')[1]!
    .replace(/\{(\w+)\}/g, (_, name: string) => pathParameters[name] ?? '');
  const event = httpEvent({
    routeKey,
    rawPath,
    pathParameters,
    body: typeof body === 'string' ? body : body === undefined ? undefined : JSON.stringify(body),
    headers: { 'content-type': 'application/json' },
  });
  return answer(await stores(event, lambdaContext()));
};
const store001 = { storeId: 'store-001' };
const horchata = { storeId: 'store-001', sku: 'DRINK-HORCHATA' };
const itemOf = (view: Record<string, unknown>, sku: string) =>
  (view.menu as Store['menu']).find((item) => item.sku === sku);

/** Every event put on the bus, its detail parsed with its schema. */
const published = () =>
  bus
    .commandCalls(PutEventsCommand)
    .flatMap((c) => c.args[0].input.Entries ?? [])
    .map((entry) => {
      expect(entry).toMatchObject({ Source: 'order-middleware', EventBusName: EVENT_BUS_NAME });
      const type = entry.DetailType as keyof typeof storeEventDetailSchemas;
      return { type, detail: storeEventDetailSchemas[type].parse(JSON.parse(entry.Detail!)) };
    });

const invalid = {
  statusCode: 400,
  body: { error: { code: 'INVALID_PAYLOAD', message: expect.any(String) } },
};
const notFound = { statusCode: 404, body: { error: { code: 'NOT_FOUND', message: expect.any(String) } } };

describe('GET /stores/{storeId}', () => {
  it('shows the store view — status, version, menu — and not its partner ids or prep minutes', async () => {
    const result = await call('GET /stores/{storeId}', store001);

    expect(result.statusCode).toBe(200);
    expect(StoreViewSchema.strict().parse(result.body)).toMatchObject({
      storeId: 'store-001',
      status: 'online',
      version: 0,
    });
    expect(JSON.stringify(result.body)).not.toMatch(/partnerStoreIds|prepMinutes|dd-881001/);
  });

  it('is 404 for a store we do not have', async () => {
    expect(await call('GET /stores/{storeId}', { storeId: 'store-404' })).toEqual(notFound);
  });
});

describe('PUT /stores/{storeId}/status', () => {
  it('pauses with a reason and an until: 200 with the store, the table holds it, StoreStatusChanged version 1', async () => {
    const until = minutesFromNow(30);

    const result = await call('PUT /stores/{storeId}/status', store001, {
      status: 'paused',
      reason: 'Kitchen flooded',
      until,
    });

    expect(result.statusCode).toBe(200);
    expect(StoreViewSchema.parse(result.body)).toMatchObject({
      status: 'paused',
      reason: 'Kitchen flooded',
      until,
      changedBy: 'operator',
      version: 1,
    });
    expect(await stored()).toMatchObject({ status: 'paused', reason: 'Kitchen flooded', until, version: 1 });
    expect(published()).toEqual([
      {
        type: 'StoreStatusChanged',
        detail: expect.objectContaining({
          eventId: 'store-001/StoreStatusChanged/1',
          storeId: 'store-001',
          status: 'paused',
          reason: 'Kitchen flooded',
          until,
          changedBy: 'operator',
          version: 1,
        }),
      },
    ]);
  });

  it('each change publishes a version one higher than the last; online clears reason and until', async () => {
    await call('PUT /stores/{storeId}/status', store001, { status: 'paused', until: minutesFromNow(5) });
    await call('PUT /stores/{storeId}/status', store001, { status: 'offline', reason: 'closed' });
    const result = await call('PUT /stores/{storeId}/status', store001, { status: 'online' });

    expect(result.body).toMatchObject({ status: 'online', version: 3 });
    expect(result.body).not.toHaveProperty('reason');
    expect(result.body).not.toHaveProperty('until');
    expect(published().map(({ detail }) => [detail.version, (detail as { status: string }).status])).toEqual([
      [1, 'paused'],
      [2, 'offline'],
      [3, 'online'],
    ]);
  });

  it.each([
    ['an until in the past', { status: 'paused', until: '2020-01-01T00:00:00Z' }],
    ['an until on offline', { status: 'offline', until: minutesFromNow(5) }],
    ['an until that is not a time', { status: 'paused', until: 'tomorrow' }],
    ['an unknown status', { status: 'closed-forever' }],
    ['an unknown field', { status: 'paused', note: 'x' }],
    ['a body that is not JSON', '{status:'],
  ])('is 400 for %s: nothing changes, nothing is published', async (_, body) => {
    expect(await call('PUT /stores/{storeId}/status', store001, body)).toEqual(invalid);
    expect(await stored()).toEqual(demoStore('store-001'));
    expect(published()).toEqual([]);
  });

  it('is 404 for a store we do not have, and 400 for an id that cannot be one', async () => {
    expect(
      await call('PUT /stores/{storeId}/status', { storeId: 'store-404' }, { status: 'paused' }),
    ).toEqual(notFound);
    expect(
      await call('PUT /stores/{storeId}/status', { storeId: 'x'.repeat(2043) }, { status: 'paused' }),
    ).toEqual(invalid);
    expect(published()).toEqual([]);
  });

  it('a lost race (another change lands between our read and our write) is retried on the new version', async () => {
    dynamo.beforeNext(
      'UpdateItemCommand',
      meanwhile('SET version = :v, #status = :offline', { ':v': 1, ':offline': 'offline' }),
    );

    const result = await call('PUT /stores/{storeId}/status', store001, { status: 'paused', reason: 'rush' });

    expect(result.body).toMatchObject({ status: 'paused', version: 2 });
    expect(dynamo.sent.filter((name) => name === 'UpdateItemCommand')).toHaveLength(2);
    expect(published().map(({ detail }) => detail.version)).toEqual([2]);
  });

  it('keeps the change when the bus refuses the event: the sweep pushes lagging stores', async () => {
    bus.on(PutEventsCommand).rejects(new Error('bus down'));

    const result = await call('PUT /stores/{storeId}/status', store001, { status: 'paused' });

    expect(result.statusCode).toBe(200);
    expect((await stored()).status).toBe('paused');
  });
});

describe('PUT /stores/{storeId}/items/{sku}', () => {
  it('86es an item until a time: 200, the item shows it, ItemAvailabilityChanged with the item’s version', async () => {
    const until = minutesFromNow(45);

    const result = await call('PUT /stores/{storeId}/items/{sku}', horchata, { available: false, until });

    expect(result.statusCode).toBe(200);
    expect(itemOf(result.body, 'DRINK-HORCHATA')).toMatchObject({ available: false, until, version: 1 });
    expect(itemOf(result.body, 'TACO-POLLO')).toMatchObject({ available: true });
    expect(result.body.version).toBe(0);
    expect(published()).toEqual([
      {
        type: 'ItemAvailabilityChanged',
        detail: expect.objectContaining({
          eventId: 'store-001/DRINK-HORCHATA/ItemAvailabilityChanged/1',
          sku: 'DRINK-HORCHATA',
          available: false,
          until,
          changedBy: 'operator',
          version: 1,
        }),
      },
    ]);
  });

  it('selling it again removes the until and grows the item’s version', async () => {
    await call('PUT /stores/{storeId}/items/{sku}', horchata, { available: false, until: minutesFromNow(5) });
    const result = await call('PUT /stores/{storeId}/items/{sku}', horchata, { available: true });

    expect(itemOf(result.body, 'DRINK-HORCHATA')).toEqual(
      expect.objectContaining({ available: true, version: 2 }),
    );
    expect(itemOf(result.body, 'DRINK-HORCHATA')).not.toHaveProperty('until');
  });

  it.each([
    ['an until in the past', { available: false, until: '2020-01-01T00:00:00Z' }],
    ['an until on an available item', { available: true, until: minutesFromNow(5) }],
    ['no available', {}],
  ])('is 400 for %s', async (_, body) => {
    expect(await call('PUT /stores/{storeId}/items/{sku}', horchata, body)).toEqual(invalid);
    expect(published()).toEqual([]);
  });

  it('is 404 for a sku not on the menu and for a store we do not have', async () => {
    expect(
      await call(
        'PUT /stores/{storeId}/items/{sku}',
        { storeId: 'store-001', sku: 'PIZZA' },
        { available: false },
      ),
    ).toEqual(notFound);
    expect(
      await call(
        'PUT /stores/{storeId}/items/{sku}',
        { storeId: 'store-404', sku: 'PIZZA' },
        { available: false },
      ),
    ).toEqual(notFound);
    expect(published()).toEqual([]);
  });

  it('a lost race on the item is retried on its new version', async () => {
    const index = demoStore('store-001')!.menu.findIndex((item) => item.sku === 'DRINK-HORCHATA');
    dynamo.beforeNext(
      'UpdateItemCommand',
      meanwhile(`SET menu[${index}].version = :v, menu[${index}].available = :no`, { ':v': 1, ':no': false }),
    );

    const result = await call('PUT /stores/{storeId}/items/{sku}', horchata, { available: true });

    expect(itemOf(result.body, 'DRINK-HORCHATA')).toMatchObject({ available: true, version: 2 });
    expect(dynamo.sent.filter((name) => name === 'UpdateItemCommand')).toHaveLength(2);
    expect(published().map(({ detail }) => detail.version)).toEqual([2]);
  });
});

describe('PUT and DELETE /stores/{storeId}/busy', () => {
  it('sets busy mode and ends it, each a StoreStatusChanged with the store’s next version', async () => {
    const until = minutesFromNow(60);
    const busy = await call('PUT /stores/{storeId}/busy', store001, { extraPrepMinutes: 15, until });
    const calm = await call('DELETE /stores/{storeId}/busy', store001);

    expect(busy.body).toMatchObject({ busy: { extraPrepMinutes: 15, until }, version: 1 });
    expect(calm.statusCode).toBe(200);
    expect(calm.body).not.toHaveProperty('busy');
    expect(calm.body.version).toBe(2);
    const details = published().map(({ detail }) => StoreStatusChangedDetailSchema.parse(detail));
    expect(details.map(({ version, busy: b }) => [version, b])).toEqual([
      [1, { extraPrepMinutes: 15, until }],
      [2, undefined],
    ]);
  });

  it.each([
    ['0 minutes', { extraPrepMinutes: 0 }],
    ['121 minutes', { extraPrepMinutes: 121 }],
    ['an until in the past', { extraPrepMinutes: 10, until: '2020-01-01T00:00:00Z' }],
  ])('PUT is 400 for %s', async (_, body) => {
    expect(await call('PUT /stores/{storeId}/busy', store001, body)).toEqual(invalid);
  });

  it('is 404 for a store we do not have', async () => {
    expect(
      await call('PUT /stores/{storeId}/busy', { storeId: 'store-404' }, { extraPrepMinutes: 5 }),
    ).toEqual(notFound);
    expect(await call('DELETE /stores/{storeId}/busy', { storeId: 'store-404' })).toEqual(notFound);
  });
});

describe('PUT and DELETE /stores/{storeId}/throttle', () => {
  it('sets and removes the throttle; partners never see it, so no version and no event', async () => {
    const set = await call('PUT /stores/{storeId}/throttle', store001, {
      ordersPerWindow: 10,
      windowMinutes: 15,
    });
    expect(set.body).toMatchObject({ throttle: { ordersPerWindow: 10, windowMinutes: 15 }, version: 0 });
    expect((await stored()).throttle).toEqual({ ordersPerWindow: 10, windowMinutes: 15 });

    const removed = await call('DELETE /stores/{storeId}/throttle', store001);
    expect(removed.statusCode).toBe(200);
    expect(removed.body).not.toHaveProperty('throttle');
    expect(await stored()).not.toHaveProperty('throttle');
    expect(published()).toEqual([]);
  });

  it.each([
    ['a window of 4 minutes', { ordersPerWindow: 10, windowMinutes: 4 }],
    ['no orders per window', { windowMinutes: 15 }],
  ])('PUT is 400 for %s', async (_, body) => {
    expect(await call('PUT /stores/{storeId}/throttle', store001, body)).toEqual(invalid);
  });

  it('is 404 for a store we do not have', async () => {
    expect(
      await call(
        'PUT /stores/{storeId}/throttle',
        { storeId: 'store-404' },
        { ordersPerWindow: 1, windowMinutes: 5 },
      ),
    ).toEqual(notFound);
    expect(await call('DELETE /stores/{storeId}/throttle', { storeId: 'store-404' })).toEqual(notFound);
  });
});

describe('POS health changes', () => {
  it('pauses an online store, and resumes only its own pause', async () => {
    const paused = await service.pauseForPosHealth('store-001');
    expect(paused).toMatchObject({
      applied: true,
      store: { status: 'paused', reason: 'POS_UNAVAILABLE', changedBy: 'pos-health' },
    });

    const resumed = await service.resumeAfterPosHealth('store-001');
    expect(resumed).toMatchObject({ applied: true, store: { status: 'online', version: 2 } });
    expect(published().map(({ detail }) => detail.changedBy)).toEqual(['pos-health', 'pos-health']);
  });

  it('an operator’s pause during a POS-health pause is not lifted by the probe', async () => {
    await service.pauseForPosHealth('store-001');
    await call('PUT /stores/{storeId}/status', store001, { status: 'paused', reason: 'staff shortage' });

    const resumed = await service.resumeAfterPosHealth('store-001');

    expect(resumed.applied).toBe(false);
    expect(await stored()).toMatchObject({
      status: 'paused',
      reason: 'staff shortage',
      changedBy: 'operator',
      version: 2,
    });
    expect(published()).toHaveLength(2);
  });
});

/** storeSchedules runs this first every minute (then the POS probe and the partner sweep, tested by their owners; the e2e test runs the whole function). */
describe('expireStoreStates (storeSchedules, every minute)', () => {
  it('ends a pause, busy mode and an 86 whose until has passed, by schedule; leaves what is still ahead', async () => {
    const past = minutesFromNow(-1);
    const ahead = minutesFromNow(10);
    const store = demoStore('store-001')!;
    Object.assign(store, {
      status: 'paused',
      reason: 'rush',
      until: past,
      changedBy: 'operator',
      version: 4,
    });
    store.busy = { extraPrepMinutes: 10, until: past };
    Object.assign(store.menu.find((item) => item.sku === 'DRINK-HORCHATA')!, {
      available: false,
      until: past,
      version: 2,
    });
    Object.assign(store.menu.find((item) => item.sku === 'TACO-POLLO')!, { available: false, until: ahead });
    await tableHolds(store);
    const other = { ...demoStore('store-002')!, status: 'paused' as const, until: ahead };
    await tableHolds(other);

    expect(await service.expireStoreStates(new Date())).toEqual({ stores: 1, items: 1 });

    const after = await stored();
    expect(after).toMatchObject({ status: 'online', changedBy: 'schedule', version: 5 });
    expect(after).not.toHaveProperty('until');
    expect(after).not.toHaveProperty('busy');
    expect(itemOf(after, 'DRINK-HORCHATA')).toEqual(expect.objectContaining({ available: true, version: 3 }));
    expect(itemOf(after, 'DRINK-HORCHATA')).not.toHaveProperty('until');
    expect(itemOf(after, 'TACO-POLLO')).toMatchObject({ available: false, until: ahead });
    expect((await stored('store-002')).status).toBe('paused');
    expect(published()).toEqual([
      {
        type: 'StoreStatusChanged',
        detail: expect.objectContaining({ status: 'online', changedBy: 'schedule', version: 5 }),
      },
      {
        type: 'ItemAvailabilityChanged',
        detail: expect.objectContaining({
          sku: 'DRINK-HORCHATA',
          available: true,
          changedBy: 'schedule',
          version: 3,
        }),
      },
    ]);
  });

  it('does not end a pause an operator renewed between the scan and the write', async () => {
    const store = {
      ...demoStore('store-001')!,
      status: 'paused' as const,
      until: minutesFromNow(-1),
      version: 1,
    };
    await tableHolds(store);
    const renewed = minutesFromNow(30);
    // The renewal lands after the schedule read the expired pause, just before its write.
    dynamo.beforeNext(
      'UpdateItemCommand',
      meanwhile('SET version = :v, #until = :u', { ':v': 2, ':u': renewed }),
    );

    await service.expireStoreStates(new Date());

    expect(await stored()).toMatchObject({ status: 'paused', until: renewed, version: 2 });
    expect(dynamo.sent.filter((name) => name === 'UpdateItemCommand')).toHaveLength(1);
    expect(published()).toEqual([]);
  });

  it('has nothing to do when nothing has an until that passed', async () => {
    expect(await service.expireStoreStates(new Date())).toEqual({ stores: 0, items: 0 });
    expect(dynamo.sent.filter((name) => name === 'UpdateItemCommand')).toEqual([]);
    expect(published()).toEqual([]);
  });
});
