/**
 * `partnerSync` on the store record: what the partner sync last pushed to each partner. One
 * conditional UpdateItem per partner, which never lowers what is recorded (`changes` orders pushes).
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config';
import type { PartnerId } from '../schemas/partners/index';
import type { PartnerSync } from '../schemas/store';
import { dynamo, isConditionFailure } from './dynamo';
import { getStore } from './store-repo';

const storeKey = (storeId: string) => ({ pk: `STORE#${storeId}` });

/**
 * The store as it is now: the store read is strongly consistent, which the sync's re-check after a
 * push needs — it must see every change written before it, or a push that landed last could miss
 * the store moving.
 */
export const readStoreNow = getStore;

/** The map itself, once per store: a nested SET needs its parent to exist. */
async function ensureSyncMap(storeId: string): Promise<void> {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.storesTable,
        Key: storeKey(storeId),
        UpdateExpression: 'SET #sync = :empty',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#sync)',
        ExpressionAttributeNames: { '#sync': 'partnerSync' },
        ExpressionAttributeValues: { ':empty': {} },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * Records that `partner` was told the store at `pushed`; false when a newer push is already recorded
 * (or the store is gone) — that pusher re-checks the store after its own push, so nothing is lost.
 */
export async function recordPartnerSync(
  storeId: string,
  partner: PartnerId,
  pushed: PartnerSync,
  hasSyncMap: boolean,
): Promise<boolean> {
  if (!hasSyncMap) await ensureSyncMap(storeId);
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.storesTable,
        Key: storeKey(storeId),
        UpdateExpression: 'SET #sync.#partner = :pushed',
        ConditionExpression:
          'attribute_exists(pk) AND (attribute_not_exists(#sync.#partner) OR #sync.#partner.#changes <= :changes)',
        ExpressionAttributeNames: { '#sync': 'partnerSync', '#partner': partner, '#changes': 'changes' },
        ExpressionAttributeValues: { ':pushed': pushed, ':changes': pushed.changes },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * Forgets what a partner was last pushed: after a failed push nobody knows what it shows (an older
 * push may have landed after a newer one was recorded), so the sweep must push it again.
 */
export async function forgetPartnerSync(storeId: string, partner: PartnerId): Promise<void> {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.storesTable,
        Key: storeKey(storeId),
        UpdateExpression: 'REMOVE #sync.#partner',
        ConditionExpression: 'attribute_exists(#sync)',
        ExpressionAttributeNames: { '#sync': 'partnerSync', '#partner': partner },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
