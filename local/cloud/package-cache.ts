/**
 * One offline `sls package` per source state, shared by every test file and worker: the output
 * folder is keyed by a hash of what goes into the package, and a lock directory keeps two Jest
 * workers from packaging at once (serverless-esbuild writes .esbuild/ in the project).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SOURCES = [
  'serverless.yml',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'resources',
  'statemachines',
  'functions',
  // The simulators' Lambda handlers deploy with every non-production stage.
  'simulators',
  // How a package is made is part of what it is.
  'local/cloud/package-cache.ts',
];

/** One packaging at a time on this machine: every packaging in a checkout shares its `.esbuild`. */
const PACKAGING_LOCK = path.join(os.tmpdir(), 'order-middleware-pkg.lock');

/**
 * `packageService` once no other packaging runs (`npm start`'s beside the tests'): each empties the
 * checkout's `.esbuild` first, so two at once would take each other's bundles away.
 */
export function packageAlone(outDir: string, stage = 'local', lockDir = PACKAGING_LOCK): Promise<void> {
  return withLock(lockDir, () => packageService(outDir, stage));
}

/** Packages the service offline, exactly as a deployment would. */
export function packageService(outDir: string, stage = 'local'): void {
  rmSync(outDir, { recursive: true, force: true });
  // serverless-esbuild keeps its output folder between runs (keepOutputDirectory), and what an
  // earlier packaging left there — another stage's simulators, a renamed function — ended up in
  // this package's zips: built from a clean folder, a package holds only its own functions.
  rmSync(path.resolve('.esbuild'), { recursive: true, force: true });
  // serverless-esbuild stages each function's zip in a temp folder it never removes (its cleanup is
  // not recursive and swallows the error): about 40 MB left in /tmp by every packaging. Its temp
  // folder is ours, removed once the package is written.
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'order-middleware-sls-'));
  try {
    execFileSync(path.resolve('node_modules/.bin/sls'), ['package', '--stage', stage, '--package', outDir], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        SLS_TELEMETRY_DISABLED: '1',
        TMPDIR: scratch,
      },
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function hashSources(root: string): string {
  const hash = createHash('sha256');
  const visit = (p: string) => {
    const full = path.join(root, p);
    if (!existsSync(full)) return;
    if (statSync(full).isDirectory()) {
      for (const entry of readdirSync(full).sort()) visit(path.join(p, entry));
    } else {
      hash.update(p).update(readFileSync(full));
    }
  };
  for (const source of SOURCES) visit(source);
  return hash.digest('hex').slice(0, 16);
}

async function withLock<T>(lockDir: string, work: () => T): Promise<T> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lockDir);
      break;
    } catch {
      // A lock older than three minutes belongs to a run that died.
      const lockedAt = statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now();
      if (Date.now() - lockedAt > 180_000) rmSync(lockDir, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lockDir}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  try {
    return work();
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
}

/** A package no run has used for a day belongs to sources long since changed. */
const UNUSED_PACKAGE_MS = 24 * 60 * 60 * 1000;

/**
 * Removes the packages of other source states that no run used for a day: every edit makes a new
 * one (about 40 MB), and a day of work would otherwise leave hundreds in the temp folder. A package
 * in use is touched at each use, so another checkout's run never loses its own.
 */
export function pruneUnusedPackages(tmp: string, keep: string, now = Date.now()): void {
  for (const entry of readdirSync(tmp)) {
    const dir = path.join(tmp, entry);
    if (!entry.startsWith('order-middleware-pkg-') || dir === keep) continue;
    const usedAt = statSync(dir, { throwIfNoEntry: false })?.mtimeMs;
    if (usedAt !== undefined && now - usedAt > UNUSED_PACKAGE_MS)
      rmSync(dir, { recursive: true, force: true });
  }
}

/** The packaged stack for `stage`, built at most once per source state. */
export async function packagedStack(stage = 'local'): Promise<string> {
  const root = process.cwd();
  const dir = path.join(os.tmpdir(), `order-middleware-pkg-${stage}-${hashSources(root)}`);
  const template = path.join(dir, 'cloudformation-template-update-stack.json');
  // Touched at each use: what "unused for a day" reads.
  const used = () => {
    const now = new Date();
    utimesSync(dir, now, now);
    return dir;
  };
  if (existsSync(template)) return used();
  return withLock(PACKAGING_LOCK, () => {
    if (!existsSync(template)) {
      packageService(dir, stage);
      // A new source state is when old ones pile up: the look is made then, not at every use.
      pruneUnusedPackages(os.tmpdir(), dir);
    }
    return used();
  });
}
