/**
 * The three races of the wait for the courier — release × cancel, pickup-time timeout × cancel,
 * timeout × release — each run on ten orders at once in one local cloud, at staggered moments so
 * both sides win. Every order must have exactly one winner, and the partner's HTTP answers must
 * agree with it: a cancel answered 202 means CANCELLED with the POS order voided and the partner
 * shown cancelled; a cancel answered 409 means the kitchen has it (RELEASED, fired once, partner
 * told). A cancel answered 202 while the kitchen fires fails here. Also: a cancel during the
 * releasing window (marked, the POS still firing) is 409.
 */
import { endingDisagreements } from '../../local/tools/reconcile';
import {
  eventually,
  givenALocalCloud,
  givenThePosFaults,
  onlyInProcess,
  type TestCloud,
  theOrder,
  theOrderOnceItsWorkflowsEnd,
  theOrderRecord,
  theWorkflowExecutionsOf,
  whatThePartnerSaw,
  whenThePartnerSays,
  whenThePartnerSendsAnOrder,
  whereTheOrderIs,
} from '../steps/local-cloud';

let t: TestCloud;
beforeAll(async () => {
  t = await givenALocalCloud();
  // Warm the functions a race goes through (release, cancel, the kitchen, the void), so the first
  // race is not decided by cold starts.
  const [released, cancelled] = await givenWaitingOrders(2, 60);
  await Promise.all([
    whenThePartnerSays(t, released!.partner, released!.partnerOrderId, 'release'),
    whenThePartnerSays(t, cancelled!.partner, cancelled!.partnerOrderId, 'cancel'),
  ]);
  await Promise.all([released, cancelled].map((order) => theOrderOnceItsWorkflowsEnd(t, order!.orderId)));
}, 150_000);
afterAll(async () => {
  await t?.stop();
});
afterEach(async () => {
  await givenThePosFaults(t, undefined);
});

const PARTNERS = ['doordash', 'ubereats', 'grubhub'] as const;
/** Orders per race. */
const ORDERS = 10;

type Waiting = { partner: string; partnerOrderId: string; orderId: string };
type Answer = { webhookStatus: number; webhookBody: Record<string, unknown> };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** `n` orders for store-001, each ACCEPTED and waiting for its courier. */
async function givenWaitingOrders(n: number, pickupInSeconds: number): Promise<Waiting[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => givenAWaitingOrder(i, pickupInSeconds)));
}

/** An order for store-001 (the partner chosen by `i`), ACCEPTED and waiting for its courier. */
async function givenAWaitingOrder(i: number, pickupInSeconds: number): Promise<Waiting> {
  const partner = PARTNERS[i % PARTNERS.length]!;
  const sent = await whenThePartnerSendsAnOrder(t, { partner, storeId: 'store-001', pickupInSeconds });
  expect(sent.webhookStatus).toBe(202);
  const orderId = sent.webhookBody.orderId as string;
  await eventually(
    async () => {
      const order = (await theOrder(t, orderId)).body;
      return order?.timeline.some((e: { event: string }) => e.event === 'waiting-for-courier')
        ? order
        : undefined;
    },
    `order ${orderId} to wait for its courier`,
    15_000,
  ).catch(async (error) => {
    throw new Error(`${(error as Error).message}\n${await whereTheOrderIs(t, orderId)}`);
  });
  return { partner, partnerOrderId: sent.partnerOrderId, orderId };
}

/**
 * Ten orders with a 4 s pickup (ten orders preparing at once on two cores take 1–3 s to wait, and
 * the earliest request must still come 800 ms before the timeout); as soon as each waits, the
 * partner's request is sent at a moment relative to that order's own timeout: well before, around
 * it, well after. A request whose moment has already passed goes at once.
 */
async function whenEachOrderWaitsThenAtItsTimeout(what: 'release' | 'cancel') {
  const offsets = [-800, -400, -150, -50, 0, 50, 150, 400, 800, 1500];
  // The kitchen takes a second to fire: the requests after the timeout land while it fires.
  await givenThePosFaults(t, { latencyMs: 1000, endpoints: ['fire'] });
  const runs = await Promise.all(
    offsets.map(async (offset, i) => {
      const waiting = await givenAWaitingOrder(i, 4);
      const at = (await theCourierTimeoutOf(waiting.orderId)) + offset;
      await sleep(at - Date.now());
      const answer: Answer = await whenThePartnerSays(t, waiting.partner, waiting.partnerOrderId, what);
      return { waiting, answer };
    }),
  );
  return { orders: runs.map((run) => run.waiting), answers: runs.map((run) => run.answer) };
}

/** When the order's wait for the courier times out: its wait task's schedule plus its timeout. */
async function theCourierTimeoutOf(orderId: string): Promise<number> {
  const [run] = await theWorkflowExecutionsOf(t, orderId);
  const scheduled = (await run?.history())?.find(
    (event) =>
      event.type === 'TaskScheduled' &&
      String((event.taskScheduledEventDetails as { resource?: string }).resource).includes(
        'waitForTaskToken',
      ),
  );
  const timeout = (scheduled?.taskScheduledEventDetails as { timeoutInSeconds?: number } | undefined)
    ?.timeoutInSeconds;
  if (!scheduled || !timeout) throw new Error(`order ${orderId} has no scheduled wait with a timeout`);
  return scheduled.timestamp * 1000 + timeout * 1000;
}

/** All orders' workflows end, waited for together: the per-order checks after it wait for nothing. */
async function everyWorkflowEnds(orders: Waiting[]) {
  await Promise.all(orders.map(({ orderId }) => theOrderOnceItsWorkflowsEnd(t, orderId, 30_000)));
}

const kitchenReleases = (order: { timeline: { event: string; detail?: string }[] }) =>
  order.timeline.filter((entry) => entry.event === 'released-to-kitchen');

/**
 * Once the order's workflow has ended: its one ending agrees across our record, the POS and the
 * partner (nothing still owed — no reconciler run: no fault was injected, so the workflow pays all),
 * its Standard execution succeeded, and the kitchen was told at most once. Answers the order.
 */
async function theOneEndingOf({ partner, partnerOrderId, orderId }: Waiting) {
  const { order, pos } = await theOrderOnceItsWorkflowsEnd(t, orderId, 30_000);
  const partnerView = await whatThePartnerSaw(t, partner, partnerOrderId);
  const problems = endingDisagreements({
    orderId,
    record: (await theOrderRecord(t, orderId)) as never,
    posOrders: pos,
    partner: partnerView,
  });
  expect(problems).toEqual([]);
  expect((await theWorkflowExecutionsOf(t, orderId)).map((run) => run.status)).toEqual(['SUCCEEDED']);
  const releasedNotices = partnerView.updates.filter((u: { status: string }) => u.status === 'RELEASED');
  if (order.status === 'RELEASED') {
    expect(kitchenReleases(order)).toHaveLength(1);
    expect(pos).toEqual([expect.objectContaining({ status: 'fired', createRequests: 1 })]);
    expect(releasedNotices).toHaveLength(1);
  } else {
    expect(order.status).toBe('CANCELLED');
    expect(kitchenReleases(order)).toEqual([]);
    expect(pos).toEqual([expect.objectContaining({ status: 'voided', createRequests: 1 })]);
    expect(releasedNotices).toEqual([]);
  }
  return order as { status: string; timeline: { event: string; detail?: string }[] };
}

/** The cancel's answer names the winner: 202 CANCELLED, or 409 because the kitchen has it. */
function expectTheCancelAnswerAgrees(cancel: Answer, status: string, orderId: string) {
  if (status === 'CANCELLED') {
    expect({ orderId, answer: cancel }).toEqual({
      orderId,
      answer: { webhookStatus: 202, webhookBody: { orderId, status: 'CANCELLED' } },
    });
  } else {
    expect({ orderId, answer: cancel }).toEqual({
      orderId,
      answer: {
        webhookStatus: 409,
        webhookBody: { error: { code: expect.any(String), message: expect.any(String) } },
      },
    });
  }
}

/**
 * The ten-order races time each request to within milliseconds of the other request or of the
 * order's timeout, and check that the race went both ways. Against a running target the extra hop
 * (a separate process, a network) and its cold sandboxes decide who wins, not the middleware: seen
 * against npm start, every cancel winning a race its release led by 150 ms.
 */
const RACE_TIMING =
  'times requests to within milliseconds of each other and of a timeout; on a running target its own latency decides who wins';

onlyInProcess(
  RACE_TIMING,
  'release × cancel, ten orders: one winner each, and the two answers say which',
  async () => {
    const orders = await givenWaitingOrders(ORDERS, 60);
    // Negative: the cancel goes first by that much; positive: the release does. The middle ones race;
    // the outer ones lead by more than a cold sandbox or a queue of ten at one function's two
    // sandboxes can take back, so each side wins at least once.
    const leads = [-1000, -300, -10, -3, 0, 0, 3, 10, 300, 1000];
    const answers = await Promise.all(
      orders.map(async ({ partner, partnerOrderId }, i) => {
        const lead = leads[i]!;
        const [release, cancel] = await Promise.all([
          sleep(-lead).then(() => whenThePartnerSays(t, partner, partnerOrderId, 'release')),
          sleep(lead).then(() => whenThePartnerSays(t, partner, partnerOrderId, 'cancel')),
        ]);
        return { release, cancel };
      }),
    );
    await everyWorkflowEnds(orders);
    const winners: string[] = [];
    for (const [i, waiting] of orders.entries()) {
      const order = await theOneEndingOf(waiting);
      const { release, cancel } = answers[i]!;
      expectTheCancelAnswerAgrees(cancel, order.status, waiting.orderId);
      // Exactly one of the two was taken: the release's 202 means the kitchen, its 409 the cancel.
      expect({ orderId: waiting.orderId, release: release.webhookStatus }).toEqual({
        orderId: waiting.orderId,
        release: order.status === 'RELEASED' ? 202 : 409,
      });
      if (order.status === 'RELEASED') expect(kitchenReleases(order)[0]!.detail).toBe('by courier');
      winners.push(order.status);
    }
    // The race was really run both ways.
    expect(new Set(winners)).toEqual(new Set(['RELEASED', 'CANCELLED']));
  },
  120_000,
);

onlyInProcess(
  RACE_TIMING,
  'timeout × cancel, ten orders with a 4 s pickup: one winner each, and the cancel answer says which',
  async () => {
    // The cancel's moment relative to each wait's timeout: well before, around it, well after.
    const { orders, answers: cancels } = await whenEachOrderWaitsThenAtItsTimeout('cancel');
    await everyWorkflowEnds(orders);
    const winners: string[] = [];
    for (const [i, waiting] of orders.entries()) {
      const order = await theOneEndingOf(waiting);
      expectTheCancelAnswerAgrees(cancels[i]!, order.status, waiting.orderId);
      if (order.status === 'RELEASED') expect(kitchenReleases(order)[0]!.detail).toBe('by timeout');
      winners.push(order.status);
    }
    expect(new Set(winners)).toEqual(new Set(['RELEASED', 'CANCELLED']));
  },
  120_000,
);

onlyInProcess(
  RACE_TIMING,
  'timeout × release, ten orders with a 4 s pickup: released once each, by whichever came first',
  async () => {
    const { orders, answers: releases } = await whenEachOrderWaitsThenAtItsTimeout('release');
    await everyWorkflowEnds(orders);
    const winners: string[] = [];
    for (const [i, waiting] of orders.entries()) {
      const order = await theOneEndingOf(waiting);
      expect(order.status).toBe('RELEASED');
      const release = releases[i]!;
      // A release is always taken (202); one that found the order already RELEASED says so, and then
      // the timeout must have won.
      expect(release.webhookStatus).toBe(202);
      const winner = kitchenReleases(order)[0]!.detail;
      if (release.webhookBody.status === 'RELEASED') expect(winner).toBe('by timeout');
      else expect(release.webhookBody).toEqual({ orderId: waiting.orderId, status: 'ACCEPTED' });
      winners.push(winner!);
    }
    expect(new Set(winners)).toEqual(new Set(['by courier', 'by timeout']));
  },
  120_000,
);

describe('a cancel during the releasing window (marked for the kitchen, the POS still firing)', () => {
  test.each([
    ['the courier', 60],
    ['the pickup time', 2],
  ])(
    'released by %s: 409, and the order ends RELEASED',
    async (by, pickupInSeconds) => {
      const [waiting] = await givenWaitingOrders(1, pickupInSeconds);
      const { partner, partnerOrderId, orderId } = waiting!;
      await givenThePosFaults(t, { latencyMs: 2500, endpoints: ['fire'] });
      if (by === 'the courier')
        expect((await whenThePartnerSays(t, partner, partnerOrderId, 'release')).webhookStatus).toBe(202);
      // The window: marked as releasing, still ACCEPTED, the fire in flight.
      await eventually(
        async () => {
          const record = await theOrderRecord(t, orderId);
          return record?.status === 'ACCEPTED' && record.releasingAt ? record : undefined;
        },
        `order ${orderId} to be releasing`,
        10_000,
      );
      const cancel = await whenThePartnerSays(t, partner, partnerOrderId, 'cancel');
      expect((await theOrderRecord(t, orderId))?.status).toBe('ACCEPTED');
      expect(cancel).toEqual({
        webhookStatus: 409,
        webhookBody: { error: { code: expect.any(String), message: expect.any(String) } },
      });
      const order = await theOneEndingOf(waiting!);
      expect(order.status).toBe('RELEASED');
    },
    60_000,
  );
});
