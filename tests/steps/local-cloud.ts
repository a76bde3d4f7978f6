/**
 * Given/when/then helpers for end-to-end tests: the real packaged stack, driven as a partner would —
 * signed webhooks through the partner simulator — and observed through the HTTP API (signed), the
 * simulators' `_control` APIs and the AWS SDK (Lambda `Invoke` for the scheduled functions).
 *
 * The same files run against any target (`E2E_TARGET`, tests/steps/targets.ts): unset, a local cloud
 * this process starts per test file; `local`, an `npm start` already running; `stack:NAME`, a deployed
 * stage. What only an in-process cloud can do (restart it, reach into an emulator) is marked with
 * `onlyInProcess`, and skipped elsewhere with its reason.
 */
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeExecutionCommand,
  paginateGetExecutionHistory,
  paginateListExecutions,
  SFNClient,
} from '@aws-sdk/client-sfn';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { DEMO_EIGHTY_SIX, DEMO_STORES } from '../../functions/lib/domain/demo-stores';
import { type LocalCloud, startLocalCloud } from '../../local/cloud/index';
import { packagedStack } from '../../local/cloud/package-cache';
import { signedFetch } from '../../local/cloud/sigv4';
import { apiUrlParameters, seedDemoStores } from '../../local/seed';
import { startPartnerSimulator } from '../../local/simulators/partner/index';
import { startPosSimulator } from '../../local/simulators/pos/index';
import {
  type AwsAccess,
  type E2eTarget,
  localEndpoints,
  parseTarget,
  physicalId,
  physicalIdsOf,
  stackEndpoints,
  type TargetEndpoints,
} from './targets';

/** Where this run's e2e tests go (`E2E_TARGET`); a value it does not know stops the run here. */
export const TARGET: E2eTarget = parseTarget(process.env.E2E_TARGET);
const IN_PROCESS = TARGET.kind === 'in-process';
const TARGET_LABEL = TARGET.kind === 'stack' ? `stack:${TARGET.stage}` : TARGET.kind;

export interface TestCloud {
  target: E2eTarget['kind'];
  httpUrl: string;
  partnerUrl: string;
  posUrl: string;
  /** How an AWS SDK client reaches the target (`new SQSClient(t.aws)`). */
  aws: AwsAccess;
  /** The physical id of a template resource, as CloudFormation names it (queues: their URL). */
  resource(logicalId: string): string;
  /** The in-process local cloud itself: only for tests marked `onlyInProcess`. */
  readonly cloud: LocalCloud;
  stop(): Promise<void>;
  /** Restarts the local cloud on its data, and with `simulators` both simulators on theirs, as `npm start` does (in process only). */
  restart(options?: { simulators?: boolean }): Promise<void>;
}

/**
 * A test (or a describe block) that needs the local cloud in this process — a restart, a clock, a
 * fault injected into an emulator. On any other target it is skipped, its reason in its name (and
 * printed once per file), and it still runs under `npm test`.
 */
export function onlyInProcess(reason: string, name: string, fn: jest.ProvidesCallback, timeout?: number) {
  if (IN_PROCESS) return test(name, fn, timeout);
  sayWhySkipped(reason, name);
  return test.skip(`${name} [in-process only: ${reason}]`, fn, timeout);
}

/** `onlyInProcess` for a whole block. */
export function describeOnlyInProcess(reason: string, name: string, fn: () => void) {
  if (IN_PROCESS) return describe(name, fn);
  sayWhySkipped(reason, name);
  return describe.skip(`${name} [in-process only: ${reason}]`, fn);
}

function sayWhySkipped(reason: string, name: string) {
  process.stderr.write(`skipped on ${TARGET_LABEL} (in-process only: ${reason}): ${name}\n`);
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

/** What `call` signs the IAM routes with: the local credentials, or the caller's own on a stack. */
let signing: TargetEndpoints['signing'] | undefined;

/**
 * The target of this run, ready for a test file: in process, a whole stack started on free ports with
 * an empty data folder of its own; `local` and `stack:NAME`, the running one, found and checked.
 */
export async function givenALocalCloud(): Promise<TestCloud> {
  if (TARGET.kind === 'in-process') return startInProcess();
  const endpoints =
    TARGET.kind === 'local'
      ? localEndpoints(TARGET.ports, await packagedStack())
      : await stackEndpoints(TARGET.stage);
  if (TARGET.kind === 'local') await theLocalCloudAnswers(endpoints);
  const running = runningTarget(endpoints);
  await givenTheDemoStoresAsSeeded(running);
  return running;
}

/**
 * A shared target carries what earlier test files left: the demo stores are put back as seeded (a
 * store online, one offline, nothing busy, throttled or 86'd but the demo churros), the simulators'
 * faults cleared and the partners' view of the stores forgotten — what a fresh in-process cloud
 * starts from. Only what differs is changed, through the store routes as an operator would.
 */
async function givenTheDemoStoresAsSeeded(t: TestCloud) {
  await Promise.all([
    call('DELETE', `${t.posUrl}/_control/faults`),
    call('DELETE', `${t.partnerUrl}/_control/faults`),
  ]);
  for (const seeded of DEMO_STORES) {
    const route = `${t.httpUrl}/stores/${seeded.storeId}`;
    const now = await call('GET', route);
    if (now.status !== 200)
      throw new Error(`GET /stores/${seeded.storeId} answered ${now.status}: is the demo data seeded?`);
    const store = now.body as {
      status: string;
      busy?: unknown;
      throttle?: unknown;
      menu: { sku: string; available: boolean }[];
    };
    const changes: Array<Promise<{ status: number }>> = [];
    if (store.status !== seeded.status)
      changes.push(call('PUT', `${route}/status`, { status: seeded.status }));
    if (store.busy) changes.push(call('DELETE', `${route}/busy`));
    if (store.throttle) changes.push(call('DELETE', `${route}/throttle`));
    for (const item of store.menu) {
      const demoEightySix = seeded.storeId === DEMO_EIGHTY_SIX.storeId && item.sku === DEMO_EIGHTY_SIX.sku;
      if (!item.available && !demoEightySix)
        changes.push(call('PUT', `${route}/items/${item.sku}`, { available: true }));
    }
    for (const answer of await Promise.all(changes))
      if (answer.status !== 200)
        throw new Error(`putting ${seeded.storeId} back as seeded answered ${answer.status}`);
    const forgotten = await call('DELETE', `${t.partnerUrl}/_control/stores/${seeded.storeId}`);
    if (forgotten.status !== 200 && forgotten.status !== 204)
      throw new Error(`the partner simulator answered ${forgotten.status} to forgetting ${seeded.storeId}`);
  }
}

/** An `npm start` that is not there fails the file at once, with what to do, not test by test. */
async function theLocalCloudAnswers(endpoints: TargetEndpoints) {
  const health = `${endpoints.aws.endpoint}/_localstack/health`;
  const answer = await fetch(health).catch((error: Error) => error);
  if (answer instanceof Error || !answer.ok)
    throw new Error(
      `E2E_TARGET=local: ${health} does not answer (${answer instanceof Error ? answer.message : answer.status}); start the local cloud with \`npm start\` first`,
    );
}

function runningTarget(endpoints: TargetEndpoints): TestCloud {
  signing = endpoints.signing;
  const testCloud: TestCloud = {
    target: TARGET.kind,
    httpUrl: endpoints.httpUrl,
    partnerUrl: endpoints.partnerUrl,
    posUrl: endpoints.posUrl,
    aws: endpoints.aws,
    resource: (logicalId) => physicalId(endpoints.physicalIds, logicalId),
    get cloud(): LocalCloud {
      throw new Error(
        `t.cloud is the in-process local cloud; the target is ${TARGET_LABEL} (mark the test onlyInProcess)`,
      );
    },
    async restart() {
      throw new Error(`only an in-process local cloud restarts; the target is ${TARGET_LABEL}`);
    },
    async stop() {
      clientsOf(testCloud).destroy();
    },
  };
  return testCloud;
}

async function startInProcess(): Promise<TestCloud> {
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
  // The data folder is new, and the simulators already keep their journals in it: never emptied
  // (a fresh start would delete their files under them).
  const startCloud = () =>
    startLocalCloud({
      packageDir,
      dataDir,
      ports: { http: http.port, aws: aws.port },
      ssmParameters: apiUrlParameters('local', { partnerUrl, posUrl }),
      log: process.env.E2E_LOGS ? (fn, line) => console.log(fn, line) : undefined,
    });
  await Promise.all([http.release(), aws.release()]);
  let cloud = await startCloud();
  await seedDemoStores(cloud.dynamodbEndpoint, physicalIdsOf(cloud.model).StoresTable!);
  // Its ports and names stay the same across a restart: the same endpoints serve before and after.
  const local = { accessKeyId: 'local', secretAccessKey: 'local' };
  const running = runningTarget({
    httpUrl: cloud.httpUrl,
    partnerUrl,
    posUrl,
    aws: { region: 'us-east-1', endpoint: cloud.awsUrl, credentials: local },
    physicalIds: physicalIdsOf(cloud.model),
    signing: { region: 'us-east-1', credentials: async () => local },
  });
  // Not a spread: it would read `running.cloud`, which refuses.
  const testCloud: TestCloud = {
    target: running.target,
    httpUrl: running.httpUrl,
    partnerUrl,
    posUrl,
    aws: running.aws,
    resource: running.resource,
    get cloud() {
      return cloud;
    },
    async restart({ simulators = false } = {}) {
      if (simulators) await Promise.all([partner.close(), pos.close()]);
      await cloud.close();
      cloud = await startCloud();
      if (simulators) {
        partner = await startPartner(false);
        pos = await startPos(false);
      }
    },
    async stop() {
      await Promise.allSettled([partner.close(), pos.close()]);
      clientsOf(testCloud).destroy();
      await cloud.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return testCloud;
}

/** The SDK clients of one target, made once and reused by every polled read. */
interface TargetClients {
  dynamo: DynamoDBDocumentClient;
  sfn: SFNClient;
  lambda: LambdaClient;
  destroy(): void;
}
const clients = new WeakMap<TestCloud, TargetClients>();
function clientsOf(t: TestCloud): TargetClients {
  let made = clients.get(t);
  if (!made) {
    const dynamo = DynamoDBDocumentClient.from(new DynamoDBClient(t.aws));
    // StartSyncExecution's `sync-` host prefix has no place on a local endpoint.
    const sfn = new SFNClient({ ...t.aws, ...(t.aws.endpoint && { disableHostPrefix: true }) });
    const lambda = new LambdaClient(t.aws);
    made = {
      dynamo,
      sfn,
      lambda,
      destroy() {
        for (const client of [dynamo, sfn, lambda]) client.destroy();
        clients.delete(t);
      },
    };
    clients.set(t, made);
  }
  return made;
}

/** An SFN client for the target (StartSyncExecution works through it locally too). */
export const stepFunctionsOf = (t: TestCloud) => clientsOf(t).sfn;

/**
 * A JSON call, SigV4-signed as an IAM client signs (the store, order and operations routes are
 * IAM-authorized; the local simulators ignore the signature, deployed ones check it): the local
 * credentials, or on a stack the caller's own from the standard chain.
 */
export async function call(
  method: string,
  url: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const signer = signing ?? {
    region: 'us-east-1',
    credentials: async () => ({ accessKeyId: 'local', secretAccessKey: 'local' }),
  };
  const response = await signedFetch(
    url,
    {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    },
    { credentials: await signer.credentials(), region: signer.region },
  );
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

/**
 * A scheduled function run now through Lambda `Invoke`, as its EventBridge minute would run it (the
 * tests do not wait for the minute); its answer, or an error with its function error.
 */
export async function whenTheScheduledFunctionRuns<T>(t: TestCloud, logicalId: string, event: unknown = {}) {
  const functionName = t.resource(logicalId);
  const answer = await clientsOf(t).lambda.send(
    new InvokeCommand({ FunctionName: functionName, Payload: Buffer.from(JSON.stringify(event)) }),
  );
  const payload = answer.Payload?.length
    ? JSON.parse(Buffer.from(answer.Payload).toString('utf8'))
    : undefined;
  if (answer.FunctionError) throw new Error(`${functionName} failed: ${JSON.stringify(payload)}`);
  return payload as T;
}

/** Expiries, the POS health probe and the partner re-sync sweep (`storeSchedules`). */
export const whenTheStoreSchedulesRun = <T = unknown>(t: TestCloud) =>
  whenTheScheduledFunctionRuns<T>(t, 'StoreSchedulesLambdaFunction');

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
  return call('GET', `${t.httpUrl}/orders/${orderId}`);
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
    DEMO_STORE_IDS.map(async (storeId) => (await call('GET', `${t.httpUrl}/stores/${storeId}`)).body),
  );
  const pausedByPosHealth = before.filter((s) => s?.status === 'paused' && s.changedBy === 'pos-health');
  await whenTheStoreSchedulesRun(t);
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

/** A diagnosis for a failed wait: the order's timeline, where its workflow is, its POS orders. */
export async function whereTheOrderIs(t: TestCloud, orderId: string): Promise<string> {
  const order = (await theOrder(t, orderId)).body;
  const timeline = (order?.timeline ?? []).map((e: { event: string; detail?: string }) =>
    e.detail ? `${e.event} (${e.detail})` : e.event,
  );
  const runs = await Promise.all(
    (await theWorkflowExecutionsOf(t, orderId)).map(async (run) => {
      const history = await run.history();
      const entered = history.findLast((e) => e.stateEnteredEventDetails)?.stateEnteredEventDetails?.name;
      return `OrderWorkflow ${run.status} in ${entered ?? '?'} (last event ${history.at(-1)?.type ?? '?'})`;
    }),
  );
  // Express runs have no history on AWS (their logs serve); an in-process cloud still shows them.
  if (IN_PROCESS)
    for (const machine of t.cloud.model.stateMachines.filter((m) => m.type === 'EXPRESS'))
      for (const run of t.cloud.stepFunctions
        .listExecutions(machine.arn)
        .filter((r) => r.input.includes(orderId))) {
        const entered = run.history.findLast((e) => e.stateEnteredEventDetails)?.stateEnteredEventDetails as
          | { name: string }
          | undefined;
        runs.push(
          `${machine.logicalId} ${run.status} in ${entered?.name ?? '?'} (last event ${run.history.at(-1)?.type ?? '?'})`,
        );
      }
  const pos = await thePosOrders(t, orderId);
  return [
    `order ${orderId}: ${order?.status ?? 'missing'}; timeline: ${timeline.join(' → ')}`,
    `workflows: ${runs.join('; ') || 'none'}`,
    `POS: ${pos.map((o) => `${o.posOrderId} ${o.status} x${o.createRequests}`).join(', ') || 'none'}`,
  ].join('\n');
}

/** One GetExecutionHistory event, its timestamp in epoch seconds (as the in-process history keeps it). */
export interface WorkflowHistoryEvent {
  timestamp: number;
  type: string;
  stateEnteredEventDetails?: { name?: string };
  taskScheduledEventDetails?: { resource?: string; timeoutInSeconds?: number };
  [details: string]: unknown;
}

/** A Standard order-workflow execution as ListExecutions and DescribeExecution show it. */
export interface WorkflowRun {
  executionArn: string;
  name: string;
  status: string;
  input: string;
  output?: string;
  /** Its GetExecutionHistory, every page, oldest first. */
  history(): Promise<WorkflowHistoryEvent[]>;
}

/**
 * DescribeExecution answers per ARN, shared by concurrent polls (ten orders waited for at once make
 * one call per execution, not ten): an execution's input never changes, and once it has ended neither
 * does the rest, so a running one is described again only after ListExecutions shows it ended.
 */
const describedRuns = new Map<string, Promise<{ status?: string; input?: string; output?: string }>>();
function describeRun(sfn: SFNClient, arn: string, listedStatus: string | undefined) {
  const cached = describedRuns.get(arn);
  const stale = cached?.then((described) => described.status === 'RUNNING' && listedStatus !== 'RUNNING');
  const describe = () => {
    const fresh = sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    describedRuns.set(arn, fresh);
    fresh.catch(() => describedRuns.delete(arn));
    return fresh;
  };
  if (!cached || !stale) return describe();
  return stale.then((again) => (again ? describe() : cached));
}

/**
 * The order-workflow (STANDARD) executions started for one order, newest first, through
 * ListExecutions and DescribeExecution. On a shared target only executions started since the test
 * file began are read (the order ids of a file are its own).
 */
export async function theWorkflowExecutionsOf(t: TestCloud, orderId: string): Promise<WorkflowRun[]> {
  const { sfn } = clientsOf(t);
  const listed = [];
  // Newest first (as on AWS): on a shared target, paging stops at the first run from before this file.
  pages: for await (const page of paginateListExecutions(
    { client: sfn },
    { stateMachineArn: t.resource('OrderWorkflow') },
  ))
    for (const execution of page.executions ?? []) {
      if (!IN_PROCESS && execution.startDate && execution.startDate.getTime() < fileStartedAt) break pages;
      listed.push(execution);
    }
  const described = await Promise.all(
    listed.map((execution) => describeRun(sfn, execution.executionArn!, execution.status)),
  );
  return listed.flatMap((execution, i) => {
    const run = described[i]!;
    if (JSON.parse(run.input ?? '{}')?.detail?.orderId !== orderId) return [];
    const arn = execution.executionArn!;
    return [
      {
        executionArn: arn,
        name: execution.name!,
        status: run.status === 'RUNNING' ? execution.status! : run.status!,
        input: run.input ?? '',
        ...(run.output !== undefined && { output: run.output }),
        history: () => historyOf(sfn, arn),
      },
    ];
  });
}

/** When this test file loaded (less a margin for the target's clock): what a shared target ran before is not this file's. */
const fileStartedAt = Date.now() - 5_000;

async function historyOf(sfn: SFNClient, executionArn: string): Promise<WorkflowHistoryEvent[]> {
  const events: WorkflowHistoryEvent[] = [];
  for await (const page of paginateGetExecutionHistory({ client: sfn }, { executionArn, maxResults: 1000 }))
    for (const { timestamp, ...event } of page.events ?? [])
      events.push({ ...event, type: event.type!, timestamp: (timestamp?.getTime() ?? 0) / 1000 });
  return events;
}

/** Once every workflow execution of the order has ended: the order and its POS orders, settled. */
export async function theOrderOnceItsWorkflowsEnd(t: TestCloud, orderId: string, timeoutMs = 30_000) {
  try {
    await eventually(
      async () => {
        const runs = await theWorkflowExecutionsOf(t, orderId);
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

/** What the reconciler reports for one run. */
export interface ReconcilerRun {
  checked: number;
  settled: number;
  stillOwed: number;
}

/**
 * The reconciler, invoked as `npm run reconcile` does: every order that still owes work is paid now,
 * whatever its backoff says (its schedule runs it on whole minutes; tests do not wait for them).
 */
export function whenTheReconcilerRuns(t: TestCloud) {
  return whenTheScheduledFunctionRuns<ReconcilerRun>(t, 'ReconcileOrdersLambdaFunction', {
    everything: true,
  });
}

/** The order record as stored (owed work included, which GET /orders/{id} does not show), read through the SDK. */
export async function theOrderRecord(
  t: TestCloud,
  orderId: string,
): Promise<Record<string, any> | undefined> {
  const { Item } = await clientsOf(t).dynamo.send(
    new GetCommand({ TableName: t.resource('OrdersTable'), Key: { orderId }, ConsistentRead: true }),
  );
  return Item;
}

/**
 * Once the bus has delivered what it was given. In process the emulator says when it is idle; a
 * running target has no such signal, so the test waits out EventBridge's delivery (well under a
 * second to an SQS target when nothing fails) with a margin.
 */
export async function whenTheBusHasDelivered(t: TestCloud) {
  if (IN_PROCESS) await t.cloud.eventBridge.idle();
  else await new Promise((resolve) => setTimeout(resolve, 3_000));
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
  /** Removes the test rule and queue from a shared target. */
  close(): Promise<void>;
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
  const sqs = new SQSClient(t.aws);
  const events = new EventBridgeClient(t.aws);
  const busName = t.resource('OrderBus');
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queueArn = Attributes!.QueueArn!;
  const { RuleArn } = await events.send(
    new PutRuleCommand({
      Name: name,
      EventBusName: busName,
      EventPattern: JSON.stringify({ source: ['order-middleware'] }),
    }),
  );
  // On AWS the queue must let EventBridge send to it, from this rule only (the local SQS has no policies).
  if (TARGET.kind === 'stack')
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl,
        Attributes: {
          Policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: queueArn,
                Condition: { ArnEquals: { 'aws:SourceArn': RuleArn } },
              },
            ],
          }),
        },
      }),
    );
  const targets = await events.send(
    new PutTargetsCommand({
      Rule: name,
      EventBusName: busName,
      Targets: [{ Id: 'test-queue', Arn: queueArn }],
    }),
  );
  if (targets.FailedEntryCount)
    throw new Error(`PutTargets failed: ${JSON.stringify(targets.FailedEntries)}`);

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
    async close() {
      // A shared target keeps no test's rule and queue; an in-process cloud goes away with its data.
      if (!IN_PROCESS) {
        const removed = await events
          .send(new RemoveTargetsCommand({ Rule: name, EventBusName: busName, Ids: ['test-queue'] }))
          .then(() => events.send(new DeleteRuleCommand({ Name: name, EventBusName: busName })))
          .then(
            () => true,
            (error: Error) => {
              process.stderr.write(`the test rule ${name} stays on the bus: ${error.message}\n`);
              return false;
            },
          );
        // Only once nothing delivers to it: the rule would otherwise fail into its retries.
        if (removed) await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => {});
      }
      events.destroy();
      sqs.destroy();
    },
  };
  return observer;
}
