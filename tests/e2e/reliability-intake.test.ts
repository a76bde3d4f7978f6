/**
 * Reliability at the door: duplicate deliveries, bad signatures, hostile payloads, a duplicate
 * OrderReceived on the bus, and a bus target that keeps failing until the event lands in the DLQ.
 * What a partner checks first: every retry is answered 202, and one order never becomes two.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { orderIdFor } from '../../functions/lib/domain/order';
import { signWebhook } from '../../functions/lib/domain/signatures';
import { AwsError } from '../../local/cloud/aws-error';
import { devPartnerSecrets } from '../../local/simulators/partner/index';
import {
  eventually,
  givenALocalCloud,
  onlyInProcess,
  type TestCloud,
  theOrder,
  theOrderReaches,
  thePosOrders,
  theWorkflowExecutionsOf,
  whatThePartnerSaw,
  whenThePartnerRedelivers,
  whenThePartnerSays,
  whenThePartnerSendsAnOrder,
  whenTheScheduledFunctionRuns,
} from '../steps/local-cloud';

let t: TestCloud;
beforeAll(async () => {
  t = await givenALocalCloud();
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

const awsClientConfig = () => t.aws;

/** The partner's view of a DoorDash order reaches what we expect (the record changes first). */
async function thePartnerIsTold(partnerOrderId: string, expected: Record<string, unknown>) {
  await eventually(
    async () => {
      const seen = await whatThePartnerSaw(t, 'doordash', partnerOrderId);
      return Object.entries(expected).every(([key, value]) => seen[key] === value) ? seen : undefined;
    },
    `the partner to see ${JSON.stringify(expected)}`,
  );
}

/**
 * Step Functions refuses every StartExecution the bus makes while `during` runs, each machine ARN
 * noted in `attempts`. No outside call makes it refuse, so the outage is injected at the emulator's
 * seam: the rule's target throws as an unavailable Step Functions would (in-process clouds only).
 */
async function whileStepFunctionsRefusesStarts<T>(attempts: string[], during: () => Promise<T>): Promise<T> {
  const stepFunctions = t.cloud.stepFunctions;
  stepFunctions.eventBridgeTarget = async (arn: string) => {
    attempts.push(arn);
    throw new AwsError('ServiceUnavailable', 'Step Functions is unavailable (injected by the test)', 503);
  };
  try {
    return await during();
  } finally {
    delete (stepFunctions as Partial<typeof stepFunctions>).eventBridgeTarget;
  }
}

/** Nothing of the order exists anywhere: no record, no workflow, no POS order. */
async function expectNoTraceOf(partner: string, partnerOrderId: string) {
  const orderId = orderIdFor(partner as never, partnerOrderId);
  expect((await theOrder(t, orderId)).status).toBe(404);
  expect(await theWorkflowExecutionsOf(t, orderId)).toEqual([]);
  expect(await thePosOrders(t, orderId)).toEqual([]);
}

describe.each(['grubhub', 'ubereats'])('the same %s order delivered again and again', (partner) => {
  test('is one order, one workflow, one POS order, and every delivery is answered 202', async () => {
    // A first delivery the middleware refuses (no signature) makes the partner remember the order
    // without the middleware knowing it, so the five valid deliveries below race as first arrivals.
    const first = await whenThePartnerSendsAnOrder(t, {
      partner,
      storeId: 'store-001',
      pickupInSeconds: 60,
      signature: 'missing',
    });
    expect(first.webhookStatus).toBe(401);
    const orderId = orderIdFor(partner as never, first.partnerOrderId);

    const burst = await whenThePartnerRedelivers(t, partner, first.partnerOrderId, {
      times: 5,
      concurrent: true,
    });
    expect(burst.webhookStatuses).toEqual([202, 202, 202, 202, 202]);
    for (const body of burst.webhookBodies)
      expect(body).toEqual({ orderId, partner, partnerOrderId: first.partnerOrderId, status: 'RECEIVED' });

    await theOrderReaches(t, orderId, 'ACCEPTED');
    expect(await theWorkflowExecutionsOf(t, orderId)).toHaveLength(1);
    expect(await thePosOrders(t, orderId)).toEqual([
      expect.objectContaining({ status: 'held', createRequests: 1 }),
    ]);

    // "Ten minutes later": the middleware's clock runs in other threads and cannot be faked from
    // here. What makes a late retry pass Grubhub's 5-minute replay window is that partners re-sign
    // each retry at the moment they send it, which the simulator does for every redelivery.
    const later = await whenThePartnerRedelivers(t, partner, first.partnerOrderId, {
      times: 2,
      concurrent: false,
    });
    expect(later.webhookStatuses).toEqual([202, 202]);
    expect(later.webhookBodies[0]).toMatchObject({ orderId });
    expect((await theOrder(t, orderId)).body.status).toBe('ACCEPTED');
    expect(await theWorkflowExecutionsOf(t, orderId)).toHaveLength(1);
    expect(await thePosOrders(t, orderId)).toEqual([
      expect.objectContaining({ status: 'held', createRequests: 1 }),
    ]);
  });
});

describe('a webhook that is not signed as the partner signs', () => {
  const cases = [
    ...['doordash', 'ubereats', 'grubhub'].flatMap((partner) =>
      ['tampered', 'wrong-secret', 'missing'].map((signature) => [partner, signature]),
    ),
    ['grubhub', 'stale'],
  ];

  test.each(cases)(
    '%s with a %s signature is refused 401 and leaves no trace',
    async (partner, signature) => {
      const sent = await whenThePartnerSendsAnOrder(t, { partner, storeId: 'store-001', signature });
      expect(sent.webhookStatus).toBe(401);
      expect(sent.webhookBody).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
      await expectNoTraceOf(partner!, sent.partnerOrderId);
    },
  );

  /** A Grubhub order for store-001 written by hand, so its exact bytes are ours to change. */
  function grubhubOrder(partnerOrderId: string) {
    const now = Date.now();
    return {
      type: 'ORDER_PLACED',
      order_uuid: partnerOrderId,
      restaurant_id: '4410021',
      placed_at: new Date(now).toISOString(),
      pickup_time: new Date(now + 60_000).toISOString(),
      diner: { first_name: 'Aiko', last_name: 'Tanaka', phone: '+15550000001' },
      lines: [{ menu_item_id: 'TACO-POLLO', name: 'Pollo Asado Taco', quantity: 2, price: 425, options: [] }],
      charges: { subtotal: 850, tax: 75, total: 925 },
    };
  }

  async function postGrubhub(rawBody: string, signedBody: string) {
    const secret = devPartnerSecrets().grubhub.signing;
    const response = await fetch(`${t.httpUrl}/webhooks/grubhub/orders`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...signWebhook('grubhub', signedBody, secret, new Date()),
      },
      body: rawBody,
    });
    return { status: response.status, body: await response.json() };
  }

  test('a re-serialised body (same JSON, other bytes) no longer verifies', async () => {
    const refused = grubhubOrder(randomUUID());
    const compact = JSON.stringify(refused);
    const answer = await postGrubhub(JSON.stringify(refused, null, 2), compact);
    expect(answer.status).toBe(401);
    await expectNoTraceOf('grubhub', refused.order_uuid);

    // The same hand-written order, sent as signed, is taken: the refusal above was the bytes.
    const taken = grubhubOrder(randomUUID());
    const body = JSON.stringify(taken);
    expect((await postGrubhub(body, body)).status).toBe(202);
  });
});

describe('the order of refusals (README: 404 → 413 → 415 → 401 → 400 → 409), end to end', () => {
  const errorBody = { error: { code: expect.any(String), message: expect.any(String) } };

  test('an unknown partner is 404 whatever else is wrong (too big, not JSON, unsigned)', async () => {
    const response = await fetch(`${t.httpUrl}/webhooks/justeat/orders`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(300 * 1024),
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual(errorBody);
  });

  test('a changed order under a taken id is 409 only once everything before it passes; the order stays as it was', async () => {
    const first = await whenThePartnerSendsAnOrder(t, {
      partner: 'doordash',
      storeId: 'store-001',
      items: [{ sku: 'TACO-CARNITAS', quantity: 1 }],
      pickupInSeconds: 600,
    });
    expect(first.webhookStatus).toBe(202);
    const orderId = first.webhookBody.orderId as string;
    const held = await theOrderReaches(t, orderId, 'ACCEPTED');
    const changed = (extra: Record<string, unknown>) =>
      whenThePartnerSendsAnOrder(t, {
        partner: 'doordash',
        storeId: 'store-001',
        partnerOrderId: first.partnerOrderId,
        items: [{ sku: 'TACO-CARNITAS', quantity: 5 }],
        pickupInSeconds: 600,
        ...extra,
      });
    const answers = {
      tooLarge: (await changed({ body: { order: { special_instructions: 'x'.repeat(300 * 1024) } } }))
        .webhookStatus,
      unsigned: (await changed({ signature: 'missing' })).webhookStatus,
      tampered: (await changed({ signature: 'tampered' })).webhookStatus,
      pickupNextMonth: (await changed({ pickupInSeconds: 30 * 24 * 3600 })).webhookStatus,
      changed: (await changed({})).webhookStatus,
    };
    // Not JSON, under the taken id: 415 before the signature and the conflict are looked at.
    const notJson = await fetch(`${t.httpUrl}/webhooks/doordash/orders`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ event: { type: 'order_created' }, order: { id: first.partnerOrderId } }),
    });
    expect({ ...answers, notJson: notJson.status }).toEqual({
      tooLarge: 413,
      unsigned: 401,
      tampered: 401,
      pickupNextMonth: 400,
      changed: 409,
      notJson: 415,
    });
    const after = (await theOrder(t, orderId)).body;
    expect({ status: after.status, total: after.total, items: after.items }).toEqual({
      status: 'ACCEPTED',
      total: held.total,
      items: held.items,
    });
    expect(await thePosOrders(t, orderId)).toEqual([
      expect.objectContaining({ status: 'held', createRequests: 1 }),
    ]);
    expect(await theWorkflowExecutionsOf(t, orderId)).toHaveLength(1);
  }, 60_000);
});

describe('payloads a partner should never send', () => {
  test('a body over 256 KB is refused 413 before anything else', async () => {
    const sent = await whenThePartnerSendsAnOrder(t, {
      partner: 'doordash',
      storeId: 'store-001',
      body: { order: { special_instructions: 'x'.repeat(300 * 1024) } },
    });
    expect(sent.webhookStatus).toBe(413);
    expect(sent.webhookBody).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    await expectNoTraceOf('doordash', sent.partnerOrderId);
  });

  test('a body that is not application/json is refused 415', async () => {
    const response = await fetch(`${t.httpUrl}/webhooks/doordash/orders`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ event: { type: 'order_created' }, order: { id: 'x' } }),
    });
    expect(response.status).toBe(415);
    expect(await response.json()).toEqual({
      error: { code: expect.any(String), message: expect.any(String) },
    });
  });

  test('a deeply nested extra field neither crashes intake nor reaches the order', async () => {
    // Sent by hand: the simulator's control API itself cannot carry a body this deep.
    // Written as text: JSON.stringify itself overflows the stack at this depth.
    const nested = `${'{"deeper":'.repeat(10_000)}"bottom"${'}'.repeat(10_000)}`;
    // The partner must know the order to take its accept: it "sends" it first, unsigned (refused).
    const partnerOrderId = randomUUID();
    const known = await whenThePartnerSendsAnOrder(t, {
      partner: 'doordash',
      storeId: 'store-001',
      partnerOrderId,
      signature: 'missing',
    });
    expect(known.webhookStatus).toBe(401);
    const now = Date.now();
    const body = JSON.stringify({
      event: { type: 'order_created', status: 'NEW' },
      order: {
        id: partnerOrderId,
        store: { merchant_supplied_id: 'dd-881001' },
        consumer: { first_name: 'Noah' },
        categories: [
          {
            name: 'Order',
            items: [
              { merchant_supplied_id: 'TACO-VEG', name: 'Grilled Veggie Taco', quantity: 1, price: 400 },
            ],
          },
        ],
        subtotal: 400,
        tax: 36,
        estimated_pickup_time: new Date(now + 60_000).toISOString(),
        created_at: new Date(now).toISOString(),
        nested: 'NESTED',
      },
    }).replace('"NESTED"', nested);
    const secret = devPartnerSecrets().doordash.signing;
    const response = await fetch(`${t.httpUrl}/webhooks/doordash/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signWebhook('doordash', body, secret, new Date()) },
      body,
    });
    // An unknown field is the partner's business (Postel): taken, never followed down.
    expect(response.status).toBe(202);
    const orderId = orderIdFor('doordash', partnerOrderId);
    const order = await theOrderReaches(t, orderId, 'ACCEPTED');
    expect(JSON.stringify(order)).not.toContain('deeper');
    expect((await theWorkflowExecutionsOf(t, orderId))[0]!.input).not.toContain('deeper');
  });

  test('a price the menu does not have is denied INVALID_ORDER and never reaches the POS', async () => {
    const sent = await whenThePartnerSendsAnOrder(t, {
      partner: 'doordash',
      storeId: 'store-001',
      items: [{ sku: 'BURRITO-CARNE', quantity: 1, unitPrice: 1 }],
    });
    expect(sent.webhookStatus).toBe(202);
    const order = await theOrderReaches(t, sent.webhookBody.orderId, 'REJECTED');
    expect(order.denyReason).toBe('INVALID_ORDER');
    await thePartnerIsTold(sent.partnerOrderId, { state: 'denied', denyReason: 'INVALID_ORDER' });
    expect(await thePosOrders(t, sent.webhookBody.orderId)).toEqual([]);
  }, 50_000);

  test('extra price and storeId fields do not change what the POS gets', async () => {
    const sent = await whenThePartnerSendsAnOrder(t, {
      partner: 'doordash',
      storeId: 'store-001',
      items: [{ sku: 'TACO-CARNITAS', quantity: 2 }],
      body: {
        storeId: 'store-002',
        price: 1,
        total: 1,
        order: { storeId: 'store-002', total: 1, store: { storeId: 'store-002' } },
      },
    });
    // Fields the partner's schema does not have are ignored, not refused: the order is taken.
    expect(sent.webhookStatus).toBe(202);
    const orderId = sent.webhookBody.orderId as string;
    const order = await theOrderReaches(t, orderId, 'ACCEPTED');
    expect(order.storeId).toBe('store-001');
    const [pos, ...more] = await thePosOrders(t, orderId);
    expect(more).toEqual([]);
    expect(pos).toMatchObject({ storeId: 'store-001', status: 'held' });
    expect(pos.items).toEqual([
      expect.objectContaining({ sku: 'TACO-CARNITAS', quantity: 2, unitPrice: 450 }),
    ]);
    expect(pos.total).toBe(order.total);
    expect(order.total).toBeGreaterThan(900);
  });

  test('injection strings in notes reach the POS as plain text, with the HTML taken out', async () => {
    const hostile = `'; DROP TABLE orders; -- <script>alert(1)</script> {{7*7}} \${7*7} $(rm -rf /) {"$ne":null}`;
    // Tags are removed (a kitchen printer or POS screen may render them); the rest is kept as text.
    const cleaned = `'; DROP TABLE orders; -- alert(1) {{7*7}} \${7*7} $(rm -rf /) {"$ne":null}`;
    const sent = await whenThePartnerSendsAnOrder(t, {
      partner: 'grubhub',
      storeId: 'store-001',
      items: [{ sku: 'TACO-AL-PASTOR', quantity: 1, notes: hostile }],
      notes: hostile,
    });
    expect(sent.webhookStatus).toBe(202);
    const orderId = sent.webhookBody.orderId as string;
    const order = await theOrderReaches(t, orderId, 'ACCEPTED');
    expect(order.items).toEqual([expect.objectContaining({ sku: 'TACO-AL-PASTOR', notes: cleaned })]);
    const [pos] = await thePosOrders(t, orderId);
    expect(pos.items).toEqual([expect.objectContaining({ notes: cleaned })]);
    // And the middleware still serves the next order normally.
    const next = await whenThePartnerSendsAnOrder(t, { partner: 'grubhub', storeId: 'store-001' });
    await theOrderReaches(t, next.webhookBody.orderId, 'ACCEPTED');
  }, 50_000);
});

describe('the same OrderReceived event delivered twice by the bus', () => {
  test('starts a second workflow that ends quietly as a duplicate; still one POS order', async () => {
    const sent = await whenThePartnerSendsAnOrder(t, {
      partner: 'doordash',
      storeId: 'store-001',
      pickupInSeconds: 60,
    });
    const orderId = sent.webhookBody.orderId as string;
    await theOrderReaches(t, orderId, 'ACCEPTED');
    const [firstRun] = await theWorkflowExecutionsOf(t, orderId);
    const event = JSON.parse(firstRun!.input);

    const bus = new EventBridgeClient(awsClientConfig());
    const put = await bus.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: t.resource('OrderBus'),
            Source: event.source,
            DetailType: event['detail-type'],
            Detail: JSON.stringify(event.detail),
          },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);

    const duplicate = await eventually(async () => {
      const runs = await theWorkflowExecutionsOf(t, orderId);
      return runs.length === 2 && runs[0]!.status !== 'RUNNING' ? runs[0] : undefined;
    }, 'the duplicate workflow to end');
    // A duplicate is a normal ending: its preparation says so, and it may not wait on the order.
    expect(duplicate.status).toBe('SUCCEEDED');
    expect(JSON.parse(duplicate.output ?? '{}')).toMatchObject({ ended: 'Duplicate' });
    expect((await theOrder(t, orderId)).body.status).toBe('ACCEPTED');
    expect(await thePosOrders(t, orderId)).toEqual([
      expect.objectContaining({ status: 'held', createRequests: 1 }),
    ]);

    await whenThePartnerSays(t, 'doordash', sent.partnerOrderId, 'release');
    await theOrderReaches(t, orderId, 'RELEASED');
    await eventually(async () => {
      const pos = await thePosOrders(t, orderId);
      return pos.length === 1 && pos[0].status === 'fired' ? pos : undefined;
    }, 'the one POS order to be fired');
    expect(await thePosOrders(t, orderId)).toEqual([expect.objectContaining({ status: 'fired' })]);
  }, 90_000);
});

describe('a workflow that cannot be started, whatever the bus retries', () => {
  onlyInProcess(
    "injects a Step Functions outage at the emulator's seam",
    'the OrderReceived event lands in the DLQ, readable (and re-drivable) with the SQS API',
    async () => {
      const attempts: string[] = [];
      const queue = { url: t.resource('OrderReceivedDLQ') };
      const sqs = new SQSClient(awsClientConfig());
      const { sent, dlqMessage } = await whileStepFunctionsRefusesStarts(attempts, async () => {
        const sent = await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001' });
        expect(sent.webhookStatus).toBe(202);
        const dlqMessage = await eventually(async () => {
          const received = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: queue.url,
              MaxNumberOfMessages: 1,
              MessageAttributeNames: ['All'],
              WaitTimeSeconds: 1,
            }),
          );
          return received.Messages?.[0];
        }, 'a message in the OrderReceived DLQ');
        return { sent, dlqMessage };
      });
      const orderId = sent.webhookBody.orderId as string;
      // One delivery and the local stage's two retries, then the DLQ with AWS's attributes.
      expect(attempts).toHaveLength(3);
      const event = JSON.parse(dlqMessage.Body!);
      expect(event).toMatchObject({ 'detail-type': 'OrderReceived', detail: { orderId } });
      expect(dlqMessage.MessageAttributes).toMatchObject({
        RETRY_ATTEMPTS: { StringValue: '2' },
        EXHAUSTED_RETRY_CONDITION: { StringValue: 'MaximumRetryAttempts' },
        RULE_ARN: { StringValue: expect.stringContaining('rule/') },
        TARGET_ARN: { StringValue: expect.stringContaining(':stateMachine:') },
      });
      expect((await theOrder(t, orderId)).body.status).toBe('RECEIVED');
      expect(await thePosOrders(t, orderId)).toEqual([]);

      // Nothing is lost: an operator puts the dead-lettered event back on the bus and the order goes on.
      await new EventBridgeClient(awsClientConfig()).send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: t.resource('OrderBus'),
              Source: event.source,
              DetailType: event['detail-type'],
              Detail: JSON.stringify(event.detail),
            },
          ],
        }),
      );
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: dlqMessage.ReceiptHandle }),
      );
      await theOrderReaches(t, orderId, 'ACCEPTED');
      expect(await thePosOrders(t, orderId)).toHaveLength(1);
    },
    60_000,
  );
});

describe('an order whose OrderReceived never reached its workflow', () => {
  onlyInProcess(
    "injects a Step Functions outage at the emulator's seam",
    'the reconciler starts its workflow again once it has waited two minutes, and the order goes on',
    async () => {
      const sent = await whileStepFunctionsRefusesStarts([], async () => {
        const sent = await whenThePartnerSendsAnOrder(t, { partner: 'doordash', storeId: 'store-001' });
        expect(sent.webhookStatus).toBe(202);
        // The bus gives up (its retries, then the DLQ, as the test above shows).
        await t.cloud.eventBridge.idle();
        return sent;
      });
      const orderId = sent.webhookBody.orderId as string;
      expect((await theOrder(t, orderId)).body.status).toBe('RECEIVED');

      // Too recent to be called lost: the bus may still be retrying.
      expect(await whenTheScheduledFunctionRuns(t, 'ReconcileOrdersLambdaFunction')).toMatchObject({
        restarted: 0,
      });
      // Three minutes later, still unclaimed: nobody would ever answer the partner.
      await new DynamoDBClient(awsClientConfig()).send(
        new UpdateItemCommand({
          TableName: t.resource('OrdersTable'),
          Key: { orderId: { S: orderId } },
          UpdateExpression: 'SET createdAt = :then',
          ExpressionAttributeValues: { ':then': { S: new Date(Date.now() - 3 * 60_000).toISOString() } },
        }),
      );
      expect(await whenTheScheduledFunctionRuns(t, 'ReconcileOrdersLambdaFunction')).toMatchObject({
        restarted: 1,
      });
      await theOrderReaches(t, orderId, 'ACCEPTED');
      expect(await thePosOrders(t, orderId)).toEqual([expect.objectContaining({ status: 'held' })]);
      await thePartnerIsTold(sent.partnerOrderId, { state: 'accepted' });
      expect(await whenTheScheduledFunctionRuns(t, 'ReconcileOrdersLambdaFunction')).toMatchObject({
        restarted: 0,
      });
    },
    90_000,
  );
});
