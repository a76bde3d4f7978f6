/**
 * The CloudFormation template `sls package` makes, from the same package cache the local cloud's
 * tests use (local/cloud/package-cache.ts): packaged once per change of the stack's sources.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { packagedStack as packagedStackDir } from '../../local/cloud/package-cache';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Not `local`: the template tests see what a branch stage gets, and prove the stage is in every name. */
const STAGE = 'ci-test';

/** Long enough for the slowest package on a busy machine. Use as the `beforeAll` timeout. */
export const PACKAGING_TIMEOUT_MS = 200_000;

export type Intrinsic = Record<string, unknown>;
/** CloudFormation properties are free-form JSON; tests read them by path. */
// biome-ignore lint/suspicious/noExplicitAny: free-form template JSON
export type Json = any;
export interface CfnResource {
  Type: string;
  Properties?: Record<string, Json>;
  DependsOn?: string | string[];
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Outputs?: Record<string, unknown>;
}
export interface PackagedStack {
  stage: string;
  template: CfnTemplate;
}

/**
 * The packaged stack for `stage` (default `ci-test`, a review stage: it has the simulators), from the
 * shared package cache when the sources are unchanged.
 */
export async function packagedStack(stage = STAGE): Promise<PackagedStack> {
  const dir = await packagedStackDir(stage);
  const template = JSON.parse(readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
  return { stage, template: template as CfnTemplate };
}

/** What resources/simulators.yml adds to every stage but production and local. */
const simulatorsFile = parse(readFileSync(join(REPO, 'resources', 'simulators.yml'), 'utf8'), {
  logLevel: 'silent',
}) as { functions: Record<string, unknown>; resources: { Resources: Record<string, unknown> } };
/** The simulators' functions (`partnerSimulator`, `posSimulator`) as the Serverless Framework names their resources. */
const SIMULATOR_FUNCTION_PREFIXES = Object.keys(simulatorsFile.functions).map(
  (name) => name.charAt(0).toUpperCase() + name.slice(1),
);
export const SIMULATOR_RESOURCE_IDS = Object.keys(simulatorsFile.resources.Resources);

/** Whether a resource is the simulators' (their functions with log groups and versions, API, table, role, URL parameters). */
export function isSimulatorResource(logicalId: string): boolean {
  return (
    SIMULATOR_RESOURCE_IDS.includes(logicalId) ||
    SIMULATOR_FUNCTION_PREFIXES.some((prefix) => logicalId.startsWith(prefix))
  );
}

/** The middleware's own resources: the template without the simulators a review stage carries. */
export function withoutSimulators(template: CfnTemplate): CfnTemplate {
  return {
    ...template,
    Resources: Object.fromEntries(
      Object.entries(template.Resources).filter(([id]) => !isSimulatorResource(id)),
    ),
  };
}

// ── reading the template ──────────────────────────────────────────────────

export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

export function resource(template: CfnTemplate, logicalId: string): CfnResource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`the template has no resource ${logicalId}`);
  return found;
}

export const ref = (logicalId: string) => ({ Ref: logicalId });
export const getAtt = (logicalId: string, attribute: string) => ({ 'Fn::GetAtt': [logicalId, attribute] });

/** A readable stand-in for an intrinsic, used where a `Fn::Sub` placeholder is replaced. */
export function describeIntrinsic(value: unknown): string {
  if (typeof value === 'string') return value;
  const intrinsic = value as Intrinsic;
  if (typeof intrinsic.Ref === 'string') return `ref:${intrinsic.Ref}`;
  const getAttValue = intrinsic['Fn::GetAtt'];
  if (Array.isArray(getAttValue)) return `getatt:${getAttValue.join('.')}`;
  return `intrinsic:${JSON.stringify(value)}`;
}

/**
 * The text of a `Fn::Sub` with every placeholder replaced: its variables by `ref:X` /
 * `getatt:X.Arn`, pseudo parameters and other resources' refs by `ref:<name>`.
 */
export function substitute(sub: unknown): string {
  const [text, variables] = (Array.isArray(sub) ? sub : [sub, {}]) as [string, Record<string, unknown>];
  return text
    .replace(/\$\{!/g, '\uE000')
    .replace(/\$\{([^}]+)\}/g, (_, name: string) =>
      name in variables ? describeIntrinsic(variables[name]) : `ref:${name}`,
    )
    .replace(/\uE000/g, '${');
}

export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Resource?: string;
  Parameters?: Record<string, Json>;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  Retry?: { ErrorEquals: string[]; JitterStrategy?: string; [key: string]: unknown }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string | null }[];
  Branches?: AslDefinition[];
  ItemProcessor?: AslDefinition;
  Iterator?: AslDefinition;
  [key: string]: unknown;
}
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  QueryLanguage?: string;
  [key: string]: unknown;
}

/** A state machine's definition, parsed from its `DefinitionString` (a `Fn::Sub`). */
export function stateMachineDefinition(template: CfnTemplate, logicalId: string): AslDefinition {
  const definition = resource(template, logicalId).Properties?.DefinitionString;
  const text = typeof definition === 'string' ? definition : substitute(definition['Fn::Sub']);
  return JSON.parse(text) as AslDefinition;
}

/** Every state of a definition, nested Parallel branches and Map processors included. */
export function allStates(definition: AslDefinition): [string, AslState][] {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    [name, state] as [string, AslState],
    ...(state.Branches ?? []).flatMap(allStates),
    ...[state.ItemProcessor, state.Iterator]
      .filter((d): d is AslDefinition => d !== undefined)
      .flatMap(allStates),
  ]);
}

export interface PolicyStatement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: unknown[];
  Condition?: unknown;
}

const asArray = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** The statements of a role's inline policies, with Action and Resource always as arrays. */
export function roleStatements(role: CfnResource): PolicyStatement[] {
  const policies = asArray(role.Properties?.Policies as { PolicyDocument: { Statement: unknown } }[]);
  return policies.flatMap((policy) =>
    asArray(policy.PolicyDocument.Statement as Record<string, Json>[]).map((statement) => ({
      Effect: statement.Effect,
      Action: asArray(statement.Action),
      Resource: asArray(statement.Resource),
      Condition: statement.Condition,
    })),
  );
}

/** Every role's statements, by the role's logical id. */
export function allRoleStatements(template: CfnTemplate): [string, PolicyStatement][] {
  return resourcesOfType(template, 'AWS::IAM::Role').flatMap(([id, role]) =>
    roleStatements(role).map((statement) => [id, statement] as [string, PolicyStatement]),
  );
}
