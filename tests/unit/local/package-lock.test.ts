/**
 * `npm start` packages under the same lock as the tests' package cache: each packaging empties the
 * checkout's `.esbuild` first, so two at once would take each other's bundles away.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageAlone } from '../../../local/cloud/package-cache';

let tmp: string;

beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'package-lock-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

test('a packaging waits while another holds the lock, then packages and lets the lock go', async () => {
  const lock = path.join(tmp, 'pkg.lock');
  const out = path.join(tmp, 'package');
  mkdirSync(lock); // another packaging is running

  let packaged = false;
  const packaging = packageAlone(out, 'local', lock).then(() => {
    packaged = true;
  });
  await sleep(1500);
  const whileHeld = { packaged, outWritten: existsSync(out) };
  rmSync(lock, { recursive: true });
  await packaging;

  expect(whileHeld).toEqual({ packaged: false, outWritten: false });
  expect(existsSync(path.join(out, 'cloudformation-template-update-stack.json'))).toBe(true);
  expect(existsSync(lock)).toBe(false);
}, 120_000);
