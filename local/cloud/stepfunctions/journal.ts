import { createHash } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import type { HistoryEvent } from './history';
import type { ExecutionSummary } from './service';

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** What an execution was started with; enough to run it again after a restart. */
export interface ExecutionStart {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  type: 'STANDARD' | 'EXPRESS';
  input: string;
  startDate: number;
  roleArn: string;
  /** The definition it started with: like AWS, a running execution keeps its definition. */
  definition: string;
}

export interface ExecutionEnd {
  status: Exclude<ExecutionStatus, 'RUNNING'>;
  stopDate: number;
  output?: string;
  error?: string;
  cause?: string;
}

/** A task waiting on a token; `timeoutAt` is epoch ms, absent when the task has no timeout. */
export interface TokenWait {
  state: string;
  token: string;
  timeoutAt?: number;
}

export type JournalEntry =
  | { t: 'start'; start: ExecutionStart }
  | { t: 'event'; event: HistoryEvent }
  | { t: 'wait'; wait: TokenWait }
  | { t: 'end'; end: ExecutionEnd };

/**
 * Append-only JSON lines, one file per Standard execution, under `<dataDir>/executions`. Every
 * state entered is a history event carrying its input, so a restart knows where each execution
 * was; writes are synchronous so an entry is on disk before the engine moves on.
 * Beside them, `finished.jsonl` has one line per finished execution, what ListExecutions shows of
 * it: a restart reads that line instead of the execution's whole journal, so a long-lived data
 * folder does not slow every start.
 */
export class Journal {
  private readonly dir: string;
  private readonly index: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, 'executions');
    this.index = join(dataDir, 'finished.jsonl');
    mkdirSync(this.dir, { recursive: true });
  }

  /** Records that an execution has finished (after the journal's own `end` entry). */
  finished(summary: ExecutionSummary): void {
    appendFileSync(this.index, `${JSON.stringify(summary)}\n`);
  }

  /** Every finished execution's summary, in the order they finished; a torn last line is dropped. */
  readFinished(): ExecutionSummary[] {
    return existsSync(this.index) ? parseLines<ExecutionSummary>(readFileSync(this.index, 'utf8')) : [];
  }

  /** Removes these executions' journals and keeps only `kept` in the index (retention). */
  forget(executionArns: string[], kept: ExecutionSummary[]): void {
    writeFileSync(this.index, kept.map((summary) => `${JSON.stringify(summary)}\n`).join(''));
    for (const executionArn of executionArns) rmSync(this.fileOf(executionArn), { force: true });
  }

  append(executionArn: string, entry: JournalEntry): void {
    appendFileSync(this.fileOf(executionArn), `${JSON.stringify(entry)}\n`);
  }

  /**
   * The entries of every execution but these finished ones, in the order they were written; a
   * torn last line is dropped. One file at a time, so a restart never holds them all at once.
   */
  *readAllBut(finishedArns: string[]): Generator<JournalEntry[]> {
    const skipped = new Set(finishedArns.map((executionArn) => basename(this.fileOf(executionArn))));
    for (const file of readdirSync(this.dir)) {
      if (!file.endsWith('.jsonl') || skipped.has(file)) continue;
      const entries = parseLines<JournalEntry>(readFileSync(join(this.dir, file), 'utf8'));
      if (entries[0]?.t === 'start') yield entries;
    }
  }

  /** One execution's entries (what an execution evicted from memory is rebuilt from); none: undefined. */
  read(executionArn: string): JournalEntry[] | undefined {
    const file = this.fileOf(executionArn);
    if (!existsSync(file)) return undefined;
    const entries = parseLines<JournalEntry>(readFileSync(file, 'utf8'));
    return entries[0]?.t === 'start' ? entries : undefined;
  }

  private fileOf(executionArn: string): string {
    return join(this.dir, `${createHash('sha256').update(executionArn).digest('hex').slice(0, 32)}.jsonl`);
  }
}

function parseLines<T>(text: string): T[] {
  const entries: T[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    try {
      entries.push(JSON.parse(line) as T);
    } catch {
      break; // a crash mid-write leaves at most one partial line, at the end
    }
  }
  return entries;
}
