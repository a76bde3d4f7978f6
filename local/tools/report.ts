/** What the tools share around a run: results files, progress bar on stderr, quiet console. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';

/** Writes `results/<name>-<timestamp>.json` (gitignored) and answers its path. */
export function writeResult(name: string, result: unknown): string {
  const dir = path.resolve('results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** A progress bar on stderr, so `--json` keeps stdout to the one JSON object. */
export function progressBar(label: string, total: number) {
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} [{bar}] {value}/{total} {percentage}% | {eta_formatted} left | {detail}`,
      hideCursor: true,
      etaBuffer: 50,
      noTTYOutput: true, // piped stderr (CI, logs) still sees progress, every few seconds
      notTTYSchedule: 5000,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { detail: '' });
  return bar;
}

/** Status lines go to stderr: stdout is for the report (and only JSON with `--json`). */
export const say = (line: string) => process.stderr.write(`${line}\n`);

export function pad(text: string | number, width: number): string {
  return String(text).padStart(width);
}
