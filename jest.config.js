/** Jest runs TypeScript through SWC in ESM mode (middy 7 is ESM-only). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'es6' } },
    ],
  },
  testMatch: ['<rootDir>/tests/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/.serverless/', '/.local/'],
  testTimeout: 30000,
  // Worker threads and child processes of the local cloud can outlive a failed test's cleanup.
  forceExit: true,
};
