/**
 * `npm run bench [-- --json]`: how fast the local cloud itself is on this machine.
 *  - ordersPerSecond: full happy orders (signed webhook → ACCEPTED → release → RELEASED) at a fixed
 *    concurrency, after a warm-up of one round (`--warm-up N` orders instead: V8 optimizes a
 *    sandbox's code only after thousands of calls, in each sandbox's isolate apart, so a local cloud
 *    reaches its pace after a few thousand orders; every other figure then includes that warm-up);
 *  - dynaliteWritesPerSecond: conditional PutItem through the SDK straight to dynalite, same run;
 *  - webhookAckP99Ms: new-order webhooks offered at 100/s for a few seconds, timed at a proxy in
 *    front of the HTTP API (request in → last byte of the answer);
 *  - executionsPerSecond: StartSyncExecution of a small EXPRESS Pass/Choice machine via the endpoint;
 *  - webhookAckP99MsAtHalfLoad: the same, offered at half the measured ordersPerSecond (what a
 *    developer's own traffic looks like next to the machine's limit);
 *  - rssMb: peak resident memory of this process (the whole local cloud, Lambda workers are
 *    threads) plus its children (dynalite), sampled through every phase;
 *  - idleRssMb: the same once started, after one order, settled (idle sandboxes reaped, then 3 s);
 *  - startMs: start of the local cloud, simulators and seed to ready, with the package cached;
 *  - cpuMsPerOrder: CPU time per order over the ordersPerSecond phase, the whole local cloud (its
 *    main thread with this benchmark's own client, the sandboxes' and V8's threads, dynalite), from
 *    /proc: what bounds orders/s on a machine whose cores are all busy (split in the report file);
 *  - dynamoCallsPerOrder: in a second local cloud whose functions reach dynalite through a counting
 *    proxy (so the throughput figures above carry no proxy), the functions' DynamoDB calls plus the
 *    state machines' `dynamodb:*` tasks, per happy order.
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CreateTableCommand, PutItemCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { CreateStateMachineCommand, SFNClient, StartSyncExecutionCommand } from '@aws-sdk/client-sfn';
import { packagedStack } from './cloud/package-cache';
import { startToolCloud, type ToolCloud } from './tools/cloud';
import { diffDynamoUsage } from './tools/dynamo-meter';
import { inPool, PARTNERS, partnerSays, placeOrder, StatusWatcher } from './tools/orders';
import { say, writeResult } from './tools/report';
import { percentile, round } from './tools/stats';
import { cpuTimes, dynamoTasks, openExecutionWindow, quiesce, residentMb } from './tools/usage';

const { values: args } = parseArgs({
  options: {
    orders: { type: 'string', default: '300' },
    'warm-up': { type: 'string' },
    concurrency: { type: 'string', default: '32' },
    'ack-rate': { type: 'string', default: '100' },
    'ack-seconds': { type: 'string', default: '5' },
    json: { type: 'boolean', default: false },
  },
});
const ORDERS = Number(args.orders);
const CONCURRENCY = Number(args.concurrency);
const WARM_UP = Number(args['warm-up'] ?? CONCURRENCY);
if (!Number.isInteger(WARM_UP) || WARM_UP < 0)
  throw new Error(`--warm-up must be a whole number of orders (0 or more), not "${args['warm-up']}"`);
const ACK_RATE = Number(args['ack-rate']);
const ACK_SECONDS = Number(args['ack-seconds']);
const BOUND_MS = 120_000;
/** Long enough for a p99 of some hundred acknowledgements at half load. */
const HALF_LOAD_SECONDS = 10;

let peakRssMb = 0;
let peakSandboxes = 0;
/** The cloud being measured, once started: its live sandboxes are sampled with the memory. */
let measured: ToolCloud | undefined;
const sampleRss = () => {
  peakRssMb = Math.max(peakRssMb, residentMb());
  peakSandboxes = Math.max(peakSandboxes, measured?.cloud.lambda.sandboxes() ?? 0);
};

/** One happy order, start to kitchen. */
async function happyOrder(t: ToolCloud, watcher: StatusWatcher, index: number): Promise<boolean> {
  const placed = await placeOrder(t, { partner: PARTNERS[index % PARTNERS.length] ?? 'doordash' });
  if (placed.webhookStatus !== 202 || !placed.orderId) return false;
  if ((await watcher.waitFor(placed.orderId, (s) => s !== 'RECEIVED', BOUND_MS)) !== 'ACCEPTED') return false;
  await partnerSays(t, placed, 'release');
  return (await watcher.waitFor(placed.orderId, (s) => s !== 'ACCEPTED', BOUND_MS)) === 'RELEASED';
}

async function ordersPerSecond(t: ToolCloud, watcher: StatusWatcher) {
  say(`warm-up: ${WARM_UP} orders`);
  await inPool([...Array(WARM_UP).keys()], CONCURRENCY, async (i) => void (await happyOrder(t, watcher, i)));
  await quiesce(t);
  say(`orders end to end: ${ORDERS} at concurrency ${CONCURRENCY}`);
  let released = 0;
  const startedAt = performance.now();
  const cpuBefore = cpuTimes();
  await inPool([...Array(ORDERS).keys()], CONCURRENCY, async (i) => {
    if (await happyOrder(t, watcher, i)) released += 1;
  });
  const seconds = (performance.now() - startedAt) / 1000;
  const cpu = cpuTimes();
  await quiesce(t);
  const perOrder = (ms: number) => round(ms / Math.max(1, released), 1);
  const cpuMsPerOrder = {
    // The emulators, the simulators and this benchmark's own client share the main thread.
    mainThread: perOrder(cpu.mainThread - cpuBefore.mainThread),
    // The Lambda sandboxes' threads, and V8's and libuv's helper threads.
    sandboxesAndHelpers: perOrder(cpu.process - cpu.mainThread - (cpuBefore.process - cpuBefore.mainThread)),
    dynalite: perOrder(cpu.children - cpuBefore.children),
    total: perOrder(cpu.process + cpu.children - cpuBefore.process - cpuBefore.children),
  };
  return { ordersPerSecond: released / seconds, released, seconds, cpuMsPerOrder };
}

async function dynaliteWritesPerSecond(t: ToolCloud, writes = 3000, concurrency = 32) {
  const TableName = 'bench-conditional-writes';
  await t.dynamo.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    }),
  );
  // dynalite, like DynamoDB, answers ResourceNotFound until the new table is ACTIVE.
  await waitUntilTableExists({ client: t.dynamo, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName });
  const startedAt = performance.now();
  await inPool([...Array(writes).keys()], concurrency, async (i) => {
    await t.dynamo.send(
      new PutItemCommand({
        TableName,
        Item: { pk: { S: `order-${i}` }, status: { S: 'RECEIVED' }, at: { S: new Date().toISOString() } },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
  });
  return writes / ((performance.now() - startedAt) / 1000);
}

/** Resident memory once settled after start and one order: idle sandboxes reaped, then 3 s more. */
async function idleRss(t: ToolCloud, watcher: StatusWatcher) {
  say('idle memory: one order, then settled');
  await happyOrder(t, watcher, 0);
  await quiesce(t);
  // Every sandbox idle since the order is reaped by then; those of functions on minute schedules
  // run more often than that and stay warm, as on Lambda.
  const reapedBy = Date.now() + t.cloud.lambda.idleSandboxMs() + 1000;
  while (t.cloud.lambda.sandboxes() > 0 && Date.now() < reapedBy) await sleep(250);
  const sandboxesLeft = t.cloud.lambda.sandboxes();
  await sleep(3000);
  return { idleRssMb: residentMb(), sandboxesLeft };
}

/** Offers new-order webhooks at a fixed rate; answers the acknowledgement times (ms). */
async function webhookAcks(t: ToolCloud, watcher: StatusWatcher, rate: number, seconds: number) {
  const from = t.webhookAcks.length;
  const total = Math.max(1, Math.round(rate * seconds));
  say(`webhook acknowledgement: ${total} orders offered at ${round(rate, 1)}/s`);
  const sent: Promise<unknown>[] = [];
  const startedAt = performance.now();
  for (let i = 0; i < total; i++) {
    const due = startedAt + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sent.push(
      placeOrder(t, { partner: PARTNERS[i % PARTNERS.length] ?? 'doordash', pickupInSeconds: 5 }).then(
        (placed) =>
          placed.orderId ? watcher.waitFor(placed.orderId, (s) => s === 'RELEASED', BOUND_MS) : undefined,
      ),
    );
    if (i % 50 === 0) sampleRss();
  }
  // Let the offered orders finish (released by their 5 s pickup timeout) while memory is sampled.
  const sampler = setInterval(sampleRss, 500);
  await Promise.all(sent);
  clearInterval(sampler);
  await quiesce(t);
  return t.webhookAcks.slice(from);
}

async function executionsPerSecond(t: ToolCloud, executions = 1000, concurrency = 16) {
  const sfn = new SFNClient({
    endpoint: t.cloud.awsUrl,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    disableHostPrefix: true, // StartSyncExecution's `sync-` host prefix would leave 127.0.0.1
  });
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: 'bench-pass-choice',
      type: 'EXPRESS',
      roleArn: 'arn:aws:iam::000000000000:role/bench',
      definition: JSON.stringify({
        StartAt: 'Stamp',
        States: {
          Stamp: { Type: 'Pass', Result: { checked: true }, ResultPath: '$.stamp', Next: 'Big?' },
          'Big?': {
            Type: 'Choice',
            Choices: [{ Variable: '$.total', NumericGreaterThan: 5000, Next: 'Big' }],
            Default: 'Small',
          },
          Big: { Type: 'Pass', Result: 'big', ResultPath: '$.size', End: true },
          Small: { Type: 'Pass', Result: 'small', ResultPath: '$.size', End: true },
        },
      }),
    }),
  );
  const startedAt = performance.now();
  let failed = 0;
  await inPool([...Array(executions).keys()], concurrency, async (i) => {
    const answer = await sfn.send(
      new StartSyncExecutionCommand({ stateMachineArn, input: JSON.stringify({ total: (i * 97) % 10_000 }) }),
    );
    if (answer.status !== 'SUCCEEDED') failed += 1;
  });
  const rate = executions / ((performance.now() - startedAt) / 1000);
  sfn.destroy();
  if (failed) throw new Error(`${failed} of ${executions} Pass/Choice executions did not succeed`);
  return rate;
}

/** DynamoDB calls per happy order, counted in a cloud whose functions reach dynalite through the meter. */
async function dynamoCallsPerOrder(orders = 20) {
  say(`DynamoDB calls per order: ${orders} orders through a counting proxy`);
  const t = await startToolCloud({ meterDynamo: true });
  try {
    const watcher = new StatusWatcher(t);
    await inPool([...Array(4).keys()], 4, async (i) => void (await happyOrder(t, watcher, i))); // warm-up
    await quiesce(t);
    const meter = t.dynamoMeter!;
    const before = meter.usage();
    const window = openExecutionWindow(t);
    let released = 0;
    await inPool([...Array(orders).keys()], 4, async (i) => {
      if (await happyOrder(t, watcher, i)) released += 1;
    });
    await quiesce(t);
    const functions = diffDynamoUsage(meter.usage(), before);
    const stateMachines = dynamoTasks(window.executions());
    return {
      perOrder: (functions.calls + stateMachines) / released,
      released,
      functionsByOperation: functions.byOperation,
      functionCalls: functions.calls,
      stateMachineTasks: stateMachines,
    };
  } finally {
    await t.stop();
  }
}

async function run() {
  await packagedStack(); // startMs is timed with the package cached, as a second `npm start` finds it
  say('Starting a local cloud for the benchmark…');
  const sampler = setInterval(sampleRss, 500);
  const startingAt = performance.now();
  const t = await startToolCloud();
  const startMs = performance.now() - startingAt;
  measured = t;
  let figures: Record<string, unknown>;
  try {
    const watcher = new StatusWatcher(t);
    const idle = await idleRss(t, watcher);
    say('dynalite: conditional PutItem through the SDK');
    const writes = await dynaliteWritesPerSecond(t);
    const orders = await ordersPerSecond(t, watcher);
    const halfRate = orders.ordersPerSecond / 2;
    const halfLoadAcks = await webhookAcks(t, watcher, halfRate, HALF_LOAD_SECONDS);
    const acks = await webhookAcks(t, watcher, ACK_RATE, ACK_SECONDS);
    say('Step Functions: StartSyncExecution of a Pass/Choice machine');
    const executions = await executionsPerSecond(t);
    sampleRss();
    const coldStarts = Object.values(t.cloud.lambda.stats()).reduce((sum, fn) => sum + fn.coldStarts, 0);
    figures = { writes, orders, acks, halfLoadAcks, halfRate, executions, idle, coldStarts };
  } finally {
    clearInterval(sampler);
    await t.stop();
  }
  const dynamo = await dynamoCallsPerOrder();
  const { writes, orders, acks, halfLoadAcks, halfRate, executions, idle, coldStarts } = figures as {
    writes: number;
    orders: Awaited<ReturnType<typeof ordersPerSecond>>;
    acks: number[];
    halfLoadAcks: number[];
    halfRate: number;
    executions: number;
    idle: Awaited<ReturnType<typeof idleRss>>;
    coldStarts: number;
  };
  const result = {
    ordersPerSecond: round(orders.ordersPerSecond, 1),
    dynaliteWritesPerSecond: Math.round(writes),
    dynamoCallsPerOrder: round(dynamo.perOrder, 2),
    webhookAckP99Ms: round(percentile(acks, 99) ?? Number.NaN, 1),
    executionsPerSecond: Math.round(executions),
    rssMb: Math.round(peakRssMb),
    idleRssMb: Math.round(idle.idleRssMb),
    startMs: Math.round(startMs),
    webhookAckP99MsAtHalfLoad: round(percentile(halfLoadAcks, 99) ?? Number.NaN, 1),
    cpuMsPerOrder: orders.cpuMsPerOrder.total,
  };
  const details = {
    tool: 'bench',
    at: new Date().toISOString(),
    ...result,
    orders: { ...orders, concurrency: CONCURRENCY, warmUp: WARM_UP },
    webhookAck: {
      offeredPerSecond: ACK_RATE,
      seconds: ACK_SECONDS,
      count: acks.length,
      p50: round(percentile(acks, 50) ?? Number.NaN, 1),
      p95: round(percentile(acks, 95) ?? Number.NaN, 1),
      p99: result.webhookAckP99Ms,
    },
    webhookAckAtHalfLoad: {
      offeredPerSecond: round(halfRate, 1),
      seconds: HALF_LOAD_SECONDS,
      count: halfLoadAcks.length,
      p50: round(percentile(halfLoadAcks, 50) ?? Number.NaN, 1),
      p95: round(percentile(halfLoadAcks, 95) ?? Number.NaN, 1),
      p99: result.webhookAckP99MsAtHalfLoad,
    },
    idle: { sandboxesLeft: idle.sandboxesLeft },
    sandboxes: { peak: peakSandboxes, coldStarts },
    dynamo,
    rss: 'peak of this process (Lambda workers are threads in it) + its child processes (dynalite), from /proc',
  };
  const file = writeResult('bench', details);
  if (args.json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  process.stdout.write(
    [
      '',
      'Local cloud benchmark (this machine)',
      `  orders end to end       ${result.ordersPerSecond} orders/s (${orders.released} orders at concurrency ${CONCURRENCY}, ${round(orders.seconds, 1)} s, after ${WARM_UP} to warm up)`,
      `  CPU per order           ${result.cpuMsPerOrder} ms: main thread ${orders.cpuMsPerOrder.mainThread}, sandboxes and helpers ${orders.cpuMsPerOrder.sandboxesAndHelpers}, dynalite ${orders.cpuMsPerOrder.dynalite}`,
      `  dynalite writes         ${result.dynaliteWritesPerSecond} conditional PutItem/s through the SDK`,
      `  DynamoDB calls/order    ${result.dynamoCallsPerOrder} (functions: ${JSON.stringify(dynamo.functionsByOperation)} over ${dynamo.released} orders; state machine dynamodb tasks: ${dynamo.stateMachineTasks})`,
      `  webhook ack at half load p50 ${details.webhookAckAtHalfLoad.p50} ms, p99 ${result.webhookAckP99MsAtHalfLoad} ms (${details.webhookAckAtHalfLoad.offeredPerSecond}/s offered)`,
      `  webhook ack at ${ACK_RATE}/s    p50 ${details.webhookAck.p50} ms, p95 ${details.webhookAck.p95} ms, p99 ${result.webhookAckP99Ms} ms`,
      `  Express executions      ${result.executionsPerSecond}/s (Pass/Choice, StartSyncExecution via the endpoint)`,
      `  resident memory (peak)  ${result.rssMb} MB (this process + dynalite); idle after one order ${result.idleRssMb} MB`,
      `  start to ready          ${result.startMs} ms (package cached)`,
      `  report: ${file}`,
      '',
    ].join('\n'),
  );
}

run().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
