import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
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
  /** Extra condition, e.g. `attribute_not_exists(posReference)`. */
  alsoRequire?: string;
  timeline: Omit<TimelineEntry, 'at'>;
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
    '#timeline': 'timeline',
    '#updatedAt': 'updatedAt',
  };
  const values: Record<string, unknown> = { ':entry': [{ ...change.timeline, at }], ':now': at };
  const sets = ['#timeline = list_append(#timeline, :entry)', '#updatedAt = :now'];
  if (change.to) {
    values[':to'] = change.to;
    sets.push('#status = :to');
  }
  for (const [i, [key, value]] of Object.entries(change.set ?? {}).entries()) {
    names[`#f${i}`] = key;
    values[`:f${i}`] = value;
    sets.push(`#f${i} = :f${i}`);
  }
  const fromList = change.from.map((status, i) => {
    values[`:from${i}`] = status;
    return `:from${i}`;
  });
  const condition = [`#status IN (${fromList.join(', ')})`, change.alsoRequire].filter(Boolean).join(' AND ');
  try {
    const { Attributes } = await dynamo.send(
      new UpdateCommand({
        TableName: config.ordersTable,
        Key: { orderId },
        UpdateExpression: `SET ${sets.join(', ')}`,
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
