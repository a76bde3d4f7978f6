/**
 * Stores as the console shows them. The API has no route listing stores, so their ids come from the
 * stores table — a Scan filtered to store records, as the store schedules read them (stores are few;
 * orders live in another table) — and each store's view from `GET /stores/{storeId}`, so what the
 * page shows is what the API answers. What each partner shows for a store comes from the partner
 * simulator, when the stage runs one.
 */
import { paginateScan } from '@aws-sdk/client-dynamodb';
import type { Answer, ConsoleSystem } from './system';

async function storeIds(system: ConsoleSystem): Promise<string[]> {
  const ids: string[] = [];
  for await (const page of paginateScan(
    { client: system.dynamo },
    {
      TableName: system.endpoints.storesTable,
      FilterExpression: 'begins_with(pk, :store)',
      ProjectionExpression: 'storeId',
      ExpressionAttributeValues: { ':store': { S: 'STORE#' } },
    },
  )) {
    for (const item of page.Items ?? []) if (item.storeId?.S) ids.push(item.storeId.S);
  }
  return ids.sort();
}

/** `GET /api/stores`: every store's view; a store the API cannot show (deleted meanwhile) is left out. */
export async function storeList(system: ConsoleSystem): Promise<Answer> {
  const answers = await Promise.all(
    (await storeIds(system)).map((storeId) => system.api('GET', `/stores/${encodeURIComponent(storeId)}`)),
  );
  const failed = answers.find((answer) => answer.status !== 200 && answer.status !== 404);
  if (failed) return failed;
  return { status: 200, body: { stores: answers.filter((a) => a.status === 200).map((a) => a.body) } };
}

/** `GET /api/stores/{storeId}`: the store's view and what the partners show for it (null without a simulator). */
export async function storeDetail(system: ConsoleSystem, storeId: string): Promise<Answer> {
  const id = encodeURIComponent(storeId);
  const [store, partners] = await Promise.all([
    system.api('GET', `/stores/${id}`),
    system.simulator('partner', 'GET', `/_control/stores/${id}`)?.catch(() => undefined),
  ]);
  if (store.status !== 200) return store;
  return {
    status: 200,
    body: { store: store.body, partners: partners?.status === 200 ? partners.body : null },
  };
}
