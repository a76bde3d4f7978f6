/** The bus rule that starts the workflow, its dead-letter queue, and the tables. */
import {
  type CfnTemplate,
  getAtt,
  isSimulatorResource,
  type Json,
  PACKAGING_TIMEOUT_MS,
  packagedStack,
  ref,
  resource,
  resourcesOfType,
  roleStatements,
} from './packaged-stack';

let template: CfnTemplate;
let stage: string;

beforeAll(async () => {
  ({ template, stage } = await packagedStack());
}, PACKAGING_TIMEOUT_MS);

const rules = () => resourcesOfType(template, 'AWS::Events::Rule');
/** The rules that react to events (the others are schedules), by the detail-types they match. */
const ruleFor = (detailType: string) => {
  const matching = rules().filter(([, rule]) =>
    (rule.Properties?.EventPattern?.['detail-type'] as string[] | undefined)?.includes(detailType),
  );
  expect(matching).toHaveLength(1);
  return matching[0]!;
};
/** The rule that starts the order workflow. */
const theRule = () => ruleFor('OrderReceived');
/** The queue policy of one queue (each DLQ has its own). */
const queuePolicyOf = (queueId: string) => {
  const policies = resourcesOfType(template, 'AWS::SQS::QueuePolicy')
    .map(([, p]) => p.Properties ?? {})
    .filter((p) => JSON.stringify(p.Queues).includes(`"${queueId}"`));
  expect(policies).toHaveLength(1);
  return policies[0]!;
};

describe('rules with a pattern', () => {
  it('are the OrderReceived and store-sync rules on the order bus, and the stopped-workflow rule on the default bus', () => {
    const patterned = rules().filter(([, rule]) => rule.Properties?.EventPattern);
    expect(patterned.map(([, rule]) => rule.Properties?.EventPattern['detail-type']).sort()).toEqual([
      ['OrderReceived'],
      ['Step Functions Execution Status Change'],
      ['StoreStatusChanged', 'ItemAvailabilityChanged'],
    ]);
    const stopped = patterned.find(([, rule]) => rule.Properties?.EventPattern.source?.[0] === 'aws.states');
    // Step Functions sends its events to the default bus only; unsettled order workflows, nothing else.
    expect(stopped?.[1].Properties?.EventBusName).toBeUndefined();
    expect(stopped?.[1].Properties?.EventPattern.detail).toEqual({
      status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
      stateMachineArn: [{ Ref: 'OrderWorkflow' }],
    });
  });
});

describe('schedules', () => {
  it('run the reconciler and the store schedules every minute on the default bus, and nothing else', () => {
    const scheduled = rules().filter(([, rule]) => rule.Properties?.ScheduleExpression);
    expect(scheduled.map(([, rule]) => rule.Properties)).toEqual([
      {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [{ Arn: getAtt('ReconcileOrdersLambdaFunction', 'Arn'), Id: 'reconcileOrdersSchedule' }],
      },
      {
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [{ Arn: getAtt('StoreSchedulesLambdaFunction', 'Arn'), Id: 'storeSchedulesSchedule' }],
      },
    ]);
  });
});

describe('OrderReceived rule', () => {
  it('listens on the stage’s own bus for OrderReceived from order-middleware', () => {
    const [, rule] = theRule();
    expect(rule.Properties?.EventBusName).toEqual(ref('OrderBus'));
    expect(rule.Properties?.EventPattern).toEqual({
      source: ['order-middleware'],
      'detail-type': ['OrderReceived'],
    });
    expect(rule.Properties?.State ?? 'ENABLED').toBe('ENABLED');
    expect(resource(template, 'OrderBus').Properties?.Name).toBe(`order-middleware-${stage}-orders`);
  });

  it('starts the order workflow, through a role that may start only that', () => {
    const [, rule] = theRule();
    const targets = rule.Properties?.Targets as Record<string, Json>[];
    expect(targets).toHaveLength(1);
    expect(targets[0]!.Arn).toEqual(ref('OrderWorkflow'));
    const roleId = targets[0]!.RoleArn['Fn::GetAtt'][0] as string;
    expect(roleStatements(resource(template, roleId))).toEqual([
      {
        Effect: 'Allow',
        Action: ['states:StartExecution'],
        Resource: [ref('OrderWorkflow')],
        Condition: undefined,
      },
    ]);
  });

  it('retries a failed delivery, then keeps the event in the dead-letter queue', () => {
    const target = (theRule()[1].Properties?.Targets as Record<string, Json>[] | undefined)?.[0] ?? {};
    expect(target.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
    // A review stage keeps AWS's floor of 60 s; production keeps a day (tests/template/stack-simulators.test.ts).
    expect(target.RetryPolicy.MaximumEventAgeInSeconds).toBeGreaterThanOrEqual(60);
    expect(target.DeadLetterConfig).toEqual({ Arn: getAtt('OrderReceivedDLQ', 'Arn') });
    expect(resource(template, 'OrderReceivedDLQ').Type).toBe('AWS::SQS::Queue');
  });

  it('is the only sender the dead-letter queue accepts', () => {
    const policy = queuePolicyOf('OrderReceivedDLQ');
    expect(policy.Queues).toEqual([ref('OrderReceivedDLQ')]);
    const statements = policy.PolicyDocument.Statement as Record<string, Json>[];
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: getAtt('OrderReceivedDLQ', 'Arn'),
        Condition: { ArnEquals: { 'aws:SourceArn': getAtt(theRule()[0], 'Arn') } },
      },
    ]);
  });

  it('keeps dead letters for the longest time SQS allows, to leave time for a redrive', () => {
    expect(resource(template, 'OrderReceivedDLQ').Properties?.MessageRetentionPeriod).toBe(14 * 24 * 3600);
  });

  it('is, like every queue of the stack, one the dead-letter operator routes list and redrive', () => {
    const env = resource(template, 'DeadLettersLambdaFunction').Properties?.Environment?.Variables ?? {};
    const queues = resourcesOfType(template, 'AWS::SQS::Queue').map(([id]) => ref(id));
    expect(queues).toContainEqual(ref('OrderReceivedDLQ'));
    expect(env.DEAD_LETTER_QUEUES).toEqual({ 'Fn::Join': [',', queues] });
  });
});

describe('tables', () => {
  const table = (id: string) => resource(template, id).Properties ?? {};

  it('are the orders, stores and idempotency tables, on demand, named for the stage', () => {
    const tables = resourcesOfType(template, 'AWS::DynamoDB::Table');
    // Plus the simulators' table on a review stage (tests/template/stack-simulators.test.ts).
    expect(
      tables
        .map(([id]) => id)
        .filter((id) => !isSimulatorResource(id))
        .sort(),
    ).toEqual(['IdempotencyTable', 'OrdersTable', 'StoresTable']);
    for (const [id, name] of [
      ['OrdersTable', 'orders'],
      ['StoresTable', 'stores'],
      ['IdempotencyTable', 'idempotency'],
    ]) {
      expect(table(id!).BillingMode).toBe('PAY_PER_REQUEST');
      expect(table(id!).TableName).toBe(`order-middleware-${stage}-${name}`);
    }
  });

  it('key orders by orderId and stores by pk, as the design says', () => {
    expect(table('OrdersTable').KeySchema).toEqual([{ AttributeName: 'orderId', KeyType: 'HASH' }]);
    expect(table('StoresTable').KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
    expect(table('IdempotencyTable').KeySchema).toEqual([{ AttributeName: 'id', KeyType: 'HASH' }]);
  });

  it('expire idempotency records by TTL on the attribute Powertools writes', () => {
    expect(table('IdempotencyTable').TimeToLiveSpecification).toEqual({
      AttributeName: 'expiration',
      Enabled: true,
    });
  });

  it('list orders newest first by status, by store and by day, each index carrying only the list’s fields', () => {
    const indexes = (table('OrdersTable').GlobalSecondaryIndexes as Record<string, Json>[]).filter((index) =>
      String(index.IndexName).startsWith('by-'),
    );
    const listFields = ['partner', 'partnerOrderId', 'storeId', 'status', 'total', 'createdAt', 'updatedAt'];
    expect(indexes.map((index) => [index.IndexName, index.KeySchema])).toEqual(
      [
        ['by-status', 'status'],
        ['by-store', 'storeId'],
        ['by-day', 'createdDay'],
      ].map(([name, hash]) => [
        name,
        [
          { AttributeName: hash, KeyType: 'HASH' },
          { AttributeName: 'createdAt', KeyType: 'RANGE' },
        ],
      ]),
    );
    for (const index of indexes) {
      const keys = (index.KeySchema as { AttributeName: string }[]).map((key) => key.AttributeName);
      expect(index.Projection.ProjectionType).toBe('INCLUDE');
      expect([...index.Projection.NonKeyAttributes, ...keys].sort()).toEqual(
        [...new Set([...listFields, ...keys])].sort(),
      );
    }
  });

  it('can restore the orders to a point in time', () => {
    expect(table('OrdersTable').PointInTimeRecoverySpecification).toEqual({
      PointInTimeRecoveryEnabled: true,
    });
  });
});

describe('store-sync rule (issue 9)', () => {
  it('sends StoreStatusChanged and ItemAvailabilityChanged from our bus to syncStoreToPartners, with retries and a DLQ', () => {
    const [, rule] = ruleFor('StoreStatusChanged');
    expect(rule.Properties?.EventBusName).toEqual(getAtt('OrderBus', 'Name'));
    expect(rule.Properties?.EventPattern).toEqual({
      source: ['order-middleware'],
      'detail-type': ['StoreStatusChanged', 'ItemAvailabilityChanged'],
    });
    const targets = rule.Properties?.Targets as Record<string, Json>[];
    expect(targets).toHaveLength(1);
    expect(targets[0]!.Arn).toEqual(getAtt('SyncStoreToPartnersLambdaFunction', 'Arn'));
    expect(targets[0]!.RetryPolicy.MaximumRetryAttempts).toBeGreaterThan(0);
    expect(targets[0]!.DeadLetterConfig).toEqual({ Arn: getAtt('StoreSyncDLQ', 'Arn') });
  });

  it('is the only rule the store-sync DLQ accepts events from', () => {
    const statements = queuePolicyOf('StoreSyncDLQ').PolicyDocument.Statement as Record<string, Json>[];
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: 'sqs:SendMessage',
      Resource: getAtt('StoreSyncDLQ', 'Arn'),
    });
    expect(JSON.stringify(statements[0]!.Condition)).toContain(
      `rule/order-middleware-${stage}-orders/order-middleware-${stage}-store-sync`,
    );
  });
});
