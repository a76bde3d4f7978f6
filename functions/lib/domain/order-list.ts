/**
 * The operator's order list (GET /orders): which index answers a filter, which partitions it walks
 * and how a page is continued. Pure: the DynamoDB Query lives in adapters/order-list.ts.
 */
import type { OrderStatus } from '../schemas/order';
import type { PartnerId } from '../schemas/partners/index';

export interface OrderListFilter {
  status?: OrderStatus;
  storeId?: string;
  partner?: PartnerId;
  /** ISO time, normalized to `toISOString()` so it compares with `createdAt` as a string. */
  since?: string;
}

export type ListIndex = 'by-status' | 'by-store' | 'by-day';

/**
 * The index a filter is served by, its partition key and value, and what is left to filter.
 * Both status and store: the waiting statuses (few orders each) are read by status and filtered by
 * store; the endings (every order that ever ended) by store and filtered by status.
 */
export interface ListPlan {
  index: ListIndex;
  /** The index's partition attribute; for `by-day` the partition is the day being walked. */
  partitionKey: 'status' | 'storeId' | 'createdDay';
  /** The partition's value; undefined for `by-day`, whose value changes as days are walked. */
  partition?: string;
  filters: Partial<Record<'status' | 'storeId' | 'partner', string>>;
}

const FEW_PER_STATUS: readonly OrderStatus[] = ['RECEIVED', 'ACCEPTED'];

export function listPlan({ status, storeId, partner }: OrderListFilter): ListPlan {
  const byPartner = partner ? { partner } : {};
  if (status && (!storeId || FEW_PER_STATUS.includes(status)))
    return {
      index: 'by-status',
      partitionKey: 'status',
      partition: status,
      filters: { ...byPartner, ...(storeId ? { storeId } : {}) },
    };
  if (storeId)
    return {
      index: 'by-store',
      partitionKey: 'storeId',
      partition: storeId,
      filters: { ...byPartner, ...(status ? { status } : {}) },
    };
  return { index: 'by-day', partitionKey: 'createdDay', filters: byPartner };
}

/** The UTC date of a creation time: the `by-day` partition the intake writes with the order. */
export function createdDayOf(createdAt: string | Date): string {
  return new Date(createdAt).toISOString().slice(0, 10);
}

export function dayBefore(day: string): string {
  return createdDayOf(new Date(Date.parse(`${day}T00:00:00.000Z`) - 86_400_000));
}

/** Without `since`, an unfiltered list walks back this many days before it stops. */
export const LIST_LOOKBACK_DAYS = 90;

/** The oldest day an unfiltered list reads: that of `since`, or the lookback before today. */
export function oldestDay(since: string | undefined, now: Date): string {
  return since
    ? createdDayOf(since)
    : createdDayOf(new Date(now.getTime() - LIST_LOOKBACK_DAYS * 86_400_000));
}

/** Where a page continues: the day partition (by-day only) and the index key after which to read. */
export interface ListPosition {
  day?: string;
  key?: Record<string, string>;
}

/** The opaque cursor a client gets back: base64url of the position. */
export function encodeCursor(position: ListPosition): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Reads a cursor back, and checks it continues this very list: its key must be an index key of the
 * plan's index in the plan's partition. Anything else is undefined (the caller answers 400), never
 * a key DynamoDB would refuse with a 500.
 */
export function decodeCursor(cursor: string, plan: ListPlan): ListPosition | undefined {
  let position: unknown;
  try {
    position = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof position !== 'object' || position === null || Array.isArray(position)) return undefined;
  const { day, key, ...rest } = position as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return undefined;
  if (day !== undefined && (typeof day !== 'string' || !DAY.test(day) || plan.index !== 'by-day'))
    return undefined;
  if (plan.index === 'by-day' && day === undefined) return undefined;
  if (key === undefined) return day === undefined ? undefined : { day };
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return undefined;
  const entries = Object.entries(key as Record<string, unknown>);
  const names = ['orderId', 'createdAt', plan.partitionKey];
  if (
    entries.length !== names.length ||
    !names.every((name) => typeof (key as Record<string, unknown>)[name] === 'string')
  )
    return undefined;
  const partitionValue = (key as Record<string, string>)[plan.partitionKey];
  if (partitionValue !== (plan.index === 'by-day' ? day : plan.partition)) return undefined;
  return { ...(day === undefined ? {} : { day: day as string }), key: key as Record<string, string> };
}
