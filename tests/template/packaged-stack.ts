/**
 * The CloudFormation template `sls package` makes, packaged once per change of the stack's sources.
 *
 * Packaging runs offline (~8-20 s) in a private copy of the service, never in the repo's
 * .serverless or .esbuild (others use those). The result is cached in os.tmpdir(), keyed by a hash
 * of everything that shapes the template, so every template test file after the first reads it.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TEMPLATE_FILE = 'cloudformation-template-update-stack.json';
/** What shapes the packaged template; a change to any of them packages again. */
const SOURCES = [
  'serverless.yml',
  'package.json',
  'tsconfig.json',
  'resources',
  'statemachines',
  'functions',
];
const PACKAGE_TIMEOUT_MS = 180_000;

/** Long enough for the slowest package on a busy machine. Use as the `beforeAll` timeout. */
export const PACKAGING_TIMEOUT_MS = PACKAGE_TIMEOUT_MS + 20_000;

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

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .sort()
    .flatMap((name) => filesUnder(join(path, name)));
}

function sourcesHash(): string {
  const hash = createHash('sha256');
  for (const file of SOURCES.flatMap((source) => filesUnder(join(REPO, source)))) {
    hash.update(file.slice(REPO.length)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 20);
}

async function packageInto(outDir: string, stage: string): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'order-middleware-package-'));
  try {
    for (const source of SOURCES) {
      if (existsSync(join(REPO, source))) cpSync(join(REPO, source), join(work, source), { recursive: true });
    }
    symlinkSync(join(REPO, 'node_modules'), join(work, 'node_modules'), 'dir');
    const env: NodeJS.ProcessEnv = { ...process.env, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' };
    for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'PARTNER_API_URL', 'POS_API_URL'])
      delete env[name];
    await promisify(execFile)('npx', ['sls', 'package', '--stage', stage, '--package', outDir], {
      cwd: work,
      env,
      timeout: PACKAGE_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((error: { stdout?: string; stderr?: string; message: string }) => {
      throw new Error(
        `sls package failed: ${error.message}\n${(error.stdout ?? '').slice(-3000)}\n${(error.stderr ?? '').slice(-3000)}`,
      );
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Only one process packages a given source hash; the others wait for its result. */
async function withLock(lockDir: string, ready: () => boolean, work: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + PACKAGE_TIMEOUT_MS + 10_000;
  while (!ready()) {
    try {
      mkdirSync(lockDir);
    } catch {
      const stale = existsSync(lockDir) && Date.now() - statSync(lockDir).mtimeMs > PACKAGE_TIMEOUT_MS;
      if (stale) rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir}`);
      await sleep(500);
      continue;
    }
    try {
      if (!ready()) await work();
    } finally {
      rmSync(lockDir, { recursive: true, force: true });
    }
  }
}

function readCached(cacheDir: string): PackagedStack {
  return {
    stage: readFileSync(join(cacheDir, 'stage.txt'), 'utf8').trim(),
    template: JSON.parse(readFileSync(join(cacheDir, TEMPLATE_FILE), 'utf8')) as CfnTemplate,
  };
}

/** The packaged stack for a random `ci-test-*` stage, from the cache when the sources are unchanged. */
export async function packagedStack(): Promise<PackagedStack> {
  const cacheDir = join(tmpdir(), `order-middleware-template-${sourcesHash()}`);
  const ready = () => existsSync(join(cacheDir, 'stage.txt'));
  await withLock(`${cacheDir}.lock`, ready, async () => {
    const stage = `ci-test-${randomBytes(3).toString('hex')}`;
    const outDir = mkdtempSync(join(tmpdir(), 'order-middleware-packaged-'));
    try {
      await packageInto(outDir, stage);
      const staged = `${cacheDir}.partial`;
      rmSync(staged, { recursive: true, force: true });
      mkdirSync(staged);
      cpSync(join(outDir, TEMPLATE_FILE), join(staged, TEMPLATE_FILE));
      writeFileSync(join(staged, 'stage.txt'), stage);
      renameSync(staged, cacheDir);
    } finally {
      rmSync(outDir, { recursive: true, force: true });
    }
  });
  return readCached(cacheDir);
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
