/**
 * How the console finds the system: a deployed stage through its CloudFormation stack (stubbed here:
 * it cannot be tried on this machine), and the local cloud through the same template's names — both
 * end in the same endpoints.
 */
import {
  CloudFormationClient,
  DescribeStacksCommand,
  ListStackResourcesCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { EndpointsNotFound, localEndpoints, stageEndpoints } from '../../../local/console/endpoints';

const cloudFormation = mockClient(CloudFormationClient);
const ARN = (name: string) =>
  `arn:aws:states:eu-west-1:123456789012:stateMachine:order-middleware-review-${name}`;

beforeEach(() => cloudFormation.reset());

function aStack(outputs: Record<string, string>) {
  cloudFormation.on(DescribeStacksCommand, { StackName: 'order-middleware-review' }).resolves({
    Stacks: [
      {
        StackName: 'order-middleware-review',
        StackStatus: 'UPDATE_COMPLETE',
        CreationTime: new Date(),
        Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      },
    ],
  });
  // Two pages, as ListStackResources answers a stack with many resources.
  cloudFormation
    .on(ListStackResourcesCommand, { StackName: 'order-middleware-review' })
    .resolves({
      StackResourceSummaries: [
        {
          LogicalResourceId: 'OrdersTable',
          PhysicalResourceId: 'order-middleware-review-orders',
          ...resource,
        },
        { LogicalResourceId: 'OrderWorkflow', PhysicalResourceId: ARN('order-workflow'), ...resource },
      ],
      NextToken: 'page-2',
    })
    .on(ListStackResourcesCommand, { StackName: 'order-middleware-review', NextToken: 'page-2' })
    .resolves({
      StackResourceSummaries: [
        {
          LogicalResourceId: 'StoresTable',
          PhysicalResourceId: 'order-middleware-review-stores',
          ...resource,
        },
        { LogicalResourceId: 'OrderPrepare', PhysicalResourceId: ARN('order-prepare'), ...resource },
        { LogicalResourceId: 'OrderFinish', PhysicalResourceId: ARN('order-finish'), ...resource },
      ],
    });
}
const resource = {
  ResourceType: 'AWS::X',
  ResourceStatus: 'CREATE_COMPLETE',
  LastUpdatedTimestamp: new Date(),
} as const;

describe('a deployed stage', () => {
  it('takes the API and the simulators from the outputs and the rest from the resources', async () => {
    aStack({
      HttpApiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
      PartnerSimulatorUrl: 'https://partner.example/',
      PosSimulatorUrl: 'https://pos.example',
    });

    const endpoints = await stageEndpoints('review', new CloudFormationClient({ region: 'eu-west-1' }));

    expect(endpoints).toEqual({
      stage: 'review',
      httpApiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
      partnerSimulatorUrl: 'https://partner.example',
      posSimulatorUrl: 'https://pos.example',
      region: 'eu-west-1',
      stateMachines: {
        workflow: ARN('order-workflow'),
        prepare: ARN('order-prepare'),
        finish: ARN('order-finish'),
      },
      ordersTable: 'order-middleware-review-orders',
      storesTable: 'order-middleware-review-stores',
      functionLogGroupPrefix: '/aws/lambda/order-middleware-review-',
    });
    // No endpoint and no credentials of its own: the SDK's and the standard chain's.
    expect(endpoints).not.toHaveProperty('awsEndpoint');
    expect(endpoints).not.toHaveProperty('credentials');
  });

  it('production deploys no simulators: the console has none', async () => {
    aStack({ HttpApiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com' });

    const endpoints = await stageEndpoints('review', new CloudFormationClient({ region: 'eu-west-1' }));

    expect(endpoints).not.toHaveProperty('partnerSimulatorUrl');
    expect(endpoints).not.toHaveProperty('posSimulatorUrl');
  });

  it('a stack without the HTTP API output is refused with what is missing', async () => {
    aStack({});

    await expect(stageEndpoints('review', new CloudFormationClient({ region: 'eu-west-1' }))).rejects.toThrow(
      new EndpointsNotFound('stack order-middleware-review has no output HttpApiUrl'),
    );
  });
});

describe('the local cloud', () => {
  it('is the same template resolved to local names, on the local endpoint with the local credentials', () => {
    const localArn = (name: string) =>
      `arn:aws:states:us-east-1:000000000000:stateMachine:order-middleware-local-${name}`;
    const endpoints = localEndpoints(
      {
        httpUrl: 'http://127.0.0.1:3000',
        awsUrl: 'http://127.0.0.1:4566',
        model: {
          stackName: 'order-middleware-local',
          tables: [
            { logicalId: 'OrdersTable', name: 'order-middleware-local-orders' },
            { logicalId: 'StoresTable', name: 'order-middleware-local-stores' },
          ],
          stateMachines: [
            { logicalId: 'OrderWorkflow', arn: localArn('order-workflow') },
            { logicalId: 'OrderPrepare', arn: localArn('order-prepare') },
            { logicalId: 'OrderFinish', arn: localArn('order-finish') },
          ],
        },
      },
      { partnerUrl: 'http://127.0.0.1:4010', posUrl: 'http://127.0.0.1:4020' },
    );

    expect(endpoints).toEqual({
      stage: 'local',
      httpApiUrl: 'http://127.0.0.1:3000',
      partnerSimulatorUrl: 'http://127.0.0.1:4010',
      posSimulatorUrl: 'http://127.0.0.1:4020',
      region: 'us-east-1',
      awsEndpoint: 'http://127.0.0.1:4566',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      stateMachines: {
        workflow: localArn('order-workflow'),
        prepare: localArn('order-prepare'),
        finish: localArn('order-finish'),
      },
      ordersTable: 'order-middleware-local-orders',
      storesTable: 'order-middleware-local-stores',
      functionLogGroupPrefix: '/aws/lambda/order-middleware-local-',
    });
  });
});
