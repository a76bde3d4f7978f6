/**
 * Local DynamoDB: dynalite on LevelDB under the data directory, in its own process so it has a core
 * to itself (it bounds the local cloud's throughput), plus table creation from the template.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ListTablesCommand,
} from '@aws-sdk/client-dynamodb';

export interface LocalDynamo {
  /** dynalite's base URL, e.g. http://127.0.0.1:40123 */
  endpoint: string;
  close(): Promise<void>;
}

const SERVER_SCRIPT = new URL('./dynamodb-server.mjs', import.meta.url);
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 12_000;

export async function startDynamo(options: {
  dataDir: string;
  port?: number;
  fresh?: boolean;
}): Promise<LocalDynamo> {
  if (options.fresh) rmSync(options.dataDir, { recursive: true, force: true });
  mkdirSync(options.dataDir, { recursive: true });
  const child = fork(SERVER_SCRIPT, [JSON.stringify({ dataDir: options.dataDir, port: options.port ?? 0 })], {
    execArgv: [], // not the parent's loaders or test flags: the script is plain JS
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const port = await whenReady(child);
  return { endpoint: `http://127.0.0.1:${port}`, close: () => stop(child) };
}

function whenReady(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('dynalite did not start in time'));
    }, START_TIMEOUT_MS);
    child.once('message', (message: { ready?: number; error?: string }) => {
      clearTimeout(timer);
      if (message.ready) resolve(message.ready);
      else reject(new Error(`dynalite failed to start: ${message.error}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(
        new Error(
          `dynalite exited during start (code ${code}); is another process using the data directory?`,
        ),
      );
    });
  });
}

/** Asks dynalite to close LevelDB (so the next start can open it), killing it only if it hangs. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.send('close');
    else child.kill('SIGTERM');
  });
}

/** A table from the template: its physical name and its resolved AWS::DynamoDB::Table Properties. */
export interface TableDefinition {
  name: string;
  properties: Record<string, unknown>;
}

/**
 * Creates the tables that do not exist yet; returns the names it created. Settings dynalite has no
 * API for (TimeToLiveSpecification, point-in-time recovery, SSE, contributor insights) are accepted
 * and ignored: items with an expired TTL attribute are simply never deleted locally.
 */
export async function ensureTables(client: DynamoDBClient, tables: TableDefinition[]): Promise<string[]> {
  const existing = new Set<string>();
  let start: string | undefined;
  do {
    const page = await client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
    for (const name of page.TableNames ?? []) existing.add(name);
    start = page.LastEvaluatedTableName;
  } while (start);
  const created: string[] = [];
  for (const table of tables) {
    if (existing.has(table.name)) continue;
    await client.send(new CreateTableCommand(createTableInput(table)));
    created.push(table.name);
  }
  // As on AWS, a new table (and its indexes) answers only once ACTIVE; a busy machine makes that visible.
  for (const name of created) await untilActive(client, name);
  return created;
}

async function untilActive(client: DynamoDBClient, name: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    if (Date.now() > deadline)
      throw new Error(`table ${name} is still ${Table?.TableStatus} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type IndexInput = NonNullable<CreateTableCommandInput['GlobalSecondaryIndexes']>[number];

/** Maps CloudFormation table properties to a CreateTable request. */
export function createTableInput({ name, properties }: TableDefinition): CreateTableCommandInput {
  const p = properties as Partial<CreateTableCommandInput> & { BillingMode?: string };
  const onDemand = p.BillingMode === 'PAY_PER_REQUEST';
  const throughput = onDemand
    ? {}
    : { ProvisionedThroughput: p.ProvisionedThroughput ?? { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } };
  const index = (i: IndexInput): IndexInput => ({
    IndexName: i.IndexName,
    KeySchema: i.KeySchema,
    Projection: i.Projection,
    ...(onDemand
      ? {}
      : {
          ProvisionedThroughput: i.ProvisionedThroughput ?? { ReadCapacityUnits: 5, WriteCapacityUnits: 5 },
        }),
  });
  return {
    TableName: name,
    KeySchema: p.KeySchema,
    AttributeDefinitions: p.AttributeDefinitions,
    BillingMode: onDemand ? 'PAY_PER_REQUEST' : 'PROVISIONED',
    ...throughput,
    ...(p.GlobalSecondaryIndexes?.length && { GlobalSecondaryIndexes: p.GlobalSecondaryIndexes.map(index) }),
    ...(p.LocalSecondaryIndexes?.length && { LocalSecondaryIndexes: p.LocalSecondaryIndexes }),
    ...(p.StreamSpecification && { StreamSpecification: { ...p.StreamSpecification, StreamEnabled: true } }),
  };
}
