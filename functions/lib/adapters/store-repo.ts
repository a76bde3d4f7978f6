import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config';
import type { PartnerId } from '../schemas/partners/index';
import type { Store } from '../schemas/store';
import { dynamo, isConditionFailure } from './dynamo';

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
    new GetCommand({ TableName: config.storesTable, Key: storeKey(storeId) }),
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

async function updateStore(
  storeId: string,
  update: Omit<ConstructorParameters<typeof UpdateCommand>[0], 'TableName' | 'Key'>,
) {
  try {
    const { Attributes } = await dynamo.send(
      new UpdateCommand({
        TableName: config.storesTable,
        Key: storeKey(storeId),
        ConditionExpression: 'attribute_exists(pk)',
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

export function setStoreStatus(storeId: string, status: Store['status']): Promise<Store | undefined> {
  return updateStore(storeId, {
    UpdateExpression: 'SET #status = :status',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':status': status },
  });
}

/** 86 an item (or bring it back). The menu is a list, so the item's index is found first. */
export async function setItemAvailability(storeId: string, sku: string, available: boolean) {
  const store = await getStore(storeId);
  const index = store?.menu.findIndex((item) => item.sku === sku) ?? -1;
  if (!store || index < 0) return { store, itemFound: false };
  const updated = await updateStore(storeId, {
    UpdateExpression: `SET menu[${index}].available = :available`,
    // The index is only right if the menu has not been reordered since the read.
    ConditionExpression: `attribute_exists(pk) AND menu[${index}].sku = :sku`,
    ExpressionAttributeValues: { ':available': available, ':sku': sku },
  });
  return { store: updated, itemFound: updated !== undefined };
}
