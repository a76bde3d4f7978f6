// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are CloudFormation Fn::Sub templates, not JS ones
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packagedStack } from '../../../local/cloud/package-cache';
import { type LocalStackModel, loadTemplate } from '../../../local/cloud/template';

const fixture = readFileSync(new URL('./fixtures/template-small.json', import.meta.url), 'utf8');
const options = {
  stage: 'local',
  edgeUrl: 'http://127.0.0.1:4566',
  region: 'eu-west-1',
  accountId: '123456789012',
};
const model = loadTemplate(fixture, options);

/** A one-resource template around the given properties, to try one intrinsic at a time. */
function environmentOf(variables: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const template = {
    ...extra,
    Resources: {
      Fn: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          FunctionName: 'svc-local-fn',
          Handler: 'h.handler',
          Runtime: 'nodejs22.x',
          Environment: { Variables: variables },
        },
      },
      Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'q' } },
      Table: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 't' } },
      Machine: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: { StateMachineName: 'm', DefinitionString: '{}' },
      },
      Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
      ...((extra.Resources as object) ?? {}),
    },
  };
  return loadTemplate(template, options).functions.find((f) => f.logicalId === 'Fn')!.environment;
}

describe('functions', () => {
  const receiveOrder = model.functions.find((f) => f.logicalId === 'ReceiveOrderLambdaFunction')!;

  test('carry handler, runtime, sizing, architecture, artifact and ARN', () => {
    expect(receiveOrder).toMatchObject({
      name: 'order-middleware-local-receiveOrder',
      handler: 'functions/receive-order.handler',
      runtime: 'nodejs22.x',
      memorySize: 256,
      timeout: 10,
      architecture: 'arm64',
      reservedConcurrency: 50,
      artifactKey:
        'serverless/order-middleware/local/1732630000000-2024-11-26T14:06:40.000Z/receiveOrder.zip',
      arn: 'arn:aws:lambda:eu-west-1:123456789012:function:order-middleware-local-receiveOrder',
    });
  });

  test('get their environment with every intrinsic resolved to local names', () => {
    expect(receiveOrder.environment).toEqual({
      STAGE: 'local',
      ORDERS_TABLE: 'order-middleware-local-orders',
      EVENT_BUS_NAME: 'order-middleware-local-orders',
      SSM_PREFIX: '/order-middleware/order-middleware-local',
      SECRETS_ARN: 'arn:aws:ssm:eu-west-1:123456789012:parameter/order-middleware/local/partners/*',
      PARTNERS: 'ubereats,doordash,grubhub',
      FIRST_PARTNER: 'ubereats',
      MAX_COURIER_WAIT_SECONDS: '20',
      MODE: 'quiet-local',
      DLQ_URL: 'http://127.0.0.1:4566/123456789012/order-middleware-local-order-received-dlq',
      WORKFLOW_ARN:
        'arn:aws:states:eu-west-1:123456789012:stateMachine:order-middleware-local-order-workflow',
      HTTP_API_URL: 'http://127.0.0.1:3000',
    });
  });

  test('defaults apply and async settings come from DeadLetterConfig and EventInvokeConfig', () => {
    const waitForCourier = model.functions.find((f) => f.name === 'order-middleware-local-waitForCourier')!;
    expect(waitForCourier).toMatchObject({
      memorySize: 128,
      timeout: 3,
      architecture: 'x86_64',
      environment: {},
      deadLetterArn: 'arn:aws:sqs:eu-west-1:123456789012:order-middleware-local-AsyncLambdaDLQ',
      maximumRetryAttempts: 1,
      maximumEventAgeInSeconds: 300,
    });
    expect(waitForCourier.reservedConcurrency).toBeUndefined();
  });
});

test('HTTP API routes come from Route + Integration, with IAM authorization kept', () => {
  expect(model.httpApi?.routes).toEqual([
    { routeKey: 'POST /webhooks/{partner}/orders', functionName: 'order-middleware-local-receiveOrder' },
    {
      routeKey: 'GET /orders/{orderId}',
      functionName: 'order-middleware-local-receiveOrder',
      authorizationType: 'AWS_IAM',
    },
  ]);
});

test('tables keep their resolved properties, with the resolved name', () => {
  expect(model.tables).toEqual([
    {
      logicalId: 'OrdersTable',
      name: 'order-middleware-local-orders',
      properties: expect.objectContaining({
        TableName: 'order-middleware-local-orders',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
      }),
    },
  ]);
});

test('queues get URLs on the edge, ARNs, string attributes and generated names when unnamed', () => {
  expect(model.queues).toEqual([
    {
      logicalId: 'OrderReceivedDLQ',
      name: 'order-middleware-local-order-received-dlq',
      arn: 'arn:aws:sqs:eu-west-1:123456789012:order-middleware-local-order-received-dlq',
      url: 'http://127.0.0.1:4566/123456789012/order-middleware-local-order-received-dlq',
      attributes: { MessageRetentionPeriod: '1209600' },
    },
    {
      logicalId: 'AsyncLambdaDLQ',
      name: 'order-middleware-local-AsyncLambdaDLQ',
      arn: 'arn:aws:sqs:eu-west-1:123456789012:order-middleware-local-AsyncLambdaDLQ',
      url: 'http://127.0.0.1:4566/123456789012/order-middleware-local-AsyncLambdaDLQ',
      attributes: {
        MessageRetentionPeriod: '1209600',
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: 'arn:aws:sqs:eu-west-1:123456789012:order-middleware-local-order-received-dlq',
          maxReceiveCount: 5,
        }),
      },
    },
  ]);
});

test('buses and rules: pattern, bus name, targets with input path, retry policy and DLQ', () => {
  expect(model.buses).toEqual([
    {
      logicalId: 'OrderBus',
      name: 'order-middleware-local-orders',
      arn: 'arn:aws:events:eu-west-1:123456789012:event-bus/order-middleware-local-orders',
    },
  ]);
  expect(model.rules).toEqual([
    {
      logicalId: 'OrderWorkflowEventsRuleCloudWatchEvent1',
      name: 'order-middleware-local-OrderWorkflowEventsRuleCloudWatchEvent1',
      eventBusName: 'order-middleware-local-orders',
      eventPattern: { source: ['order-middleware'], 'detail-type': ['OrderReceived'] },
      state: 'ENABLED',
      targets: [
        {
          id: 'orderWorkflowEventsRuleCloudWatchEvent1Step',
          arn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:order-middleware-local-order-workflow',
          inputPath: '$.detail',
          retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 60 },
          deadLetterArn: 'arn:aws:sqs:eu-west-1:123456789012:order-middleware-local-order-received-dlq',
        },
      ],
    },
  ]);
});

describe('schedule rules', () => {
  /** What osls writes for `events: - schedule: …` on function reconcileOrders, around a given rule. */
  function scheduleTemplate(ruleProperties: Record<string, unknown>) {
    return {
      Resources: {
        ReconcileOrdersLambdaFunction: {
          Type: 'AWS::Lambda::Function',
          Properties: {
            FunctionName: 'order-middleware-local-reconcileOrders',
            Handler: 'functions/reconcile-orders.handler',
            Runtime: 'nodejs22.x',
          },
        },
        OrderBus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'order-middleware-local-orders' } },
        ReconcileOrdersEventsRuleSchedule1: {
          Type: 'AWS::Events::Rule',
          Properties: {
            State: 'ENABLED',
            Targets: [
              {
                Arn: { 'Fn::GetAtt': ['ReconcileOrdersLambdaFunction', 'Arn'] },
                Id: 'reconcileOrdersSchedule',
              },
            ],
            ...ruleProperties,
          },
        },
        ReconcileOrdersLambdaPermissionEventsRuleSchedule1: {
          Type: 'AWS::Lambda::Permission',
          Properties: {
            FunctionName: { 'Fn::GetAtt': ['ReconcileOrdersLambdaFunction', 'Arn'] },
            Action: 'lambda:InvokeFunction',
            Principal: 'events.amazonaws.com',
            SourceArn: { 'Fn::GetAtt': ['ReconcileOrdersEventsRuleSchedule1', 'Arn'] },
          },
        },
      },
    };
  }
  const load = (ruleProperties: Record<string, unknown>) =>
    loadTemplate(scheduleTemplate(ruleProperties), options);

  test('a rate rule as osls writes it loads on the default bus with its Lambda target', () => {
    const loaded = load({ ScheduleExpression: 'rate(1 minute)' });

    expect(loaded.rules).toEqual([
      {
        logicalId: 'ReconcileOrdersEventsRuleSchedule1',
        name: 'order-middleware-local-ReconcileOrdersEventsRuleSchedule1',
        eventBusName: 'default',
        scheduleExpression: 'rate(1 minute)',
        state: 'ENABLED',
        targets: [
          {
            id: 'reconcileOrdersSchedule',
            arn: 'arn:aws:lambda:eu-west-1:123456789012:function:order-middleware-local-reconcileOrders',
          },
        ],
      },
    ]);
    expect(loaded.rules[0]).not.toHaveProperty('eventPattern');
    expect(loaded.notEmulated).toContainEqual({
      logicalId: 'ReconcileOrdersLambdaPermissionEventsRuleSchedule1',
      type: 'AWS::Lambda::Permission',
    });
  });

  test('a DISABLED rule keeps its state, and a rule may have a pattern and a schedule together', () => {
    expect(load({ ScheduleExpression: 'cron(0 3 * * ? *)', State: 'DISABLED' }).rules[0]).toMatchObject({
      scheduleExpression: 'cron(0 3 * * ? *)',
      state: 'DISABLED',
    });
    expect(
      load({ ScheduleExpression: 'rate(5 minutes)', EventPattern: { source: ['aws.health'] } }).rules[0],
    ).toMatchObject({ scheduleExpression: 'rate(5 minutes)', eventPattern: { source: ['aws.health'] } });
  });

  test.each([
    ['rate(1 minutes)', 'singular'],
    ['rate(0 minutes)', 'positive'],
    ['cron(0 10 * * ?)', 'six fields'],
    ['cron(0 10 * * 2 *)', 'exactly one of Day-of-month and Day-of-week'],
    ['', 'rate(value unit) or cron'],
  ])('a bad expression %j stops loading, naming the rule and why', (expression, reason) => {
    expect(() => load({ ScheduleExpression: expression })).toThrow(
      `Rule ReconcileOrdersEventsRuleSchedule1 (order-middleware-local-ReconcileOrdersEventsRuleSchedule1): ScheduleExpression ${JSON.stringify(expression)} is not valid`,
    );
    expect(() => load({ ScheduleExpression: expression })).toThrow(reason);
  });

  test('a schedule on a custom bus is refused, as AWS runs schedules only on the default bus', () => {
    expect(() => load({ ScheduleExpression: 'rate(1 hour)', EventBusName: { Ref: 'OrderBus' } })).toThrow(
      /Rule ReconcileOrdersEventsRuleSchedule1 .* on event bus order-middleware-local-orders: AWS runs schedules only on the default bus/,
    );
  });

  test('a rule with neither pattern nor schedule, or an unknown State, is refused', () => {
    expect(() => load({})).toThrow(
      /Rule ReconcileOrdersEventsRuleSchedule1 .* has neither EventPattern nor ScheduleExpression/,
    );
    expect(() => load({ ScheduleExpression: 'rate(1 hour)', State: 'PAUSED' })).toThrow(
      /Rule ReconcileOrdersEventsRuleSchedule1 .* has State PAUSED/,
    );
  });
});

describe('state machines', () => {
  const byName = (id: string) => model.stateMachines.find((m) => m.logicalId === id)!;

  test('DefinitionString with Fn::Sub variables, ${Resource} refs and ${!Literal} resolves to JSON', () => {
    const workflow = byName('OrderWorkflow');
    expect(workflow).toMatchObject({
      name: 'order-middleware-local-order-workflow',
      arn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:order-middleware-local-order-workflow',
      type: 'STANDARD',
      roleArn: 'arn:aws:iam::123456789012:role/order-middleware-local-OrderWorkflowRole',
    });
    const asl = JSON.parse(workflow.definition);
    expect(asl.Comment).toBe('${NotAVariable} stays literal');
    expect(asl.States.Prepare.Parameters.StateMachineArn).toBe(
      'arn:aws:states:eu-west-1:123456789012:stateMachine:order-middleware-local-order-prepare',
    );
    expect(asl.States.WaitForCourier.Parameters.FunctionName).toBe(
      'arn:aws:lambda:eu-west-1:123456789012:function:order-middleware-local-waitForCourier',
    );
    expect(asl.States.Publish.Parameters.Entries[0].EventBusName).toBe('order-middleware-local-orders');
  });

  test('Definition with DefinitionSubstitutions keeps a whole-value substitution typed', () => {
    const prepare = byName('OrderPrepare');
    expect(prepare.type).toBe('EXPRESS');
    const claim = JSON.parse(prepare.definition).States.ClaimOrder;
    expect(claim.Parameters.TableName).toBe('order-middleware-local-orders');
    expect(claim.TimeoutSeconds).toBe(5);
  });
});

test('resources with no local behaviour are listed; a false Condition drops a resource', () => {
  expect(model.notEmulated.map((r) => r.type).sort()).toEqual(
    [
      'AWS::ApiGatewayV2::Api',
      'AWS::ApiGatewayV2::Stage',
      'AWS::CloudWatch::Alarm',
      'AWS::IAM::Role',
      'AWS::IAM::Role',
      'AWS::IAM::Role',
      'AWS::Lambda::Permission',
      'AWS::Lambda::Version',
      'AWS::S3::Bucket',
      'AWS::S3::BucketPolicy',
      'AWS::SNS::Topic',
      'AWS::SQS::QueuePolicy',
    ].sort(),
  );
  expect(model.notEmulated.map((r) => r.logicalId)).not.toContain('AlarmEmailSubscription');
  expect(model.stackName).toBe('order-middleware-local');
});

test('log groups are emulated, and a state machine carries its logging configuration', () => {
  const machine = (id: string) => model.stateMachines.find((m) => m.logicalId === id)!;
  expect(model.notEmulated.map((r) => r.type)).not.toContain('AWS::Logs::LogGroup');
  expect(model.logGroups.map((g) => g.name).sort()).toEqual([
    '/aws/lambda/order-middleware-local-receiveOrder',
    '/aws/vendedlogs/states/order-middleware-local-order-workflow',
  ]);
  expect(machine('OrderWorkflow').logging).toEqual({
    level: 'ERROR',
    includeExecutionData: false,
    logGroupArn:
      'arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/states/order-middleware-local-order-workflow:*',
  });
  expect(machine('OrderPrepare').logging).toBeUndefined();
});

describe('refusals', () => {
  test('an unknown resource type stops loading, naming the logical id and the type', () => {
    const template = { Resources: { Stream: { Type: 'AWS::Kinesis::Stream', Properties: {} } } };
    expect(() => loadTemplate(template, options)).toThrow('Resource Stream has type AWS::Kinesis::Stream');
  });

  test('extra not-emulated types can be accepted', () => {
    const template = { Resources: { Stream: { Type: 'AWS::Kinesis::Stream', Properties: {} } } };
    expect(
      loadTemplate(template, { ...options, notEmulatedTypes: ['AWS::Kinesis::Stream'] }).notEmulated,
    ).toEqual([{ logicalId: 'Stream', type: 'AWS::Kinesis::Stream' }]);
  });

  test('Fn::ImportValue is an error naming the export', () => {
    expect(() => environmentOf({ X: { 'Fn::ImportValue': 'shared-vpc-id' } })).toThrow(
      /Fn::ImportValue "shared-vpc-id"/,
    );
  });

  test('a Ref to a missing resource names it and where it was used', () => {
    expect(() => environmentOf({ X: { Ref: 'Nowhere' } })).toThrow(
      /Fn\.Environment\.Variables\.X refers to Nowhere/,
    );
  });
});

describe('intrinsics one by one', () => {
  test('Ref: pseudo parameters, parameters (defaults and overrides) and each resource type', () => {
    const env = environmentOf(
      {
        REGION: { Ref: 'AWS::Region' },
        ACCOUNT: { Ref: 'AWS::AccountId' },
        STACK: { Ref: 'AWS::StackName' },
        PARTITION: { Ref: 'AWS::Partition' },
        SUFFIX: { Ref: 'AWS::URLSuffix' },
        PARAM: { Ref: 'Colour' },
        FN: { Ref: 'Fn' },
        QUEUE: { Ref: 'Queue' },
        TABLE: { Ref: 'Table' },
        MACHINE: { Ref: 'Machine' },
        TOPIC: { Ref: 'Topic' },
      },
      { Parameters: { Colour: { Type: 'String', Default: 'blue' } } },
    );
    expect(env).toEqual({
      REGION: 'eu-west-1',
      ACCOUNT: '123456789012',
      STACK: 'svc-local',
      PARTITION: 'aws',
      SUFFIX: 'amazonaws.com',
      PARAM: 'blue',
      FN: 'svc-local-fn',
      QUEUE: 'http://127.0.0.1:4566/123456789012/q',
      TABLE: 't',
      MACHINE: 'arn:aws:states:eu-west-1:123456789012:stateMachine:m',
      TOPIC: 'arn:aws:sns:eu-west-1:123456789012:svc-local-Topic',
    });
    const overridden = loadTemplate(
      {
        Parameters: { Colour: { Type: 'String', Default: 'blue' } },
        Resources: {
          Fn: {
            Type: 'AWS::Lambda::Function',
            Properties: { FunctionName: 'f', Environment: { Variables: { C: { Ref: 'Colour' } } } },
          },
        },
      },
      { ...options, parameters: { Colour: 'red' } },
    );
    expect(overridden.functions[0]?.environment.C).toBe('red');
  });

  test('Fn::GetAtt in both forms: Arn, QueueName, QueueUrl, Name, StreamArn, TopicName', () => {
    expect(
      environmentOf({
        QA: { 'Fn::GetAtt': ['Queue', 'Arn'] },
        QN: { 'Fn::GetAtt': 'Queue.QueueName' },
        QU: { 'Fn::GetAtt': ['Queue', 'QueueUrl'] },
        TA: { 'Fn::GetAtt': ['Table', 'Arn'] },
        TS: { 'Fn::GetAtt': ['Table', 'StreamArn'] },
        MN: { 'Fn::GetAtt': ['Machine', 'Name'] },
        TN: { 'Fn::GetAtt': ['Topic', 'TopicName'] },
      }),
    ).toEqual({
      QA: 'arn:aws:sqs:eu-west-1:123456789012:q',
      QN: 'q',
      QU: 'http://127.0.0.1:4566/123456789012/q',
      TA: 'arn:aws:dynamodb:eu-west-1:123456789012:table/t',
      TS: expect.stringMatching(/^arn:aws:dynamodb:eu-west-1:123456789012:table\/t\/stream\//),
      MN: 'm',
      TN: 'svc-local-Topic',
    });
    expect(() => environmentOf({ X: { 'Fn::GetAtt': ['Queue', 'Colour'] } })).toThrow(/Queue\.Colour/);
  });

  test('Fn::Sub: plain, with variables (themselves intrinsics), attributes and literals', () => {
    expect(
      environmentOf({
        PLAIN: { 'Fn::Sub': '${AWS::Region}/${Queue}/${Table.Arn}' },
        VARS: {
          'Fn::Sub': ['${Name}-${AWS::AccountId}', { Name: { 'Fn::GetAtt': ['Queue', 'QueueName'] } }],
        },
        LITERAL: { 'Fn::Sub': '${!Keep}-${AWS::Partition}' },
      }),
    ).toEqual({
      PLAIN: 'eu-west-1/http://127.0.0.1:4566/123456789012/q/arn:aws:dynamodb:eu-west-1:123456789012:table/t',
      VARS: 'q-123456789012',
      LITERAL: '${Keep}-aws',
    });
  });

  test('Fn::Join, Fn::Select, Fn::Split, nested in each other', () => {
    expect(
      environmentOf({
        JOIN: { 'Fn::Join': ['-', ['a', { Ref: 'Table' }, 3]] },
        SELECT: { 'Fn::Select': ['1', { 'Fn::Split': [':', { 'Fn::GetAtt': ['Queue', 'Arn'] }] }] },
        NESTED: {
          'Fn::Join': [
            '',
            [{ 'Fn::Select': [5, { 'Fn::Split': [':', { 'Fn::Sub': '${Queue.Arn}' }] }] }, '!'],
          ],
        },
      }),
    ).toEqual({ JOIN: 'a-t-3', SELECT: 'aws', NESTED: 'q!' });
    expect(() => environmentOf({ X: { 'Fn::Select': [9, ['a']] } })).toThrow(/out of range/);
  });

  test('Fn::If with Fn::Equals, Fn::Not, Fn::And, Fn::Or conditions; AWS::NoValue removes the key', () => {
    const conditions = {
      Parameters: { Env: { Type: 'String', Default: 'local' } },
      Conditions: {
        IsLocal: { 'Fn::Equals': [{ Ref: 'Env' }, 'local'] },
        IsProd: { 'Fn::Equals': [{ Ref: 'Env' }, 'prod'] },
        NotProd: { 'Fn::Not': [{ Condition: 'IsProd' }] },
        Both: { 'Fn::And': [{ Condition: 'IsLocal' }, { Condition: 'NotProd' }] },
        Either: { 'Fn::Or': [{ Condition: 'IsProd' }, { 'Fn::Equals': ['x', 'y'] }] },
      },
    };
    expect(
      environmentOf(
        {
          A: { 'Fn::If': ['IsLocal', 'yes', 'no'] },
          B: { 'Fn::If': ['NotProd', { Ref: 'Table' }, 'no'] },
          C: { 'Fn::If': ['Both', 'both', 'no'] },
          D: { 'Fn::If': ['Either', 'either', 'neither'] },
          E: { 'Fn::If': ['IsProd', 'prod-only', { Ref: 'AWS::NoValue' }] },
        },
        conditions,
      ),
    ).toEqual({ A: 'yes', B: 't', C: 'both', D: 'neither' });
  });
});

describe('the packaged stack (`sls package --stage local`, from the shared package cache)', () => {
  let packaged: LocalStackModel;
  let localArns: Set<string>;
  beforeAll(async () => {
    const dir = await packagedStack('local');
    packaged = loadTemplate(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'), {
      stage: 'local',
      edgeUrl: 'http://127.0.0.1:4566',
    });
    localArns = new Set([
      ...packaged.functions.map((f) => f.arn),
      ...packaged.stateMachines.map((m) => m.arn),
    ]);
  }, 200_000);

  test('loads with every route on a function of the stack', () => {
    const names = new Set(packaged.functions.map((f) => f.name));
    expect(packaged.httpApi?.routes.length).toBeGreaterThan(0);
    for (const route of packaged.httpApi?.routes ?? []) expect(names).toContain(route.functionName);
  });

  test('state machine definitions are fully resolved and name only resources of the stack', () => {
    for (const machine of packaged.stateMachines) {
      expect(machine.definition).not.toMatch(/\$\{/);
      const arns =
        machine.definition.match(/arn:aws:(lambda|states):[^"]+:(function|stateMachine):[^"]+/g) ?? [];
      for (const arn of arns) expect(localArns).toContain(arn);
    }
  });

  test('every rule target and dead-letter ARN points at something the local cloud runs', () => {
    const queueArns = new Set(packaged.queues.map((q) => q.arn));
    for (const target of packaged.rules.flatMap((r) => r.targets)) {
      expect(localArns).toContain(target.arn);
      if (target.deadLetterArn) expect(queueArns).toContain(target.deadLetterArn);
    }
  });
});
