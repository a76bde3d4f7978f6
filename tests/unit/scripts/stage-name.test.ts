/** scripts/stage-name.mjs: a stage per Git branch that keeps every AWS name under its limit. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const SCRIPT = join(
  fileURLToPath(new URL('.', import.meta.url)),
  '..',
  '..',
  '..',
  'scripts',
  'stage-name.mjs',
);
const { stageName } = (await import(pathToFileURL(SCRIPT).href)) as { stageName: (branch: string) => string };

/** Lambda names are `order-middleware-<stage>-releaseToKitchen`: 34 characters besides the stage. */
const MAX_STAGE_LENGTH = 27;
const VALID_STAGE = /^[a-z][a-z0-9-]*[a-z0-9]$/;

const BRANCHES = [
  'main',
  'feature/JIRA-4711-let-store-managers-pause-a-store-from-the-pos-and-partner-apps',
  'Fix/Ünïcödé branch — with spaces & symbols!!',
  '1234-starts-with-a-number',
  'renovate/@aws-sdk/client-dynamodb-3.x',
  '---',
  'a',
];

describe('stageName', () => {
  it('is the same for the same branch, every time (recorded stage names: a change would orphan stacks)', () => {
    expect(stageName('main')).toBe('main-0d6e40');
    expect(stageName('feature/JIRA-4711-long-branch-name-for-testing')).toBe('feature-jira-4711-lo-84a4bf');
    expect(stageName('a')).toBe('a-ca9781');
  });

  it.each(BRANCHES.filter((b) => b !== '---'))('keeps %j short and made of valid characters', (branch) => {
    const stage = stageName(branch);
    expect(stage.length).toBeLessThanOrEqual(MAX_STAGE_LENGTH);
    expect(stage).toMatch(VALID_STAGE);
    expect(stage).not.toContain('--');
  });

  it('keeps the branch recognisable at the front', () => {
    expect(stageName('feature/courier-wait')).toMatch(/^feature-courier-wait-[0-9a-f]{6}$/);
  });

  it('tells apart two long branches that share their first 20 characters', () => {
    const a = stageName('feature/store-pause-from-the-pos');
    const b = stageName('feature/store-pause-from-partner-apps');
    expect(a.slice(0, 20)).toBe(b.slice(0, 20));
    expect(a).not.toBe(b);
  });

  it('refuses a branch with no usable characters', () => {
    expect(() => stageName('---')).toThrow(/no usable characters/);
  });
});

describe('stage-name.mjs on the command line (as CI runs it)', () => {
  it('prints the stage for the branch it is given', async () => {
    const branch = 'feature/JIRA-4711-let-store-managers-pause-a-store';
    const { stdout } = await promisify(execFile)(process.execPath, [SCRIPT, branch]);
    expect(stdout.trim()).toBe(stageName(branch));
  });

  it('exits 2 with usage when given no branch', async () => {
    const env = { ...process.env };
    delete env.CI_COMMIT_REF_NAME;
    const run = promisify(execFile)(process.execPath, [SCRIPT], { env });
    await expect(run).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage') });
  });
});
