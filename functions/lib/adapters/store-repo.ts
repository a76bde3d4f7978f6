import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { z } from 'zod';
import { config } from '../config';
import type { ItemChange, StoreChange } from '../domain/store-state';
import type { PartnerId } from '../schemas/partners/index';
import type { Store, ThrottleSchema } from '../schemas/store';
import { dynamo, isConditionFailure } from './dynamo';

type Throttle = z.infer<typeof ThrottleSchema>;

const storeKey = (storeId: string) => ({ pk: `STORE#${storeId}` });
const partnerKey = (partner: PartnerId, partnerStoreId: string) => ({
  pk: `PARTNER#${partner}#${partnerStoreId}`,
});

function toStore(item: Record<string, unknown> | undefined): Store | undefined {
  if (!item) return undefined;
  const { pk: _pk, ...store } = item;
  return store as Store;
}

/** Always read fresh: a store manager pausing the store must take effect on the next order. */
export async function getStore(storeId: string): Promise<Store | undefined> {
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: config.storesTable, Key: storeKey(storeId), ConsistentRead: true }),
  );
  return toStore(Item);
}

/** Partner store ids change rarely: cached per execution environment for a minute. */
const mappingCache = new Map<string, { storeId: string | undefined; until: number }>();
const MAPPING_TTL_MS = 60_000;

export async function storeIdForPartner(
  partner: PartnerId,
  partnerStoreId: string,
): Promise<string | undefined> {
  const cacheKey = `${partner}#${partnerStoreId}`;
  const cached = mappingCache.get(cacheKey);
  if (cached && cached.until > Date.now()) return cached.storeId;
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: config.storesTable, Key: partnerKey(partner, partnerStoreId) }),
  );
  const storeId = Item?.storeId as string | undefined;
  mappingCache.set(cacheKey, { storeId, until: Date.now() + MAPPING_TTL_MS });
  return storeId;
}

/** Stores are few: the scheduled work reads them all with a Scan filtered to store records (never orders). */
export async function listStores(): Promise<Store[]> {
  const stores: Store[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({
        TableName: config.storesTable,
        FilterExpression: 'begins_with(pk, :store)',
        ExpressionAttributeValues: { ':store': 'STORE#' },
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) stores.push(toStore(item)!);
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return stores;
}

/** One conditional UpdateItem; undefined when its condition failed (a lost race, or no such store). */
async function updateStore(
  storeId: string,
  update: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>,
): Promise<Store | undefined> {
  try {
    const { Attributes } = await dynamo.send(
      new UpdateCommand({
        TableName: config.storesTable,
        Key: storeKey(storeId),
        ReturnValues: 'ALL_NEW',
        ...update,
      }),
    );
    return toStore(Attributes);
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}

/** `#version` is `:from` (absent counts as 0): the version the change was computed on. */
const versionCondition = (path: string, fromVersion: number) =>
  fromVersion === 0 ? `(attribute_not_exists(${path}) OR ${path} = :from)` : `${path} = :from`;

/**
 * Writes a status and/or busy change on the version it was computed from, growing the version; the
 * store as it now is, or undefined when the store moved on meanwhile (or is gone): read and retry.
 */
export function writeStoreChange(storeId: string, change: StoreChange): Promise<Store | undefined> {
  const set = ['#version = :version'];
  const remove: string[] = [];
  const names: Record<string, string> = { '#version': 'version' };
  const values: Record<string, unknown> = { ':version': change.version, ':from': change.fromVersion };
  /** SET the attribute to `value`, or REMOVE it when `value` is absent (undefined or null). */
  const assign = (name: string, value: unknown) => {
    names[`#${name}`] = name;
    if (value === undefined || value === null) remove.push(`#${name}`);
    else {
      set.push(`#${name} = :${name}`);
      values[`:${name}`] = value;
    }
  };
  if (change.status) {
    assign('status', change.status.status);
    assign('changedBy', change.status.changedBy);
    assign('reason', change.status.reason);
    assign('until', change.status.until);
  }
  if (change.busy !== undefined) assign('busy', change.busy);
  return updateStore(storeId, {
    UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
    ConditionExpression: `attribute_exists(pk) AND ${versionCondition('#version', change.fromVersion)}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  });
}

/**
 * Writes an item's availability at its place in the menu, on the item version it was computed from.
 * The menu is a list: the condition also checks the sku is still at `index`.
 */
export function writeItemChange(
  storeId: string,
  index: number,
  change: ItemChange,
): Promise<Store | undefined> {
  const item = `menu[${index}]`;
  const values: Record<string, unknown> = {
    ':sku': change.sku,
    ':available': change.available,
    ':version': change.version,
    ':from': change.fromVersion,
  };
  let update = `SET ${item}.available = :available, ${item}.version = :version`;
  if (change.until === undefined) update += ` REMOVE ${item}.#until`;
  else {
    update += `, ${item}.#until = :until`;
    values[':until'] = change.until;
  }
  return updateStore(storeId, {
    UpdateExpression: update,
    ConditionExpression: `attribute_exists(pk) AND ${item}.sku = :sku AND ${versionCondition(`${item}.version`, change.fromVersion)}`,
    ExpressionAttributeNames: { '#until': 'until' },
    ExpressionAttributeValues: values,
  });
}

/** Sets or (with null) removes the store's throttle; no version: partners never see it. */
export function writeThrottle(storeId: string, throttle: Throttle | null): Promise<Store | undefined> {
  return updateStore(storeId, {
    ConditionExpression: 'attribute_exists(pk)',
    ExpressionAttributeNames: { '#throttle': 'throttle' },
    ...(throttle === null
      ? { UpdateExpression: 'REMOVE #throttle' }
      : {
          UpdateExpression: 'SET #throttle = :throttle',
          ExpressionAttributeValues: { ':throttle': throttle },
        }),
  });
}
