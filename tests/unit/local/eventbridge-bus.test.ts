import { AwsError, type ServiceApi } from '../../../local/cloud/aws-error';
import { eventBridgeApi } from '../../../local/cloud/eventbridge/api';
import {
  LocalEventBridge,
  type LocalEventBridgeOptions,
  type PutEventsRequestEntry,
  type RuleConfig,
  type TargetDelivery,
} from '../../../local/cloud/eventbridge/bus';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const BUS = 'order-middleware-local';
const WORKFLOW_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:order-workflow`;
const NOTIFIER_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:notify-partner`;
const DLQ_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:order-events-dlq`;

/** Records what reached each target; `failures` makes a target throw that many times (Infinity: always). */
class FakeDelivery implements TargetDelivery {
  readonly attempts: string[] = [];
  readonly delivered: { arn: string; payload: unknown }[] = [];
  readonly queued: { queueArn: string; body: unknown; attributes?: Record<string, string> }[] = [];
  failures = new Map<string, number>();
  error: () => Error = () => new Error('Lambda is throttled');
  onAttempt: () => void = () => {};

  async deliver(targetArn: string, payload: string): Promise<void> {
    this.attempts.push(targetArn);
    this.onAttempt();
    const left = this.failures.get(targetArn) ?? 0;
    if (left > 0) {
      this.failures.set(targetArn, left - 1);
      throw this.error();
    }
    this.delivered.push({ arn: targetArn, payload: JSON.parse(payload) });
  }

  async sendToQueue(queueArn: string, body: string, attributes?: Record<string, string>): Promise<void> {
    this.queued.push({ queueArn, body: JSON.parse(body), attributes });
  }

  payloadsFor(arn: string): unknown[] {
    return this.delivered.filter((d) => d.arn === arn).map((d) => d.payload);
  }
}

const orderReceivedRule: RuleConfig = {
  name: 'order-received',
  eventBusName: BUS,
  eventPattern: { source: ['order-middleware'], 'detail-type': ['OrderReceived'] },
  targets: [{ id: 'workflow', arn: WORKFLOW_ARN }],
};

const outcomeRule: RuleConfig = {
  name: 'order-outcome',
  eventBusName: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${BUS}`,
  eventPattern: {
    source: ['order-middleware'],
    'detail-type': ['OrderAccepted', 'OrderRejected'],
    detail: { partner: [{ 'anything-but': 'grubhub' }] },
  },
  targets: [{ id: 'notifier', arn: NOTIFIER_ARN }],
};

function bridgeWith(delivery: FakeDelivery, overrides: Partial<LocalEventBridgeOptions> = {}) {
  return new LocalEventBridge({
    region: REGION,
    accountId: ACCOUNT,
    buses: [BUS],
    rules: [orderReceivedRule, outcomeRule],
    delivery,
    retryBaseDelayMs: 1,
    log: () => {},
    ...overrides,
  });
}

function orderEvent(detailType: string, detail: object = { orderId: 'ord_1', partner: 'ubereats' }) {
  return {
    Source: 'order-middleware',
    DetailType: detailType,
    Detail: JSON.stringify(detail),
    EventBusName: BUS,
  };
}

function failingTarget(
  retryPolicy: RuleConfig['targets'][number]['retryPolicy'],
  deadLetterArn?: string,
): RuleConfig {
  return {
    ...orderReceivedRule,
    targets: [{ id: 'workflow', arn: WORKFLOW_ARN, retryPolicy, deadLetterArn }],
  };
}

describe('PutEvents and routing', () => {
  it('delivers the full event envelope to the targets of matching rules only', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(delivery);

    const result = bridge.putEvents([orderEvent('OrderReceived')]);
    await bridge.idle();

    expect(result.FailedEntryCount).toBe(0);
    const eventId = (result.Entries[0] as { EventId: string }).EventId;
    expect(eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(delivery.payloadsFor(WORKFLOW_ARN)).toEqual([
      {
        version: '0',
        id: eventId,
        'detail-type': 'OrderReceived',
        source: 'order-middleware',
        account: ACCOUNT,
        time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
        region: REGION,
        resources: [],
        detail: { orderId: 'ord_1', partner: 'ubereats' },
      },
    ]);
    expect(delivery.payloadsFor(NOTIFIER_ARN)).toEqual([]);
  });

  it('routes by detail too, and skips events the pattern excludes', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(delivery);

    bridge.putEvents([
      orderEvent('OrderAccepted', { orderId: 'ord_1', partner: 'doordash' }),
      orderEvent('OrderAccepted', { orderId: 'ord_2', partner: 'grubhub' }),
      orderEvent('OrderCancelled', { orderId: 'ord_3', partner: 'doordash' }),
    ]);
    await bridge.idle();

    expect(delivery.payloadsFor(NOTIFIER_ARN)).toEqual([
      expect.objectContaining({ detail: { orderId: 'ord_1', partner: 'doordash' } }),
    ]);
    expect(delivery.payloadsFor(WORKFLOW_ARN)).toEqual([]);
    expect(bridge.stats()).toMatchObject({ eventsPut: 3, deliveries: 1 });
  });

  it('keeps buses apart: an event on the default bus does not reach rules of the custom bus', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(delivery);

    const result = bridge.putEvents([{ ...orderEvent('OrderReceived'), EventBusName: undefined }]);
    await bridge.idle();

    expect(result.FailedEntryCount).toBe(0);
    expect(delivery.attempts).toEqual([]);
  });

  it('accepts the bus by ARN', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(delivery);

    bridge.putEvents([{ ...orderEvent('OrderReceived'), EventBusName: bridge.busArn(BUS) }]);
    await bridge.idle();

    expect(delivery.payloadsFor(WORKFLOW_ARN)).toHaveLength(1);
  });

  it('does not deliver for a DISABLED rule', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(delivery, { rules: [{ ...orderReceivedRule, state: 'DISABLED' }] });

    bridge.putEvents([orderEvent('OrderReceived')]);
    await bridge.idle();

    expect(delivery.attempts).toEqual([]);
  });

  it('answers before any target is reached', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(delivery);

    const result = bridge.putEvents([orderEvent('OrderReceived')]);

    expect(result.FailedEntryCount).toBe(0);
    expect(delivery.attempts).toEqual([]);
    await bridge.idle();
    expect(delivery.attempts).toEqual([WORKFLOW_ARN]);
  });

  it('uses the entry Time (epoch seconds, as the SDK sends it) and Resources', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(delivery);

    bridge.putEvents([
      { ...orderEvent('OrderReceived'), Time: 1_700_000_000, Resources: ['arn:order:ord_1'] },
    ]);
    await bridge.idle();

    expect(delivery.payloadsFor(WORKFLOW_ARN)[0]).toMatchObject({
      time: '2023-11-14T22:13:20Z',
      resources: ['arn:order:ord_1'],
    });
  });
});

describe('input transformation', () => {
  function bridgeWithTarget(target: Partial<RuleConfig['targets'][number]>, delivery: FakeDelivery) {
    return bridgeWith(delivery, {
      rules: [{ ...orderReceivedRule, targets: [{ id: 'workflow', arn: WORKFLOW_ARN, ...target }] }],
    });
  }

  it('sends a constant Input instead of the event', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWithTarget({ input: '{"ping":true}' }, delivery);

    bridge.putEvents([orderEvent('OrderReceived')]);
    await bridge.idle();

    expect(delivery.payloadsFor(WORKFLOW_ARN)).toEqual([{ ping: true }]);
  });

  it('sends the part of the event InputPath selects', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWithTarget({ inputPath: '$.detail' }, delivery);

    bridge.putEvents([orderEvent('OrderReceived', { orderId: 'ord_9', items: [{ sku: 'burger' }] })]);
    await bridge.idle();

    expect(delivery.payloadsFor(WORKFLOW_ARN)).toEqual([{ orderId: 'ord_9', items: [{ sku: 'burger' }] }]);
  });

  it('follows nested names, indexes and hyphenated keys in InputPath', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(delivery, {
      rules: [
        {
          ...orderReceivedRule,
          targets: [
            { id: 'sku', arn: WORKFLOW_ARN, inputPath: "$.detail.items[1]['sku']" },
            { id: 'type', arn: NOTIFIER_ARN, inputPath: '$.detail-type' },
          ],
        },
      ],
    });

    bridge.putEvents([orderEvent('OrderReceived', { items: [{ sku: 'fries' }, { sku: 'shake' }] })]);
    await bridge.idle();

    expect(delivery.payloadsFor(WORKFLOW_ARN)).toEqual(['shake']);
    expect(delivery.payloadsFor(NOTIFIER_ARN)).toEqual(['OrderReceived']);
  });

  it('refuses a malformed InputPath when the rule is loaded', () => {
    expect(() => bridgeWithTarget({ inputPath: 'detail.orderId' }, new FakeDelivery())).toThrow(
      expect.objectContaining({ code: 'ValidationException' }),
    );
  });
});

describe('retries and dead-letter queue', () => {
  it('retries a failing target and delivers once it recovers', async () => {
    const delivery = new FakeDelivery();
    delivery.failures.set(WORKFLOW_ARN, 2);
    const bridge = bridgeWith(delivery, { rules: [failingTarget({ maximumRetryAttempts: 5 }, DLQ_ARN)] });

    bridge.putEvents([orderEvent('OrderReceived')]);
    await bridge.idle();

    expect(delivery.attempts).toHaveLength(3);
    expect(delivery.payloadsFor(WORKFLOW_ARN)).toHaveLength(1);
    expect(delivery.queued).toEqual([]);
    expect(bridge.stats()).toMatchObject({ deliveries: 1, retries: 2, deadLettered: 0 });
  });

  it('sends the event to the DLQ with the AWS attributes once retries are exhausted', async () => {
    const delivery = new FakeDelivery();
    delivery.failures.set(WORKFLOW_ARN, Number.POSITIVE_INFINITY);
    const bridge = bridgeWith(delivery, { rules: [failingTarget({ maximumRetryAttempts: 2 }, DLQ_ARN)] });

    const result = bridge.putEvents([orderEvent('OrderReceived')]);
    await bridge.idle();

    expect(delivery.attempts).toHaveLength(3);
    expect(delivery.queued).toEqual([
      {
        queueArn: DLQ_ARN,
        body: expect.objectContaining({
          id: (result.Entries[0] as { EventId: string }).EventId,
          'detail-type': 'OrderReceived',
          detail: { orderId: 'ord_1', partner: 'ubereats' },
        }),
        attributes: {
          RULE_ARN: `arn:aws:events:${REGION}:${ACCOUNT}:rule/${BUS}/order-received`,
          TARGET_ARN: WORKFLOW_ARN,
          ERROR_CODE: 'SDK_CLIENT_ERROR',
          ERROR_MESSAGE: 'Lambda is throttled',
          EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
          RETRY_ATTEMPTS: '2',
        },
      },
    ]);
    expect(bridge.stats()).toMatchObject({ deliveries: 0, retries: 2, deadLettered: 1, dropped: 0 });
  });

  it('dead-letters the original event even when the target receives a transformed input', async () => {
    const delivery = new FakeDelivery();
    delivery.failures.set(WORKFLOW_ARN, Number.POSITIVE_INFINITY);
    const rule = failingTarget({ maximumRetryAttempts: 0 }, DLQ_ARN);
    rule.targets[0]!.inputPath = '$.detail';
    const bridge = bridgeWith(delivery, { rules: [rule] });

    bridge.putEvents([orderEvent('OrderReceived')]);
    await bridge.idle();

    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.queued[0]?.body).toMatchObject({
      source: 'order-middleware',
      'detail-type': 'OrderReceived',
    });
  });

  it('stops retrying when the event is older than MaximumEventAgeInSeconds', async () => {
    let now = Date.parse('2026-01-01T12:00:00Z');
    const delivery = new FakeDelivery();
    delivery.failures.set(WORKFLOW_ARN, Number.POSITIVE_INFINITY);
    delivery.onAttempt = () => {
      now += 25 * 60 * 1000; // each attempt "takes" 25 minutes
    };
    const bridge = bridgeWith(delivery, {
      clock: () => now,
      rules: [failingTarget({ maximumEventAgeInSeconds: 3600 }, DLQ_ARN)],
    });

    bridge.putEvents([orderEvent('OrderReceived')]);
    await bridge.idle();

    // attempts at +25 and +50 minutes are within the hour; after the third (+75) the event is too old
    expect(delivery.attempts).toHaveLength(3);
    expect(delivery.queued[0]?.attributes).toMatchObject({
      EXHAUSTED_RETRY_CONDITION: 'MaximumEventAgeInSeconds',
      RETRY_ATTEMPTS: '2',
    });
  });

  it('does not retry an error marked non-retryable', async () => {
    const delivery = new FakeDelivery();
    delivery.failures.set(WORKFLOW_ARN, Number.POSITIVE_INFINITY);
    delivery.error = () =>
      Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException', retryable: false });
    const bridge = bridgeWith(delivery, { rules: [failingTarget({ maximumRetryAttempts: 10 }, DLQ_ARN)] });

    bridge.putEvents([orderEvent('OrderReceived')]);
    await bridge.idle();

    expect(delivery.attempts).toHaveLength(1);
    expect(delivery.queued[0]?.attributes).toMatchObject({
      ERROR_CODE: 'RESOURCE_NOT_FOUND',
      ERROR_MESSAGE: 'Function not found',
      RETRY_ATTEMPTS: '0',
    });
    expect(delivery.queued[0]?.attributes).not.toHaveProperty('EXHAUSTED_RETRY_CONDITION');
  });

  it('counts and reports an event dropped for want of a DLQ', async () => {
    const delivery = new FakeDelivery();
    delivery.failures.set(WORKFLOW_ARN, Number.POSITIVE_INFINITY);
    const logged: string[] = [];
    const bridge = bridgeWith(delivery, {
      rules: [failingTarget({ maximumRetryAttempts: 1 })],
      log: (message) => logged.push(message),
    });

    bridge.putEvents([orderEvent('OrderReceived')]);
    await bridge.idle();

    expect(delivery.queued).toEqual([]);
    expect(bridge.stats()).toMatchObject({ dropped: 1, deadLettered: 0 });
    expect(logged.join('\n')).toMatch(/dropped.*order-received.*Lambda is throttled/);
  });

  it('abandons a pending retry on close instead of waiting for it', async () => {
    const delivery = new FakeDelivery();
    delivery.failures.set(WORKFLOW_ARN, Number.POSITIVE_INFINITY);
    const firstAttempt = new Promise<void>((resolve) => {
      delivery.onAttempt = resolve;
    });
    const bridge = bridgeWith(delivery, { retryBaseDelayMs: 600_000, rules: [failingTarget({}, DLQ_ARN)] });

    bridge.putEvents([orderEvent('OrderReceived')]);
    await firstAttempt;
    await bridge.close();

    expect(delivery.attempts).toHaveLength(1);
    expect(bridge.stats()).toMatchObject({ retries: 1, dropped: 1, deadLettered: 0 });
  });
});

describe('PutEvents validation', () => {
  it('refuses more than 10 entries, and none', () => {
    const bridge = bridgeWith(new FakeDelivery());
    const eleven = Array.from({ length: 11 }, () => orderEvent('OrderReceived'));

    expect(() => bridge.putEvents(eleven)).toThrow(expect.objectContaining({ code: 'ValidationException' }));
    expect(() => bridge.putEvents([])).toThrow(expect.objectContaining({ code: 'ValidationException' }));
    expect(bridge.stats().eventsPut).toBe(0);
  });

  /** An entry whose size as AWS counts it (Time 14 bytes, Source, DetailType, Detail, Resources) is `bytes`. */
  const entryOfSize = (bytes: number, extra: Partial<PutEventsRequestEntry> = {}) => {
    const shell = { ...orderEvent('OrderReceived', { blob: '' }), ...extra };
    const counted =
      (shell.Time === undefined ? 0 : 14) +
      shell.Source.length +
      shell.DetailType.length +
      shell.Detail.length +
      (shell.Resources ?? []).reduce((total, resource) => total + resource.length, 0);
    return { ...orderEvent('OrderReceived', { blob: 'x'.repeat(bytes - counted) }), ...extra };
  };

  it('takes up to 1 MiB of entries in one request, as AWS has since January 2026 (each entry may pass 256 KB)', () => {
    const bridge = bridgeWith(new FakeDelivery());
    const third = Math.floor((1024 * 1024) / 3);
    const entries = [entryOfSize(third), entryOfSize(third), entryOfSize(1024 * 1024 - 2 * third)];

    const result = bridge.putEvents(entries);

    expect(result.FailedEntryCount).toBe(0);
    expect(bridge.putEvents([entryOfSize(300 * 1024)]).FailedEntryCount).toBe(0);
  });

  it('refuses a request one byte over 1 MiB, counting Time as 14 bytes and every resource', () => {
    const bridge = bridgeWith(new FakeDelivery());
    const withTime = entryOfSize(1024 * 1024 + 1, { Time: new Date(), Resources: ['arn:aws:states:::x'] });

    expect(() => bridge.putEvents([withTime])).toThrow(
      expect.objectContaining({
        code: 'ValidationException',
        message: 'Total size of the entries in the request is over the limit.',
      }),
    );
    expect(() => bridge.putEvents([entryOfSize(512 * 1024), entryOfSize(512 * 1024 + 1)])).toThrow(
      expect.objectContaining({ code: 'ValidationException' }),
    );
    expect(bridge.stats().eventsPut).toBe(0);
  });

  it('fails bad entries one by one and accepts the rest, in order', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(delivery);
    const entries: PutEventsRequestEntry[] = [
      { ...orderEvent('OrderReceived'), Detail: '{not json' },
      orderEvent('OrderReceived'),
      { ...orderEvent('OrderReceived'), Source: undefined },
      { ...orderEvent('OrderReceived'), EventBusName: 'no-such-bus' },
      { ...orderEvent('OrderReceived'), Detail: '[1,2]' },
    ];

    const result = bridge.putEvents(entries);
    await bridge.idle();

    expect(result.FailedEntryCount).toBe(4);
    expect(result.Entries).toEqual([
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
      { EventId: expect.any(String) },
      { ErrorCode: 'InvalidArgument', ErrorMessage: expect.stringContaining('Source') },
      { ErrorCode: 'ResourceNotFoundException', ErrorMessage: 'Event bus no-such-bus does not exist.' },
      { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
    ]);
    expect(delivery.attempts).toHaveLength(1);
    expect(bridge.stats()).toMatchObject({ eventsPut: 1, failedEntries: 4 });
  });
});

describe('AWS services’ own events', () => {
  const STOPPED_RULE_TARGET = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:settle-stopped-order`;
  const stoppedRule: RuleConfig = {
    name: 'stopped-runs',
    eventBusName: 'default',
    eventPattern: {
      source: ['aws.states'],
      'detail-type': ['Step Functions Execution Status Change'],
      detail: { status: ['ABORTED'] },
    },
    targets: [{ id: 'settle', arn: STOPPED_RULE_TARGET }],
  };
  const statusChange = (status: string) => ({
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    resources: ['arn:aws:states:us-east-1:000000000000:execution:order-workflow:run-1'],
    detail: { status, executionArn: 'arn:aws:states:us-east-1:000000000000:execution:order-workflow:run-1' },
  });

  it('reach the default bus’s matching rules, and are not billed as puts', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(delivery, { rules: [stoppedRule] });

    bridge.sendServiceEvent(statusChange('RUNNING'));
    bridge.sendServiceEvent(statusChange('ABORTED'));
    await bridge.idle();

    expect(delivery.payloadsFor(STOPPED_RULE_TARGET)).toEqual([
      expect.objectContaining({
        source: 'aws.states',
        account: ACCOUNT,
        detail: expect.objectContaining({ status: 'ABORTED' }),
      }),
    ]);
    expect(bridge.stats()).toMatchObject({ eventsPut: 0, serviceEvents: 2 });
  });

  it('cannot be forged: a PutEvents entry with an aws. source fails as AWS answers it', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(delivery, { rules: [stoppedRule] });

    const result = bridge.putEvents([
      {
        Source: 'aws.states',
        DetailType: 'Step Functions Execution Status Change',
        Detail: '{"status":"ABORTED"}',
      },
    ]);
    await bridge.idle();

    expect(result).toEqual({
      FailedEntryCount: 1,
      Entries: [
        { ErrorCode: 'NotAuthorizedForSourceException', ErrorMessage: 'Not authorized for the source.' },
      ],
    });
    expect(delivery.delivered).toEqual([]);
  });
});

describe('rules from configuration', () => {
  it('refuses a rule with an invalid pattern, naming the rule', () => {
    const broken = { ...orderReceivedRule, eventPattern: { source: 'order-middleware' } };

    expect(() => bridgeWith(new FakeDelivery(), { rules: [broken] })).toThrow(
      expect.objectContaining({
        code: 'InvalidEventPatternException',
        message: expect.stringContaining('order-received'),
      }),
    );
  });

  it('accepts the pattern as JSON text, as CloudFormation allows', async () => {
    const delivery = new FakeDelivery();
    const asText = { ...orderReceivedRule, eventPattern: JSON.stringify(orderReceivedRule.eventPattern) };
    const bridge = bridgeWith(delivery, { rules: [asText] });

    bridge.putEvents([orderEvent('OrderReceived'), orderEvent('OrderAccepted')]);
    await bridge.idle();

    expect(delivery.attempts).toEqual([WORKFLOW_ARN]);
  });

  it('refuses a target with an InputTransformer rather than send it the untransformed event', () => {
    const transformed: RuleConfig = {
      ...orderReceivedRule,
      targets: [
        {
          id: 'workflow',
          arn: WORKFLOW_ARN,
          inputTransformer: { inputPathsMap: { id: '$.detail.orderId' }, inputTemplate: '{"orderId": <id>}' },
        },
      ],
    };

    expect(() => bridgeWith(new FakeDelivery(), { rules: [transformed] })).toThrow(
      'Rule order-received: target workflow has an InputTransformer, which the local EventBridge does not apply',
    );
  });

  it('refuses a rule on a bus that does not exist', () => {
    expect(() => bridgeWith(new FakeDelivery(), { buses: [] })).toThrow(
      expect.objectContaining({ code: 'ResourceNotFoundException' }),
    );
  });
});

describe('eventBridgeApi', () => {
  const api = () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(delivery);
    const operations = eventBridgeApi(bridge);
    const asServiceApi: ServiceApi = operations; // fits the edge's contract
    return { delivery, bridge, api: operations, asServiceApi };
  };

  async function awsError(call: Promise<unknown>): Promise<AwsError> {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AwsError);
    return error as AwsError;
  }

  it('PutEvents puts the entries and reports each', async () => {
    const { api: ops, bridge, delivery } = api();

    const result = await ops.PutEvents({ Entries: [orderEvent('OrderReceived'), { Source: 'x' }] });
    await bridge.idle();

    expect(result.FailedEntryCount).toBe(1);
    expect(delivery.payloadsFor(WORKFLOW_ARN)).toHaveLength(1);
    expect((await awsError(ops.PutEvents({}))).code).toBe('ValidationException');
    expect((await awsError(ops.PutEvents(undefined as never))).code).toBe('ValidationException');
  });

  it('ListEventBuses lists default and the custom bus with ARNs', async () => {
    const { api: ops } = api();

    expect(await ops.ListEventBuses({})).toEqual({
      EventBuses: [
        { Name: 'default', Arn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default` },
        { Name: BUS, Arn: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${BUS}` },
      ],
    });
    expect((await ops.ListEventBuses({ NamePrefix: 'order' })).EventBuses.map((b) => b.Name)).toEqual([BUS]);
  });

  it('ListRules filters by bus and NamePrefix, and pages', async () => {
    const { api: ops } = api();

    const all = await ops.ListRules({ EventBusName: BUS });
    expect(all.Rules.map((rule) => rule.Name)).toEqual(['order-received', 'order-outcome']);
    expect(all.Rules[0]).toEqual({
      Name: 'order-received',
      Arn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/${BUS}/order-received`,
      EventPattern: JSON.stringify(orderReceivedRule.eventPattern),
      State: 'ENABLED',
      EventBusName: BUS,
    });
    expect((await ops.ListRules({ EventBusName: BUS, NamePrefix: 'order-out' })).Rules).toHaveLength(1);
    expect((await ops.ListRules({})).Rules).toEqual([]);

    const first = await ops.ListRules({ EventBusName: BUS, Limit: 1 });
    const second = await ops.ListRules({ EventBusName: BUS, Limit: 1, NextToken: first.NextToken });
    expect([first.Rules[0]?.Name, second.Rules[0]?.Name]).toEqual(['order-received', 'order-outcome']);
    expect(second.NextToken).toBeUndefined();
  });

  it('ListRules on an unknown bus is ResourceNotFoundException', async () => {
    const { api: ops } = api();

    expect((await awsError(ops.ListRules({ EventBusName: 'nope' }))).code).toBe('ResourceNotFoundException');
  });

  it('DescribeRule describes a rule, or says it does not exist', async () => {
    const { api: ops } = api();

    expect(await ops.DescribeRule({ Name: 'order-outcome', EventBusName: BUS })).toMatchObject({
      Name: 'order-outcome',
      State: 'ENABLED',
      EventBusName: BUS,
      CreatedBy: ACCOUNT,
    });
    const missing = await awsError(ops.DescribeRule({ Name: 'order-outcome' }));
    expect(missing.code).toBe('ResourceNotFoundException');
    expect(missing.message).toContain('order-outcome');
  });

  it('ListTargetsByRule gives targets in the AWS shape', async () => {
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(delivery, {
      rules: [failingTarget({ maximumRetryAttempts: 3, maximumEventAgeInSeconds: 600 }, DLQ_ARN)],
    });

    expect(
      await eventBridgeApi(bridge).ListTargetsByRule({ Rule: 'order-received', EventBusName: BUS }),
    ).toEqual({
      Targets: [
        {
          Id: 'workflow',
          Arn: WORKFLOW_ARN,
          RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 600 },
          DeadLetterConfig: { Arn: DLQ_ARN },
        },
      ],
    });
  });

  describe('PutTargets', () => {
    const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:test-outcomes`;

    it('adds a queue target to a rule it just put; matching events reach the queue, others do not', async () => {
      const { api: ops, bridge, delivery } = api();
      await ops.PutRule({
        Name: 'test-outcomes',
        EventBusName: BUS,
        EventPattern: JSON.stringify({ source: ['order-middleware'], 'detail-type': ['OrderAccepted'] }),
      });

      expect(
        await ops.PutTargets({
          Rule: 'test-outcomes',
          EventBusName: BUS,
          Targets: [{ Id: 'queue', Arn: QUEUE_ARN }],
        }),
      ).toEqual({ FailedEntryCount: 0, FailedEntries: [] });
      await ops.PutEvents({ Entries: [orderEvent('OrderAccepted'), orderEvent('OrderReceived')] });
      await bridge.idle();

      expect(delivery.payloadsFor(QUEUE_ARN)).toEqual([
        expect.objectContaining({
          'detail-type': 'OrderAccepted',
          detail: { orderId: 'ord_1', partner: 'ubereats' },
        }),
      ]);
      expect(await ops.ListTargetsByRule({ Rule: 'test-outcomes', EventBusName: BUS })).toEqual({
        Targets: [{ Id: 'queue', Arn: QUEUE_ARN }],
      });
    });

    it('updates the target with the same Id instead of adding one, and keeps the targets when the rule is put again', async () => {
      const { api: ops } = api();
      await ops.PutTargets({
        Rule: 'order-outcome',
        EventBusName: BUS,
        Targets: [{ Id: 'notifier', Arn: QUEUE_ARN, InputPath: '$.detail' }],
      });
      await ops.PutRule({
        Name: 'order-outcome',
        EventBusName: BUS,
        EventPattern: JSON.stringify({ source: ['order-middleware'] }),
      });

      expect(await ops.ListTargetsByRule({ Rule: 'order-outcome', EventBusName: BUS })).toEqual({
        Targets: [{ Id: 'notifier', Arn: QUEUE_ARN, InputPath: '$.detail' }],
      });
    });

    it('refuses what AWS refuses, with its codes', async () => {
      const { api: ops } = api();
      const put = (targets: unknown, rule = 'order-outcome') =>
        awsError(ops.PutTargets({ Rule: rule, EventBusName: BUS, Targets: targets }));

      expect((await put([{ Id: 'q', Arn: QUEUE_ARN }], 'nope')).code).toBe('ResourceNotFoundException');
      expect((await put(undefined)).code).toBe('ValidationException');
      expect((await put([])).code).toBe('ValidationException');
      expect((await put([{ Id: 'has space', Arn: QUEUE_ARN }])).code).toBe('ValidationException');
      expect((await put([{ Id: 'q' }])).code).toBe('ValidationException');
      expect((await put([{ Id: 'q', Arn: QUEUE_ARN, Input: '{}', InputPath: '$.detail' }])).code).toBe(
        'ValidationException',
      );
      const fiveMore = Array.from({ length: 5 }, (_, i) => ({ Id: `q${i}`, Arn: QUEUE_ARN }));
      expect((await put(fiveMore)).code).toBe('LimitExceededException');
    });

    it('reports an InputTransformer it cannot apply as a failed entry, and applies the rest', async () => {
      const { api: ops } = api();
      const result = await ops.PutTargets({
        Rule: 'order-outcome',
        EventBusName: BUS,
        Targets: [
          { Id: 'shaped', Arn: QUEUE_ARN, InputTransformer: { InputTemplate: '"x"' } },
          { Id: 'plain', Arn: QUEUE_ARN },
        ],
      });

      expect(result).toEqual({
        FailedEntryCount: 1,
        FailedEntries: [expect.objectContaining({ TargetId: 'shaped', ErrorCode: expect.any(String) })],
      });
      expect(
        (await ops.ListTargetsByRule({ Rule: 'order-outcome', EventBusName: BUS })).Targets.map((t) => t.Id),
      ).toEqual(['notifier', 'plain']);
    });
  });

  describe('TestEventPattern', () => {
    const event = JSON.stringify({
      id: 'e-1',
      account: ACCOUNT,
      source: 'order-middleware',
      time: '2026-01-01T00:00:00Z',
      region: REGION,
      resources: [],
      'detail-type': 'OrderReceived',
      detail: { partner: 'doordash', total: 2599 },
    });

    it('says whether the pattern matches the event', async () => {
      const { api: ops } = api();
      const matching = JSON.stringify({ detail: { total: [{ numeric: ['>', 2000] }] } });
      const other = JSON.stringify({ detail: { partner: [{ prefix: 'uber' }] } });

      expect(await ops.TestEventPattern({ EventPattern: matching, Event: event })).toEqual({ Result: true });
      expect(await ops.TestEventPattern({ EventPattern: other, Event: event })).toEqual({ Result: false });
    });

    it('refuses an invalid pattern with InvalidEventPatternException', async () => {
      const { api: ops } = api();

      for (const pattern of ['{"source": "x"}', '{not json']) {
        const error = await awsError(ops.TestEventPattern({ EventPattern: pattern, Event: event }));
        expect(error.code).toBe('InvalidEventPatternException');
      }
    });

    it('refuses an event without the envelope fields', async () => {
      const { api: ops } = api();
      const bare = JSON.stringify({ source: 'order-middleware', detail: {} });

      const error = await awsError(
        ops.TestEventPattern({ EventPattern: '{"source":["order-middleware"]}', Event: bare }),
      );
      expect(error.code).toBe('ValidationException');
      expect(error.message).toContain('detail-type');
    });
  });
});
