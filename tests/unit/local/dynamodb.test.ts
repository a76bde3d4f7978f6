import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { ensureTables, type LocalDynamo, startDynamo } from '../../../local/cloud/dynamodb';
import { type Edge, startEdge } from '../../../local/cloud/edge';

const dataDir = mkdtempSync(join(tmpdir(), 'dynamo-test-'));
let dynamo: LocalDynamo;
let edge: Edge;
let client: DynamoDBClient;

async function start(fresh = false) {
  dynamo = await startDynamo({ dataDir, fresh });
  edge = await startEdge({ port: 0, services: {}, dynamodbEndpoint: dynamo.endpoint });
  client = new DynamoDBClient({
    endpoint: edge.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
}
async function stop() {
  client.destroy();
  await edge.close();
  await dynamo.close();
}

const ordersTable = {
  name: 'order-middleware-local-orders',
  properties: {
    TableName: 'order-middleware-local-orders',
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'orderId', AttributeType: 'S' },
      { AttributeName: 'storeId', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'orderId', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [
      {
        IndexName: 'byStore',
        KeySchema: [{ AttributeName: 'storeId', KeyType: 'HASH' }],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
    TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
    PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
  },
};

const putNew = (orderId: string) =>
  client.send(
    new PutItemCommand({
      TableName: ordersTable.name,
      Item: { orderId: { S: orderId }, storeId: { S: 'store-001' }, status: { S: 'RECEIVED' } },
      ConditionExpression: 'attribute_not_exists(orderId)',
    }),
  );

beforeAll(() => start(true), 30_000);
afterAll(async () => {
  await stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

test('ensureTables creates the template tables once, active at once, with their indexes', async () => {
  expect(await ensureTables(client, [ordersTable])).toEqual([ordersTable.name]);
  expect(await ensureTables(client, [ordersTable])).toEqual([]);
  const { Table } = await client.send(new DescribeTableCommand({ TableName: ordersTable.name }));
  expect(Table).toMatchObject({
    TableStatus: 'ACTIVE',
    BillingModeSummary: { BillingMode: 'PAY_PER_REQUEST' },
  });
  expect(Table?.GlobalSecondaryIndexes?.map((i) => i.IndexName)).toEqual(['byStore']);
});

test('a conditional put through the edge succeeds once, then surfaces ConditionalCheckFailedException', async () => {
  await putNew('ord_1');
  await expect(putNew('ord_1')).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  const byStore = await client.send(
    new QueryCommand({
      TableName: ordersTable.name,
      IndexName: 'byStore',
      KeyConditionExpression: 'storeId = :s',
      ExpressionAttributeValues: { ':s': { S: 'store-001' } },
    }),
  );
  expect(byStore.Items?.map((i) => i.orderId?.S)).toEqual(['ord_1']);
});

test('a kept table that lacks an index the template now declares is rebuilt with its items', async () => {
  await putNew('ord_kept');
  const withNewIndex = {
    ...ordersTable,
    properties: {
      ...ordersTable.properties,
      AttributeDefinitions: [
        ...ordersTable.properties.AttributeDefinitions,
        { AttributeName: 'status', AttributeType: 'S' },
      ],
      GlobalSecondaryIndexes: [
        ...ordersTable.properties.GlobalSecondaryIndexes,
        {
          IndexName: 'byStatus',
          KeySchema: [{ AttributeName: 'status', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        },
      ],
    },
  };

  expect(await ensureTables(client, [withNewIndex])).toEqual([]);

  const byStatus = await client.send(
    new QueryCommand({
      TableName: ordersTable.name,
      IndexName: 'byStatus',
      KeyConditionExpression: '#s = :s',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':s': { S: 'RECEIVED' } },
    }),
  );
  expect(byStatus.Items?.map((i) => i.orderId?.S)).toContain('ord_kept');
  const kept = await client.send(
    new GetItemCommand({ TableName: ordersTable.name, Key: { orderId: { S: 'ord_kept' } } }),
  );
  expect(kept.Item?.storeId?.S).toBe('store-001');
});

test('data survives a restart on the same directory, and a fresh start empties it', async () => {
  await putNew('ord_2');
  await stop();
  await start();
  const kept = await client.send(
    new GetItemCommand({ TableName: ordersTable.name, Key: { orderId: { S: 'ord_2' } } }),
  );
  expect(kept.Item?.status?.S).toBe('RECEIVED');
  await stop();
  await start(true);
  expect(await ensureTables(client, [ordersTable])).toEqual([ordersTable.name]);
  const gone = await client.send(
    new GetItemCommand({ TableName: ordersTable.name, Key: { orderId: { S: 'ord_2' } } }),
  );
  expect(gone.Item).toBeUndefined();
}, 30_000);

/** The table files (not the write-ahead log) under the data folder, in MB. */
const tableFilesMb = () =>
  readdirSync(dataDir)
    .filter((file) => file.endsWith('.ldb'))
    .reduce((mb, file) => mb + statSync(join(dataDir, file)).size / 1024 / 1024, 0);

test('table files a compaction replaced are deleted although Queries and Scans ran in between', async () => {
  await ensureTables(client, [ordersTable]);
  // Ten items of 300 KB, rewritten twelve times (36 MB written, 3 MB live) with a Query and a Scan
  // after each round: an iterator left open would keep every table file of its moment on disk.
  for (let round = 0; round < 12; round += 1) {
    for (let i = 0; i < 10; i += 1) {
      await client.send(
        new PutItemCommand({
          TableName: ordersTable.name,
          Item: { orderId: { S: `big_${i}` }, note: { S: randomBytes(225_000).toString('base64') } },
        }),
      );
    }
    await client.send(
      new QueryCommand({
        TableName: ordersTable.name,
        IndexName: 'byStore',
        KeyConditionExpression: 'storeId = :s',
        ExpressionAttributeValues: { ':s': { S: 'store-001' } },
        Limit: 1,
      }),
    );
    await client.send(new ScanCommand({ TableName: ordersTable.name, Limit: 1 }));
  }
  // LevelDB compacts in the background: the live 3 MB plus at most three 4 MB level-0 files remain.
  const deadline = Date.now() + 10_000;
  while (tableFilesMb() > 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(tableFilesMb()).toBeLessThan(20);
}, 60_000);
