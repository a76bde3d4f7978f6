/**
 * Three projects, each with its own timeout: unit (no network beyond loopback fakes), template (the
 * packaged CloudFormation) and e2e (the whole local cloud). Jest runs TypeScript through SWC in ESM
 * mode (middy 7 is ESM-only). Packaging happens once, before any test, in each project's globalSetup
 * (tests/global-setup.ts); no `forceExit`: every test closes what it opens.
 */
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'es6' } },
    ],
  },
  testPathIgnorePatterns: ['/node_modules/', '/.serverless/', '/.local/'],
  // The local clouds' data and extracted bundles are not source: kept out of Jest's file map.
  modulePathIgnorePatterns: ['<rootDir>/.local/', '<rootDir>/.serverless/', '<rootDir>/.esbuild/'],
  // Jest ignores `testTimeout` inside a project, so each project sets its own here.
  setupFilesAfterEnv: ['<rootDir>/tests/test-timeout.ts'],
};

/** `stages`: what `sls package` builds before the project's first test (tests/global-setup.ts). */
const project = (name, { testTimeoutMs, stages = [] }) => ({
  ...shared,
  displayName: name,
  testMatch: [`<rootDir>/tests/${name}/**/*.test.ts`],
  globals: { TEST_TIMEOUT_MS: testTimeoutMs, PACKAGED_STAGES: stages },
  ...(stages.length > 0 && { globalSetup: '<rootDir>/tests/global-setup.ts' }),
});

export default {
  projects: [
    project('unit', { testTimeoutMs: 15_000 }),
    project('template', { testTimeoutMs: 15_000, stages: ['ci-test', 'production', 'local'] }),
    project('e2e', { testTimeoutMs: 60_000, stages: ['local'] }),
  ],
};
