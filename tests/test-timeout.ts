/** Each Jest project's default test timeout, from its `globals` in jest.config.js. */
import { jest } from '@jest/globals';

const { TEST_TIMEOUT_MS } = globalThis as { TEST_TIMEOUT_MS?: number };
if (TEST_TIMEOUT_MS) jest.setTimeout(TEST_TIMEOUT_MS);
