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
  const machines = t.cloud.stepFunctions.listStateMachines();
  const all = () => machines.flatMap((m) => t.cloud.stepFunctions.listExecutions(m.stateMachineArn));
  const before = new Set(all().map((e) => e.executionArn));
  return { executions: () => all().filter((e) => !before.has(e.executionArn)) };
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
      (sum, m) => sum + t.cloud.stepFunctions.listExecutions(m.stateMachineArn, 'RUNNING').length,
      0,
    );
    if (running === 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
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
