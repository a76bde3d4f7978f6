/**
 * `npm run load -- --orders N --concurrency C --duplicates 0.2 --pos-errors 0.1 --partner-errors 0.05
 * --cancel 0.05 [--json]`: a load and chaos run through the partner simulator against a local cloud
 * this process starts. Every order must end with exactly one outcome, no POS order twice, no DLQ
 * message, and — once the reconciler has paid what is owed — no held ticket of an ended order and no
 * partner that disagrees: the run exits 0 only then.
 * `--outage [--outage-seconds S] [--outage-after F]`: store-001's POS goes offline once a fraction F
 * (default 0.4) of the orders has been sent, for S seconds (default 20); POS health must pause the
 * store after K failures (plus those in flight) and bring it back once the POS answers. The report's
 * `outage` counts the orders that failed during it, and the run fails if they exceed that bound.
 * `npm run load -- --chaos [--seed S] [--orders N] [--phases P]`: the randomized fault run
 * (local/tools/chaos.ts) with a restart mid-run; it prints its seed, and `--seed S` replays it.
 * `--target local|stack:NAME [--orders N] [--concurrency C]`: a short run against a running target
 * (an `npm start`, a deployed stage with its simulators), found as the e2e suite finds it
 * (tests/steps/targets.ts) and driven only through its public surfaces (local/tools/target-load.ts):
 * orders accepted and released by the courier, no faults; exit 0 when each ended RELEASED, fired once.
 */
import { parseArgs } from 'node:util';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { localEndpoints, parseTarget, stackEndpoints } from '../tests/steps/targets';
import type { LocalLambda } from './cloud/lambda/index';
import { packagedStack } from './cloud/package-cache';
import { type AuditReport, agrees, auditEndings, runReconcilerIn } from './tools/audit';
import { runChaos } from './tools/chaos';
import { startToolCloud, type ToolCloud } from './tools/cloud';
import {
  dlqMessages,
  getOrder,
  inPool,
  PARTNERS,
  type PlacedOrder,
  partnerSays,
  placeOrder,
  posOrders,
  redeliver,
  StatusWatcher,
  setPartnerFaults,
  setPosFaults,
} from './tools/orders';
import {
  isTerminal,
  type ReconciliationReport,
  reconcile,
  reconciled,
  type SentOrder,
} from './tools/reconcile';
import { progressBar, say, writeResult } from './tools/report';
import { runStoreSchedulesIn } from './tools/scheduled';
import { percentiles, round, tally } from './tools/stats';
import { loadTarget } from './tools/target-load';
import { quiesce, residentSplitMb } from './tools/usage';

const { values: args } = parseArgs({
  options: {
    orders: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '20' },
    duplicates: { type: 'string', default: '0.2' },
    'pos-errors': { type: 'string', default: '0.1' },
    'partner-errors': { type: 'string', default: '0.05' },
    cancel: { type: 'string', default: '0.05' },
    'pickup-seconds': { type: 'string', default: '60' },
    seed: { type: 'string' },
    chaos: { type: 'boolean', default: false },
    phases: { type: 'string', default: '6' },
    json: { type: 'boolean', default: false },
    logs: { type: 'boolean', default: false },
    outage: { type: 'boolean', default: false },
    'outage-seconds': { type: 'string', default: '20' },
    'outage-after': { type: 'string', default: '0.4' },
    target: { type: 'string' },
  },
});

const settings = {
  orders: Number(args.orders),
  concurrency: Number(args.concurrency),
  duplicates: Number(args.duplicates),
  posErrors: Number(args['pos-errors']),
  partnerErrors: Number(args['partner-errors']),
  cancel: Number(args.cancel),
  pickupInSeconds: Number(args['pickup-seconds']),
  // The chaos run draws a new schedule each time unless told which; the load run stays repeatable.
  seed: Number(args.seed ?? (args.chaos ? Date.now() % 1_000_000 : 42)),
  phases: Number(args.phases),
  outageSeconds: Number(args['outage-seconds']),
  outageAfter: Number(args['outage-after']),
};
for (const [name, value] of Object.entries(settings)) {
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number ≥ 0`);
}

/** The same choices for the same seed: which orders are redelivered or cancelled, and when. */
function seeded(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Plan {
  partner: (typeof PARTNERS)[number];
  duplicate: boolean;
  cancel?: 'before-accept' | 'while-waiting';
}

interface Tracked extends PlacedOrder {
  plan: Plan;
  order?: SentOrder['order'];
  releaseSentAt?: number;
  webhookRetries?: number;
}

function plans(count: number): Plan[] {
  const random = seeded(settings.seed);
  return Array.from({ length: count }, (_, i) => {
    const duplicate = random() < settings.duplicates;
    const cancelled = random() < settings.cancel;
    const when = random() < 0.5 ? 'before-accept' : 'while-waiting';
    return {
      partner: PARTNERS[i % PARTNERS.length] ?? 'doordash',
      duplicate,
      ...(cancelled && { cancel: when }),
    } as Plan;
  });
}

/** As partners do, a new order the middleware failed to take (5xx, timeout) is delivered again. */
async function retryRefusedWebhook(t: ToolCloud, order: Tracked, attempts = 3) {
  for (
    let attempt = 1;
    attempt <= attempts && (order.webhookStatus === 0 || order.webhookStatus >= 500);
    attempt++
  ) {
    await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
    const [answer] = await redeliver(t, order, 1, false);
    order.webhookStatus = answer?.status ?? 0;
    if (answer?.orderId) order.orderId = answer.orderId;
    order.webhookRetries = attempt;
  }
}

/** As partners do, a release or cancel the middleware did not take (5xx, timeout) is sent again. */
async function saysUntilHeard(t: ToolCloud, placed: PlacedOrder, what: 'release' | 'cancel', attempts = 4) {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const status = await partnerSays(t, placed, what);
    if (status > 0 && status < 500) return status;
    await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
  }
  return 0;
}

const OUTAGE_STORE = 'store-001';

/**
 * `--outage`: the POS goes offline for one store in the middle of the run, then comes back. While it
 * is down, the store's record is watched for the moment POS health pauses it; once it is back, the
 * store schedules run (as their minute would) until the store is online again.
 */
class StoreOutage {
  startedAt?: number;
  endedAt?: number;
  pausedAt?: number;
  onlineAgainAt?: number;
  /** Orders the partner would not send (it showed the store paused): refused at the source. */
  refusedAtSource = 0;
  private finished?: Promise<void>;

  constructor(private readonly t: ToolCloud) {}

  /** K: the POS failures in a row that pause a store, as the stage's functions are configured. */
  get failuresBeforePause(): number {
    const fn = this.t.cloud.model.functions.find((f) => f.logicalId === 'StoreSchedulesLambdaFunction');
    return Number(fn?.environment.POS_FAILURES_BEFORE_PAUSE ?? Number.NaN);
  }

  begin(): void {
    this.finished ??= this.run();
  }

  /** Resolves once the outage is over and the store back online (at once when it never began). */
  async done(): Promise<void> {
    await this.finished;
  }

  private async run() {
    await setPosFaults(this.t, { errorRate: settings.posErrors, offlineStores: [OUTAGE_STORE] });
    this.startedAt = Date.now();
    say(`POS offline for ${OUTAGE_STORE} for ${settings.outageSeconds} s`);
    const until = this.startedAt + settings.outageSeconds * 1000;
    while (Date.now() < until) {
      if (this.pausedAt === undefined && (await this.store())?.status === 'paused')
        this.pausedAt = Date.now();
      await sleep(200);
    }
    await setPosFaults(this.t, { errorRate: settings.posErrors });
    this.endedAt = Date.now();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      await this.runStoreSchedules();
      if ((await this.store())?.status === 'online') {
        this.onlineAgainAt = Date.now();
        break;
      }
      await sleep(1000);
    }
    say(`POS back for ${OUTAGE_STORE}; store ${this.onlineAgainAt ? 'online again' : 'NOT online again'}`);
  }

  private async store() {
    const { Item } = await this.t.dynamo.send(
      new GetItemCommand({
        TableName: this.t.storesTable,
        Key: { pk: { S: `STORE#${OUTAGE_STORE}` } },
        ConsistentRead: true,
      }),
    );
    return Item ? (unmarshall(Item) as { status: string; changedBy?: string }) : undefined;
  }

  private async runStoreSchedules() {
    // A failed run is the next minute's to repeat, as on AWS; the outage run goes on.
    await runStoreSchedulesIn(this.t.cloud).catch((error: Error) => say(`storeSchedules: ${error.message}`));
  }

  /**
   * Orders that ended FAILED POS_UNAVAILABLE from a POS call made during the outage: sent before it
   * ended, failed after it began. At most K, plus those in flight when the K-th was counted (sent
   * before the pause, not yet ended then): they keep their normal failure handling.
   */
  report(tracked: readonly Tracked[]) {
    if (this.startedAt === undefined || this.endedAt === undefined) return undefined;
    const { startedAt, endedAt, pausedAt } = this;
    const endOf = (o: Tracked) => {
      const timeline = (o.order?.timeline as Array<{ at?: string }> | undefined) ?? [];
      const at = timeline.at(-1)?.at;
      return at ? Date.parse(at) : undefined;
    };
    const failed = tracked.filter((o) => {
      const at = timeOf(o, 'failed');
      return (
        o.order?.status === 'FAILED' &&
        denyReasonOf(o) === 'POS_UNAVAILABLE' &&
        at !== undefined &&
        at >= startedAt &&
        o.sentAt <= endedAt
      );
    });
    const k = this.failuresBeforePause;
    // In flight when the K-th failure was counted: sent before the pause, not one of the first K
    // failures, and not ended by then (its POS call may already have been under way).
    const byFailure = [...failed].sort((a, b) => (timeOf(a, 'failed') ?? 0) - (timeOf(b, 'failed') ?? 0));
    const firstK = new Set(byFailure.slice(0, k));
    const kthFailureAt = byFailure.length >= k ? timeOf(byFailure[k - 1]!, 'failed') : undefined;
    const inFlightAtPause =
      pausedAt === undefined || kthFailureAt === undefined
        ? 0
        : tracked.filter((o) => {
            const end = endOf(o);
            return !firstK.has(o) && o.sentAt < pausedAt && (end === undefined || end >= kthFailureAt);
          }).length;
    const bound = k + inFlightAtPause;
    return {
      storeId: OUTAGE_STORE,
      seconds: round((endedAt - startedAt) / 1000, 1),
      failuresBeforePause: k,
      pausedAfterSeconds: pausedAt === undefined ? null : round((pausedAt - startedAt) / 1000, 1),
      onlineAgainAfterEndSeconds:
        this.onlineAgainAt === undefined ? null : round((this.onlineAgainAt - endedAt) / 1000, 1),
      ordersFailedDuringOutage: failed.length,
      inFlightAtPause,
      bound,
      refusedAtSource: this.refusedAtSource,
      rejectedStorePaused: tracked.filter(
        (o) => o.order?.status === 'REJECTED' && denyReasonOf(o) === 'STORE_PAUSED',
      ).length,
      passed: pausedAt !== undefined && this.onlineAgainAt !== undefined && failed.length <= bound,
    };
  }
}

const denyReasonOf = (o: Tracked) => (o.order as { denyReason?: string } | undefined)?.denyReason;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** One order's life as its partner lives it: send, maybe resend, maybe cancel, release once accepted. */
async function driveOrder(
  t: ToolCloud,
  watcher: StatusWatcher,
  plan: Plan,
  tracked: Tracked[],
  outage?: StoreOutage,
) {
  let placed: PlacedOrder;
  try {
    placed = await placeOrder(t, {
      partner: plan.partner,
      pickupInSeconds: settings.pickupInSeconds,
    });
  } catch (error) {
    // The marketplace shows the store paused (POS health): the customer could not order. Not an error.
    if (outage && /answered 409/.test((error as Error).message)) {
      outage.refusedAtSource += 1;
      return;
    }
    throw error;
  }
  const order: Tracked = { ...placed, plan };
  tracked.push(order);
  await retryRefusedWebhook(t, order);
  const orderId = order.orderId;
  if (order.webhookStatus !== 202 || !orderId) return;
  if (plan.duplicate) await redeliver(t, placed, 2);
  if (plan.cancel === 'before-accept') await saysUntilHeard(t, placed, 'cancel');
  const bound = (settings.pickupInSeconds + 60) * 1000;
  const settled = await watcher.waitFor(orderId, (status) => status !== 'RECEIVED', bound);
  if (settled === 'ACCEPTED') {
    if (plan.cancel === 'while-waiting') await saysUntilHeard(t, placed, 'cancel');
    else {
      order.releaseSentAt = Date.now();
      await saysUntilHeard(t, placed, 'release');
    }
  }
  await watcher.waitFor(orderId, isTerminal, bound);
}

/**
 * The order as GET /orders/{orderId} shows it. Should the API itself fail (5xx after retries), the
 * record is read from the orders table so the reconciliation still judges the order, and the
 * failure is counted apart (`orderApiErrors`).
 */
async function finalOrder(
  t: ToolCloud,
  orderId: string,
): Promise<{ order?: Tracked['order']; apiError?: true }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const answer = await getOrder(t, orderId);
    if (answer.status === 200) return { order: answer.body };
    if (answer.status === 404) return {};
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const { Item } = await t.dynamo.send(
    new GetItemCommand({ TableName: t.ordersTable, Key: { orderId: { S: orderId } } }),
  );
  return { ...(Item && { order: unmarshall(Item) as Tracked['order'] }), apiError: true };
}

/** When the timeline says `event` happened, as epoch ms. */
function timeOf(order: Tracked, event: string): number | undefined {
  const entry = (order.order?.timeline as Array<{ event: string; at?: string }> | undefined)?.find(
    (e) => e.event === event,
  );
  return entry?.at ? Date.parse(entry.at) : undefined;
}

async function run() {
  say(
    `Starting a local cloud for the load run (${settings.orders} orders, concurrency ${settings.concurrency})…`,
  );
  const t = await startToolCloud({ seed: settings.seed, logs: args.logs });
  try {
    await setPosFaults(t, { errorRate: settings.posErrors });
    await setPartnerFaults(t, { errorRate: settings.partnerErrors, endpoints: ['accept', 'deny', 'status'] });
    const watcher = new StatusWatcher(t, 150);
    const tracked: Tracked[] = [];
    const bar = progressBar('orders', settings.orders);
    const startedAt = Date.now();
    const outage = args.outage ? new StoreOutage(t) : undefined;
    const outageAt = Math.floor(settings.orders * settings.outageAfter);
    const growth = new MemoryGrowth(t.cloud.lambda);
    await inPool(plans(settings.orders), settings.concurrency, async (plan, index) => {
      if (index === outageAt) outage?.begin();
      await driveOrder(t, watcher, plan, tracked, outage).catch((error: Error) =>
        say(`order failed to drive: ${error.message}`),
      );
      bar.increment(1, { detail: `${tracked.length} sent` });
      growth.orderDone();
    });
    await outage?.done();
    const drivenMs = Date.now() - startedAt;
    bar.stop();
    // Not quiet after the bound (a delivery still backing off, an execution still retrying) is part
    // of the report: an order still running then reads as lost.
    const quiesced = await quiesce(t);
    let orderApiErrors = 0;
    await inPool(tracked, 16, async (order) => {
      if (!order.orderId) return;
      const found = await finalOrder(t, order.orderId);
      if (found.apiError) orderApiErrors += 1;
      order.order = found.order;
    });
    if (orderApiErrors)
      say(`GET /orders failed for ${orderApiErrors} orders: read from the orders table instead`);
    await setPosFaults(t, {});
    await setPartnerFaults(t, {});
    // What is still owed (voids, partner answers) is paid by the reconciler, then all three systems are compared.
    const endings = await settleEndings(
      t,
      tracked.flatMap((o) => (o.orderId ? [o.orderId] : [])),
    );
    const reconciliation = {
      ...reconcile(tracked, await posOrders(t), dlqMessages(t)),
      heldTicketsOfEndedOrders: endings.heldTicketsOfEndedOrders,
      partnerDisagreements: endings.partnerDisagreements,
      stillOwing: endings.stillOwing,
    };
    reconciliation.examples.endings = endings.examples;
    const outageReport = outage?.report(tracked);
    const report = {
      ...buildReport(t, tracked, drivenMs, reconciliation),
      quiesced,
      rssGrowthMbPer1000Orders: growth.mbPer1000Orders(),
      mainHeapGrowthMbPer1000Orders: growth.mainHeapMbPer1000Orders(),
      memoryGrowth: growth.breakdown(),
      orderApiErrors,
      ...(outage && { outage: outageReport ?? null }),
    };
    const file = writeResult('load', report);
    if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else printReport(report, file);
    return reconciled(reconciliation) && endings.notEnded === 0 && (!outage || outageReport?.passed === true);
  } finally {
    await t.stop();
  }
}

function auditTargets(t: ToolCloud) {
  return { dynamo: t.dynamo, ordersTable: t.ordersTable, posUrl: t.posUrl, partnerUrl: t.partnerUrl };
}

/** Runs the reconciler until every ending agrees (late POS writes need their horizon) or a minute passes. */
async function settleEndings(t: ToolCloud, orderIds: string[]): Promise<AuditReport> {
  const deadline = Date.now() + 60_000;
  let audit = await auditEndings(auditTargets(t), orderIds);
  while (!agrees(audit) && Date.now() < deadline) {
    await runReconcilerIn(t.cloud);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    audit = await auditEndings(auditTargets(t), orderIds);
  }
  return audit;
}

/** `--chaos`: the randomized fault run (local/tools/chaos.ts), at the size asked for. */
async function runChaosMode() {
  say(
    `Chaos run, seed ${settings.seed}: ${settings.orders} orders over ${settings.phases} fault phases, one restart`,
  );
  const t = await startToolCloud({ seed: settings.seed, logs: args.logs });
  try {
    const report = await runChaos(
      {
        get partnerUrl() {
          return t.partnerUrl;
        },
        get posUrl() {
          return t.posUrl;
        },
        restart: () => t.restart(),
        reconcile: () => runReconcilerIn(t.cloud),
        audit: (orderIds) => auditEndings(auditTargets(t), orderIds),
        async statusOf(orderId) {
          const { Item } = await t.dynamo.send(
            new GetItemCommand({
              TableName: t.ordersTable,
              Key: { orderId: { S: orderId } },
              ConsistentRead: true,
            }),
          );
          return Item?.status?.S;
        },
      },
      {
        seed: settings.seed,
        orders: settings.orders,
        phases: settings.phases,
        restarts: 1,
        concurrency: settings.concurrency,
        settleMs: 180_000,
        say,
      },
    );
    const file = writeResult('chaos', report);
    if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      const a = report.audit;
      const lines = [
        '',
        `Chaos run, seed ${report.seed}: ${report.ordersTaken} of ${report.ordersSent} orders taken, ${report.restarts} restart`,
        ...report.schedule.map((line) => `  ${line}`),
        `  outcomes: ${Object.entries(report.outcomes)
          .map(([status, n]) => `${status} ${n}`)
          .join(', ')}`,
        `  endings: not ended ${a.notEnded}, still owing ${a.stillOwing}, held tickets of ended orders ${a.heldTicketsOfEndedOrders}, partner disagreements ${a.partnerDisagreements}`,
        ...a.examples.map((example) => `    ${example}`),
        report.passed
          ? '  PASSED: every ending agrees everywhere'
          : `  FAILED — replay with: ${report.replay}`,
        `  report: ${file}`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return report.passed;
  } finally {
    await t.stop();
  }
}

/**
 * How resident memory (the whole local cloud, dynalite included) grows with the orders done: the
 * slope of a least-squares line through a sample every 10 orders, after a warm-up of the first half
 * of the run (sandboxes starting, heaps and caches filling), in MB per 1,000 orders. A slope rather
 * than two end points, so that where the garbage collector happens to be at either end counts
 * little. Runs of a few hundred orders mostly measure the warm-up: a leak shows over thousands.
 */
class MemoryGrowth {
  private done = 0;
  /** Each series: [orders done, MB] samples of one part of the memory, from the end of the warm-up. */
  private readonly series = {
    /** Everything resident: this process (emulators, simulators, sandboxes) and dynalite. */
    all: [] as Array<[number, number]>,
    /** This process's own V8 heap in use (the emulators' state), apart from the sandboxes' heaps. */
    mainHeapUsed: [] as Array<[number, number]>,
    /** The same heap as V8 holds it, garbage between collections included: what its RSS follows. */
    mainHeapCommitted: [] as Array<[number, number]>,
    /** The child processes (dynalite): all, anonymous, and the pages of files they map (LevelDB's tables). */
    children: [] as Array<[number, number]>,
    childrenAnonymous: [] as Array<[number, number]>,
    childrenFiles: [] as Array<[number, number]>,
    /** Everything without mapped file pages. */
    anonymous: [] as Array<[number, number]>,
    /** The live sandboxes' V8 heaps (sampled every 250 orders: each sample asks every worker). */
    sandboxHeaps: [] as Array<[number, number]>,
  };
  private readonly warmUp = Math.max(50, Math.floor(settings.orders / 2));
  /** Sandboxes alive when the measured half begins and at its end: each one started adds its own heap. */
  readonly sandboxes = { atWarmUp: 0, atEnd: 0 };

  constructor(private readonly lambda: Pick<LocalLambda, 'sandboxes' | 'sandboxHeapsMb'>) {}

  orderDone(): void {
    this.done += 1;
    if (this.done === this.warmUp) this.sandboxes.atWarmUp = this.lambda.sandboxes();
    this.sandboxes.atEnd = this.lambda.sandboxes();
    if (this.done < this.warmUp || this.done % 10 !== 0) return;
    const at = this.done;
    const { heapUsed, heapTotal } = process.memoryUsage();
    const { self, children } = residentSplitMb();
    const mb = (bytes: number) => bytes / 1024 / 1024;
    this.series.all.push([at, self.all + children.all]);
    this.series.mainHeapUsed.push([at, mb(heapUsed)]);
    this.series.mainHeapCommitted.push([at, mb(heapTotal)]);
    this.series.children.push([at, children.all]);
    this.series.childrenAnonymous.push([at, children.anonymous]);
    this.series.childrenFiles.push([at, children.files]);
    this.series.anonymous.push([at, self.anonymous + children.anonymous]);
    if (at % 250 === 0)
      void this.lambda.sandboxHeapsMb().then((heaps) => this.series.sandboxHeaps.push([at, heaps]));
  }

  /** The growth split between this process (emulators, simulators, sandboxes) and dynalite, and within each. */
  breakdown() {
    const dynalite = slopePer1000(this.series.children);
    const total = slopePer1000(this.series.all);
    return {
      localCloudProcessMbPer1000Orders:
        total === null || dynalite === null ? null : round(total - dynalite, 1),
      mainHeapCommittedMbPer1000Orders: slopePer1000(this.series.mainHeapCommitted),
      sandboxHeapsMbPer1000Orders: slopePer1000(this.series.sandboxHeaps),
      dynaliteMbPer1000Orders: dynalite,
      dynaliteAnonymousMbPer1000Orders: slopePer1000(this.series.childrenAnonymous),
      dynaliteMappedFilesMbPer1000Orders: slopePer1000(this.series.childrenFiles),
      anonymousMbPer1000Orders: slopePer1000(this.series.anonymous),
      sandboxes: this.sandboxes,
    };
  }

  mbPer1000Orders(): number | null {
    return slopePer1000(this.series.all);
  }

  mainHeapMbPer1000Orders(): number | null {
    return slopePer1000(this.series.mainHeapUsed);
  }
}

function slopePer1000(samples: Array<[number, number]>): number | null {
  const n = samples.length;
  if (n < 3) return null;
  const meanX = samples.reduce((sum, [x]) => sum + x, 0) / n;
  const meanY = samples.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxy = samples.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const sxx = samples.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return round((sxy / sxx) * 1000, 1);
}

function buildReport(
  t: ToolCloud,
  tracked: Tracked[],
  drivenMs: number,
  reconciliation: ReconciliationReport,
) {
  const spans = (from: (o: Tracked) => number | undefined, to: (o: Tracked) => number | undefined) =>
    tracked.flatMap((o) => {
      const [a, b] = [from(o), to(o)];
      return a !== undefined && b !== undefined ? [b - a] : [];
    });
  const toAccept = spans(
    (o) => o.sentAt,
    (o) => timeOf(o, 'accepted'),
  );
  const toRelease = spans(
    (o) => o.releaseSentAt,
    (o) => timeOf(o, 'released-to-kitchen'),
  );
  const { examples, ...counts } = reconciliation;
  const pick = ({ p50, p99 }: { p50: number | null; p99: number | null }) => ({ p50, p99 });
  return {
    tool: 'load',
    at: new Date().toISOString(),
    settings,
    ordersSent: tracked.length,
    webhookErrors: tracked.filter((o) => o.webhookStatus !== 202).length,
    webhooksRetried: tracked.filter((o) => o.webhookRetries).length,
    redelivered: tracked.filter((o) => o.plan.duplicate).length,
    cancelsSent: tracked.filter((o) => o.plan.cancel).length,
    outcomes: tally(
      tracked.map((o) => o.order?.status ?? (o.orderId ? 'MISSING' : `webhook-${o.webhookStatus}`)),
    ),
    webhookAck: { ...percentiles(t.webhookAcks), count: t.webhookAcks.length },
    timeToAcceptMs: pick(percentiles(toAccept)),
    timeToReleaseMs: pick(percentiles(toRelease)),
    ordersPerSecond: round(tracked.length / (drivenMs / 1000), 1),
    durationSeconds: round(drivenMs / 1000, 1),
    reconciliation: counts,
    lambda: Object.fromEntries(
      Object.entries(t.cloud.lambda.stats())
        .filter(([, stats]) => stats.invocations > 0)
        .map(([name, stats]) => [
          name.replace(/^order-middleware-local-/, ''),
          {
            invocations: stats.invocations,
            errors: stats.errors,
            coldStarts: stats.coldStarts,
            meanBilledMs: round(stats.billedMs / stats.invocations, 1),
          },
        ]),
    ),
    eventBridge: t.cloud.eventBridge.stats(),
    examples,
    // Where each lost order stopped, so that a rare one can be read without running again.
    lostOrders: tracked
      .filter((o) => o.orderId && examples.lost.includes(o.orderId))
      .map((o) => ({
        orderId: o.orderId,
        status: o.order?.status ?? null,
        timeline: o.order?.timeline.map((entry) => entry.event) ?? [],
      })),
    passed: reconciled(counts),
  };
}

function printReport(
  report: ReturnType<typeof buildReport> & {
    rssGrowthMbPer1000Orders: number | null;
    mainHeapGrowthMbPer1000Orders: number | null;
    memoryGrowth: ReturnType<MemoryGrowth['breakdown']>;
    orderApiErrors: number;
    quiesced: boolean;
    outage?: ReturnType<StoreOutage['report']> | null;
  },
  file: string,
) {
  const r = report.reconciliation;
  const o = report.outage;
  const m = report.memoryGrowth;
  const lines = [
    '',
    `Load run: ${report.ordersSent} orders sent in ${report.durationSeconds} s (${report.ordersPerSecond} orders/s), concurrency ${report.settings.concurrency}`,
    `  chaos: ${report.redelivered} redelivered, ${report.cancelsSent} cancels, POS errors ${report.settings.posErrors}, partner errors ${report.settings.partnerErrors}`,
    `  outcomes: ${Object.entries(report.outcomes)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
    `  memory: ${report.rssGrowthMbPer1000Orders ?? '–'} MB more resident per 1,000 orders after the first half, ${m.anonymousMbPer1000Orders ?? '–'} without mapped files`,
    `    this process ${m.localCloudProcessMbPer1000Orders ?? '–'} (its V8 heap ${m.mainHeapCommittedMbPer1000Orders ?? '–'}, in use ${report.mainHeapGrowthMbPer1000Orders ?? '–'}; sandboxes' heaps ${m.sandboxHeapsMbPer1000Orders ?? '–'}, sandboxes ${m.sandboxes.atWarmUp} → ${m.sandboxes.atEnd})`,
    `    dynalite ${m.dynaliteMbPer1000Orders ?? '–'} (anonymous ${m.dynaliteAnonymousMbPer1000Orders ?? '–'}, LevelDB's mapped table files ${m.dynaliteMappedFilesMbPer1000Orders ?? '–'})`,
    `  webhook ack (${report.webhookAck.count} deliveries): p50 ${report.webhookAck.p50} ms, p95 ${report.webhookAck.p95} ms, p99 ${report.webhookAck.p99} ms`,
    `  time to accept: p50 ${report.timeToAcceptMs.p50} ms, p99 ${report.timeToAcceptMs.p99} ms`,
    `  time to release: p50 ${report.timeToReleaseMs.p50} ms, p99 ${report.timeToReleaseMs.p99} ms`,
    `  reconciliation: lost ${r.lost}, without a single outcome ${r.withoutSingleOutcome}, duplicate POS orders ${r.duplicatePosOrders}, DLQ messages ${r.dlqMessages}`,
    `  endings: held tickets of ended orders ${r.heldTicketsOfEndedOrders}, partner disagreements ${r.partnerDisagreements}, still owing ${r.stillOwing}`,
    ...(report.orderApiErrors
      ? [`  GET /orders failed for ${report.orderApiErrors} orders (read from the table instead)`]
      : []),
    ...(o
      ? [
          `  outage: POS offline for ${o.storeId} ${o.seconds} s; paused after ${o.pausedAfterSeconds ?? 'never'} s, online again ${o.onlineAgainAfterEndSeconds ?? 'never'} s after; ${o.ordersFailedDuringOutage} orders failed during it (bound: K ${o.failuresBeforePause} + ${o.inFlightAtPause} in flight = ${o.bound}); ${o.refusedAtSource} refused at the source, ${o.rejectedStorePaused} rejected STORE_PAUSED — ${o.passed ? 'PASSED' : 'FAILED'}`,
        ]
      : o === null
        ? ['  outage: did not take place (too few orders?)']
        : []),
    report.passed ? '  PASSED: nothing lost, nothing twice' : `  FAILED: ${JSON.stringify(report.examples)}`,
    ...report.lostOrders.map(
      (o) => `  lost ${o.orderId}: ${o.status ?? 'no record'} (${o.timeline.join(' → ')})`,
    ),
    ...(report.quiesced
      ? []
      : ['  still busy when the run was read: executions running or deliveries backing off']),
    `  report: ${file}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** `--target local|stack:NAME`: the short run against a running target (see the header). */
async function runAgainstTarget(value: string): Promise<boolean> {
  const target = parseTarget(value);
  if (target.kind === 'in-process')
    throw new Error(
      `--target ${value}: local or stack:NAME (without --target the run starts its own local cloud)`,
    );
  const found =
    target.kind === 'local'
      ? localEndpoints(target.ports, await packagedStack())
      : await stackEndpoints(target.stage);
  say(
    `${value}: ${settings.orders} orders, concurrency ${settings.concurrency}, through ${found.partnerUrl}`,
  );
  const bar = progressBar('orders', settings.orders);
  const report = await loadTarget(
    found,
    { orders: settings.orders, concurrency: settings.concurrency, pickupInSeconds: settings.pickupInSeconds },
    () => bar.increment(1),
  );
  bar.stop();
  const file = writeResult('load-target', { target: value, ...report });
  if (args.json) process.stdout.write(`${JSON.stringify({ target: value, ...report })}\n`);
  else
    process.stdout.write(
      [
        `Load run against ${value}: ${report.orders} orders at ${report.ordersPerSecond}/s`,
        `  released ${report.released}; not released ${JSON.stringify(report.notReleased)}; POS mismatches ${report.posMismatches}`,
        `  time to accept: p50 ${report.timeToAcceptMs.p50} ms, p99 ${report.timeToAcceptMs.p99} ms; to release: p50 ${report.timeToReleaseMs.p50} ms, p99 ${report.timeToReleaseMs.p99} ms`,
        ...report.examples.map((example) => `  ${example}`),
        report.passed ? '  PASSED' : '  FAILED',
        `  report: ${file}`,
        '',
      ].join('\n'),
    );
  return report.passed;
}

(args.target ? runAgainstTarget(args.target) : args.chaos ? runChaosMode() : run()).then(
  (passed) => process.exit(passed ? 0 : 1),
  (error) => {
    console.error(error);
    process.exit(2);
  },
);
