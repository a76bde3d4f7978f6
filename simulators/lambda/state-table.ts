/**
 * A simulator's state in DynamoDB, for the Lambda simulators of non-production stages. The state is
 * snapshot-shaped (as the local processes' JSON files are), so each invocation reads the whole of it
 * — one Query on its partition (`pk` = `partner` or `pos`), one item per order, store, idempotency
 * key or fault setting (`sk`) — runs the request on it in memory, and writes back only the items it
 * changed. A review or staging stack holds a few hundred orders at most, so the read stays small.
 *
 * Why not reserved concurrency 1: the partner simulator's `_control` call waits on the middleware's
 * answer to its webhook while the middleware calls the partner API back (Uber Eats fetches the order),
 * and the POS is called by many orders at once; one invocation at a time would throttle both.
 * Instead each item carries a revision and every write is conditional on the revision read
 * (optimistic concurrency), all of one request's writes in one transaction: a request that lost a
 * race is run again on the fresher state, so two invocations never overwrite each other.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  paginateQuery,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { RetryRequest } from '../shared/routes';

/** What one invocation read: each item's JSON and the revision it had. */
export type Snapshot = Map<string, { json: string; rev: number }>;

type TransactItems = NonNullable<TransactWriteCommandInput['TransactItems']>;

/** DynamoDB's limit on the actions of one transaction. */
const MAX_TRANSACTION_ITEMS = 100;

export class StateTable {
  constructor(
    private readonly tableName: string,
    /** `partner` or `pos`: each simulator's state is one partition of the shared table. */
    private readonly simulator: string,
    private readonly client = DynamoDBDocumentClient.from(new DynamoDBClient({})),
  ) {}

  /** Every item of this simulator, strongly consistent (a write just acknowledged is read back). */
  async load(): Promise<Snapshot> {
    const snapshot: Snapshot = new Map();
    const pages = paginateQuery(
      { client: this.client },
      {
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': this.simulator },
        ConsistentRead: true,
      },
    );
    for await (const page of pages) {
      for (const item of page.Items ?? [])
        snapshot.set(String(item.sk), { json: String(item.state), rev: Number(item.rev) });
    }
    return snapshot;
  }

  /**
   * Writes what differs between `read` and `now` (JSON per item key), each write conditional on the
   * revision read; returns the snapshot as written. Throws RetryRequest when another invocation
   * changed one of those items first (nothing of this request is then written).
   */
  async save(read: Snapshot, now: Map<string, string>): Promise<Snapshot> {
    const written: Snapshot = new Map(read);
    const actions: TransactItems = [];
    for (const [sk, json] of now) {
      const before = read.get(sk);
      if (before?.json === json) continue;
      const rev = (before?.rev ?? 0) + 1;
      written.set(sk, { json, rev });
      actions.push({
        Put: {
          TableName: this.tableName,
          Item: { pk: this.simulator, sk, state: json, rev },
          ...(before
            ? { ConditionExpression: 'rev = :rev', ExpressionAttributeValues: { ':rev': before.rev } }
            : { ConditionExpression: 'attribute_not_exists(sk)' }),
        },
      });
    }
    const gone = [...read.entries()].filter(([sk]) => !now.has(sk));
    for (const [sk] of gone) written.delete(sk);
    if (actions.length + gone.length > MAX_TRANSACTION_ITEMS) {
      // Only "forget everything" touches this many items: deleting them one by one is what it asks.
      await this.writeEach(actions);
      for (const [sk] of gone)
        await this.client.send(
          new DeleteCommand({ TableName: this.tableName, Key: { pk: this.simulator, sk } }),
        );
      return written;
    }
    for (const [sk, { rev }] of gone)
      actions.push({
        Delete: {
          TableName: this.tableName,
          Key: { pk: this.simulator, sk },
          ConditionExpression: 'rev = :rev',
          ExpressionAttributeValues: { ':rev': rev },
        },
      });
    if (actions.length > 0) await this.transact(actions);
    return written;
  }

  private async writeEach(actions: TransactItems) {
    for (let i = 0; i < actions.length; i += MAX_TRANSACTION_ITEMS)
      await this.transact(actions.slice(i, i + MAX_TRANSACTION_ITEMS));
  }

  private async transact(actions: TransactItems) {
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: actions }));
    } catch (error) {
      if ((error as Error).name === 'TransactionCanceledException')
        throw new RetryRequest(`another invocation changed the ${this.simulator} simulator's state first`);
      throw error;
    }
  }
}
