/**
 * The GitLab pipeline (.gitlab-ci.yml) and the local CI script (.ci/run), read as GitLab reads them
 * (`extends` merged, `!reference` resolved): each stage is packaged once from the tested commit and
 * deployed from that package, the review stack is tested and removed without the repository, and
 * AWS is reached through OIDC only. `npx gitlab-ci-local --list` / `--preview` check the syntax.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

type Job = Record<string, any>;

/** `!reference [job, key]`, kept as a marker to resolve once every job is read. */
const reference = {
  tag: '!reference',
  collection: 'seq' as const,
  resolve: (seq: { toJSON(): unknown }) => ({ reference: seq.toJSON() as string[] }),
};
const pipeline: Record<string, any> = parse(readFileSync('.gitlab-ci.yml', 'utf8'), {
  customTags: [reference],
});

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** GitLab's `extends`: hashes merged deeply, the job's own keys winning; anything else replaced. */
function merged(base: Job, own: Job): Job {
  const out: Job = { ...base };
  for (const [key, value] of Object.entries(own))
    out[key] = isObject(value) && isObject(base[key]) ? merged(base[key], value) : value;
  return out;
}

function resolveReferences(value: unknown): unknown {
  if (Array.isArray(value))
    return value.flatMap((item) => {
      const resolved = resolveReferences(item);
      return isObject(item) && 'reference' in item ? (resolved as unknown[]) : [resolved];
    });
  if (isObject(value) && Array.isArray(value.reference)) {
    const [name, ...keys] = value.reference as string[];
    let target: unknown = pipeline[name!];
    for (const key of keys) target = (target as Record<string, unknown>)[key];
    return resolveReferences(target);
  }
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveReferences(v)]));
  return value;
}

function job(name: string): Job {
  const own = pipeline[name];
  if (!isObject(own)) throw new Error(`.gitlab-ci.yml has no job ${name}`);
  const parents = [own.extends ?? []].flat() as string[];
  const base = parents.reduce<Job>((acc, parent) => merged(acc, job(parent)), {});
  const { extends: _extends, ...rest } = merged(base, own);
  return resolveReferences(rest) as Job;
}

const KEYWORDS = new Set(['default', 'variables', 'stages', 'include', 'workflow']);
const jobNames = Object.keys(pipeline).filter((name) => !name.startsWith('.') && !KEYWORDS.has(name));
/** Every command a job runs, `default:` before_script included unless it sets its own. */
const commandsOf = (name: string): string[] => {
  const j = job(name);
  return [...(j.before_script ?? pipeline.default.before_script ?? []), ...(j.script ?? [])].map(String);
};
const runs = (name: string, pattern: RegExp) => commandsOf(name).some((command) => pattern.test(command));
const needsOf = (name: string) =>
  (job(name).needs ?? []).map((need: string | { job: string; artifacts?: boolean }) =>
    typeof need === 'string' ? { job: need, artifacts: true } : { artifacts: true, ...need },
  );

const deployJobs = jobNames.filter((name) => runs(name, /\bsls deploy\b/));
const packageJobs = jobNames.filter((name) => runs(name, /\bsls package\b/));

test('each target stage is packaged once, from the commit the checks passed on, as an artifact', () => {
  expect(packageJobs.sort()).toEqual(['package_production', 'package_review', 'package_staging']);
  for (const name of packageJobs) {
    const [command] = commandsOf(name).filter((c) => /\bsls package\b/.test(c));
    const dir = command!.match(/--package (\.serverless-[a-z]+)/)?.[1];
    expect({ name, dir }).toEqual({ name, dir: `.serverless-${name.replace('package_', '')}` });
    expect(job(name).artifacts.paths).toEqual([`${dir}/`]);
    expect(
      needsOf(name)
        .map((n: { job: string }) => n.job)
        .sort(),
    ).toEqual(['e2e_local', 'lint', 'test', 'typecheck']);
  }
});

test('every deploy deploys its stage’s package and never rebuilds it', () => {
  expect(deployJobs.sort()).toEqual(['deploy_production', 'deploy_review', 'deploy_staging']);
  for (const name of deployJobs) {
    const target = name.replace('deploy_', '');
    const deploys = commandsOf(name).filter((c) => /\bsls deploy\b/.test(c));
    expect({ name, deploys }).toEqual({
      name,
      deploys: [expect.stringContaining(`--package .serverless-${target}`)],
    });
    expect(runs(name, /\bsls package\b|npm run package|esbuild/)).toBe(false);
    expect(needsOf(name)).toContainEqual({ job: `package_${target}`, artifacts: true });
  }
  // Nothing else in the pipeline deploys, removes or packages behind the package jobs' back.
  for (const name of jobNames)
    expect({ name, remove: runs(name, /\bsls remove\b/) }).toEqual({ name, remove: false });
});

test('the review stack is tested after its deploy, through the stack target', () => {
  expect(commandsOf('e2e_review')).toContain('E2E_TARGET="stack:$STAGE" npm run test:e2e');
  expect(needsOf('e2e_review')).toContainEqual({ job: 'deploy_review', artifacts: true });
  // STAGE reaches the review jobs as dotenv artifacts, not recomputed from a checkout.
  expect(job('package_review').artifacts.reports.dotenv).toBe('review.env');
  expect(job('deploy_review').artifacts.reports.dotenv).toBe('deploy.env');
  expect(runs('deploy_review', /echo "STAGE=\$STAGE" > deploy\.env/)).toBe(true);
});

test('stop_review deletes the stack without checking out the (possibly deleted) branch', () => {
  const stop = job('stop_review');
  expect(stop.variables.GIT_STRATEGY).toBe('none');
  expect(stop.environment).toEqual({ name: 'review/$CI_COMMIT_REF_SLUG', action: 'stop' });
  expect(job('deploy_review').environment).toMatchObject({
    name: stop.environment.name,
    on_stop: 'stop_review',
  });
  expect(needsOf('stop_review')).toEqual([{ job: 'deploy_review', artifacts: true }]);
  const commands = commandsOf('stop_review');
  expect(commands.filter((c) => /\bgit\b|\bnpm\b|\bnpx\b/.test(c))).toEqual([]);
  const order = [
    'aws s3 rm',
    'aws cloudformation delete-stack',
    'aws cloudformation wait stack-delete-complete',
  ].map((step) => commands.findIndex((c) => c.includes(step)));
  expect(order.every((at) => at >= 0)).toBe(true);
  expect([...order].sort((a, b) => a - b)).toEqual(order);
});

test('staging runs the e2e suite and a short load run before the manual production gate', () => {
  expect(commandsOf('e2e_staging')).toContain('E2E_TARGET=stack:staging npm run test:e2e');
  expect(commandsOf('load_staging')).toContainEqual(
    expect.stringMatching(/^npm run load -- --target stack:staging /),
  );
  expect(job('deploy_production').rules).toEqual([
    { if: '$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH', when: 'manual' },
  ]);
  expect(job('deploy_production').allow_failure).toBe(false);
  const gates = needsOf('deploy_production').map((n: { job: string }) => n.job);
  expect(gates).toEqual(expect.arrayContaining(['e2e_staging', 'load_staging', 'package_production']));
});

test('AWS through GitLab OIDC id_tokens and AssumeRoleWithWebIdentity, no long-lived keys', () => {
  const awsJobs = jobNames.filter((name) => runs(name, /\bsls deploy\b|\baws \b|stack:/));
  expect(awsJobs.sort()).toEqual(
    [
      'deploy_production',
      'deploy_review',
      'deploy_staging',
      'e2e_review',
      'e2e_staging',
      'load_staging',
      'stop_review',
    ].sort(),
  );
  for (const name of awsJobs) {
    expect({ name, tokens: Object.keys(job(name).id_tokens ?? {}) }).toEqual({
      name,
      tokens: ['AWS_ID_TOKEN'],
    });
    const assume = commandsOf(name).find((c) => c.includes('aws sts assume-role-with-web-identity'));
    expect({ name, assume }).toEqual({
      name,
      assume: expect.stringContaining('--web-identity-token "$AWS_ID_TOKEN"'),
    });
    // The exchange comes before anything that talks to AWS.
    const commands = commandsOf(name);
    const firstAws = commands.findIndex((c) => /\bsls deploy\b|aws cloudformation|aws s3|stack:/.test(c));
    expect(commands.indexOf(assume!)).toBeLessThan(firstAws);
  }
  // The only keys in the file are the package jobs' offline placeholders.
  const keyValues = [
    ...readFileSync('.gitlab-ci.yml', 'utf8').matchAll(/AWS_(?:ACCESS_KEY_ID|SECRET_ACCESS_KEY): *(\S+)/g),
  ].map((m) => m[1]);
  expect(new Set(keyValues)).toEqual(new Set(['package-offline']));
});

test('.ci/run proves the suite against npm start in its own process, after npm test', () => {
  const steps = readFileSync('.ci/run', 'utf8')
    .split('\n')
    .filter((line) => line && !line.startsWith('#'));
  expect(steps.indexOf('.ci/e2e-local')).toBeGreaterThan(steps.indexOf('npm test'));
  expect(steps.indexOf('npm test')).toBeGreaterThan(-1);
  const script = readFileSync('.ci/e2e-local', 'utf8');
  expect(script).toContain('npm start -- --fresh');
  expect(script).toContain('/_localstack/health');
  expect(script).toContain('E2E_TARGET=local npm run test:e2e');
  expect(commandsOf('e2e_local')).toContain('.ci/e2e-local');
});
