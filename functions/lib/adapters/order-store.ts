import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  paginateQuery,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { config } from '../config';
import type { OrderRecord, OrderStatus, TimelineEntry } from '../schemas/order';
import { dynamo, isConditionFailure } from './dynamo';

/**
 * The order record is the lasting source of truth. Every status change is a conditional write,
 * so cancel, release and timeout racing each other resolve to exactly one winner.
 */
export async function getOrderRecord(orderId: string): Promise<OrderRecord | undefined> {
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: config.ordersTable, Key: { orderId }, ConsistentRead: true }),
  );
  return Item as OrderRecord | undefined;
}

/** Puts a new order unless its id exists; answers the existing record when it does. */
export async function insertOrderRecord(
  record: OrderRecord,
): Promise<{ created: true } | { created: false; existing: OrderRecord }> {
  try {
    await dynamo.send(
      new PutCommand({
        TableName: config.ordersTable,
        Item: record,
        ConditionExpression: 'attribute_not_exists(orderId)',
      }),
    );
    return { created: true };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const existing = await getOrderRecord(record.orderId);
    if (!existing) throw error;
    return { created: false, existing };
  }
}

export interface OrderChange {
  /** The statuses the order must be in for the change to apply. */
  from: readonly OrderStatus[];
  /** The new status, when the change moves it. */
  to?: OrderStatus;
  /** Attributes to set alongside. */
  set?: Record<string, unknown>;
  /** Attributes to remove alongside. */
  remove?: readonly string[];
  /** Extra condition, e.g. `attribute_not_exists(posReference)`. */
  alsoRequire?: string;
  /** Attributes that must hold exactly these values. */
  requireEqual?: Record<string, unknown>;
  /** Lines on the order's timeline; none for bookkeeping that the people reading it need not see. */
  timeline?: Omit<TimelineEntry, 'at'> | Omit<TimelineEntry, 'at'>[];
}

export type ChangeResult = { applied: true; record: OrderRecord } | { applied: false; current?: OrderRecord };

/** Applies a change to the order if its status allows; otherwise answers the order as it is. */
export async function changeOrder(
  orderId: string,
  change: OrderChange,
  now = new Date(),
): Promise<ChangeResult> {
  const at = now.toISOString();
  const names: Record<string, string> = {
    '#status': 'status',
    '#updatedAt': 'updatedAt',
  };
  const values: Record<string, unknown> = { ':now': at };
  const sets = ['#updatedAt = :now'];
  if (change.timeline) {
    names['#timeline'] = 'timeline';
    values[':entry'] = [change.timeline].flat().map((entry) => ({ ...entry, at }));
    sets.push('#timeline = list_append(#timeline, :entry)');
  }
  if (change.to) {
    values[':to'] = change.to;
    sets.push('#status = :to');
  }
  for (const [i, [key, value]] of Object.entries(change.set ?? {}).entries()) {
    names[`#f${i}`] = key;
    values[`:f${i}`] = value;
    sets.push(`#f${i} = :f${i}`);
  }
  const removes = (change.remove ?? []).map((key, i) => {
    names[`#r${i}`] = key;
    return `#r${i}`;
  });
  const fromList = change.from.map((status, i) => {
    values[`:from${i}`] = status;
    return `:from${i}`;
  });
  const equalities = Object.entries(change.requireEqual ?? {}).map(([key, value], i) => {
    names[`#q${i}`] = key;
    values[`:q${i}`] = value;
    return `#q${i} = :q${i}`;
  });
  const condition = [`#status IN (${fromList.join(', ')})`, change.alsoRequire, ...equalities]
    .filter(Boolean)
    .join(' AND ');
  try {
    const { Attributes } = await dynamo.send(
      new UpdateCommand({
        TableName: config.ordersTable,
        Key: { orderId },
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return { applied: true, record: Attributes as OrderRecord };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    return { applied: false, current: await getOrderRecord(orderId) };
  }
}

/** Takes back an order whose OrderReceived could not be published, so the partner's retry starts clean. */
export async function forgetUnpublishedOrder(orderId: string): Promise<void> {
  try {
    await dynamo.send(
      new DeleteCommand({
        TableName: config.ordersTable,
        Key: { orderId },
        ConditionExpression: '#status = :received AND attribute_not_exists(claimedBy)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':received': 'RECEIVED' },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/** The sparse index of orders that still owe work (domain/endings.ts), by when to try next. */
export const OWED_WORK_INDEX = 'owed-work';

/** Orders whose owed work is due by `dueBy` (all of them when undefined), oldest due first. */
export async function owedOrderIds(dueBy: Date | undefined, limit: number): Promise<string[]> {
  const { Items = [] } = await dynamo.send(
    new QueryCommand({
      TableName: config.ordersTable,
      IndexName: OWED_WORK_INDEX,
      KeyConditionExpression: dueBy ? 'owedQueue = :owed AND owedAt <= :due' : 'owedQueue = :owed',
      ExpressionAttributeValues: { ':owed': 'owed', ...(dueBy ? { ':due': dueBy.toISOString() } : {}) },
      Limit: limit,
    }),
  );
  return Items.map((item) => String(item.orderId));
}

/**
 * Orders still RECEIVED that were taken before `createdBefore`, oldest first, a page at a time from
 * the operator list's by-status index (eventually consistent: the caller decides from the record
 * itself). Reading stops when the caller has what it needs.
 */
export async function* receivedOrderIdsBefore(createdBefore: Date, pageSize: number): AsyncGenerator<string> {
  const pages = paginateQuery(
    { client: dynamo, pageSize },
    {
      TableName: config.ordersTable,
      IndexName: 'by-status',
      KeyConditionExpression: '#status = :received AND createdAt < :before',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':received': 'RECEIVED', ':before': createdBefore.toISOString() },
    },
  );
  for await (const page of pages) for (const item of page.Items ?? []) yield String(item.orderId);
}

/** How many orders still owe work that has failed at least once: the figure the alarm watches. */
export async function countOrdersOwingAfterFailures(): Promise<number> {
  let count = 0;
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: config.ordersTable,
        IndexName: OWED_WORK_INDEX,
        KeyConditionExpression: 'owedQueue = :owed',
        FilterExpression: 'owedAttempts > :none',
        ExpressionAttributeValues: { ':owed': 'owed', ':none': 0 },
        Select: 'COUNT',
        ExclusiveStartKey,
      }),
    );
    count += page.Count ?? 0;
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return count;
}
