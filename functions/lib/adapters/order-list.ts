import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config';
import {
  createdDayOf,
  dayBefore,
  type ListPlan,
  type ListPosition,
  type OrderListFilter,
  oldestDay,
} from '../domain/order-list';
import type { OrderListItem } from '../schemas/operations';
import { dynamo } from './dynamo';

/** With a filter, one Query reads more than the page needs; the page is cut at the limit. */
const FILTERED_READ = 100;

const LIST_FIELDS = [
  'orderId',
  'partner',
  'partnerOrderId',
  'storeId',
  'status',
  'total',
  'createdAt',
  'updatedAt',
];

function itemOf(raw: Record<string, unknown>): OrderListItem {
  return Object.fromEntries(
    LIST_FIELDS.filter((f) => raw[f] !== undefined).map((f) => [f, raw[f]]),
  ) as OrderListItem;
}

/** One Query of one partition of the plan's index, newest first, from `after` on. */
async function queryPartition(
  plan: ListPlan,
  partition: string,
  filter: OrderListFilter,
  limit: number,
  after: Record<string, string> | undefined,
) {
  const names: Record<string, string> = { '#p': plan.partitionKey };
  const values: Record<string, unknown> = { ':p': partition };
  let keyCondition = '#p = :p';
  if (filter.since) {
    names['#createdAt'] = 'createdAt';
    values[':since'] = filter.since;
    keyCondition += ' AND #createdAt >= :since';
  }
  const conditions = Object.entries(plan.filters).map(([name, value], i) => {
    names[`#f${i}`] = name;
    values[`:f${i}`] = value;
    return `#f${i} = :f${i}`;
  });
  const { Items = [], LastEvaluatedKey } = await dynamo.send(
    new QueryCommand({
      TableName: config.ordersTable,
      IndexName: plan.index,
      KeyConditionExpression: keyCondition,
      ...(conditions.length > 0 ? { FilterExpression: conditions.join(' AND ') } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ScanIndexForward: false,
      Limit: conditions.length > 0 ? Math.max(limit, FILTERED_READ) : limit,
      ...(after ? { ExclusiveStartKey: after } : {}),
    }),
  );
  return { items: Items, lastKey: LastEvaluatedKey as Record<string, string> | undefined };
}

/** Further pages of one partition an answer may read (each at most 1 MB on AWS) before it ends short. */
const MAX_FURTHER_PAGES = 10;

/**
 * A page of the list: Query after Query on the plan's index — for `by-day`, today's partition and
 * then earlier days down to `since` (or the lookback) — until `limit` orders are found. Answers
 * where the next page starts, when there may be one.
 */
export async function listOrders(
  plan: ListPlan,
  filter: OrderListFilter,
  limit: number,
  start: ListPosition | undefined,
  now = new Date(),
): Promise<{ orders: OrderListItem[]; next?: ListPosition }> {
  const orders: OrderListItem[] = [];
  const floor = oldestDay(filter.since, now);
  let day = plan.index === 'by-day' ? (start?.day ?? createdDayOf(now)) : undefined;
  let after = start?.key;
  // A filter that matches little must not read a whole partition in one request: after a bounded
  // number of further pages the answer ends short, with a cursor to go on from. (Empty days cost
  // one small read each and are bounded by the lookback.)
  let furtherPages = 0;
  while (true) {
    if (day !== undefined && day < floor) return { orders };
    const partition = day ?? plan.partition!;
    const wanted = limit - orders.length;
    const { items, lastKey } = await queryPartition(plan, partition, filter, wanted, after);
    const taken = items.slice(0, wanted);
    orders.push(...taken.map(itemOf));
    if (orders.length === limit) {
      // Cut inside the page: continue after the last order shown, which is itself an index key.
      const last = taken.at(-1)!;
      const key = taken.length < items.length || lastKey ? keyOf(plan, last, partition) : undefined;
      if (key) return { orders, next: { ...(day ? { day } : {}), key } };
      if (day === undefined || dayBefore(day) < floor) return { orders };
      return { orders, next: { day: dayBefore(day) } };
    }
    if (lastKey) {
      after = lastKey;
      if (++furtherPages === MAX_FURTHER_PAGES)
        return { orders, next: { ...(day ? { day } : {}), key: after } };
      continue;
    }
    if (day === undefined) return { orders };
    day = dayBefore(day);
    after = undefined;
  }
}

function keyOf(plan: ListPlan, item: Record<string, unknown>, partition: string): Record<string, string> {
  return {
    orderId: String(item.orderId),
    createdAt: String(item.createdAt),
    [plan.partitionKey]: partition,
  };
}
