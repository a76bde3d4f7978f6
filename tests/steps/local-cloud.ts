/**
 * Given/when/then helpers for end-to-end tests: the real packaged stack in the local cloud, driven
 * as a partner would — signed webhooks through the partner simulator — and observed through the
 * HTTP API, the POS simulator and the AWS SDK.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { type LocalCloud, startLocalCloud } from '../../local/cloud/index';
import { packagedStack } from '../../local/cloud/package-cache';
import { signedFetch } from '../../local/cloud/sigv4';
import { seedDemoStores } from '../../local/seed';
import { startPartnerSimulator } from '../../local/simulators/partner/index';
import { startPosSimulator } from '../../local/simulators/pos/index';
import { runReconcilerIn } from '../../local/tools/audit';
import { runStoreSchedulesIn } from '../../local/tools/scheduled';

export interface TestCloud {
  cloud: LocalCloud;
  partnerUrl: string;
  posUrl: string;
  stop(): Promise<void>;
  /** Restarts the local cloud on its data, and with `simulators` both simulators on theirs, as `npm start` does. */
  restart(options?: { simulators?: boolean }): Promise<void>;
}

/**
 * A free port, held by a placeholder listener until `release()`, called right before its real server
 * binds: nothing else on the machine can take it meanwhile (a port found free and let go at once can
 * be, by another test file's cloud or an outgoing connection).
 */
async function reservePort(): Promise<{ port: number; release(): Promise<void> }> {
  const holder = createServer();
  await new Promise<void>((resolve, reject) => {
    holder.once('error', reject);
    holder.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = holder.address() as { port: number };
  return { port, release: () => new Promise((resolve) => holder.close(() => resolve())) };
}

/** Starts the whole stack on free ports with an empty data folder of its own. */
export async function givenALocalCloud(): Promise<TestCloud> {
  const packageDir = await packagedStack();
  const dataDir = path.resolve('.local', `e2e-${randomUUID().slice(0, 8)}`);
  // The cloud's own ports are named up front (its AWS endpoint URL is built before it listens), and
  // held until it starts; the simulators listen on port 0 and are then reached on what they got.
  const [http, aws] = await Promise.all([reservePort(), reservePort()]);
  const middlewareUrl = `http://127.0.0.1:${http.port}`;
  let partnerPort = 0;
  let posPort = 0;
  // The simulators keep their orders beside the cloud's data, as under `npm start`.
  const startPartner = (fresh: boolean) =>
    startPartnerSimulator({ port: partnerPort, middlewareUrl, seed: 7, dataDir, fresh });
  const startPos = (fresh: boolean) => startPosSimulator({ port: posPort, dataDir, fresh });
  let partner = await startPartner(true);
  let pos = await startPos(true);
  partnerPort = partner.port;
  posPort = pos.port;
  const partnerUrl = `http://127.0.0.1:${partnerPort}`;
  const posUrl = `http://127.0.0.1:${posPort}`;
  const startCloud = (fresh: boolean) =>
    startLocalCloud({
      packageDir,
      dataDir,
      fresh,
      ports: { http: http.port, aws: aws.port },
      environmentOverrides: { PARTNER_API_URL: partnerUrl, POS_API_URL: posUrl },
      log: process.env.E2E_LOGS ? (fn, line) => console.log(fn, line) : undefined,
    });
  await Promise.all([http.release(), aws.release()]);
  let cloud = await startCloud(true);
  const storesTable = cloud.model.tables.find((t) => t.logicalId === 'StoresTable')!.name;
  await seedDemoStores(cloud.dynamodbEndpoint, storesTable);
  const testCloud: TestCloud = {
    get cloud() {
      return cloud;
    },
    partnerUrl,
    posUrl,
    async restart({ simulators = false } = {}) {
      if (simulators) await Promise.all([partner.close(), pos.close()]);
      await cloud.close();
      cloud = await startCloud(false);
      if (simulators) {
        partner = await startPartner(false);
        pos = await startPos(false);
      }
    },
    async stop() {
      await Promise.allSettled([partner.close(), pos.close()]);
      documentClients.get(cloud.awsUrl)?.destroy();
      documentClients.delete(cloud.awsUrl);
      await cloud.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return testCloud;
}

/**
 * A JSON call, SigV4-signed with the local credentials as an IAM client signs (the store, order and
 * operations routes are IAM-authorized; the simulators ignore the signature).
 */
export async function call(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const response = await signedFetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/** The partner sends a new order through its simulator (signed as that partner signs). */
export async function whenThePartnerSendsAnOrder(t: TestCloud, order: Record<string, unknown>) {
  const { status, body } = await call('POST', `${t.partnerUrl}/_control/orders`, order);
  if (status !== 201) throw new Error(`partner simulator answered ${status}: ${JSON.stringify(body)}`);
  return body as {
    partner: string;
    partnerOrderId: string;
    orderId?: string;
    webhookStatus: number;
    webhookBody: any;
  };
}

export async function whenThePartnerSays(
  t: TestCloud,
  partner: string,
  partnerOrderId: string,
  what: 'release' | 'cancel',
) {
  const { status, body } = await call(
    'POST',
    `${t.partnerUrl}/_control/orders/${partner}/${partnerOrderId}/${what}`,
    {},
  );
  // Anything but 200 is the simulator refusing to send (an order it never sent, a bad request):
  // the middleware's answer would be missing, not a status to compare.
  if (status !== 200)
    throw new Error(`partner simulator answered ${status} to ${what}: ${JSON.stringify(body)}`);
  return body as { webhookStatus: number; webhookBody: any };
}

export async function theOrder(t: TestCloud, orderId: string) {
  return call('GET', `${t.cloud.httpUrl}/orders/${orderId}`);
}

export async function thePosOrders(t: TestCloud, orderId?: string): Promise<any[]> {
  const { body } = await call('GET', `${t.posUrl}/_control/orders`);
  return orderId ? body.filter((o: { reference: string }) => o.reference === orderId) : body;
}

export async function whatThePartnerSaw(t: TestCloud, partner: string, partnerOrderId: string) {
  return (await call('GET', `${t.partnerUrl}/_control/orders/${partner}/${partnerOrderId}`)).body;
}

/** Polls until `check` returns a value (not undefined), or fails with what it last saw. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits until the order has the given status and answers it. */
export async function theOrderReaches(t: TestCloud, orderId: string, status: string, timeoutMs?: number) {
  return eventually(
    async () => {
      const order = await theOrder(t, orderId);
      return order.body?.status === status ? order.body : undefined;
    },
    `order ${orderId} to be ${status}`,
    timeoutMs,
  );
}

/** The partner re-sends the same new-order webhook, each delivery re-signed at its own moment. */
export async function whenThePartnerRedelivers(
  t: TestCloud,
  partner: string,
  partnerOrderId: string,
  redelivery: { times: number; concurrent: boolean },
) {
  const { status, body } = await call(
    'POST',
    `${t.partnerUrl}/_control/orders/${partner}/${partnerOrderId}/redeliver`,
    redelivery,
  );
  if (status !== 200) throw new Error(`partner simulator answered ${status}: ${JSON.stringify(body)}`);
  return body as { webhookStatuses: number[]; webhookBodies: any[] };
}

/**
 * Faults on the POS API (`undefined` heals it): errorRate, latencyMs, offlineStores, failNext,
 * dropResponseAfterWrite. Healing also does what the next POS health probe would (its minute is not
 * waited for): a store POS health paused while the POS failed is back online on every partner, and
 * the failure counts start again, so one test's POS failures do not pause the store for the next.
 */
export async function givenThePosFaults(t: TestCloud, faults: Record<string, unknown> | undefined) {
  const answer = await call(faults ? 'PUT' : 'DELETE', `${t.posUrl}/_control/faults`, faults);
  if (answer.status !== 200) throw new Error(`POS simulator answered ${answer.status}`);
  if (!faults) await theStoresComeBackFromPosHealth(t);
}

const DEMO_STORE_IDS = ['store-001', 'store-002'];

/** The POS health probe runs (storeSchedules); every store it brings back is then online on each partner. */
export async function theStoresComeBackFromPosHealth(t: TestCloud) {
  const before = await Promise.all(
    DEMO_STORE_IDS.map(async (storeId) => (await call('GET', `${t.cloud.httpUrl}/stores/${storeId}`)).body),
  );
  const pausedByPosHealth = before.filter((s) => s?.status === 'paused' && s.changedBy === 'pos-health');
  await runStoreSchedulesIn(t.cloud);
  for (const { storeId } of pausedByPosHealth) {
    await eventually(async () => {
      const shown = await call('GET', `${t.partnerUrl}/_control/stores/${storeId}`);
      if (shown.status === 404) return true; // a partner simulator that keeps no store state
      const partners = Object.values(shown.body?.partners ?? {}) as { status: string }[];
      return partners.every((p) => p.status === 'online') ? true : undefined;
    }, `store ${storeId} back online on every partner`);
  }
}

/** Faults on the partner API the middleware calls (`undefined` heals it): errorRate, latencyMs, endpoints, failNext. */
export async function givenThePartnerApiFaults(t: TestCloud, faults: Record<string, unknown> | undefined) {
  const answer = await call(faults ? 'PUT' : 'DELETE', `${t.partnerUrl}/_control/faults`, faults);
  if (answer.status !== 200) throw new Error(`partner simulator answered ${answer.status}`);
}

/** Waits until the order reaches one of the given statuses and answers it; says where it stuck if not. */
export async function theOrderSettles(t: TestCloud, orderId: string, statuses: string[], timeoutMs?: number) {
  try {
    return await eventually(
      async () => {
        const order = await theOrder(t, orderId);
        return statuses.includes(order.body?.status) ? order.body : undefined;
      },
      `order ${orderId} to be one of ${statuses.join(', ')}`,
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await whereTheOrderIs(t, orderId)}`);
  }
}

/** A diagnosis for a failed wait: the order's timeline and where its workflows are. */
export async function whereTheOrderIs(t: TestCloud, orderId: string): Promise<string> {
  const order = (await theOrder(t, orderId)).body;
  const timeline = (order?.timeline ?? []).map((e: { event: string; detail?: string }) =>
    e.detail ? `${e.event} (${e.detail})` : e.event,
  );
  const machines = t.cloud.model.stateMachines.map((machine) => ({
    name: machine.logicalId,
    runs: t.cloud.stepFunctions.listExecutions(machine.arn).filter((run) => run.input.includes(orderId)),
  }));
  const describeRun = (run: (typeof machines)[number]['runs'][number]) => {
    const last = run.history.at(-1) as
      | { type?: string; stateEnteredEventDetails?: { name: string } }
      | undefined;
    const entered = [...run.history]
      .reverse()
      .find((e) => (e as { stateEnteredEventDetails?: unknown }).stateEnteredEventDetails) as
      | { stateEnteredEventDetails: { name: string } }
      | undefined;
    return `${run.status} in ${entered?.stateEnteredEventDetails.name ?? '?'} (last event ${last?.type ?? '?'})`;
  };
  const runs = machines.flatMap(({ name, runs }) => runs.map((run) => `${name} ${describeRun(run)}`));
  const pos = await thePosOrders(t, orderId);
  return [
    `order ${orderId}: ${order?.status ?? 'missing'}; timeline: ${timeline.join(' → ')}`,
    `workflows: ${runs.join('; ') || 'none'}`,
    `POS: ${pos.map((o) => `${o.posOrderId} ${o.status} x${o.createRequests}`).join(', ') || 'none'}`,
  ].join('\n');
}

/** The workflow executions (the STANDARD order-workflow machine) started for one order, newest first. */
export function theWorkflowExecutionsOf(t: TestCloud, orderId: string) {
  const machine = t.cloud.model.stateMachines.find((m) => m.logicalId === 'OrderWorkflow');
  if (!machine) throw new Error('no OrderWorkflow state machine in the template');
  return t.cloud.stepFunctions
    .listExecutions(machine.arn)
    .filter((execution) => JSON.parse(execution.input)?.detail?.orderId === orderId);
}

/** Once every workflow execution of the order has ended: the order and its POS orders, settled. */
export async function theOrderOnceItsWorkflowsEnd(t: TestCloud, orderId: string, timeoutMs = 30_000) {
  try {
    await eventually(
      async () => {
        const runs = theWorkflowExecutionsOf(t, orderId);
        return runs.length > 0 && runs.every((run) => run.status !== 'RUNNING') ? runs : undefined;
      },
      `the workflow of ${orderId} to end`,
      timeoutMs,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${await whereTheOrderIs(t, orderId)}`);
  }
  return { order: (await theOrder(t, orderId)).body, pos: await thePosOrders(t, orderId) };
}

/**
 * The reconciler, run by hand as `npm run reconcile` does: every order that still owes work is paid
 * now, whatever its backoff says (its schedule runs it on whole minutes; tests do not wait for them).
 */
export function whenTheReconcilerRuns(t: TestCloud) {
  return runReconcilerIn(t.cloud);
}

/** The order record as stored (owed work included, which GET /orders/{id} does not show). */
export async function theOrderRecord(
  t: TestCloud,
  orderId: string,
): Promise<Record<string, any> | undefined> {
  const table = t.cloud.model.tables.find((table) => table.logicalId === 'OrdersTable')!.name;
  const { Item } = await documentClientFor(t.cloud.awsUrl).send(
    new GetCommand({ TableName: table, Key: { orderId }, ConsistentRead: true }),
  );
  return Item;
}

/**
 * One client per AWS endpoint, through the edge as a user's SDK would reach DynamoDB (its port
 * stays the same across a restart); polled reads reuse it rather than build a client each time.
 */
const documentClients = new Map<string, DynamoDBDocumentClient>();
function documentClientFor(endpoint: string): DynamoDBDocumentClient {
  let client = documentClients.get(endpoint);
  if (!client) {
    client = DynamoDBDocumentClient.from(
      new DynamoDBClient({
        endpoint,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    );
    documentClients.set(endpoint, client);
  }
  return client;
}

/** An event of the order bus as an SQS target receives it. */
export interface BusEvent {
  id: string;
  'detail-type': string;
  source: string;
  detail: { eventId?: string; orderId?: string; [field: string]: unknown };
}

/** A queue the test reads what the order bus carried from. */
export interface BusObserver {
  /** Every event read so far for the order (reads the queue first), in the order they arrived. */
  eventsOf(orderId: string): Promise<BusEvent[]>;
  /** Every event read so far, of any kind (store events carry no order id), in the order they arrived. */
  everything(): Promise<BusEvent[]>;
  /** Reads until `done` says the order's events are complete, or fails with what it saw. */
  eventsOfOnce(
    orderId: string,
    done: (events: BusEvent[]) => boolean,
    timeoutMs?: number,
  ): Promise<BusEvent[]>;
  close(): void;
}

/**
 * A test rule on the order bus (every `order-middleware` event) delivering to an SQS queue made for
 * it — PutRule, PutTargets and CreateQueue through the SDK and the local AWS endpoint, as one would
 * against AWS — read with ReceiveMessage. Events are kept per order as they are read.
 */
export async function givenAQueueOnTheOrderBus(
  t: TestCloud,
  name = `test-bus-${randomUUID().slice(0, 8)}`,
): Promise<BusObserver> {
  const config = {
    endpoint: t.cloud.awsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const sqs = new SQSClient(config);
  const events = new EventBridgeClient(config);
  const bus = t.cloud.model.buses[0];
  if (!bus) throw new Error('no event bus in the template');
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await events.send(
    new PutRuleCommand({
      Name: name,
      EventBusName: bus.name,
      EventPattern: JSON.stringify({ source: ['order-middleware'] }),
    }),
  );
  const targets = await events.send(
    new PutTargetsCommand({
      Rule: name,
      EventBusName: bus.name,
      Targets: [{ Id: 'test-queue', Arn: Attributes!.QueueArn! }],
    }),
  );
  if (targets.FailedEntryCount)
    throw new Error(`PutTargets failed: ${JSON.stringify(targets.FailedEntries)}`);
  events.destroy();

  const seen = new Map<string, BusEvent[]>();
  const all: BusEvent[] = [];
  const readQueue = async () => {
    for (;;) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (Messages.length === 0) return;
      for (const message of Messages) {
        const event = JSON.parse(message.Body!) as BusEvent;
        const orderId = String(event.detail?.orderId);
        seen.set(orderId, [...(seen.get(orderId) ?? []), event]);
        all.push(event);
      }
      // One at a time: a read is a handful of messages.
      for (const message of Messages)
        await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message.ReceiptHandle! }));
    }
  };
  const observer: BusObserver = {
    async eventsOf(orderId) {
      await readQueue();
      return seen.get(orderId) ?? [];
    },
    async everything() {
      await readQueue();
      return [...all];
    },
    async eventsOfOnce(orderId, done, timeoutMs = 20_000) {
      try {
        return await eventually(
          async () => {
            const got = await observer.eventsOf(orderId);
            return done(got) ? got : undefined;
          },
          `the events of ${orderId} on the bus`,
          timeoutMs,
        );
      } catch (error) {
        const got = (seen.get(orderId) ?? []).map((event) => event['detail-type']);
        throw new Error(`${(error as Error).message}; read: ${got.join(', ') || 'nothing'}`);
      }
    },
    close: () => sqs.destroy(),
  };
  return observer;
}
