import { DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { demoStoresAt } from '../functions/lib/domain/demo-stores';
import { PARTNERS } from '../functions/lib/schemas/partners/index';

/**
 * The SSM parameters that tell the functions where the partner and POS APIs answer, pointing at the
 * simulators where they actually listen (tests start them on free ports). A deployed stage gets the
 * same names from its stack (resources/simulators.yml) or, for production, from its operator.
 */
export function apiUrlParameters(
  stage: string,
  urls: { partnerUrl: string; posUrl: string },
): Record<string, { type: 'String'; value: string }> {
  const prefix = `/order-middleware/${stage}`;
  return {
    [`${prefix}/pos/api-url`]: { type: 'String', value: urls.posUrl },
    ...Object.fromEntries(
      PARTNERS.map((partner) => [
        `${prefix}/partners/${partner}/api-url`,
        { type: 'String' as const, value: urls.partnerUrl },
      ]),
    ),
  };
}

/** Demo stores (as of now: the demo 86 ends two hours later) and their partner store ids, written only into an empty store table. */
export async function seedDemoStores(dynamodbEndpoint: string, storesTable: string): Promise<boolean> {
  const client = new DynamoDBClient({
    endpoint: dynamodbEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const { Count } = await client.send(new ScanCommand({ TableName: storesTable, Limit: 1, Select: 'COUNT' }));
  if (Count) return false;
  for (const store of demoStoresAt(new Date())) {
    await client.send(
      new PutItemCommand({
        TableName: storesTable,
        Item: marshall({ pk: `STORE#${store.storeId}`, ...store }),
      }),
    );
    for (const [partner, partnerStoreId] of Object.entries(store.partnerStoreIds)) {
      await client.send(
        new PutItemCommand({
          TableName: storesTable,
          Item: marshall({ pk: `PARTNER#${partner}#${partnerStoreId}`, storeId: store.storeId }),
        }),
      );
    }
  }
  return true;
}
