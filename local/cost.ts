/**
 * `npm run cost [-- --json]`: what an order costs on AWS, per path, from what the local cloud
 * actually did. Each path runs a few orders (one at a time, after a warm-up, so cold starts do not
 * dominate); between paths the cloud is left to settle and its counters are read:
 *  - Step Functions: states entered in the STANDARD machine (its history); executions and their
 *    durations in the EXPRESS ones (each rounded up to 100 ms at 64 MB, as billed), read as on AWS
 *    from their CloudWatch log group (level ALL: Express executions have no GetExecutionHistory);
 *  - CloudWatch Logs: bytes ingested into the Express machines' log group and the functions' groups;
 *  - Lambda: invocations and billed ms (init included) at each function's memory and architecture;
 *  - EventBridge: events put; HTTP API: the partner's requests (timed proxy in front of it);
 *  - DynamoDB: the functions' calls through a metering proxy that asks dynalite for
 *    ConsumedCapacity (a failed conditional write counted as 1 WRU), plus the state machines'
 *    `dynamodb:*` tasks, which reach dynalite directly and are estimated at the path's average
 *    write units per write.
 * Priced with local/prices.json (us-east-1 list prices, with source and date).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CloudWatchLogsClient, paginateFilterLogEvents } from '@aws-sdk/client-cloudwatch-logs';
import { DEMO_STORES } from '../functions/lib/domain/demo-stores';
import type { ExecutionRecord } from './cloud/stepfunctions/execution';
import { startToolCloud, type ToolCloud } from './tools/cloud';
import { type DynamoUsage, diffDynamoUsage } from './tools/dynamo-meter';
import { call, partnerSays, placeOrder, StatusWatcher, setPosFaults } from './tools/orders';
import {
  allStandard,
  expressGbSeconds,
  lambdaGbSeconds,
  lambdaPerStep,
  type PathUsage,
  type PriceTable,
  priceUsage,
  type StateCounts,
} from './tools/pricing';
import { say, writeResult } from './tools/report';
import { round } from './tools/stats';
import { openExecutionWindow, quiesce } from './tools/usage';

const { values: args } = parseArgs({
  options: {
    orders: { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const ORDERS = Number(args.orders);
const BOUND_MS = 60_000;
const prices = JSON.parse(readFileSync(new URL('./prices.json', import.meta.url), 'utf8')) as PriceTable;
const UNAVAILABLE_SKU = DEMO_STORES[0]?.menu[0]?.sku ?? 'TACO-AL-PASTOR';

interface OrderPath {
  path: string;
  /** The outcome every order of this path must reach, or the run is wrong. */
  expect: string;
  before?: (t: ToolCloud) => Promise<void>;
  after?: (t: ToolCloud) => Promise<void>;
  run: (t: ToolCloud, watcher: StatusWatcher, index: number) => Promise<string | undefined>;
}

const partnerOf = (index: number) => (['doordash', 'ubereats', 'grubhub'] as const)[index % 3] ?? 'doordash';

/** Send an order, wait until it leaves RECEIVED; once ACCEPTED, optionally release, cancel or just wait for the end. */
async function orderThen(
  t: ToolCloud,
  watcher: StatusWatcher,
  index: number,
  order: {
    storeId?: string;
    pickupInSeconds?: number;
    items?: Array<{ sku: string; quantity: number }>;
    ignoreStoreState?: boolean;
  },
  next?: 'release' | 'cancel' | 'wait',
) {
  const placed = await placeOrder(t, { partner: partnerOf(index), ...order });
  if (!placed.orderId) return `webhook-${placed.webhookStatus}`;
  const first = await watcher.waitFor(placed.orderId, (s) => s !== 'RECEIVED', BOUND_MS);
  if (first !== 'ACCEPTED' || !next) return first;
  if (next !== 'wait') await partnerSays(t, placed, next);
  return watcher.waitFor(placed.orderId, (s) => s !== 'ACCEPTED', BOUND_MS);
}

const PATHS: OrderPath[] = [
  {
    path: 'accepted-released',
    expect: 'RELEASED',
    run: (t, w, i) => orderThen(t, w, i, {}, 'release'),
  },
  {
    path: 'denied-store-offline',
    expect: 'REJECTED',
    // Sent as if before the partner heard the store is offline (it would refuse it at the source).
    run: (t, w, i) => orderThen(t, w, i, { storeId: 'store-002', ignoreStoreState: true }),
  },
  {
    path: 'denied-item-unavailable',
    expect: 'REJECTED',
    before: async (t) => void (await storeItem(t, false)),
    after: async (t) => void (await storeItem(t, true)),
    // The partner already shows the item 86'd and would refuse it at the source (409): this path
    // measures an order sent before the partner heard, which the middleware must deny itself.
    run: (t, w, i) =>
      orderThen(t, w, i, { items: [{ sku: UNAVAILABLE_SKU, quantity: 1 }], ignoreStoreState: true }),
  },
  {
    path: 'cancelled-while-waiting',
    expect: 'CANCELLED',
    run: (t, w, i) => orderThen(t, w, i, {}, 'cancel'),
  },
  {
    path: 'pos-retried-then-accepted',
    expect: 'RELEASED',
    run: async (t, w, i) => {
      await setPosFaults(t, { failNext: 1 }); // the first POS call fails, its retry succeeds
      return orderThen(t, w, i, {}, 'release');
    },
    after: (t) => setPosFaults(t, {}),
  },
  {
    path: 'released-by-timeout',
    expect: 'RELEASED',
    run: (t, w, i) => orderThen(t, w, i, { pickupInSeconds: 2 }, 'wait'),
  },
];

async function storeItem(t: ToolCloud, available: boolean) {
  const answer = await call('PUT', `${t.cloud.httpUrl}/stores/store-001/items/${UNAVAILABLE_SKU}`, {
    available,
  });
  if (answer.status !== 200) throw new Error(`PUT /stores/store-001/items answered ${answer.status}`);
}

interface Counters {
  stepFunctions: ReturnType<ToolCloud['cloud']['stepFunctions']['stats']>;
  lambda: ReturnType<ToolCloud['cloud']['lambda']['stats']>;
  events: number;
  dynamo: DynamoUsage;
  apiRequests: number;
  /** Bytes ingested so far into the Express machines' log groups and into the functions' groups. */
  logBytes: { express: number; functions: number };
  at: number;
}

/** The log groups the Express machines write their history to (their LoggingConfiguration). */
function expressLogGroups(t: ToolCloud): string[] {
  const groups = t.cloud.stepFunctions
    .listStateMachines()
    .filter((machine) => machine.type === 'EXPRESS')
    .map((machine) => machine.loggingConfiguration.destinations?.[0]?.cloudWatchLogsLogGroup.logGroupArn)
    .map((arn) => /:log-group:(.+?)(:\*)?$/.exec(arn ?? '')?.[1])
    .filter((name): name is string => name !== undefined);
  return [...new Set(groups)];
}

function logBytes(t: ToolCloud) {
  const sum = (groups: string[]) =>
    groups.reduce((total, group) => total + t.cloud.logs.ingestedBytes(group), 0);
  const functions = t.cloud.logs.groupNames().filter((group) => group.startsWith('/aws/lambda/'));
  return { express: sum(expressLogGroups(t)), functions: sum(functions) };
}

/** One Express execution as its log events tell it: when it started and ended, the tasks it scheduled. */
interface ExpressRun {
  startedAt?: number;
  endedAt?: number;
  taskTypes: string[];
}

/**
 * The Express executions of a time window, read from their log group with FilterLogEvents through
 * the local endpoint, as one would read them on AWS.
 */
async function expressRunsBetween(t: ToolCloud, startTime: number, endTime: number): Promise<ExpressRun[]> {
  const client = new CloudWatchLogsClient({
    endpoint: t.cloud.awsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const runs = new Map<string, ExpressRun>();
  try {
    for (const logGroupName of expressLogGroups(t)) {
      const pages = paginateFilterLogEvents({ client }, { logGroupName, startTime, endTime: endTime + 1 });
      for await (const page of pages) {
        for (const { message } of page.events ?? []) {
          const event = JSON.parse(message ?? '{}') as LoggedEvent;
          const run = runs.get(event.execution_arn) ?? { taskTypes: [] };
          runs.set(event.execution_arn, run);
          const at = Number(event.event_timestamp);
          if (event.type === 'ExecutionStarted') run.startedAt = at;
          else if (/^Execution(Succeeded|Failed|TimedOut|Aborted)$/.test(event.type)) run.endedAt = at;
          else if (event.type === 'TaskScheduled') run.taskTypes.push(event.details.resourceType ?? '');
        }
      }
    }
  } finally {
    client.destroy();
  }
  return [...runs.values()];
}

interface LoggedEvent {
  type: string;
  execution_arn: string;
  event_timestamp: string;
  details: { resourceType?: string };
}

function counters(t: ToolCloud): Counters {
  return {
    logBytes: logBytes(t),
    at: Date.now(),
    stepFunctions: structuredClone(t.cloud.stepFunctions.stats()),
    lambda: t.cloud.lambda.stats(),
    events: t.cloud.eventBridge.stats().eventsPut,
    dynamo: t.dynamoMeter?.usage() ?? {
      calls: 0,
      byOperation: {},
      readUnits: 0,
      writeUnits: 0,
      conditionalFailures: 0,
    },
    apiRequests: t.apiRequests(),
  };
}

const WRITE_OPERATIONS = ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem'];

/** What happened between two readings, as billable quantities, and the state counts behind them. */
function usageBetween(
  t: ToolCloud,
  before: Counters,
  after: Counters,
  standard: ExecutionRecord[],
  express: ExpressRun[],
  orders: number,
) {
  const machines = new Map(t.cloud.stepFunctions.listStateMachines().map((m) => [m.stateMachineArn, m.type]));
  let standardTransitions = 0;
  let expressTransitions = 0;
  let expressRequests = 0;
  for (const [arn, stats] of Object.entries(after.stepFunctions)) {
    const was = before.stepFunctions[arn];
    const transitions = stats.stateTransitions - (was?.stateTransitions ?? 0);
    if (machines.get(arn) === 'EXPRESS') {
      expressTransitions += transitions;
      expressRequests += stats.executionsStarted - (was?.executionsStarted ?? 0);
    } else standardTransitions += transitions;
  }
  const expressEnded = express.filter((run) => run.startedAt !== undefined && run.endedAt !== undefined);
  let lambdaRequests = 0;
  let lambdaGbSecondsArm64 = 0;
  let lambdaGbSecondsX86 = 0;
  let coldStarts = 0;
  for (const [name, stats] of Object.entries(after.lambda)) {
    const was = before.lambda[name];
    lambdaRequests += stats.invocations - (was?.invocations ?? 0);
    coldStarts += stats.coldStarts - (was?.coldStarts ?? 0);
    const gbs = lambdaGbSeconds(stats.billedMs - (was?.billedMs ?? 0), stats.memorySize);
    if (stats.architecture === 'arm64') lambdaGbSecondsArm64 += gbs;
    else lambdaGbSecondsX86 += gbs;
  }
  const tasks = [
    ...standard
      .filter((e) => e.type === 'STANDARD')
      .flatMap((e) =>
        e.history
          .filter((event) => event.type === 'TaskScheduled')
          .map((event) => (event.taskScheduledEventDetails as { resourceType?: string }).resourceType ?? ''),
      ),
    ...express.flatMap((run) => run.taskTypes),
  ];
  const dynamoTasks = tasks.filter((type) => type === 'dynamodb').length;
  const dynamo = diffDynamoUsage(after.dynamo, before.dynamo);
  const writes = WRITE_OPERATIONS.reduce((sum, op) => sum + (dynamo.byOperation[op] ?? 0), 0);
  const unitsPerWrite = writes > 0 ? dynamo.writeUnits / writes : 1;
  const usage: PathUsage = {
    orders,
    standardTransitions,
    expressRequests,
    expressGbSeconds: expressGbSeconds(
      expressEnded.map((run) => run.endedAt! - run.startedAt!),
      prices.prices.stepFunctionsExpressGbSecond.billing,
    ),
    lambdaRequests,
    lambdaGbSecondsArm64,
    lambdaGbSecondsX86,
    events: after.events - before.events,
    dynamoWriteUnits: dynamo.writeUnits + dynamoTasks * unitsPerWrite,
    dynamoReadUnits: dynamo.readUnits,
    apiRequests: after.apiRequests - before.apiRequests,
    expressLogBytes: after.logBytes.express - before.logBytes.express,
    functionLogBytes: after.logBytes.functions - before.logBytes.functions,
  };
  const counts: StateCounts = {
    expressTransitions,
    childStarts: tasks.filter((type) => type === 'states').length,
    serviceTasks: tasks.filter((type) => type !== 'lambda' && type !== 'states').length,
  };
  return { usage, counts, coldStarts, dynamoCalls: dynamo.calls + dynamoTasks, dynamoTasks };
}

async function measurePath(t: ToolCloud, watcher: StatusWatcher, path: OrderPath) {
  await path.before?.(t);
  await quiesce(t);
  const before = counters(t);
  const window = openExecutionWindow(t);
  const outcomes: Array<string | undefined> = [];
  for (let i = 0; i < ORDERS; i++) outcomes.push(await path.run(t, watcher, i));
  await quiesce(t);
  const after = counters(t);
  await path.after?.(t);
  const wrong = outcomes.filter((outcome) => outcome !== path.expect);
  if (wrong.length) throw new Error(`${path.path}: expected ${path.expect}, got ${JSON.stringify(outcomes)}`);
  const express = await expressRunsBetween(t, before.at, after.at);
  return usageBetween(t, before, after, window.executions(), express, ORDERS);
}

const perOrder = (value: number, orders: number, digits = 3) => round(value / orders, digits);

function pathReport(path: string, measured: ReturnType<typeof usageBetween>) {
  const { usage, counts } = measured;
  const cost = priceUsage(usage, prices);
  const n = usage.orders;
  return {
    path,
    orders: n,
    standardTransitions: perOrder(usage.standardTransitions, n, 2),
    expressRequests: perOrder(usage.expressRequests, n, 2),
    expressGbSeconds: perOrder(usage.expressGbSeconds, n, 5),
    lambdaRequests: perOrder(usage.lambdaRequests, n, 2),
    lambdaGbSeconds: perOrder(usage.lambdaGbSecondsArm64 + usage.lambdaGbSecondsX86, n, 5),
    events: perOrder(usage.events, n, 2),
    dynamoWriteUnits: perOrder(usage.dynamoWriteUnits, n, 2),
    dynamoReadUnits: perOrder(usage.dynamoReadUnits, n, 2),
    dynamoCalls: perOrder(measured.dynamoCalls, n, 2),
    apiRequests: perOrder(usage.apiRequests, n, 2),
    expressLogBytes: perOrder(usage.expressLogBytes ?? 0, n, 0),
    functionLogBytes: perOrder(usage.functionLogBytes ?? 0, n, 0),
    usdPer1000: round(cost.usdPer1000, 5),
    usdPer1000ByService: Object.fromEntries(Object.entries(cost.byService).map(([k, v]) => [k, round(v, 5)])),
    shares: Object.fromEntries(Object.entries(cost.shares).map(([k, v]) => [k, round(v, 3)])),
    lambdaColdStarts: measured.coldStarts,
    alternatives: {
      allStandard: {
        standardTransitions: perOrder(allStandard(usage, counts).standardTransitions, n, 2),
        usdPer1000: round(priceUsage(allStandard(usage, counts), prices).usdPer1000, 5),
      },
      lambdaPerStep: {
        standardTransitions: perOrder(lambdaPerStep(usage, counts).standardTransitions, n, 2),
        lambdaRequests: perOrder(lambdaPerStep(usage, counts).lambdaRequests, n, 2),
        usdPer1000: round(priceUsage(lambdaPerStep(usage, counts), prices).usdPer1000, 5),
      },
    },
  };
}

async function run() {
  say(`Starting a local cloud to measure ${PATHS.length} paths × ${ORDERS} orders…`);
  const t = await startToolCloud({ meterDynamo: true });
  try {
    const watcher = new StatusWatcher(t, 25);
    say('warm-up: one order down each path');
    for (const path of PATHS) {
      await path.before?.(t);
      await path.run(t, watcher, 0);
      await path.after?.(t);
    }
    const paths = [];
    for (const path of PATHS) {
      say(`path ${path.path}`);
      paths.push(pathReport(path.path, await measurePath(t, watcher, path)));
    }
    const result = {
      tool: 'cost',
      at: new Date().toISOString(),
      prices: { region: prices.region, date: prices.date, file: 'local/prices.json' },
      paths,
    };
    const file = writeResult('cost', result);
    if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else printTable(paths, file);
  } finally {
    await t.stop();
  }
}

function printTable(paths: Array<ReturnType<typeof pathReport>>, file: string) {
  const columns: Array<[string, (p: ReturnType<typeof pathReport>) => string | number, number]> = [
    ['path', (p) => p.path, 26],
    ['std tr', (p) => p.standardTransitions, 7],
    ['expr', (p) => p.expressRequests, 5],
    ['expr GB-s', (p) => p.expressGbSeconds, 10],
    ['λ req', (p) => p.lambdaRequests, 6],
    ['λ GB-s', (p) => p.lambdaGbSeconds, 8],
    ['events', (p) => p.events, 7],
    ['WRU', (p) => p.dynamoWriteUnits, 6],
    ['RRU', (p) => p.dynamoReadUnits, 6],
    ['API', (p) => p.apiRequests, 5],
    ['sfn log B', (p) => p.expressLogBytes, 10],
    ['λ log B', (p) => p.functionLogBytes, 8],
    ['$/1000', (p) => p.usdPer1000.toFixed(4), 8],
    ['all-Std $', (p) => p.alternatives.allStandard.usdPer1000.toFixed(4), 10],
    ['λ/step $', (p) => p.alternatives.lambdaPerStep.usdPer1000.toFixed(4), 9],
  ];
  const line = (cells: string[]) => cells.join('  ');
  const rows = [
    '',
    `Cost per order path (per order; $ per 1,000 orders; ${prices.region} list prices of ${prices.date})`,
    line(columns.map(([name, , width], i) => (i === 0 ? name.padEnd(width) : name.padStart(width)))),
    ...paths.map((p) =>
      line(
        columns.map(([, value, width], i) =>
          i === 0 ? String(value(p)).padEnd(width) : String(value(p)).padStart(width),
        ),
      ),
    ),
    '',
    'Shares of each path’s cost:',
    ...paths.map(
      (p) =>
        `  ${p.path.padEnd(26)} ${Object.entries(p.shares)
          .filter(([, share]) => share > 0)
          .map(([service, share]) => `${service} ${Math.round(share * 100)}%`)
          .join(', ')}`,
    ),
    '',
    'log B: bytes per order ingested into CloudWatch Logs (Express history at level ALL; function lines);',
    'all-Std: the same workflow in one STANDARD machine (every state of parent and children billed, no Express logs);',
    'λ/step: that, with a Lambda for each direct service integration (dynamodb, events).',
    `report: ${file}`,
    '',
  ];
  process.stdout.write(rows.join('\n'));
}

run().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
