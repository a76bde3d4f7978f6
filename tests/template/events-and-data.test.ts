/** The bus rule that starts the workflow, its dead-letter queue, and the tables. */
import {
  type CfnTemplate,
  getAtt,
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
/** The one rule that reacts to events (the others are schedules). */
const theRule = () => {
  const patterned = rules().filter(([, rule]) => rule.Properties?.EventPattern);
  expect(patterned).toHaveLength(1);
  return patterned[0]!;
};

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
    expect(target.RetryPolicy.MaximumEventAgeInSeconds).toBeGreaterThanOrEqual(3600);
    expect(target.DeadLetterConfig).toEqual({ Arn: getAtt('OrderReceivedDLQ', 'Arn') });
    expect(resource(template, 'OrderReceivedDLQ').Type).toBe('AWS::SQS::Queue');
  });

  it('is the only sender the dead-letter queue accepts', () => {
    const policies = resourcesOfType(template, 'AWS::SQS::QueuePolicy').map(([, p]) => p.Properties ?? {});
    expect(policies).toHaveLength(1);
    const [policy] = policies;
    expect(policy!.Queues).toEqual([ref('OrderReceivedDLQ')]);
    const statements = policy!.PolicyDocument.Statement as Record<string, Json>[];
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
    expect(tables.map(([id]) => id).sort()).toEqual(['IdempotencyTable', 'OrdersTable', 'StoresTable']);
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
