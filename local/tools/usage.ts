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

/**
 * The anonymous part of the resident memory (MB) of this process and its children: what they hold
 * themselves (heaps, malloc), without the pages of files they map, which the kernel can drop at any
 * time (the node binary, dynalite's LevelDB table files).
 */
export function anonymousResidentMb(root = process.pid): number {
  const pids = [root, ...childrenOf(root)];
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/RssAnon:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // ended while we looked
    }
  }
  return kb / 1024;
}

/** Resident memory (MB) of the processes under this one (dynalite), apart: anonymous, and mapped file pages. */
export function childrenResidentMb(root = process.pid): { anonymous: number; files: number } {
  let anonymous = 0;
  let files = 0;
  for (const pid of childrenOf(root)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      anonymous += Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
      files += Number(/RssFile:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
    } catch {
      // ended while we looked
    }
  }
  return { anonymous, files };
}

/** Resident memory (MB) of this process and every process under it (dynalite runs in a child). */
export function residentMb(root = process.pid): number {
  const children = new Map<number, number[]>();
  const rssPages = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(fields[1]);
      rssPages.set(pid, Number(fields[21]));
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // the process ended while we looked
    }
  }
  let pages = 0;
  const visit = (pid: number) => {
    pages += rssPages.get(pid) ?? 0;
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(root);
  return (pages * 4096) / 1024 / 1024;
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

/** The direct children of a process, from /proc (Linux); none elsewhere. */
function childrenOf(root: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries.map(Number).filter((pid) => {
    if (!Number.isInteger(pid) || pid === root) return false;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === root;
    } catch {
      return false; // ended while we looked
    }
  });
}

/** Where the CPU goes, read from /proc (Linux); zeros elsewhere. */
export function cpuTimes(root = process.pid): CpuTimes {
  const children = childrenOf(root);
  return {
    mainThread: cpuMsOf(`/proc/${root}/task/${root}/stat`),
    process: cpuMsOf(`/proc/${root}/stat`),
    children: children.reduce((sum, pid) => sum + cpuMsOf(`/proc/${pid}/stat`), 0),
  };
}
