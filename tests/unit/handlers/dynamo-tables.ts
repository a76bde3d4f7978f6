/**
 * A real DynamoDB for the handler tests: dynalite in this process, in memory, on a free port, with
 * the tables of resources/data.yml (keys, the owed-work index) under the test stage's names. The
 * handlers reach it through `AWS_ENDPOINT_URL_DYNAMODB`, so every ConditionExpression, index and
 * update expression they write is checked by DynamoDB's own rules, not by a copy of them.
 *
 * Call `startTestTables()` before importing a handler: the SDK clients are made when modules load.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { BatchWriteItemCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { parse } from 'yaml';
import type { OrderRecord } from '../../../functions/lib/schemas/order';
import { ensureTables, type TableDefinition } from '../../../local/cloud/dynamodb';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;

const DATA_TEMPLATE = new URL('../../../resources/data.yml', import.meta.url);

/** Every AWS::DynamoDB::Table of resources/data.yml, named for `service` and `stage`. */
export function tableDefinitions(
  service: string,
  stage: string,
): (TableDefinition & { logicalId: string })[] {
  // The CloudFormation short forms (!Ref, !GetAtt) appear only in other resources; tables use none.
  const template = parse(readFileSync(DATA_TEMPLATE, 'utf8'), { logLevel: 'silent' }) as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::DynamoDB::Table')
    .map(([logicalId, { Properties }]) => {
      // The Serverless variables of the names: `${self:service}-${sls:stage}-orders`.
      const name = String(Properties.TableName)
        .replace(/\$\{self:service\}/, service)
        .replace(/\$\{sls:stage\}/, stage);
      return { logicalId, name, properties: { ...Properties, TableName: name } };
    });
}

export interface TestTables {
  endpoint: string;
  /** A client of its own, for arranging and reading the tables (not the handlers' client). */
  doc: DynamoDBDocumentClient;
  tableNames: Record<string, string>;
  /** Empties every table, between tests. */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts dynalite, creates the tables and points the AWS SDK's DynamoDB clients at it (the env var
 * the SDK reads for the DynamoDB endpoint only: SSM, EventBridge and SFN stay mockable).
 */
export async function startTestTables({
  service = 'order-middleware',
  stage = 'test',
} = {}): Promise<TestTables> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  const tables = tableDefinitions(service, stage);
  await ensureTables(client, tables);
  const keyOf = (table: TableDefinition) =>
    ((table.properties.KeySchema ?? []) as { AttributeName: string }[]).map((key) => key.AttributeName);

  return {
    endpoint,
    doc,
    tableNames: Object.fromEntries(tables.map((table) => [table.logicalId, table.name])),
    async clear() {
      for (const table of tables) {
        const keys = keyOf(table);
        const { Items = [] } = await client.send(
          new ScanCommand({ TableName: table.name, ProjectionExpression: keys.join(', ') }),
        );
        for (let i = 0; i < Items.length; i += 25) {
          await client.send(
            new BatchWriteItemCommand({
              RequestItems: {
                [table.name]: Items.slice(i, i + 25).map((Key) => ({ DeleteRequest: { Key } })),
              },
            }),
          );
        }
      }
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The orders table as the tests arrange and read it. */
export class OrdersTable {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly name: string,
  ) {}

  async put(...records: OrderRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i += 25) {
      await this.doc.send(
        new BatchWriteCommand({
          RequestItems: {
            [this.name]: records.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
          },
        }),
      );
    }
  }

  async putOne(record: OrderRecord): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.name, Item: record }));
  }

  async get(orderId: string): Promise<OrderRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.name, Key: { orderId }, ConsistentRead: true }),
    );
    return Item as OrderRecord | undefined;
  }

  /** The order as it is now; fails the test when it is missing. */
  async read(orderId: string): Promise<OrderRecord> {
    const record = await this.get(orderId);
    if (!record) throw new Error(`the orders table has no ${orderId}`);
    return record;
  }

  /** What the sparse owed-work index holds: order ids with their next try, oldest first. */
  async owedWork(): Promise<{ orderId: string; owedAt: string; owedAttempts?: number }[]> {
    const { Items = [] } = await this.doc.send(
      new QueryCommand({
        TableName: this.name,
        IndexName: 'owed-work',
        KeyConditionExpression: 'owedQueue = :owed',
        ExpressionAttributeValues: { ':owed': 'owed' },
      }),
    );
    return Items.map((item) => ({
      orderId: String(item.orderId),
      owedAt: String(item.owedAt),
      ...(item.owedAttempts === undefined ? {} : { owedAttempts: Number(item.owedAttempts) }),
    }));
  }
}

/**
 * Watches what a DynamoDB client sends (the handlers' own, `functions/lib/adapters/dynamo`): the
 * name of each command, and an action run once just before the next command of a name — a write
 * by someone else landing between the handler's read and its write.
 */
export class DynamoWatch {
  readonly sent: string[] = [];
  private hooks: { commandName: string; action: () => Promise<void> }[] = [];

  constructor(client: DynamoDBDocumentClient) {
    client.middlewareStack.add(
      (next, context) => async (args) => {
        this.sent.push(String(context.commandName));
        const due = this.hooks.findIndex((hook) => hook.commandName === context.commandName);
        if (due >= 0) {
          const [hook] = this.hooks.splice(due, 1);
          await hook?.action();
        }
        return next(args);
      },
      { step: 'initialize', name: 'testDynamoWatch' },
    );
  }

  /** `commandName` as the low-level client names it, e.g. `UpdateItemCommand`. */
  beforeNext(commandName: string, action: () => Promise<void>): void {
    this.hooks.push({ commandName, action });
  }

  reset(): void {
    this.sent.length = 0;
    this.hooks = [];
  }
}
