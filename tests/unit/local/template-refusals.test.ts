/**
 * The loader refuses, with its name, every property it reads but does not honour: start-up stops
 * naming the resource, its type and the property, rather than run it half-emulated.
 */
import { readFileSync } from 'node:fs';
import { loadTemplate } from '../../../local/cloud/template';

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/template-small.json', import.meta.url), 'utf8'),
) as { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
const options = {
  stage: 'local',
  edgeUrl: 'http://127.0.0.1:4566',
  region: 'eu-west-1',
  accountId: '123456789012',
};

/** The fixture with one resource's properties changed. */
function withProperties(logicalId: string, change: (properties: Record<string, unknown>) => void) {
  const template = structuredClone(fixture);
  const resource = template.Resources[logicalId];
  if (!resource) throw new Error(`no ${logicalId} in the fixture`);
  change(resource.Properties);
  return template;
}

const load = (template: object) => loadTemplate(template, options);

test('the fixture loads as it is', () => {
  expect(() => load(fixture)).not.toThrow();
});

describe.each([
  ['ReceiveOrderLambdaFunction', 'AWS::Lambda::Function', 'VpcConfig', { SubnetIds: ['subnet-1'] }],
  ['ReceiveOrderLambdaFunction', 'AWS::Lambda::Function', 'Layers', ['arn:aws:lambda:eu-west-1:1:layer:x:1']],
  ['ReceiveOrderLambdaFunction', 'AWS::Lambda::Function', 'TracingConfig', { Mode: 'Active' }],
  ['ReceiveOrderLambdaFunction', 'AWS::Lambda::Function', 'LoggingConfig', { ApplicationLogLevel: 'DEBUG' }],
  ['ReceiveOrderLambdaFunction', 'AWS::Lambda::Function', 'EphemeralStorage', { Size: 1024 }],
  ['OrdersTable', 'AWS::DynamoDB::Table', 'StreamSpecification', { StreamViewType: 'NEW_IMAGE' }],
  ['OrderReceivedDLQ', 'AWS::SQS::Queue', 'FifoQueue', true],
  ['OrderBus', 'AWS::Events::EventBus', 'DeadLetterConfig', { Arn: 'arn:aws:sqs:eu-west-1:1:q' }],
  ['OrderWorkflow', 'AWS::StepFunctions::StateMachine', 'TracingConfiguration', { Enabled: true }],
  ['HttpApiRouteGetOrdersOrderidVar', 'AWS::ApiGatewayV2::Route', 'RequestParameters', {}],
  ['HttpApiIntegrationReceiveOrder', 'AWS::ApiGatewayV2::Integration', 'RequestParameters', {}],
  ['WaitForCourierAsyncConfig', 'AWS::Lambda::EventInvokeConfig', 'Unknown', 1],
])('%s (%s) with %s', (logicalId, type, property, value) => {
  test('stops loading, naming the resource, its type and the property', () => {
    const template = withProperties(logicalId, (p) => {
      p[property] = value;
    });

    expect(() => load(template)).toThrow(`Resource ${logicalId} (${type}) sets ${property}`);
  });
});

test('descriptions, tags and IAM roles change nothing locally and are accepted', () => {
  const template = withProperties('ReceiveOrderLambdaFunction', (p) => {
    p.Description = 'takes partner webhooks';
    p.Tags = [{ Key: 'team', Value: 'orders' }];
  });

  expect(load(template).functions.map((f) => f.logicalId)).toContain('ReceiveOrderLambdaFunction');
});

describe('functions', () => {
  test('code from anything but the packaged zip is refused (Code.ImageUri)', () => {
    const template = withProperties('ReceiveOrderLambdaFunction', (p) => {
      p.Code = { ImageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders:1' };
    });

    expect(() => load(template)).toThrow(
      'Resource ReceiveOrderLambdaFunction (AWS::Lambda::Function) sets Code.ImageUri',
    );
  });

  test('a runtime other than Node.js is refused', () => {
    const template = withProperties('ReceiveOrderLambdaFunction', (p) => {
      p.Runtime = 'python3.12';
    });

    expect(() => load(template)).toThrow('sets Runtime python3.12');
  });
});

describe('EventInvokeConfig', () => {
  const dlq = { 'Fn::GetAtt': ['AsyncLambdaDLQ', 'Arn'] };

  test('MaximumEventAgeInSeconds and MaximumRetryAttempts reach the function', () => {
    const waitForCourier = load(fixture).functions.find(
      (f) => f.logicalId === 'WaitForCourierLambdaFunction',
    );

    expect(waitForCourier).toMatchObject({ maximumRetryAttempts: 1, maximumEventAgeInSeconds: 300 });
  });

  test('an SQS on-failure destination is kept apart from the DLQ: it gets the invocation record', () => {
    const template = withProperties('WaitForCourierAsyncConfig', (p) => {
      p.DestinationConfig = { OnFailure: { Destination: dlq } };
    });
    delete template.Resources.WaitForCourierLambdaFunction?.Properties.DeadLetterConfig;

    const fn = load(template).functions.find((f) => f.logicalId === 'WaitForCourierLambdaFunction');

    expect(fn?.onFailureArn).toBe('arn:aws:sqs:eu-west-1:123456789012:order-middleware-local-AsyncLambdaDLQ');
    expect(fn?.deadLetterArn).toBeUndefined();
  });

  test.each([
    [
      { OnSuccess: { Destination: 'arn:aws:sqs:eu-west-1:123456789012:done' } },
      'DestinationConfig.OnSuccess',
    ],
    [
      { OnFailure: { Destination: 'arn:aws:sns:eu-west-1:123456789012:alarms' } },
      'DestinationConfig.OnFailure.Destination',
    ],
  ])('%j is refused', (destinations, named) => {
    const template = withProperties('WaitForCourierAsyncConfig', (p) => {
      p.DestinationConfig = destinations;
    });

    expect(() => load(template)).toThrow(
      `Resource WaitForCourierAsyncConfig (AWS::Lambda::EventInvokeConfig) sets ${named}`,
    );
  });

  test('a qualifier other than $LATEST is refused', () => {
    const template = withProperties('WaitForCourierAsyncConfig', (p) => {
      p.Qualifier = 'live';
    });

    expect(() => load(template)).toThrow('sets Qualifier live');
  });
});

describe('rule targets', () => {
  const rule = 'OrderWorkflowEventsRuleCloudWatchEvent1';
  const withTargetKey = (key: string, value: unknown) =>
    withProperties(rule, (p) => {
      const [target] = p.Targets as Array<Record<string, unknown>>;
      if (!target) throw new Error('the fixture rule has no target');
      delete target.InputPath;
      target[key] = value;
    });

  test('an InputTransformer is refused at load, naming the rule and the target', () => {
    const template = withTargetKey('InputTransformer', { InputTemplate: '{"orderId": <id>}' });

    expect(() => load(template)).toThrow(
      `Resource ${rule} (AWS::Events::Rule) sets Targets[orderWorkflowEventsRuleCloudWatchEvent1Step].InputTransformer`,
    );
  });

  test('target parameters the local EventBridge does not apply are refused (SqsParameters)', () => {
    const template = withTargetKey('SqsParameters', { MessageGroupId: 'orders' });

    expect(() => load(template)).toThrow('.SqsParameters');
  });
});

describe('HTTP API', () => {
  test('a payload format 1.0 integration is refused', () => {
    const template = withProperties('HttpApiIntegrationReceiveOrder', (p) => {
      p.PayloadFormatVersion = '1.0';
    });

    expect(() => load(template)).toThrow(
      'Resource HttpApiIntegrationReceiveOrder (AWS::ApiGatewayV2::Integration) sets PayloadFormatVersion 1.0',
    );
  });

  test('an integration timeout shorter than the function’s own Timeout is refused', () => {
    const template = withProperties('HttpApiIntegrationReceiveOrder', (p) => {
      p.TimeoutInMillis = 5000;
    });

    expect(() => load(template)).toThrow(/TimeoutInMillis 5000.*Timeout of 10 s/);
  });

  test('a JWT authorizer is refused', () => {
    const template = withProperties('HttpApiRouteGetOrdersOrderidVar', (p) => {
      p.AuthorizationType = 'JWT';
    });

    expect(() => load(template)).toThrow('sets AuthorizationType JWT');
  });
});

describe('what CloudFormation or the HTTP API would treat differently', () => {
  test.each([
    ['Timeout', 901, 'sets Timeout 901'],
    ['MemorySize', 64, 'sets MemorySize 64'],
  ])('a function %s of %s is refused, as CloudFormation would', (property, value, named) => {
    const template = withProperties('ReceiveOrderLambdaFunction', (p) => {
      p[property] = value;
    });

    expect(() => load(template)).toThrow(named);
  });

  test('more than 4 KB of environment variables, or a name over 64 characters, is refused', () => {
    const bulky = withProperties('ReceiveOrderLambdaFunction', (p) => {
      p.Environment = { Variables: { MENU_CACHE: 'x'.repeat(4100) } };
    });
    const long = withProperties('ReceiveOrderLambdaFunction', (p) => {
      p.FunctionName = `order-middleware-local-${'r'.repeat(50)}`;
    });

    expect(() => load(bulky)).toThrow(/sets Environment\.Variables \(4110 bytes\)/);
    expect(() => load(long)).toThrow('Lambda names are at most 64 characters');
  });

  test('a rule with more than 5 targets is refused', () => {
    const template = withProperties('OrderWorkflowEventsRuleCloudWatchEvent1', (p) => {
      const [target] = p.Targets as Array<Record<string, unknown>>;
      p.Targets = Array.from({ length: 6 }, (_, i) => ({ ...target, Id: `target-${i}` }));
    });

    expect(() => load(template)).toThrow('sets Targets (6)');
  });

  test('stage throttling is refused: the local HTTP API never answers 429', () => {
    const template = withProperties('HttpApiStage', (p) => {
      p.DefaultRouteSettings = { ThrottlingBurstLimit: 50, ThrottlingRateLimit: 100 };
    });

    expect(() => load(template)).toThrow(
      'Resource HttpApiStage (AWS::ApiGatewayV2::Stage) sets DefaultRouteSettings.ThrottlingBurstLimit',
    );
  });

  test('a CORS configuration on the API is refused', () => {
    const template = withProperties('HttpApi', (p) => {
      p.CorsConfiguration = { AllowOrigins: ['*'] };
    });

    expect(() => load(template)).toThrow('sets CorsConfiguration');
  });

  test('an integration timeout over 30 s is refused', () => {
    const template = withProperties('HttpApiIntegrationReceiveOrder', (p) => {
      p.TimeoutInMillis = 60_000;
    });

    expect(() => load(template)).toThrow('sets TimeoutInMillis 60000');
  });
});
