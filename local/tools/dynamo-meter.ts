/**
 * Counts the DynamoDB calls that pass the recording proxy and the capacity units they consume.
 * dynalite reports ConsumedCapacity only when asked, so the proxy asks on every call that can
 * carry it; a conditional write that fails consumes no reported units, but AWS still charges it
 * (at least one write unit), so it is counted as one.
 */
import type http from 'node:http';
import { type RecordingProxy, startRecordingProxy } from './proxy';

const READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

export interface DynamoUsage {
  calls: number;
  byOperation: Record<string, number>;
  readUnits: number;
  writeUnits: number;
  conditionalFailures: number;
}

export const emptyDynamoUsage = (): DynamoUsage => ({
  calls: 0,
  byOperation: {},
  readUnits: 0,
  writeUnits: 0,
  conditionalFailures: 0,
});

export function operationOf(headers: http.IncomingHttpHeaders): string {
  const target = String(headers['x-amz-target'] ?? '');
  return target.slice(target.indexOf('.') + 1);
}

/** The request with `ReturnConsumedCapacity: TOTAL` added where the operation accepts it. */
export function askForCapacity(operation: string, body: Buffer): Buffer {
  if (!READS.has(operation) && !WRITES.has(operation)) return body;
  try {
    const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (input.ReturnConsumedCapacity && input.ReturnConsumedCapacity !== 'NONE') return body;
    return Buffer.from(JSON.stringify({ ...input, ReturnConsumedCapacity: 'TOTAL' }));
  } catch {
    return body;
  }
}

interface CapacityEntry {
  CapacityUnits?: number;
}

/** Adds one call and what it consumed to `usage`. */
export function recordCall(
  usage: DynamoUsage,
  operation: string,
  status: number,
  responseBody: string,
): void {
  usage.calls += 1;
  usage.byOperation[operation] = (usage.byOperation[operation] ?? 0) + 1;
  let answer: { ConsumedCapacity?: CapacityEntry | CapacityEntry[]; __type?: string } = {};
  try {
    answer = responseBody ? JSON.parse(responseBody) : {};
  } catch {
    return;
  }
  if (status >= 400) {
    if (WRITES.has(operation) && String(answer.__type).endsWith('ConditionalCheckFailedException')) {
      usage.conditionalFailures += 1;
      usage.writeUnits += 1;
    }
    return;
  }
  const entries = [answer.ConsumedCapacity ?? []].flat();
  const units = entries.reduce((sum, entry) => sum + (entry.CapacityUnits ?? 0), 0);
  if (READS.has(operation)) usage.readUnits += units;
  else if (WRITES.has(operation)) usage.writeUnits += units;
}

export function diffDynamoUsage(after: DynamoUsage, before: DynamoUsage): DynamoUsage {
  const byOperation: Record<string, number> = {};
  for (const [operation, count] of Object.entries(after.byOperation)) {
    const delta = count - (before.byOperation[operation] ?? 0);
    if (delta) byOperation[operation] = delta;
  }
  return {
    calls: after.calls - before.calls,
    byOperation,
    readUnits: after.readUnits - before.readUnits,
    writeUnits: after.writeUnits - before.writeUnits,
    conditionalFailures: after.conditionalFailures - before.conditionalFailures,
  };
}

export interface DynamoMeter {
  url: string;
  setTarget(target: string): void;
  /** A copy of the totals so far. */
  usage(): DynamoUsage;
  close(): Promise<void>;
}

export async function startDynamoMeter(): Promise<DynamoMeter> {
  const totals = emptyDynamoUsage();
  const proxy: RecordingProxy = await startRecordingProxy({
    rewrite: (headers, body) => askForCapacity(operationOf(headers), body),
    onExchange: (exchange) =>
      recordCall(
        totals,
        operationOf(exchange.headers),
        exchange.status,
        exchange.responseBody.toString('utf8'),
      ),
  });
  return {
    url: proxy.url,
    setTarget: proxy.setTarget,
    usage: () => structuredClone(totals),
    close: proxy.close,
  };
}
