import { randomUUID } from 'node:crypto';
import { AwsError } from '../aws-error';
import { TaskFailure } from './errors';

/**
 * Task tokens name their execution, so a token can be told apart after its task closed — even
 * after a restart — (TaskTimedOut) from one that never was ours (InvalidToken).
 */
export function mintToken(executionArn: string): string {
  return Buffer.from(JSON.stringify({ e: executionArn, n: randomUUID() })).toString('base64url');
}

export function executionOfToken(token: string): string | undefined {
  try {
    const parts = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { e?: unknown };
    return typeof parts.e === 'string' ? parts.e : undefined;
  } catch {
    return undefined;
  }
}

interface Waiter {
  settle(outcome: { output: unknown } | { error: Error }): void;
  heartbeat(): void;
}

/** Tasks waiting on a token: SendTaskSuccess/Failure/Heartbeat land here. */
export class Callbacks {
  private readonly waiting = new Map<string, Waiter>();

  /**
   * Waits for SendTaskSuccess (resolves with its output) or SendTaskFailure (rejects); with a
   * heartbeat, rejects `onHeartbeatTimeout()` once no heartbeat came for `heartbeatMs`.
   */
  wait(token: string, heartbeatMs: number | undefined, onHeartbeatTimeout: () => Error): Promise<unknown> {
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        if (heartbeatMs === undefined) return;
        clearTimeout(timer);
        timer = setTimeout(() => waiter.settle({ error: onHeartbeatTimeout() }), heartbeatMs);
      };
      const waiter: Waiter = {
        settle: (outcome) => {
          clearTimeout(timer);
          this.waiting.delete(token);
          if ('error' in outcome) reject(outcome.error);
          else resolve(outcome.output);
        },
        heartbeat: arm,
      };
      this.waiting.set(token, waiter);
      arm();
    });
  }

  isWaiting(token: string): boolean {
    return this.waiting.has(token);
  }

  /** Ends a wait from our side (task timeout, stop, shutdown); no-op if it already ended. */
  cancel(token: string, error: Error): void {
    this.waiting.get(token)?.settle({ error });
  }

  succeed(token: string, outputText: string, closedTokenError: (token: string) => AwsError): void {
    let output: unknown;
    try {
      output = JSON.parse(outputText);
    } catch {
      throw new AwsError('InvalidOutput', 'The provided output is not valid JSON');
    }
    this.waiterFor(token, closedTokenError).settle({ output });
  }

  fail(token: string, error: string, cause: string, closedTokenError: (token: string) => AwsError): void {
    this.waiterFor(token, closedTokenError).settle({ error: new TaskFailure(error, cause) });
  }

  heartbeat(token: string, closedTokenError: (token: string) => AwsError): void {
    this.waiterFor(token, closedTokenError).heartbeat();
  }

  private waiterFor(token: string, closedTokenError: (token: string) => AwsError): Waiter {
    const waiter = this.waiting.get(token);
    if (!waiter) throw closedTokenError(token);
    return waiter;
  }
}
