/**
 * What a stretch of a run used, read from the local cloud's own counters: Step Functions per
 * machine, Lambda per function, EventBridge, and the executions (with their histories) it started.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { ExecutionRecord } from '../cloud/stepfunctions/execution';
import type { ToolCloud } from './cloud';
import { settle } from './orders';

export interface ExecutionWindow {
  /** Executions started since the window opened, with their histories. */
  executions(): ExecutionRecord[];
}

/** Opens a window: executions that exist now are left out of it. */
export function openExecutionWindow(t: ToolCloud): ExecutionWindow {
  const sfn = t.cloud.stepFunctions;
  const machines = sfn.listStateMachines();
  // Summaries to tell old from new; whole records (read back from disk when evicted) only for the new.
  const arns = () =>
    machines.flatMap((m) => sfn.listExecutionSummaries(m.stateMachineArn)).map((e) => e.executionArn);
  const before = new Set(arns());
  return {
    executions: () =>
      arns()
        .filter((arn) => !before.has(arn))
        .map((arn) => sfn.describeExecution(arn)),
  };
}

/** The `dynamodb:*` service-integration calls the state machines made in these executions. */
export function dynamoTasks(executions: readonly ExecutionRecord[]): number {
  return executions.reduce(
    (sum, e) =>
      sum +
      e.history.filter(
        (event) =>
          event.type === 'TaskScheduled' &&
          (event.taskScheduledEventDetails as { resourceType?: string } | undefined)?.resourceType ===
            'dynamodb',
      ).length,
    0,
  );
}

/** Waits (bounded) until no execution is running and no delivery or async invocation is pending. */
export async function quiesce(t: ToolCloud, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const machines = t.cloud.stepFunctions.listStateMachines();
  for (;;) {
    await settle(t);
    const running = machines.reduce(
      (sum, m) => sum + t.cloud.stepFunctions.listExecutionSummaries(m.stateMachineArn, 'RUNNING').length,
      0,
    );
    if (running === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resident memory (MB): all of it, its anonymous part (heaps, malloc), and the pages of files mapped. */
export interface ResidentMb {
  all: number;
  anonymous: number;
  /** Pages the kernel can drop at any time: the node binary's, dynalite's LevelDB tables'. */
  files: number;
}

const NOTHING: ResidentMb = { all: 0, anonymous: 0, files: 0 };

/** One process's resident memory, from /proc/<pid>/status (Linux); nothing once it has ended. */
function residentOf(pid: number): ResidentMb {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const mb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
    return { all: mb('VmRSS'), anonymous: mb('RssAnon'), files: mb('RssFile') };
  } catch {
    return NOTHING;
  }
}

/**
 * Resident memory of this process and, together, of every process under it (dynalite), with one
 * pass over /proc.
 */
export function residentSplitMb(root = process.pid): { self: ResidentMb; children: ResidentMb } {
  const children = descendantsOf(root)
    .map(residentOf)
    .reduce(
      (sum, one) => ({
        all: sum.all + one.all,
        anonymous: sum.anonymous + one.anonymous,
        files: sum.files + one.files,
      }),
      NOTHING,
    );
  return { self: residentOf(root), children };
}

/** Resident memory (MB) of this process and every process under it (dynalite runs in a child). */
export function residentMb(root = process.pid): number {
  const { self, children } = residentSplitMb(root);
  return self.all + children.all;
}

/** CPU time (ms) so far: this process's main thread, the whole process (its sandboxes' threads and V8's helpers too), and its children (dynalite). */
export interface CpuTimes {
  mainThread: number;
  process: number;
  children: number;
}

/** utime + stime of a /proc stat line, in ms (Linux counts them in 1/100 s). */
function cpuMsOf(statPath: string): number {
  try {
    const stat = readFileSync(statPath, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0; // ended while we looked
  }
}

/** Every process under this one (its children, theirs…), from one pass over /proc (Linux); none elsewhere. */
function descendantsOf(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // ended while we looked
    }
  }
  const found: number[] = [];
  const visit = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child);
      visit(child);
    }
  };
  visit(root);
  return found;
}

/** Where the CPU goes, read from /proc (Linux); zeros elsewhere. */
export function cpuTimes(root = process.pid): CpuTimes {
  const children = descendantsOf(root);
  return {
    mainThread: cpuMsOf(`/proc/${root}/task/${root}/stat`),
    process: cpuMsOf(`/proc/${root}/stat`),
    children: children.reduce((sum, pid) => sum + cpuMsOf(`/proc/${pid}/stat`), 0),
  };
}
