/**
 * What the local cloud leaves on disk between runs stays bounded: packages of old source states and
 * V8's compile cache would otherwise grow with every edit and every run.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { boundCompileCache } from '../../../local/cloud/lambda/sandbox';
import { pruneUnusedPackages } from '../../../local/cloud/package-cache';

const DAY_MS = 24 * 60 * 60 * 1000;
let tmp: string;

beforeEach(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'disk-bounds-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function folder(name: string, usedAt: number): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'template.json'), '{}');
  utimesSync(dir, new Date(usedAt), new Date(usedAt));
  return dir;
}

test('packages of other source states unused for a day are removed; recent ones and the one in use stay', () => {
  const now = Date.now();
  const current = folder('order-middleware-pkg-local-aaaa', now - 3 * DAY_MS);
  const stale = folder('order-middleware-pkg-local-bbbb', now - 2 * DAY_MS);
  const staleOtherStage = folder('order-middleware-pkg-production-cccc', now - DAY_MS - 60_000);
  const otherCheckout = folder('order-middleware-pkg-local-dddd', now - 60 * 60 * 1000);
  const notOurs = folder('someone-elses-folder', now - 10 * DAY_MS);

  pruneUnusedPackages(tmp, current, now);

  expect([current, stale, staleOtherStage, otherCheckout, notOurs].map(existsSync)).toEqual([
    true,
    false,
    false,
    true,
    true,
  ]);
});

test('the compile cache is emptied once it grows past its bound, and left alone below it', () => {
  const cache = path.join(tmp, 'compile-cache');
  mkdirSync(path.join(cache, 'v22-x64'), { recursive: true });
  writeFileSync(path.join(cache, 'v22-x64', 'entry-1'), Buffer.alloc(600));
  writeFileSync(path.join(cache, 'v22-x64', 'entry-2'), Buffer.alloc(300));

  boundCompileCache(cache, 1000);
  expect(existsSync(path.join(cache, 'v22-x64', 'entry-1'))).toBe(true);

  writeFileSync(path.join(cache, 'v22-x64', 'entry-3'), Buffer.alloc(200));
  boundCompileCache(cache, 1000);
  expect(existsSync(cache)).toBe(false);

  // No cache yet (a fresh machine): nothing to do, no error.
  expect(() => boundCompileCache(cache, 1000)).not.toThrow();
});
