/**
 * The randomized fault run: seeded random schedules of POS and partner faults (errors of several
 * statuses, answers lost after the write, latency past the client timeout), a restart of the whole
 * local cloud mid-run, and orders that are released, cancelled, raced, redelivered or left to time
 * out. Once the faults clear and the system settles, every order must satisfy the rule of endings
 * (`endingDisagreements`). The same seed replays the same schedule and the same orders.
 */
import { seededRandom } from '../simulators/shared/faults';
import type { AuditReport } from './audit';
import { agrees } from './audit';
import { inPool } from './orders';
import { isTerminal } from './reconcile';

export interface ChaosEnv {
  partnerUrl: string;
  posUrl: string;
  /** Stops and starts the local cloud and both simulators on their data, as a restart of `npm start`. */
  restart(): Promise<void>;
  /** Runs the reconciler now over every owing order. */
  reconcile(): Promise<unknown>;
  audit(orderIds: readonly string[]): Promise<AuditReport>;
  statusOf(orderId: string): Promise<string | undefined>;
}

export interface ChaosOptions {
  seed: number;
  orders: number;
  /** Fault phases; the orders are spread over them. */
  phases: number;
  restarts: number;
  concurrency: number;
  /** How long the system may take to settle once the faults clear. */
  settleMs: number;
  say?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  ordersSent: number;
  ordersTaken: number;
  restarts: number;
  schedule: string[];
  outcomes: Record<string, number>;
  audit: AuditReport;
  passed: boolean;
  replay: string;
}

type Action = 'release' | 'cancel-early' | 'cancel-waiting' | 'timeout' | 'race';
const PARTNERS = ['doordash', 'ubereats', 'grubhub'] as const;
const POS_ENDPOINTS = ['create', 'fire', 'void', 'lookup'];
const PARTNER_ENDPOINTS = ['fetch', 'accept', 'deny', 'status'];
/** Past the middleware's 5 s client timeout, so the call lands after the caller gave up. */
const SLOW_MS = 5_300;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runChaos(env: ChaosEnv, options: ChaosOptions): Promise<ChaosReport> {
  const random = seededRandom(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const subset = (items: readonly string[]) => {
    const chosen = items.filter(() => random() < 0.5);
    return chosen.length > 0 ? chosen : [pick(items)];
  };
  const say = options.say ?? (() => {});
  const schedule: string[] = [];

  // A restart in progress holds every call until the servers are back.
  let restarting: Promise<void> | undefined;
  async function call(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
    for (let attempt = 0; ; attempt++) {
      await restarting;
      try {
        const response = await fetch(url, {
          method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await response.text();
        return { status: response.status, body: text ? JSON.parse(text) : undefined };
      } catch (error) {
        if (attempt >= 20) throw error;
        await sleep(250);
      }
    }
  }

  const posFaults = () =>
    pick([
      undefined,
      {
        errorRate: 0.3 + random() * 0.7,
        errorStatus: pick([503, 500, 404]),
        endpoints: subset(POS_ENDPOINTS),
      },
      { dropResponseAfterWrite: 0.5 + random() * 0.5, endpoints: subset(['create', 'fire', 'void']) },
      { latencyMs: SLOW_MS, endpoints: [pick(['create', 'fire', 'void'])] },
    ]);
  const partnerFaults = () =>
    pick([
      undefined,
      {
        errorRate: 0.3 + random() * 0.7,
        errorStatus: pick([503, 500, 404]),
        endpoints: subset(PARTNER_ENDPOINTS),
      },
      { latencyMs: SLOW_MS, endpoints: [pick(['accept', 'deny', 'status'])] },
    ]);
  async function setFaults(pos: unknown, partner: unknown) {
    await call(pos ? 'PUT' : 'DELETE', `${env.posUrl}/_control/faults`, pos);
    await call(partner ? 'PUT' : 'DELETE', `${env.partnerUrl}/_control/faults`, partner);
  }

  /** A partner sends a webhook until it is heard, as partners retry 5xx and timeouts. */
  async function partnerSays(partner: string, partnerOrderId: string, what: 'release' | 'cancel') {
    for (let attempt = 0; attempt < 5; attempt++) {
      const answer = await call(
        'POST',
        `${env.partnerUrl}/_control/orders/${partner}/${partnerOrderId}/${what}`,
        {},
      );
      const status = answer.body?.webhookStatus ?? 0;
      if (status > 0 && status < 500) return status;
      await sleep(500 * (attempt + 1));
    }
    return 0;
  }

  async function statusOnce(orderId: string, done: (status: string) => boolean, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await restarting;
      const status = await env.statusOf(orderId).catch(() => undefined);
      if (status && done(status)) return status;
      if (Date.now() > deadline) return status;
      await sleep(200);
    }
  }

  interface Plan {
    partner: (typeof PARTNERS)[number];
    storeId: string;
    action: Action;
    redeliver: boolean;
    pickupInSeconds: number;
    delayMs: number;
    takenBeforePause: boolean;
  }
  const plans: Plan[] = Array.from({ length: options.orders }, () => ({
    partner: pick(PARTNERS),
    storeId: random() < 0.1 ? 'store-002' : 'store-001',
    action: pick<Action>(['release', 'release', 'cancel-early', 'cancel-waiting', 'timeout', 'race']),
    redeliver: random() < 0.2,
    pickupInSeconds: 5 + Math.floor(random() * 10),
    delayMs: Math.floor(random() * 1500),
    takenBeforePause: random() < 0.75,
  }));
  const restartAfterPhase = options.restarts > 0 ? Math.floor(random() * options.phases) : -1;
  const taken: string[] = [];

  async function drive(plan: Plan) {
    await sleep(plan.delayMs);
    let sent = await call('POST', `${env.partnerUrl}/_control/orders`, {
      partner: plan.partner,
      storeId: plan.storeId,
      pickupInSeconds: plan.pickupInSeconds,
      // Most orders were taken before the partner heard of a pause (POS health pauses the store
      // in a fault phase); the rest meet the marketplace's refusal at the source.
      ignoreStoreState: plan.takenBeforePause,
    });
    if (sent.status !== 201) return;
    const { partner, partnerOrderId } = sent.body as { partner: string; partnerOrderId: string };
    // Partners retry a webhook that was not taken (5xx, a restart) for minutes; here up to ~40 s.
    for (let attempt = 0; attempt < 12 && sent.body?.webhookStatus !== 202; attempt++) {
      await sleep(Math.min(700 * (attempt + 1), 5_000));
      const again = await call(
        'POST',
        `${env.partnerUrl}/_control/orders/${partner}/${partnerOrderId}/redeliver`,
        {
          times: 1,
        },
      );
      sent = { status: 201, body: { ...sent.body, webhookStatus: again.body?.webhookStatuses?.[0] } };
      if (again.body?.webhookBodies?.[0]?.orderId) sent.body.orderId = again.body.webhookBodies[0].orderId;
    }
    const orderId: string | undefined = sent.body?.orderId ?? sent.body?.webhookBody?.orderId;
    if (sent.body?.webhookStatus !== 202 || !orderId) return;
    taken.push(orderId);
    if (plan.redeliver)
      await call('POST', `${env.partnerUrl}/_control/orders/${partner}/${partnerOrderId}/redeliver`, {
        times: 2,
        concurrent: true,
      });
    if (plan.action === 'cancel-early') {
      await partnerSays(partner, partnerOrderId, 'cancel');
      return;
    }
    const prepared = await statusOnce(orderId, (status) => status !== 'RECEIVED', 60_000);
    if (prepared !== 'ACCEPTED') return;
    if (plan.action === 'release') await partnerSays(partner, partnerOrderId, 'release');
    if (plan.action === 'cancel-waiting') await partnerSays(partner, partnerOrderId, 'cancel');
    if (plan.action === 'race')
      await Promise.all([
        partnerSays(partner, partnerOrderId, 'release'),
        partnerSays(partner, partnerOrderId, 'cancel'),
      ]);
  }

  const perPhase = Math.ceil(options.orders / options.phases);
  const drivers: Promise<void>[] = [];
  for (let phase = 0; phase < options.phases; phase++) {
    const pos = posFaults();
    const partner = partnerFaults();
    schedule.push(
      `phase ${phase + 1}: POS ${JSON.stringify(pos ?? 'healthy')}, partner ${JSON.stringify(partner ?? 'healthy')}`,
    );
    say(schedule.at(-1) ?? '');
    await setFaults(pos, partner);
    const phasePlans = plans.slice(phase * perPhase, (phase + 1) * perPhase);
    const running = inPool(phasePlans, options.concurrency, (plan) =>
      drive(plan).catch((error: Error) => say(`an order could not be driven: ${error.message}`)),
    );
    drivers.push(running);
    // Let the phase's faults bite before the next phase changes them.
    await Promise.race([running, sleep(6_000)]);
    if (phase === restartAfterPhase) {
      schedule.push(`restart after phase ${phase + 1}`);
      say(schedule.at(-1) ?? '');
      let done!: () => void;
      restarting = new Promise((resolve) => {
        done = resolve;
      });
      await env.restart().finally(() => {
        restarting = undefined;
        done();
      });
      // The simulators come back without faults (they are not kept): the phase's faults again.
      await setFaults(pos, partner);
    }
  }
  await Promise.all(drivers);
  await setFaults(undefined, undefined);
  schedule.push('faults cleared');
  say(`faults cleared; ${taken.length} orders taken; waiting for every order to settle`);

  // Settle: every order ends (timeouts release, the workflow finishes), then the owed work is paid.
  const deadline = Date.now() + options.settleMs;
  let audit = await env.audit(taken);
  while (!agrees(audit) && Date.now() < deadline) {
    await sleep(2_000);
    await env.reconcile().catch((error: Error) => say(`reconciler: ${error.message}`));
    audit = await env.audit(taken);
  }
  const outcomes: Record<string, number> = {};
  for (const orderId of taken) {
    const status = (await env.statusOf(orderId).catch(() => undefined)) ?? 'MISSING';
    outcomes[status] = (outcomes[status] ?? 0) + 1;
  }
  return {
    seed: options.seed,
    ordersSent: options.orders,
    ordersTaken: taken.length,
    restarts: restartAfterPhase >= 0 ? 1 : 0,
    schedule,
    outcomes,
    audit,
    passed: agrees(audit) && Object.keys(outcomes).every((status) => isTerminal(status)),
    replay: `npm run load -- --chaos --seed ${options.seed} --orders ${options.orders}`,
  };
}
