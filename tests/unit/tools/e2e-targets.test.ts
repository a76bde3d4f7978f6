/**
 * The e2e targets (tests/steps/targets.ts): what `E2E_TARGET` may say, the names an `npm start` on
 * given ports uses (from the packaged template), and a deployed stage found through CloudFormation —
 * tried here with a stubbed CloudFormation answer, since this machine has no AWS account.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import {
  localEndpoints,
  parseTarget,
  physicalId,
  queueNameOf,
  stackEndpoints,
  stackNameOf,
} from '../../steps/targets';

describe('E2E_TARGET', () => {
  test('unset or empty: a local cloud in this process', () => {
    expect(parseTarget(undefined, {})).toEqual({ kind: 'in-process' });
    expect(parseTarget('', {})).toEqual({ kind: 'in-process' });
  });

  test("local: npm start's ports, each moved by its LOCAL_* variable", () => {
    expect(parseTarget('local', {})).toEqual({
      kind: 'local',
      ports: { http: 3000, aws: 4566, partner: 4010, pos: 4020 },
    });
    expect(parseTarget('local', { LOCAL_AWS_PORT: '5566', LOCAL_POS_PORT: '5020' })).toEqual({
      kind: 'local',
      ports: { http: 3000, aws: 5566, partner: 4010, pos: 5020 },
    });
  });

  test('stack:NAME: the deployed stage NAME', () => {
    expect(parseTarget('stack:feat-console-1a2b3c', {})).toEqual({
      kind: 'stack',
      stage: 'feat-console-1a2b3c',
    });
    expect(stackNameOf('staging')).toBe('order-middleware-staging');
  });

  test('anything else stops the run, naming the value', () => {
    expect(() => parseTarget('aws', {})).toThrow('E2E_TARGET=aws is not one of: (unset), local, stack:NAME');
    expect(() => parseTarget('stack:', {})).toThrow('E2E_TARGET=stack:: "" is not a stage name');
    expect(() => parseTarget('stack:a/b', {})).toThrow('"a/b" is not a stage name');
    expect(() => parseTarget('local', { LOCAL_HTTP_PORT: 'eighty' })).toThrow(
      'LOCAL_HTTP_PORT=eighty is not a port',
    );
  });
});

describe('an npm start on given ports', () => {
  let packageDir: string;
  beforeAll(() => {
    packageDir = mkdtempSync(path.join(os.tmpdir(), 'e2e-targets-'));
    copyFileSync(
      new URL('../local/fixtures/template-small.json', import.meta.url),
      path.join(packageDir, 'cloudformation-template-update-stack.json'),
    );
  });
  afterAll(() => rmSync(packageDir, { recursive: true, force: true }));

  test("reaches it on those ports, with the template's names for stage local as CloudFormation reports them", async () => {
    const target = localEndpoints({ http: 3100, aws: 4666, partner: 4110, pos: 4120 }, packageDir);

    expect(target).toMatchObject({
      httpUrl: 'http://127.0.0.1:3100',
      partnerUrl: 'http://127.0.0.1:4110',
      posUrl: 'http://127.0.0.1:4120',
      aws: { region: 'us-east-1', endpoint: 'http://127.0.0.1:4666', credentials: { accessKeyId: 'local' } },
    });
    const ids = target.physicalIds;
    expect(physicalId(ids, 'OrdersTable')).toBe('order-middleware-local-orders');
    expect(physicalId(ids, 'OrderBus')).toBe('order-middleware-local-orders');
    expect(physicalId(ids, 'ReceiveOrderLambdaFunction')).toBe('order-middleware-local-receiveOrder');
    expect(physicalId(ids, 'OrderWorkflow')).toBe(
      'arn:aws:states:us-east-1:000000000000:stateMachine:order-middleware-local-order-workflow',
    );
    const dlqUrl = physicalId(ids, 'OrderReceivedDLQ');
    expect(dlqUrl.startsWith('http://127.0.0.1:4666/')).toBe(true);
    expect(queueNameOf(dlqUrl)).toBe('order-middleware-local-order-received-dlq');
    expect(() => physicalId(ids, 'PartnerSimulatorTable')).toThrow(
      'the target has no resource PartnerSimulatorTable',
    );
    expect(await target.signing.credentials()).toEqual({ accessKeyId: 'local', secretAccessKey: 'local' });
  });
});

describe('a deployed stage', () => {
  const cloudFormation = new CloudFormationClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' },
  });
  const stubbed = mockClient(cloudFormation);
  afterEach(() => stubbed.reset());
  afterAll(() => cloudFormation.destroy());

  const outputs = [
    { OutputKey: 'HttpApiUrl', OutputValue: 'https://abc123.execute-api.eu-west-1.amazonaws.com' },
    { OutputKey: 'PartnerSimulatorUrl', OutputValue: 'https://def456.execute-api.eu-west-1.amazonaws.com/' },
    { OutputKey: 'PosSimulatorUrl', OutputValue: 'https://ghi789.execute-api.eu-west-1.amazonaws.com' },
    {
      OutputKey: 'ServerlessDeploymentBucketName',
      OutputValue: 'order-middleware-feat-x-serverlessdeploymentbucket-1',
    },
  ];
  const givenTheStack = (status: string, stackOutputs = outputs) =>
    stubbed.on(DescribeStacksCommand, { StackName: 'order-middleware-feat-x-1a2b3c' }).resolves({
      Stacks: [
        {
          StackName: 'order-middleware-feat-x-1a2b3c',
          StackStatus: status as never,
          CreationTime: new Date(),
          Outputs: stackOutputs,
        },
      ],
    });

  test('its URLs from the outputs, every physical id from ListStackResources (every page), credentials from the chain', async () => {
    givenTheStack('UPDATE_COMPLETE');
    stubbed
      .on(ListStackResourcesCommand, { StackName: 'order-middleware-feat-x-1a2b3c', NextToken: undefined })
      .resolves({
        NextToken: 'page-2',
        StackResourceSummaries: [
          {
            LogicalResourceId: 'OrdersTable',
            PhysicalResourceId: 'order-middleware-feat-x-1a2b3c-orders',
            ResourceType: 'AWS::DynamoDB::Table',
            ResourceStatus: 'CREATE_COMPLETE',
            LastUpdatedTimestamp: new Date(),
          },
          {
            LogicalResourceId: 'OrderReceivedDLQ',
            PhysicalResourceId:
              'https://sqs.eu-west-1.amazonaws.com/123456789012/order-middleware-feat-x-1a2b3c-order-received-dlq',
            ResourceType: 'AWS::SQS::Queue',
            ResourceStatus: 'CREATE_COMPLETE',
            LastUpdatedTimestamp: new Date(),
          },
        ],
      })
      .on(ListStackResourcesCommand, { StackName: 'order-middleware-feat-x-1a2b3c', NextToken: 'page-2' })
      .resolves({
        StackResourceSummaries: [
          {
            LogicalResourceId: 'ReconcileOrdersLambdaFunction',
            PhysicalResourceId: 'order-middleware-feat-x-1a2b3c-reconcileOrders',
            ResourceType: 'AWS::Lambda::Function',
            ResourceStatus: 'CREATE_COMPLETE',
            LastUpdatedTimestamp: new Date(),
          },
        ],
      });

    const target = await stackEndpoints('feat-x-1a2b3c', cloudFormation);

    expect(target).toMatchObject({
      httpUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
      partnerUrl: 'https://def456.execute-api.eu-west-1.amazonaws.com',
      posUrl: 'https://ghi789.execute-api.eu-west-1.amazonaws.com',
      aws: { region: 'eu-west-1' },
    });
    expect(target.aws).not.toHaveProperty('endpoint');
    expect(target.aws).not.toHaveProperty('credentials');
    expect(target.physicalIds).toEqual({
      OrdersTable: 'order-middleware-feat-x-1a2b3c-orders',
      OrderReceivedDLQ:
        'https://sqs.eu-west-1.amazonaws.com/123456789012/order-middleware-feat-x-1a2b3c-order-received-dlq',
      ReconcileOrdersLambdaFunction: 'order-middleware-feat-x-1a2b3c-reconcileOrders',
    });
    expect(queueNameOf(physicalId(target.physicalIds, 'OrderReceivedDLQ'))).toBe(
      'order-middleware-feat-x-1a2b3c-order-received-dlq',
    );
    expect(target.signing.region).toBe('eu-west-1');
    expect(await target.signing.credentials()).toEqual({
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'session',
    });
  });

  test('without the simulators (production, or before they are deployed): an error naming the missing outputs', async () => {
    givenTheStack(
      'CREATE_COMPLETE',
      outputs.filter((output) => !output.OutputKey.endsWith('SimulatorUrl')),
    );
    await expect(stackEndpoints('feat-x-1a2b3c', cloudFormation)).rejects.toThrow(
      'stack order-middleware-feat-x-1a2b3c has no output PartnerSimulatorUrl, PosSimulatorUrl',
    );
  });

  test.each(['ROLLBACK_COMPLETE', 'DELETE_COMPLETE', 'UPDATE_IN_PROGRESS', 'CREATE_FAILED'])(
    'a stack that is %s is not a target',
    async (status) => {
      givenTheStack(status);
      await expect(stackEndpoints('feat-x-1a2b3c', cloudFormation)).rejects.toThrow(
        `stack order-middleware-feat-x-1a2b3c is ${status}, not deployed`,
      );
    },
  );

  test('no such stack: CloudFormation says so', async () => {
    stubbed
      .on(DescribeStacksCommand)
      .rejects(new Error('Stack with id order-middleware-gone does not exist'));
    await expect(stackEndpoints('gone', cloudFormation)).rejects.toThrow('does not exist');
  });
});
