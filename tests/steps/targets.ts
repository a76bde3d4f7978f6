/**
 * Where the e2e suite (and `npm run load -- --target`) runs: `E2E_TARGET` unset, an in-process local
 * cloud; `local`, an `npm start` already running on the `LOCAL_*` ports; `stack:NAME`, the deployed
 * stage NAME, found through its CloudFormation outputs and resources with the standard credential
 * chain (ARCHITECTURE section 7, "The same tests against any target"). Physical names always come
 * from the target — the template's for stage `local`, the stack's resources on AWS — never from code.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CloudFormationClient,
  DescribeStacksCommand,
  paginateListStackResources,
} from '@aws-sdk/client-cloudformation';
import { type Credentials, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/cloud/sigv4';
import type { LocalStackModel } from '../../local/cloud/template';
import { loadTemplate } from '../../local/cloud/template';

export type E2eTarget =
  | { kind: 'in-process' }
  | { kind: 'local'; ports: LocalPorts }
  | { kind: 'stack'; stage: string };

export interface LocalPorts {
  http: number;
  aws: number;
  partner: number;
  pos: number;
}

/** `npm start`'s ports (ARCHITECTURE section 4), each moved by its `LOCAL_*` variable. */
export function localPorts(env: NodeJS.ProcessEnv = process.env): LocalPorts {
  const port = (name: string, fallback: number) => {
    const value = env[name];
    if (value === undefined || value === '') return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65_535)
      throw new Error(`${name}=${value} is not a port`);
    return parsed;
  };
  return {
    http: port('LOCAL_HTTP_PORT', 3000),
    aws: port('LOCAL_AWS_PORT', 4566),
    partner: port('LOCAL_PARTNER_PORT', 4010),
    pos: port('LOCAL_POS_PORT', 4020),
  };
}

/** A stage name as `sls` takes it (letters, digits, hyphens; scripts/stage-name.mjs makes them). */
const STAGE = /^[A-Za-z0-9-]{1,64}$/;

/** Reads `E2E_TARGET`; anything else than the three forms stops the run with its value. */
export function parseTarget(value: string | undefined, env: NodeJS.ProcessEnv = process.env): E2eTarget {
  if (value === undefined || value === '') return { kind: 'in-process' };
  if (value === 'local') return { kind: 'local', ports: localPorts(env) };
  if (value.startsWith('stack:')) {
    const stage = value.slice('stack:'.length);
    if (!STAGE.test(stage)) throw new Error(`E2E_TARGET=${value}: "${stage}" is not a stage name`);
    return { kind: 'stack', stage };
  }
  throw new Error(`E2E_TARGET=${value} is not one of: (unset), local, stack:NAME`);
}

/** How the AWS SDK reaches the target: the local endpoint with the local credentials, or AWS's own. */
export interface AwsAccess {
  region: string;
  endpoint?: string;
  /** Omitted on a stack: the SDK's standard credential chain. */
  credentials?: Credentials;
}

/**
 * Physical ids by logical id, in CloudFormation's own terms (what `ListStackResources` answers):
 * table, bus and function names, queue URLs, state machine ARNs.
 */
export type PhysicalIds = Readonly<Record<string, string>>;

export interface TargetEndpoints {
  httpUrl: string;
  partnerUrl: string;
  posUrl: string;
  aws: AwsAccess;
  physicalIds: PhysicalIds;
  /** What `call` signs the IAM routes with: the local credentials, or the caller's own on AWS. */
  signing: { region: string; credentials: () => Promise<Credentials> };
}

/** The local model's resources named as CloudFormation would report them. */
export function physicalIdsOf(model: LocalStackModel): PhysicalIds {
  return Object.fromEntries([
    ...model.tables.map((table) => [table.logicalId, table.name]),
    ...model.queues.map((queue) => [queue.logicalId, queue.url]),
    ...model.buses.map((bus) => [bus.logicalId, bus.name]),
    ...model.stateMachines.map((machine) => [machine.logicalId, machine.arn]),
    ...model.functions.map((fn) => [fn.logicalId, fn.name]),
  ]);
}

/** The physical id of `logicalId`, or an error naming what the target lacks. */
export function physicalId(ids: PhysicalIds, logicalId: string): string {
  const id = ids[logicalId];
  if (id === undefined) throw new Error(`the target has no resource ${logicalId}`);
  return id;
}

/** A queue's name from its URL (the last path segment, on AWS as locally). */
export const queueNameOf = (queueUrl: string) => queueUrl.slice(queueUrl.lastIndexOf('/') + 1);

const localSigning = {
  region: LOCAL_REGION,
  credentials: async (): Promise<Credentials> => LOCAL_CREDENTIALS,
};

/**
 * An `npm start` on `ports`: names from the packaged template for stage `local` (the one `npm start`
 * loads), resolved against that endpoint as the local cloud resolves them.
 */
export function localEndpoints(ports: LocalPorts, packageDir: string): TargetEndpoints {
  const awsUrl = `http://127.0.0.1:${ports.aws}`;
  const template = readFileSync(path.join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8');
  const model = loadTemplate(template, { stage: 'local', region: LOCAL_REGION, edgeUrl: awsUrl });
  return {
    httpUrl: `http://127.0.0.1:${ports.http}`,
    partnerUrl: `http://127.0.0.1:${ports.partner}`,
    posUrl: `http://127.0.0.1:${ports.pos}`,
    aws: { region: LOCAL_REGION, endpoint: awsUrl, credentials: LOCAL_CREDENTIALS },
    physicalIds: physicalIdsOf(model),
    signing: localSigning,
  };
}

/** The Serverless Framework's stack name for a stage (`<service>-<stage>`). */
export const stackNameOf = (stage: string) => `order-middleware-${stage}`;

/** The outputs the suite needs from a deployed stage; the simulators' come with non-production stages. */
export const STACK_OUTPUTS = ['HttpApiUrl', 'PartnerSimulatorUrl', 'PosSimulatorUrl'] as const;

/** Stack statuses whose resources are all in place (an update rolled back leaves the previous ones). */
const DEPLOYED = new Set([
  'CREATE_COMPLETE',
  'UPDATE_COMPLETE',
  'UPDATE_ROLLBACK_COMPLETE',
  'IMPORT_COMPLETE',
]);

/**
 * A deployed stage: its URLs from the stack's outputs, every resource's physical id from
 * `ListStackResources`, credentials and region from the SDK's standard chain.
 */
export async function stackEndpoints(
  stage: string,
  cloudFormation: CloudFormationClient = new CloudFormationClient({}),
): Promise<TargetEndpoints> {
  const stackName = stackNameOf(stage);
  const { Stacks = [] } = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const stack = Stacks[0];
  if (!stack) throw new Error(`no stack ${stackName}`);
  if (!DEPLOYED.has(stack.StackStatus ?? ''))
    throw new Error(`stack ${stackName} is ${stack.StackStatus}, not deployed`);
  const outputs = new Map((stack.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]));
  const missing = STACK_OUTPUTS.filter((key) => !outputs.get(key));
  if (missing.length > 0)
    throw new Error(
      `stack ${stackName} has no output ${missing.join(', ')}` +
        (missing.some((key) => key.endsWith('SimulatorUrl'))
          ? ' (the simulators are deployed only to stages other than production, once they run as Lambda functions)'
          : ''),
    );
  const physicalIds: Record<string, string> = {};
  for await (const page of paginateListStackResources({ client: cloudFormation }, { StackName: stackName })) {
    for (const resource of page.StackResourceSummaries ?? []) {
      if (resource.LogicalResourceId && resource.PhysicalResourceId)
        physicalIds[resource.LogicalResourceId] = resource.PhysicalResourceId;
    }
  }
  const region = await cloudFormation.config.region();
  const url = (key: (typeof STACK_OUTPUTS)[number]) => outputs.get(key)!.replace(/\/+$/, '');
  return {
    httpUrl: url('HttpApiUrl'),
    partnerUrl: url('PartnerSimulatorUrl'),
    posUrl: url('PosSimulatorUrl'),
    aws: { region },
    physicalIds,
    signing: {
      region,
      // Resolved on each call: the chain refreshes what expires (an assumed role's session).
      credentials: async () => {
        const { accessKeyId, secretAccessKey, sessionToken } = await cloudFormation.config.credentials();
        return { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) };
      },
    },
  };
}
