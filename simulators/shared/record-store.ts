/**
 * The Map operations the simulators make on the records they keep (orders, idempotency keys, what
 * a partner shows for a store). A plain `Map` serves them wherever the whole state is in memory
 * anyway (tests, the Lambda simulators, which read it from DynamoDB per request); the local
 * processes pass a store that journals each change to disk and keeps in memory only the orders
 * that may still change plus the newest finished ones (local/simulators/shared/journal.ts).
 *
 * The one rule for callers: a record changed in place is `set` again, so such a store hears of it.
 */
export interface RecordStore<T> {
  get(key: string): T | undefined;
  has(key: string): boolean;
  set(key: string, value: T): unknown;
  delete(key: string): boolean;
  clear(): void;
  /** In the order the keys were first set. */
  keys(): Iterable<string>;
  /** In the order the keys were first set. */
  values(): Iterable<T>;
  entries(): Iterable<[string, T]>;
  readonly size: number;
}

/**
 * The `limit` records whose keys were set first most recently, in the order `values()` lists them;
 * every record without a limit. Only those records are read (with `get`, so a journal's record on
 * disk comes back into memory as any read brings it), so a listing of the newest stays cheap however
 * many a long session keeps on disk.
 */
export function newestRecords<T>(store: RecordStore<T>, limit?: number): T[] {
  if (limit === undefined) return [...store.values()];
  const keys = [...store.keys()].slice(-limit);
  return keys.flatMap((key) => {
    const record = store.get(key);
    return record === undefined ? [] : [record];
  });
}
