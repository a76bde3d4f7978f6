/**
 * Where the console finds the system: one shape, two ways to fill it. Locally from the local cloud
 * (the same packaged template's outputs and resources, resolved to local names); for a deployed
 * stage from its CloudFormation stack (`DescribeStacks` outputs and `ListStackResources`), with the
 * standard credential chain. Everything after this point is the same code for both.
 */
import {
  CloudFormationClient,
  DescribeStacksCommand,
  paginateListStackResources,
} from '@aws-sdk/client-cloudformation';

export interface ConsoleEndpoints {
  stage: string;
  /** The stack's `HttpApiUrl` output. */
  httpApiUrl: string;
  partnerSimulatorUrl?: string;
  posSimulatorUrl?: string;
  region: string;
  /** An AWS endpoint other than AWS's own (the local cloud's 4566); undefined against AWS. */
  awsEndpoint?: string;
  /** Static credentials (the local ones); undefined: the standard credential chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  stateMachines: { workflow: string; prepare: string; finish: string };
  /** Physical names: the orders table (counts per status), the stores table (the store list). */
  ordersTable: string;
  storesTable: string;
  /** The prefix of the functions' log groups: `/aws/lambda/<service>-<stage>-`. */
  functionLogGroupPrefix: string;
}

/** A stack as the console reads it: its outputs and its resources' physical ids by logical id. */
export interface StackFacts {
  stackName: string;
  outputs: Record<string, string>;
  resources: Record<string, string>;
}

export class EndpointsNotFound extends Error {}

const SERVICE = 'order-middleware';

/** The one place stack facts become endpoints (both ways of finding them end here). */
export function endpointsFrom(
  facts: StackFacts,
  options: {
    stage: string;
    region: string;
    awsEndpoint?: string;
    credentials?: ConsoleEndpoints['credentials'];
  },
): ConsoleEndpoints {
  const output = (name: string) => facts.outputs[name];
  const resource = (logicalId: string) => facts.resources[logicalId];
  const need = (what: string, value: string | undefined) => {
    if (!value) throw new EndpointsNotFound(`stack ${facts.stackName} has no ${what}`);
    return value;
  };
  return {
    stage: options.stage,
    httpApiUrl: need('output HttpApiUrl', output('HttpApiUrl')).replace(/\/+$/, ''),
    ...(output('PartnerSimulatorUrl') && {
      partnerSimulatorUrl: output('PartnerSimulatorUrl')!.replace(/\/+$/, ''),
    }),
    ...(output('PosSimulatorUrl') && { posSimulatorUrl: output('PosSimulatorUrl')!.replace(/\/+$/, '') }),
    region: options.region,
    ...(options.awsEndpoint && { awsEndpoint: options.awsEndpoint }),
    ...(options.credentials && { credentials: options.credentials }),
    stateMachines: {
      workflow: need('OrderWorkflow state machine', output('OrderWorkflowArn') ?? resource('OrderWorkflow')),
      prepare: need('OrderPrepare state machine', output('OrderPrepareArn') ?? resource('OrderPrepare')),
      finish: need('OrderFinish state machine', output('OrderFinishArn') ?? resource('OrderFinish')),
    },
    ordersTable: need('OrdersTable', resource('OrdersTable')),
    storesTable: need('StoresTable', resource('StoresTable')),
    functionLogGroupPrefix: `/aws/lambda/${SERVICE}-${options.stage}-`,
  };
}

/** The stack of a deployed stage, read through CloudFormation. */
export async function stackFacts(
  cloudFormation: CloudFormationClient,
  stackName: string,
): Promise<StackFacts> {
  const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = Stacks[0];
  if (!stack) throw new EndpointsNotFound(`no stack ${stackName}`);
  const outputs: Record<string, string> = {};
  for (const { OutputKey, OutputValue } of stack.Outputs ?? []) {
    if (OutputKey && OutputValue) outputs[OutputKey] = OutputValue;
  }
  const resources: Record<string, string> = {};
  for await (const page of paginateListStackResources({ client: cloudFormation }, { StackName: stackName })) {
    for (const { LogicalResourceId, PhysicalResourceId } of page.StackResourceSummaries ?? []) {
      if (LogicalResourceId && PhysicalResourceId) resources[LogicalResourceId] = PhysicalResourceId;
    }
  }
  return { stackName, outputs, resources };
}

/** `npm run console -- --stage NAME`: the stage's stack `order-middleware-NAME` in the configured region. */
export async function stageEndpoints(
  stage: string,
  cloudFormation = new CloudFormationClient({}),
): Promise<ConsoleEndpoints> {
  const facts = await stackFacts(cloudFormation, `${SERVICE}-${stage}`);
  return endpointsFrom(facts, { stage, region: await cloudFormation.config.region() });
}

/** What the local cloud knows of the same template, as stack facts (its outputs resolve to local names). */
export interface LocalCloudLike {
  httpUrl: string;
  awsUrl: string;
  model: {
    stackName: string;
    tables: Array<{ logicalId: string; name: string }>;
    stateMachines: Array<{ logicalId: string; arn: string }>;
  };
}

/** `npm start` and the tests: the local cloud and its simulators, with the local credentials. */
export function localEndpoints(
  cloud: LocalCloudLike,
  simulators: { partnerUrl?: string; posUrl?: string },
  options: { stage?: string; region?: string; credentials?: ConsoleEndpoints['credentials'] } = {},
): ConsoleEndpoints {
  const resources: Record<string, string> = {};
  for (const table of cloud.model.tables) resources[table.logicalId] = table.name;
  for (const machine of cloud.model.stateMachines) resources[machine.logicalId] = machine.arn;
  const outputs: Record<string, string> = { HttpApiUrl: cloud.httpUrl };
  if (simulators.partnerUrl) outputs.PartnerSimulatorUrl = simulators.partnerUrl;
  if (simulators.posUrl) outputs.PosSimulatorUrl = simulators.posUrl;
  return endpointsFrom(
    { stackName: cloud.model.stackName, outputs, resources },
    {
      stage: options.stage ?? 'local',
      region: options.region ?? 'us-east-1',
      awsEndpoint: cloud.awsUrl,
      credentials: options.credentials ?? { accessKeyId: 'local', secretAccessKey: 'local' },
    },
  );
}
