/**
 * The partner sync in the packaged stack (issue 9): a failed push cannot vanish — Lambda's own
 * retries and on-failure destination end in the store-sync DLQ like the rule's delivery failures,
 * the queue's depth is alarmed — and the sync's role reaches only what it uses.
 */
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

const actionsOf = (roleId: string) =>
  roleStatements(resource(template, roleId)).flatMap((statement) =>
    statement.Action.map((action) => [action, statement.Resource] as const),
  );

describe('syncStoreToPartners', () => {
  it('is the store-sync DLQ, 14 days, encrypted', () => {
    expect(resource(template, 'StoreSyncDLQ').Properties).toEqual({
      QueueName: `order-middleware-${stage}-store-sync-dlq`,
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
    });
  });

  it('runs as StoreSyncRole with a timeout that covers every partner call', () => {
    const fn = resource(template, 'SyncStoreToPartnersLambdaFunction').Properties!;
    expect(fn.Role).toEqual(getAtt('StoreSyncRole', 'Arn'));
    expect(fn.Timeout).toBeGreaterThanOrEqual(30);
  });

  it('sends a push that failed its Lambda retries to the same DLQ (EventBridge invokes it asynchronously)', () => {
    const configs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig')
      .map(([, config]) => config.Properties!)
      .filter(
        (config) =>
          JSON.stringify(config.FunctionName) === JSON.stringify(ref('SyncStoreToPartnersLambdaFunction')),
      );
    expect(configs).toEqual([
      expect.objectContaining({
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: getAtt('StoreSyncDLQ', 'Arn') } },
      }),
    ]);
  });

  it('has an alarm as soon as one message is in the store-sync DLQ', () => {
    const alarm = resourcesOfType(template, 'AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties as Record<string, Json>)
      .find((a) => JSON.stringify(a.Dimensions).includes('StoreSyncDLQ'));
    expect(alarm).toMatchObject({
      AlarmName: `order-middleware-${stage}-store-sync-dlq-not-empty`,
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: getAtt('StoreSyncDLQ', 'QueueName') }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [ref('AlarmTopic')],
    });
  });
});

describe('the sweep', () => {
  it('alarms when some partner still lags a store after five sweeps in a row', () => {
    const alarm = resourcesOfType(template, 'AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties as Record<string, Json>)
      .find((a) => a.MetricName === 'StoresLaggingPartners');
    expect(alarm).toMatchObject({
      Namespace: 'OrderMiddleware',
      Dimensions: [
        { Name: 'service', Value: 'order-middleware' },
        { Name: 'stage', Value: stage },
      ],
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [ref('AlarmTopic')],
    });
  });
});

describe('StoreSyncRole', () => {
  it('reads and updates the stores table only, reads partner secrets, sends to its DLQ — nothing else', () => {
    const granted = actionsOf('StoreSyncRole').map(([action, resources]): [string, string] => [
      action,
      JSON.stringify(resources),
    ]);
    const partnerSecrets = JSON.stringify(
      roleStatements(resource(template, 'StoreSyncRole')).find((s) => s.Action.includes('ssm:GetParameter'))
        ?.Resource,
    );
    expect(partnerSecrets).toContain('/partners/*');
    expect(granted.map(([action]) => action).sort()).toEqual(
      [
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'kms:Decrypt',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'sqs:SendMessage',
        'ssm:GetParameter',
        'ssm:GetParameters',
      ].sort(),
    );
    for (const [action, resources] of granted) {
      if (action.startsWith('dynamodb:'))
        expect(resources).toBe(JSON.stringify([getAtt('StoresTable', 'Arn')]));
      if (action.startsWith('sqs:')) expect(resources).toBe(JSON.stringify([getAtt('StoreSyncDLQ', 'Arn')]));
    }
  });

  it('the storeSchedules sweep may read the partner secrets it pushes with', () => {
    const ssm = roleStatements(resource(template, 'StoreSchedulesRole')).filter((s) =>
      s.Action.includes('ssm:GetParameter'),
    );
    expect(JSON.stringify(ssm)).toContain('/partners/*');
  });
});
