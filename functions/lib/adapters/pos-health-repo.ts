/**
 * The POS failure count on the store record (`posHealth.consecutiveFailures`). Its writes touch
 * nothing else and not the store's `version`: the count is ours alone, not a state partners see.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { config } from '../config';
import { dynamo, isConditionFailure } from './dynamo';

const storeKey = (storeId: string) => ({ pk: `STORE#${storeId}` });

/** One more POS failure in a row for the store; answers the new count (0 for a store that is gone). */
export async function addPosFailure(storeId: string): Promise<number> {
  // ADD on a nested path needs its map: the first failure writes the map, later ones add to it.
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const { Attributes } = await dynamo.send(
        new UpdateCommand({
          TableName: config.storesTable,
          Key: storeKey(storeId),
          UpdateExpression: 'ADD posHealth.consecutiveFailures :one',
          ConditionExpression: 'attribute_exists(posHealth)',
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number((Attributes?.posHealth as { consecutiveFailures?: number })?.consecutiveFailures ?? 1);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
    try {
      await dynamo.send(
        new UpdateCommand({
          TableName: config.storesTable,
          Key: storeKey(storeId),
          UpdateExpression: 'SET posHealth = :first',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(posHealth)',
          ExpressionAttributeValues: { ':first': { consecutiveFailures: 1 } },
        }),
      );
      return 1;
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Another writer made the map meanwhile (or there is no such store): add to it, or stop.
    }
  }
  return 0;
}

/** The POS answered: the count starts again from 0. */
export async function resetPosFailures(storeId: string): Promise<void> {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.storesTable,
        Key: storeKey(storeId),
        UpdateExpression: 'SET posHealth.consecutiveFailures = :zero',
        ConditionExpression: 'attribute_exists(posHealth)',
        ExpressionAttributeValues: { ':zero': 0 },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}
