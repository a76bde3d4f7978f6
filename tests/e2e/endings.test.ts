/**
 * Every ending agrees everywhere: after a POS or partner fault, our order record, the POS and the
 * partner tell the same story, and what is owed to one of them is eventually done. Each case is
 * one that left a POS ticket held, or a partner untold, before the owed-work rule existed.
 */
import { StartSyncExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { endingDisagreements } from '../../local/tools/reconcile';
import {
  eventually,
  givenALocalCloud,
  givenThePartnerApiFaults,
  givenThePosFaults,
  onlyInProcess,
  stepFunctionsOf,
  type TestCloud,
  theOrder,
  theOrderRecord,
  theOrderSettles,
  thePosOrders,
  theWorkflowExecutionsOf,
  whatThePartnerSaw,
  whenThePartnerSays,
  whenThePartnerSendsAnOrder,
  whenTheReconcilerRuns,
  whereTheOrderIs,
} from '../steps/local-cloud';

let t: TestCloud;
beforeAll(async () => {
  t = await givenALocalCloud();
}, 120_000);
afterAll(async () => {
  await t?.stop();
});
afterEach(async () => {
  await givenThePosFaults(t, undefined);
  await givenThePartnerApiFaults(t, undefined);
});

type Sent = Awaited<ReturnType<typeof whenThePartnerSendsAnOrder>>;

/** The three systems' view of one order, checked against the rule. */
async function disagreementsOf(sent: Sent) {
  const orderId = sent.webhookBody.orderId as string;
  return endingDisagreements({
    orderId,
    record: (await theOrderRecord(t, orderId)) as never,
    posOrders: await thePosOrders(t, orderId),
    partner: await whatThePartnerSaw(t, sent.partner, sent.partnerOrderId),
  });
}

/** Once the faults are gone, the reconciler pays what is owed and the three systems agree. */
async function theRuleHoldsOnceTheReconcilerRuns(sent: Sent, timeoutMs = 40_000) {
  await eventually(
    async () => {
      await whenTheReconcilerRuns(t);
      const problems = await disagreementsOf(sent);
      return problems.length === 0 ? true : undefined;
    },
    `the ending of ${sent.webhookBody.orderId} to agree everywhere`,
    timeoutMs,
  ).catch(async (error) => {
    throw new Error(
      `${(error as Error).message}\n${(await disagreementsOf(sent)).join('\n')}\n${await whereTheOrderIs(t, sent.webhookBody.orderId)}`,
    );
  });
}

/** The status of the order's Standard execution once it has ended. */
async function theWorkflowEnds(orderId: string) {
  return eventually(
    async () => {
      const runs = await theWorkflowExecutionsOf(t, orderId);
      return runs.length > 0 && runs.every((run) => run.status !== 'RUNNING')
        ? runs.map((run) => run.status)
        : undefined;
    },
    `the workflow of ${orderId} to end`,
    60_000,
  );
}

test('the partner answers 404 to accept and deny: FAILED, the POS order voided at once, the deny owed until the partner knows the order', async () => {
  await givenThePartnerApiFaults(t, { errorRate: 1, errorStatus: 404, endpoints: ['accept', 'deny'] });
  const sent = await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001' });
  const orderId = sent.webhookBody.orderId;

  await theOrderSettles(t, orderId, ['FAILED'], 30_000);
  // Alarms see it: the Standard execution fails while work is owed.
  expect(await theWorkflowEnds(orderId)).toEqual(['FAILED']);
  const order = (await theOrder(t, orderId)).body;
  expect(order.denyReason).toBe('PARTNER_UNAVAILABLE');
  const record = await theOrderRecord(t, orderId);
  expect(record).toMatchObject({ status: 'FAILED', owesPartner: { call: 'deny' }, owedQueue: 'owed' });
  expect(record?.owesPosVoid).toBeUndefined();
  expect((await thePosOrders(t, orderId)).map((o) => o.status)).toEqual(['voided']);
  expect(order.timeline.map((e: { event: string }) => e.event)).toContain('compensation-owed');

  await givenThePartnerApiFaults(t, undefined);
  await theRuleHoldsOnceTheReconcilerRuns(sent);
  expect(await whatThePartnerSaw(t, 'doordash', sent.partnerOrderId)).toMatchObject({
    state: 'denied',
    denyReason: 'PARTNER_UNAVAILABLE',
  });
}, 90_000);

test('the POS refuses the order with 422: FAILED INVALID_ORDER, not a retried POS outage', async () => {
  await givenThePosFaults(t, { errorRate: 1, errorStatus: 422, endpoints: ['create'] });
  const sent = await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001' });
  const orderId = sent.webhookBody.orderId;

  await theOrderSettles(t, orderId, ['FAILED'], 30_000);
  const order = (await theOrder(t, orderId)).body;
  expect(order.denyReason).toBe('INVALID_ORDER');
  expect(order.timeline.find((e: { event: string }) => e.event === 'failed')?.detail).toBe(
    'INVALID_ORDER (PosRefused)',
  );
  // The partner's deny follows the void by our id, due once the late-write horizon passes: the
  // handler tests show it, with the reason, and that a refusal does not count against POS health.
}, 60_000);

test('every partner endpoint failing: the partner is told the denial once it is back', async () => {
  await givenThePartnerApiFaults(t, { errorRate: 1 });
  const sent = await whenThePartnerSendsAnOrder(t, { partner: 'grubhub', storeId: 'store-001' });
  const orderId = sent.webhookBody.orderId;

  await theOrderSettles(t, orderId, ['FAILED'], 30_000);
  expect(await theWorkflowEnds(orderId)).toEqual(['FAILED']);
  expect((await whatThePartnerSaw(t, 'grubhub', sent.partnerOrderId)).state).toBe('pending');

  await givenThePartnerApiFaults(t, undefined);
  await theRuleHoldsOnceTheReconcilerRuns(sent);
  const seen = await whatThePartnerSaw(t, 'grubhub', sent.partnerOrderId);
  expect(seen.state).toBe('denied');
  expect(seen.calls.deny).toBeGreaterThanOrEqual(1);
}, 90_000);

test('the POS writes the order but every answer is lost: FAILED, and the ticket it holds is found by our order id and voided', async () => {
  await givenThePosFaults(t, { dropResponseAfterWrite: 1, endpoints: ['create'] });
  const sent = await whenThePartnerSendsAnOrder(t, { partner: 'ubereats', storeId: 'store-001' });
  const orderId = sent.webhookBody.orderId;

  await theOrderSettles(t, orderId, ['FAILED'], 30_000);
  expect(await theWorkflowEnds(orderId)).toEqual(['SUCCEEDED']);
  const order = (await theOrder(t, orderId)).body;
  expect(order.denyReason).toBe('POS_UNAVAILABLE');
  expect(order.posReference).toBeUndefined();
  // The POS took every retry as the same order (our id is its idempotency key) …
  const [ticket, ...others] = await thePosOrders(t, orderId);
  expect(others).toEqual([]);
  expect(ticket.createRequests).toBe(3);
  // … and the ending voided it without ever learning its number from a create answer.
  expect(ticket.status).toBe('voided');
  await theRuleHoldsOnceTheReconcilerRuns(sent);
}, 90_000);

test('POS answers slower than the client timeout: FAILED, and the late-written ticket is voided once it lands', async () => {
  await givenThePosFaults(t, { latencyMs: 5_500, endpoints: ['create'] });
  const sent = await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001' });
  const orderId = sent.webhookBody.orderId;

  await theOrderSettles(t, orderId, ['FAILED'], 45_000);
  await givenThePosFaults(t, undefined);
  // The late writes land after the middleware gave up; the reconciler keeps looking by our id.
  await theRuleHoldsOnceTheReconcilerRuns(sent, 45_000);
  expect((await thePosOrders(t, orderId)).map((o) => o.status)).toEqual(['voided']);
}, 120_000);

test('the POS goes down after acceptance: FAILED, the partner told FAILED once, the ticket voided when the POS is back', async () => {
  const sent = await whenThePartnerSendsAnOrder(t, {
    partner: 'doordash',
    storeId: 'store-001',
    pickupInSeconds: 60,
  });
  const orderId = sent.webhookBody.orderId;
  await theOrderSettles(t, orderId, ['ACCEPTED'], 30_000);
  await givenThePosFaults(t, { errorRate: 1 });
  expect((await whenThePartnerSays(t, 'doordash', sent.partnerOrderId, 'release')).webhookStatus).toBe(202);

  await theOrderSettles(t, orderId, ['FAILED'], 30_000);
  expect(await theWorkflowEnds(orderId)).toEqual(['FAILED']);
  expect((await thePosOrders(t, orderId)).map((o) => o.status)).toEqual(['held']);
  const told = await whatThePartnerSaw(t, 'doordash', sent.partnerOrderId);
  expect(told.state).toBe('cancelled');
  expect(told.updates.map((u: { status: string }) => u.status)).toEqual(['FAILED']);

  await givenThePosFaults(t, undefined);
  await theRuleHoldsOnceTheReconcilerRuns(sent);
  expect((await whatThePartnerSaw(t, 'doordash', sent.partnerOrderId)).updates).toHaveLength(1);
}, 90_000);

test('a cancel while the POS is down: CANCELLED at once, the void owed (the execution fails for the alarm) and paid when the POS is back', async () => {
  const sent = await whenThePartnerSendsAnOrder(t, {
    partner: 'grubhub',
    storeId: 'store-001',
    pickupInSeconds: 60,
  });
  const orderId = sent.webhookBody.orderId;
  await theOrderSettles(t, orderId, ['ACCEPTED'], 30_000);
  await eventually(
    async () => ((await theOrderRecord(t, orderId))?.taskToken ? true : undefined),
    'the order to wait for its courier',
  );
  await givenThePosFaults(t, { errorRate: 1 });
  expect((await whenThePartnerSays(t, 'grubhub', sent.partnerOrderId, 'cancel')).webhookStatus).toBe(202);

  expect(await theWorkflowEnds(orderId)).toEqual(['FAILED']);
  const record = await theOrderRecord(t, orderId);
  expect(record).toMatchObject({ status: 'CANCELLED', owesPosVoid: true, owedQueue: 'owed' });
  expect((await thePosOrders(t, orderId)).map((o) => o.status)).toEqual(['held']);

  await givenThePosFaults(t, undefined);
  await theRuleHoldsOnceTheReconcilerRuns(sent);
}, 90_000);

test('a denial is a normal ending: the workflow succeeds and nothing is owed', async () => {
  // The partner took the order before it learned the store is offline (else it refuses it at the source).
  const sent = await whenThePartnerSendsAnOrder(t, {
    partner: 'ubereats',
    storeId: 'store-002',
    ignoreStoreState: true,
  });
  const orderId = sent.webhookBody.orderId;
  await theOrderSettles(t, orderId, ['REJECTED'], 30_000);
  expect(await theWorkflowEnds(orderId)).toEqual(['SUCCEEDED']);
  expect(await disagreementsOf(sent)).toEqual([]);
}, 60_000);

onlyInProcess(
  'restarts the local cloud and both simulators',
  'a restart of everything: the POS keeps its tickets and numbers, and a waiting order fires its own ticket',
  async () => {
    const before = await whenThePartnerSendsAnOrder(t, {
      partner: 'doordash',
      storeId: 'store-001',
      pickupInSeconds: 60,
    });
    await theOrderSettles(t, before.webhookBody.orderId, ['ACCEPTED'], 30_000);
    const [held] = await thePosOrders(t, before.webhookBody.orderId);

    await t.restart({ simulators: true });

    expect(await thePosOrders(t, before.webhookBody.orderId)).toEqual([
      expect.objectContaining({ posOrderId: held.posOrderId, status: 'held' }),
    ]);
    const after = await whenThePartnerSendsAnOrder(t, {
      partner: 'ubereats',
      storeId: 'store-001',
      pickupInSeconds: 60,
    });
    await theOrderSettles(t, after.webhookBody.orderId, ['ACCEPTED'], 30_000);
    const [newer] = await thePosOrders(t, after.webhookBody.orderId);
    expect(newer.posOrderId).not.toBe(held.posOrderId);

    await whenThePartnerSays(t, 'doordash', before.partnerOrderId, 'release');
    await theOrderSettles(t, before.webhookBody.orderId, ['RELEASED'], 30_000);
    expect((await thePosOrders(t, before.webhookBody.orderId))[0].status).toBe('fired');
    expect((await thePosOrders(t, after.webhookBody.orderId))[0].status).toBe('held');
    await theRuleHoldsOnceTheReconcilerRuns(before);
  },
  120_000,
);

test('a cancel after the kitchen has the order is refused as RELEASED, not as "being released"', async () => {
  const sent = await whenThePartnerSendsAnOrder(t, {
    partner: 'grubhub',
    storeId: 'store-001',
    pickupInSeconds: 60,
  });
  await theOrderSettles(t, sent.webhookBody.orderId, ['ACCEPTED'], 30_000);
  await whenThePartnerSays(t, 'grubhub', sent.partnerOrderId, 'release');
  await theOrderSettles(t, sent.webhookBody.orderId, ['RELEASED'], 30_000);
  const cancel = await whenThePartnerSays(t, 'grubhub', sent.partnerOrderId, 'cancel');
  expect(cancel.webhookStatus).toBe(409);
  expect(cancel.webhookBody.error.message).toContain('is RELEASED');
}, 60_000);

onlyInProcess(
  "reads the Express preparation's output, which AWS keeps only in its CloudWatch logs",
  'a scheduled order waits for its kitchen start (pickup less the store’s prep minutes), not an hour',
  async () => {
    const pickupInSeconds = 3 * 3600;
    const sent = await whenThePartnerSendsAnOrder(t, {
      partner: 'doordash',
      storeId: 'store-001',
      pickupInSeconds,
    });
    const orderId = sent.webhookBody.orderId;
    await theOrderSettles(t, orderId, ['ACCEPTED'], 30_000);
    const prepare = t.cloud.model.stateMachines.find((m) => m.logicalId === 'OrderPrepare')!;
    const run = t.cloud.stepFunctions.listExecutions(prepare.arn).find((r) => r.input.includes(orderId));
    const { courierWaitSeconds } = JSON.parse(run?.output ?? '{}');
    // store-001 prepares for 20 minutes; the local stage caps courier waits at 20 s, scheduled orders not.
    const expected = pickupInSeconds - 20 * 60;
    expect(courierWaitSeconds).toBeGreaterThan(expected - 30);
    expect(courierWaitSeconds).toBeLessThanOrEqual(expected);
    await whenThePartnerSays(t, 'doordash', sent.partnerOrderId, 'cancel');
    await theOrderSettles(t, orderId, ['CANCELLED'], 30_000);
  },
  60_000,
);

test('a preparation run again by the execution that already accepted the order goes on to the wait, not to a duplicate', async () => {
  const sent = await whenThePartnerSendsAnOrder(t, {
    partner: 'doordash',
    storeId: 'store-001',
    pickupInSeconds: 60,
  });
  const orderId = sent.webhookBody.orderId;
  await theOrderSettles(t, orderId, ['ACCEPTED'], 30_000);
  const record = await theOrderRecord(t, orderId);
  const run = (workflowExecutionId: string) =>
    stepFunctionsOf(t).send(
      new StartSyncExecutionCommand({
        stateMachineArn: t.resource('OrderPrepare'),
        input: JSON.stringify({ orderId, order: record?.order, workflowExecutionId }),
      }),
    );
  // The same execution (a retried or resumed Prepare): the accepted order's wait and kitchen still follow.
  const again = await run(record?.claimedBy);
  expect(again.status).toBe('SUCCEEDED');
  expect(JSON.parse(again.output ?? '{}')).toMatchObject({
    orderId,
    courierWaitSeconds: expect.any(Number),
    detail: { posReference: record?.posReference, partner: 'doordash', partnerOrderId: sent.partnerOrderId },
  });
  // Any other execution: a duplicate, which ends quietly.
  const other = await run('arn:aws:states:us-east-1:000000000000:execution:someone-else:1');
  expect(JSON.parse(other.output ?? '{}')).toMatchObject({ orderId, ended: 'Duplicate' });
  expect((await thePosOrders(t, orderId)).map((o) => o.createRequests)).toEqual([1]);
  await whenThePartnerSays(t, 'doordash', sent.partnerOrderId, 'cancel');
  await theOrderSettles(t, orderId, ['CANCELLED'], 30_000);
}, 60_000);

test('an operator who stops an order’s workflow while it waits for the courier leaves no order half-done: it ends FAILED, voided and told', async () => {
  const sent = await whenThePartnerSendsAnOrder(t, {
    partner: 'ubereats',
    storeId: 'store-001',
    pickupInSeconds: 600,
  });
  const orderId = sent.webhookBody.orderId;
  await theOrderSettles(t, orderId, ['ACCEPTED'], 30_000);
  const record = await theOrderRecord(t, orderId);

  await stepFunctionsOf(t).send(
    new StopExecutionCommand({ executionArn: record?.claimedBy, cause: 'stopped by the on-call engineer' }),
  );

  // Step Functions' status change event reaches the settling function: no reconciler run needed.
  const ended = await theOrderSettles(t, orderId, ['FAILED'], 30_000);
  expect(ended.timeline.map((line: { detail?: string }) => line.detail).join(' ')).toContain(
    'ExecutionAborted',
  );
  await eventually(
    async () => ((await disagreementsOf(sent)).length === 0 ? true : undefined),
    `the stopped order ${orderId} to agree everywhere`,
    20_000,
  );
  expect((await thePosOrders(t, orderId)).map((o) => o.status)).toEqual(['voided']);
  expect(await whatThePartnerSaw(t, sent.partner, sent.partnerOrderId)).toMatchObject({ state: 'cancelled' });
}, 60_000);
