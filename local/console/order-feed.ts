/**
 * The order list: the operator API's `GET /orders` page, plus a count per status, and a live feed of
 * it. Counts come from DynamoDB (`Select: COUNT` on the `by-status` index, with the list's store,
 * partner and since filters), since the API has no count route; the feed polls the API every second
 * and sends the rows that appeared or changed status.
 */
import { paginateQuery } from '@aws-sdk/client-dynamodb';
import { ORDER_STATUSES } from '../../functions/lib/schemas/order';
import type { Answer, ConsoleSystem } from './system';

export interface OrderRow {
  orderId: string;
  status: string;
  updatedAt?: string;
  [field: string]: unknown;
}

/** The query string for the API, parameters in alphabetical order (as a strict SigV4 check wants them). */
export function listQuery(query: URLSearchParams, override: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  const names = new Set([...query.keys(), ...Object.keys(override)]);
  for (const name of [...names].sort()) {
    const value = override[name] ?? query.get(name);
    if (value !== null && value !== '') params.set(name, value);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Orders per status for the store, partner and since filters (a status filter does not narrow them). */
export async function countsByStatus(
  system: ConsoleSystem,
  query: URLSearchParams,
): Promise<Record<string, number>> {
  const storeId = query.get('storeId') || undefined;
  const partner = query.get('partner') || undefined;
  const since = query.get('since') || undefined;
  const counted = await Promise.all(
    ORDER_STATUSES.map(
      async (status) => [status, await countOf(system, status, { storeId, partner, since })] as const,
    ),
  );
  return Object.fromEntries(counted);
}

/** Pages a count may read per status (1 MB each on AWS) — a console must not read a year of orders per second. */
const MAX_COUNT_PAGES = 20;

async function countOf(
  system: ConsoleSystem,
  status: string,
  filter: { storeId?: string; partner?: string; since?: string },
): Promise<number> {
  const names: Record<string, string> = { '#status': 'status' };
  const values: Record<string, { S: string }> = { ':status': { S: status } };
  let keyCondition = '#status = :status';
  if (filter.since) {
    names['#createdAt'] = 'createdAt';
    values[':since'] = { S: new Date(filter.since).toISOString() };
    keyCondition += ' AND #createdAt >= :since';
  }
  const conditions: string[] = [];
  for (const field of ['storeId', 'partner'] as const) {
    const value = filter[field];
    if (value === undefined) continue;
    names[`#${field}`] = field;
    values[`:${field}`] = { S: value };
    conditions.push(`#${field} = :${field}`);
  }
  let count = 0;
  let pages = 0;
  for await (const page of paginateQuery(
    { client: system.dynamo },
    {
      TableName: system.endpoints.ordersTable,
      IndexName: 'by-status',
      Select: 'COUNT',
      KeyConditionExpression: keyCondition,
      ...(conditions.length > 0 && { FilterExpression: conditions.join(' AND ') }),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  )) {
    count += page.Count ?? 0;
    if (++pages === MAX_COUNT_PAGES) break;
  }
  return count;
}

/** `GET /api/orders`: the API's page (its 400 passes through) with the counts beside it. */
export async function orderPage(system: ConsoleSystem, query: URLSearchParams): Promise<Answer> {
  const page = await system.api('GET', `/orders${listQuery(query)}`);
  if (page.status !== 200) return page;
  const counts = await countsByStatus(system, query);
  return { status: 200, body: { ...(page.body as object), counts } };
}

/** What the feed sends: rows that appeared or changed, and the counts. */
export interface FeedUpdate {
  orders: OrderRow[];
  counts: Record<string, number>;
}

/** Rows that are new or whose status (or last change) differs from what was seen. */
export function changedRows(seen: ReadonlyMap<string, string>, rows: readonly OrderRow[]): OrderRow[] {
  return rows.filter((row) => seen.get(row.orderId) !== versionOf(row));
}

const versionOf = (row: OrderRow) => `${row.status} ${row.updatedAt ?? ''}`;

const FEED_ROWS = '100';

/**
 * Watches the newest 100 orders of the filtered list: first sends the counts, then every
 * `intervalMs` the rows that appeared or changed, and the counts whenever they moved (a change to an
 * older order shows in the counts). Stops with the returned function.
 */
export function watchOrders(
  system: ConsoleSystem,
  query: URLSearchParams,
  send: (update: FeedUpdate) => void,
  intervalMs = 1_000,
): () => void {
  const seen = new Map<string, string>();
  let lastCounts = '';
  let first = true;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async () => {
    try {
      const page = await system.api('GET', `/orders${listQuery(query, { limit: FEED_ROWS, cursor: '' })}`);
      if (page.status === 200) {
        const rows = ((page.body as { orders?: OrderRow[] }).orders ?? []) as OrderRow[];
        // The first poll only learns what is there (the page itself was read by GET /api/orders).
        const changed = first ? [] : changedRows(seen, rows);
        for (const row of first ? rows : changed) seen.set(row.orderId, versionOf(row));
        first = false;
        const counts = await countsByStatus(system, query);
        const countsText = JSON.stringify(counts);
        if (!stopped && (changed.length > 0 || countsText !== lastCounts)) send({ orders: changed, counts });
        lastCounts = countsText;
      }
    } catch {
      // The system did not answer this time; the next poll tries again.
    }
    if (!stopped) timer = setTimeout(poll, intervalMs);
  };
  void poll();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
