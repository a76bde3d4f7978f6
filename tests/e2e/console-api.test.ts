/**
 * The console's JSON API against the local cloud, as its pages use it: an order placed through the
 * partner simulator shows up in the list (and the live feed) with the counts, its detail shows the
 * workflow waiting in WaitForCourier after Prepare, the release button releases it; stores and dead
 * letters come through; bad input and unknown orders answer JSON errors.
 */
import { request as httpRequest } from 'node:http';
import { type RunningConsole, startConsole } from '../../local/console/server';
import { consoleEndpointsOf } from '../steps/console';
import { eventually, givenALocalCloud, type TestCloud } from '../steps/local-cloud';

let t: TestCloud;
let consoleServer: RunningConsole;

beforeAll(async () => {
  t = await givenALocalCloud();
  // The API alone: the UI's bundle is the browser tests' to build and drive.
  consoleServer = await startConsole({
    endpoints: consoleEndpointsOf(t),
    port: 0,
    feedIntervalMs: 200,
    build: false,
  });
}, 120_000);

afterAll(async () => {
  await consoleServer?.close();
  await t?.stop();
});

/** The console as its pages call it (unsigned: the console signs what it passes on). */
async function consoleCall(method: string, path: string, body?: string | object) {
  const response = await fetch(`${consoleServer.url}${path}`, {
    method,
    ...(body !== undefined && {
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: text ? JSON.parse(text) : undefined,
  };
}

async function placeOrder(partner = 'doordash') {
  const placed = await consoleCall('POST', '/api/simulators/orders', {
    partner,
    storeId: 'store-001',
    pickupInSeconds: 600,
  });
  expect(placed.status).toBe(201);
  return {
    orderId: placed.body.webhookBody.orderId as string,
    partnerOrderId: placed.body.partnerOrderId as string,
  };
}

interface FeedUpdate {
  orders: Array<{ orderId: string; partner: string; storeId: string; status: string }>;
  counts: Record<string, number>;
}

/** The live feed of the order list, read as a browser's EventSource reads it. */
async function openFeed(query: string) {
  const response = await fetch(`${consoleServer.url}/api/orders/stream${query}`);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  /** The next `orders` event the predicate accepts. */
  async function until(accept: (update: FeedUpdate) => boolean): Promise<FeedUpdate> {
    for (;;) {
      let end = buffered.indexOf('\n\n');
      while (end >= 0) {
        const data = /^event: orders\ndata: (.*)$/m.exec(buffered.slice(0, end))?.[1];
        buffered = buffered.slice(end + 2);
        if (data && accept(JSON.parse(data))) return JSON.parse(data);
        end = buffered.indexOf('\n\n');
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the feed ended');
      buffered += decoder.decode(value, { stream: true });
    }
  }
  return { until, close: () => reader.cancel().catch(() => {}) };
}

test('an order placed as a partner is listed with the counts, waits in WaitForCourier after Prepare, and is released', async () => {
  const config = await consoleCall('GET', '/api/config');
  expect(config.body).toMatchObject({
    httpApiUrl: t.httpUrl,
    partners: ['ubereats', 'doordash', 'grubhub'],
    statuses: expect.arrayContaining(['ACCEPTED', 'RELEASED']),
  });

  const { orderId } = await placeOrder();
  const waiting = await eventually(async () => {
    const detail = await consoleCall('GET', `/api/orders/${orderId}`);
    const workflow = detail.body?.executions?.find((e: { role: string }) => e.role === 'workflow');
    // The record and the executions are read side by side: one answer may catch the record a moment
    // before the execution, as the page's next refresh would not.
    const accepted = detail.body?.order?.status === 'ACCEPTED';
    return accepted && workflow?.currentState === 'WaitForCourier' ? detail.body : undefined;
  }, `${orderId} to wait for its courier`);

  const list = await consoleCall('GET', '/api/orders?storeId=store-001');
  expect(list.status).toBe(200);
  expect(list.body.orders.find((o: { orderId: string }) => o.orderId === orderId)).toMatchObject({
    status: 'ACCEPTED',
    partner: 'doordash',
  });
  expect(list.body.counts.ACCEPTED).toBeGreaterThanOrEqual(1);
  expect(Object.keys(list.body.counts).sort()).toEqual(config.body.statuses.slice().sort());

  expect(waiting.order).toMatchObject({ orderId, status: 'ACCEPTED' });
  const [workflow, prepare] = waiting.executions;
  expect(workflow).toMatchObject({
    role: 'workflow',
    type: 'STANDARD',
    status: 'RUNNING',
    source: 'history',
    path: ['Prepare', 'WaitForCourier'],
    currentState: 'WaitForCourier',
  });
  expect(workflow.definition.StartAt).toBe('Prepare');
  expect(workflow.events[0]).toMatchObject({ id: 1, type: 'ExecutionStarted' });
  expect(workflow.events.find((e: { type: string }) => e.type === 'TaskScheduled')?.stateName).toBe(
    'Prepare',
  );
  expect(workflow).not.toHaveProperty('failedState');
  // The Express child Prepare ran, named by the order id; its path read from its log group.
  expect(prepare).toMatchObject({
    role: 'prepare',
    type: 'EXPRESS',
    status: 'SUCCEEDED',
    source: 'logs',
    path: ['ClaimOrder', 'ValidateOrder', 'CreatePosOrder', 'AcceptOrder', 'PublishAccepted'],
  });
  expect(prepare.executionArn).toContain(`:${orderId}:`);
  expect(prepare.definition.StartAt).toBe('ClaimOrder');
  expect(prepare).not.toHaveProperty('eventsUnavailable');
  expect(prepare.events.at(-1)).toMatchObject({ type: 'ExecutionSucceeded' });
  // The function lines carrying the order id, from each function's log group.
  expect(waiting.logs).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        functionName: expect.stringMatching(/-receiveOrder$/),
        message: 'order received',
      }),
    ]),
  );
  expect(waiting.executions.some((e: { role: string }) => e.role === 'finish')).toBe(false);
  expect(waiting.busEvents.map((e: { detailType: string }) => e.detailType)).toEqual([
    'OrderReceived',
    'OrderAccepted',
  ]);

  const released = await consoleCall('POST', `/api/orders/${orderId}/release`);
  expect(released).toMatchObject({ status: 202, body: { orderId } });
  const done = await eventually(async () => {
    const detail = await consoleCall('GET', `/api/orders/${orderId}`);
    const finish = detail.body?.executions?.find((e: { role: string }) => e.role === 'finish');
    return detail.body?.order.status === 'RELEASED' &&
      detail.body.executions[0].status === 'SUCCEEDED' &&
      finish?.events.at(-1)?.type === 'ExecutionSucceeded'
      ? detail.body
      : undefined;
  }, `${orderId} to be released`);
  expect(done.executions[0]).toMatchObject({ path: ['Prepare', 'WaitForCourier', 'Finish'] });
  expect(done.executions[0]).not.toHaveProperty('currentState');
  expect(done.executions.map((e: { role: string }) => e.role)).toEqual(['workflow', 'prepare', 'finish']);
  expect(done.executions[2]).toMatchObject({
    type: 'EXPRESS',
    status: 'SUCCEEDED',
    path: ['ReleaseToKitchen', 'PublishReleased', 'PartnerToldReleased', 'Released'],
  });
  expect(done.busEvents.at(-1)).toMatchObject({
    detailType: 'OrderReleasedToKitchen',
    detail: { eventId: `${orderId}/OrderReleasedToKitchen` },
  });
}, 60_000);

test('the live feed sends an order placed after it opened, with the counts', async () => {
  const feed = await openFeed('?partner=grubhub');
  try {
    // The first event brings the counts; rows come as they appear or change.
    const first = await feed.until(() => true);
    expect(first.orders).toEqual([]);
    expect(Object.keys(first.counts)).toContain('ACCEPTED');

    const { orderId } = await placeOrder('grubhub');
    const update = await feed.until((u) => u.orders.some((o) => o.orderId === orderId));

    expect(update.orders.find((o) => o.orderId === orderId)).toMatchObject({
      partner: 'grubhub',
      storeId: 'store-001',
    });
    expect(update.orders.every((o) => o.partner === 'grubhub')).toBe(true);
  } finally {
    await feed.close();
  }
}, 30_000);

test('a partner’s redelivery of its order comes through and keeps one order; what the partner saw is shown', async () => {
  const { orderId, partnerOrderId } = await placeOrder('ubereats');
  const order = `/api/simulators/orders/ubereats/${partnerOrderId}`;

  const again = await consoleCall('POST', `${order}/redeliver`, { times: 2, concurrent: true });

  expect(again.status).toBe(200);
  expect(again.body.webhookStatuses).toEqual([202, 202]);
  const seen = await eventually(async () => {
    const view = await consoleCall('GET', order);
    return view.body?.state === 'accepted' ? view : undefined;
  }, `the partner to show ${partnerOrderId} accepted`);
  expect(seen.status).toBe(200);
  expect(
    (await consoleCall('GET', '/api/simulators/pos/orders')).body.filter(
      (o: { reference: string }) => o.reference === orderId,
    ),
  ).toHaveLength(1);
  // The page asks for the newest only; the limit goes through to the POS, which checks it.
  const newest = await consoleCall('GET', '/api/simulators/pos/orders?limit=1');
  expect(newest.body).toHaveLength(1);
  const refused = await consoleCall('GET', '/api/simulators/pos/orders?limit=many');
  expect([refused.status, refused.body.error.code]).toEqual([400, 'INVALID_LIMIT']);
  expect((await consoleCall('GET', '/api/simulators/orders/ubereats/no-such-order')).status).toBe(404);
}, 30_000);

test('stores, the partners view of them, and the dead-letter queues come through', async () => {
  const stores = await consoleCall('GET', '/api/stores');
  expect(stores.status).toBe(200);
  expect(stores.body.stores.map((s: { storeId: string }) => s.storeId)).toEqual(
    expect.arrayContaining(['store-001', 'store-002']),
  );
  expect(stores.body.stores.find((s: { storeId: string }) => s.storeId === 'store-002')).toMatchObject({
    status: 'offline',
  });

  const one = await consoleCall('GET', '/api/stores/store-001');
  expect(one.body.store).toMatchObject({ storeId: 'store-001', status: 'online' });
  expect(one.body.partners).toMatchObject({
    storeId: 'store-001',
    partners: { doordash: expect.any(Object) },
  });

  const busy = await consoleCall('PUT', '/api/stores/store-001/busy', { extraPrepMinutes: 10 });
  expect(busy).toMatchObject({ status: 200, body: { busy: { extraPrepMinutes: 10 } } });
  expect((await consoleCall('DELETE', '/api/stores/store-001/busy')).status).toBe(200);

  // The partners forget what they were told of store-002 (offline): each shows it online again.
  const forgot = await consoleCall('DELETE', '/api/simulators/stores/store-002');
  expect(forgot.status).toBeLessThan(300);
  const shown = (await consoleCall('GET', '/api/stores/store-002')).body.partners.partners;
  expect(Object.values(shown).map((p) => (p as { status: string }).status)).toEqual([
    'online',
    'online',
    'online',
  ]);

  const queues = await consoleCall('GET', '/api/dead-letters');
  expect(queues.status).toBe(200);
  expect(queues.body.queues.length).toBeGreaterThanOrEqual(2);
  const [first] = queues.body.queues;
  const messages = await consoleCall('GET', `/api/dead-letters/${first.name}/messages`);
  expect(messages).toMatchObject({ status: 200, body: { name: first.name, messages: [] } });
});

test('only its own pages drive it: a change from another site, or a request for another host, is refused', async () => {
  const { orderId } = await placeOrder('ubereats');
  const crossSite = await fetch(`${consoleServer.url}/api/orders/${orderId}/cancel`, {
    method: 'POST',
    headers: { origin: 'https://menu-deals.example', 'content-type': 'text/plain' },
    body: '{"reason":"not yours"}',
  });
  const rebound = await new Promise<number>((resolve, reject) => {
    // fetch will not send another Host; node:http does, as a browser after DNS rebinding would.
    const request = httpRequest(`${consoleServer.url}/api/config`, {
      headers: { host: `evil.example:${consoleServer.port}` },
    });
    request
      .on('response', (answer) => resolve(answer.statusCode ?? 0))
      .on('error', reject)
      .end();
  });
  const ownPage = await fetch(`${consoleServer.url}/api/config`, { headers: { origin: consoleServer.url } });

  expect(crossSite.status).toBe(403);
  expect(await crossSite.json()).toMatchObject({ error: { code: 'FORBIDDEN_ORIGIN' } });
  expect(rebound).toBe(403);
  expect(ownPage.status).toBe(200);
  const order = await consoleCall('GET', `/api/orders/${orderId}`);
  expect(order.body.order.status).not.toBe('CANCELLED');
});

test('bad input answers 400 and an unknown order 404, as JSON errors', async () => {
  const badStatus = await consoleCall('GET', '/api/orders?status=COOKING');
  const notJson = await consoleCall('POST', '/api/orders/ord_x/cancel', '{"reason":');
  const badPartner = await consoleCall('POST', '/api/simulators/orders/deliveroo/p-1/release');
  const badFeed = await consoleCall('GET', '/api/orders/stream?since=yesterday');
  const unknown = await consoleCall('GET', '/api/orders/ord_aaaaaaaaaaaaaaaaaaaaaaaaaa');
  const noRoute = await consoleCall('GET', '/api/kitchens');

  for (const refused of [badStatus, notJson, badPartner, badFeed]) {
    expect(refused.status).toBe(400);
    expect(refused.type).toMatch(/^application\/json/);
    expect(refused.body.error).toEqual({ code: expect.any(String), message: expect.any(String) });
  }
  expect(notJson.body.error.code).toBe('INVALID_JSON');
  expect(unknown.status).toBe(404);
  expect(unknown.body.error.code).toEqual(expect.any(String));
  expect(noRoute).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
});
