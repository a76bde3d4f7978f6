/**
 * A local simulator's records on disk, so that a restart of the local cloud finds every order the
 * partner and the POS knew (as the real systems would), at a cost per change that does not grow with
 * the number of orders.
 *
 * One append-only file of JSON lines (`{"c":collection,"k":key,"v":value}`; `"v":null` deletes,
 * `{"c","clear":true}` forgets a collection). Each change is appended at most ~100 ms later — the
 * records changed meanwhile, once each, in one write — so a long session writes what changed, never
 * the whole state again. The file is compacted at every start: the newest line of each record is
 * copied to a temporary file renamed over the old one, so a crash leaves the old file or the new,
 * never half of one; a torn last line (a crash mid-append) is ignored.
 *
 * In memory: every record of a collection without a `finished` test, and, of one with it, the
 * records that may still change plus the newest `retained` finished ones. An older finished record
 * stays on disk, found by its key's byte offset; reading it brings it back as the newest, and its
 * next change is appended as a new line that the offset then points at.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import type { RecordStore } from '../../../simulators/shared/record-store';

export const JOURNAL_DELAY_MS = 100;

/**
 * Finished orders each simulator keeps whole in memory; older ones are read from its journal when
 * asked for, so a long `npm start` does not grow with every order. `LOCAL_SIMULATOR_RETAINED_ORDERS`
 * overrides it (0 keeps only the orders that may still change).
 */
export const RETAINED_FINISHED_ORDERS = 500;

export function retainedOrdersFromEnv(setting = process.env['LOCAL_SIMULATOR_RETAINED_ORDERS']): number {
  if (setting === undefined || setting.trim() === '') return RETAINED_FINISHED_ORDERS;
  const retained = Number(setting);
  if (!Number.isInteger(retained) || retained < 0)
    throw new Error(
      `LOCAL_SIMULATOR_RETAINED_ORDERS must be a whole number of orders (0 or more), not "${setting}"`,
    );
  return retained;
}

type Line = { c: string; k: string; v: unknown } | { c: string; clear: true };
/** A record's newest line in the file (bytes, without its newline). */
interface Location {
  offset: number;
  length: number;
}
/** `value` is absent when the record lives only on disk. */
interface Entry<T> extends Partial<Location> {
  value?: T;
}

export interface CollectionOptions<T> {
  /** Checks each record read back at start. */
  schema: z.ZodType<T>;
  /** A record that will (almost) never change again: such records may leave memory. */
  finished?: (value: T) => boolean;
  /** Finished records kept in memory anyway, the most recently changed or read. */
  retained?: number;
}

export interface JournalOptions {
  dataDir: string;
  /** e.g. `pos-simulator.jsonl` */
  fileName: string;
  /** Start empty: the file (and a legacy snapshot) are removed. */
  fresh: boolean;
  /** A whole-state JSON file written before the journal: read once into it, then removed. */
  legacy?: { fileName: string; lines: (json: unknown) => Line[] };
  delayMs?: number;
}

export class Journal {
  readonly file: string;
  private readonly collections = new Map<string, JournalCollection<unknown>>();
  /** Collections forgotten since the last write; their clear line goes first. */
  private readonly clears = new Set<string>();
  private fd: number | undefined;
  /** Bytes in the file: where the next line goes. */
  private size = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: JournalOptions) {
    this.file = path.join(options.dataDir, options.fileName);
  }

  /** A kind of record; every collection is named before `load()`, and each write puts its lines in that order. */
  collection<T>(name: string, options: CollectionOptions<T>): JournalCollection<T> {
    if (this.fd !== undefined) throw new Error(`${this.file}: collection ${name} named after load()`);
    const collection = new JournalCollection<T>(this, name, options);
    this.collections.set(name, collection as JournalCollection<unknown>);
    return collection;
  }

  /** Reads the file into the collections, compacting it (or starts it empty when `fresh`). */
  load(): void {
    const { dataDir, fresh, legacy } = this.options;
    mkdirSync(dataDir, { recursive: true });
    const legacyFile = legacy && path.join(dataDir, legacy.fileName);
    if (fresh) {
      rmSync(this.file, { force: true });
      if (legacyFile) rmSync(legacyFile, { force: true });
    } else if (legacy && legacyFile && !existsSync(this.file) && existsSync(legacyFile)) {
      this.importLegacy(legacyFile, legacy.lines);
    }
    const newest = existsSync(this.file) ? this.newestLines() : new Map<string, Map<string, Location>>();
    this.compact(newest);
    this.fd = openSync(this.file, 'a+');
  }

  /** Writes pending changes now (the simulator's close, tests). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.write();
  }

  /** The last write; the file is closed and later changes stay in memory only. */
  close(): void {
    this.flush();
    this.closed = true;
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** @internal A collection changed: it reaches the file within the delay. */
  changed(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write();
    }, this.options.delayMs ?? JOURNAL_DELAY_MS);
  }

  /** @internal A collection was forgotten: its earlier lines no longer count. */
  cleared(name: string): void {
    this.clears.add(name);
    this.changed();
  }

  /** @internal One record's newest line, as written. */
  read(location: Location): unknown {
    if (this.fd === undefined) throw new Error(`${this.file} is closed`);
    return readValue(this.fd, location);
  }

  /** Appends the records changed since the last write, once each, then lets old finished ones go. */
  private write(): void {
    if (this.fd === undefined) return;
    if (!(fstatSync(this.fd).nlink === 0 ? this.rewrite() : this.append())) return;
    this.clears.clear();
    for (const collection of this.collections.values()) {
      collection.dirty.clear();
      collection.evict();
    }
  }

  /** False when the write failed (the changes stay pending). */
  private append(): boolean {
    const fd = this.fd!;
    const parts: Buffer[] = [];
    const placed: { entry: Entry<unknown>; offset: number; length: number }[] = [];
    let offset = this.size;
    const add = (line: Line, entry?: Entry<unknown>) => {
      const bytes = Buffer.from(`${JSON.stringify(line)}\n`);
      if (entry) placed.push({ entry, offset, length: bytes.length - 1 });
      parts.push(bytes);
      offset += bytes.length;
    };
    for (const c of this.clears) add({ c, clear: true });
    for (const [c, collection] of this.collections) {
      for (const k of collection.dirty) {
        const entry = collection.records.get(k);
        add({ c, k, v: entry?.value ?? null }, entry);
      }
    }
    if (parts.length > 0) {
      try {
        writeAll(fd, Buffer.concat(parts));
      } catch (error) {
        // Keep serving; the changes stay pending for the next write. No half line is left behind.
        ftruncateSync(fd, this.size);
        console.error(`could not write ${this.file}: ${(error as Error).message}`);
        return false;
      }
    }
    this.size = offset;
    for (const { entry, offset: at, length } of placed) {
      entry.offset = at;
      entry.length = length;
    }
    return true;
  }

  /**
   * The file was removed while open (a fresh start of the local cloud empties the data folder after
   * the simulators started): every record is written again, whole, to a new file.
   */
  private rewrite(): boolean {
    try {
      this.rewriteWhole();
      return true;
    } catch (error) {
      console.error(`could not write ${this.file} again: ${(error as Error).message}`);
      return false;
    }
  }

  private rewriteWhole(): void {
    const old = this.fd!;
    mkdirSync(this.options.dataDir, { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(temp, 'w');
    const placed: { entry: Entry<unknown>; offset: number; length: number }[] = [];
    try {
      const out = new LineWriter(fd);
      for (const [c, collection] of this.collections) {
        for (const [k, entry] of collection.records) {
          const bytes = Buffer.from(
            JSON.stringify({ c, k, v: entry.value ?? readValue(old, entry as Location) }),
          );
          placed.push({ entry, offset: out.size, length: bytes.length });
          out.line(bytes);
        }
      }
      out.end();
      this.size = out.size;
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
    closeSync(old);
    this.fd = openSync(this.file, 'a+');
    for (const { entry, offset, length } of placed) {
      entry.offset = offset;
      entry.length = length;
    }
  }

  /** Every record's newest line in the file, per collection, in the order first written. */
  private newestLines(): Map<string, Map<string, Location>> {
    const newest = new Map<string, Map<string, Location>>();
    for (const name of this.collections.keys()) newest.set(name, new Map());
    const fd = openSync(this.file, 'r');
    try {
      let torn: number | undefined;
      for (const line of linesOf(fd)) {
        if (line.text === '') continue;
        if (torn !== undefined) this.refuse(`line ${torn} is not JSON`);
        let parsed: Partial<{ c: unknown; k: unknown; v: unknown; clear: unknown }>;
        try {
          parsed = JSON.parse(line.text);
        } catch {
          torn = line.number; // fine if it is the last one: a crash mid-append
          continue;
        }
        const records = typeof parsed.c === 'string' ? newest.get(parsed.c) : undefined;
        if (!records) this.refuse(`line ${line.number} names no known collection`);
        if (parsed.clear === true) records.clear();
        else if (typeof parsed.k !== 'string' || !('v' in parsed))
          this.refuse(`line ${line.number} is not a record`);
        else if (parsed.v === null) records.delete(parsed.k);
        else records.set(parsed.k, { offset: line.offset, length: line.length });
      }
    } finally {
      closeSync(fd);
    }
    return newest;
  }

  /**
   * Writes the newest line of each record to a new file and loads the collections from it: the
   * records that may still change, and the `retained` most recently changed finished ones.
   */
  private compact(newest: Map<string, Map<string, Location>>): void {
    const temp = `${this.file}.${process.pid}.tmp`;
    const from = existsSync(this.file) ? openSync(this.file, 'r') : undefined;
    const to = openSync(temp, 'w+');
    try {
      const out = new LineWriter(to);
      const finishedOf = new Map<JournalCollection<unknown>, { key: string; changed: number }[]>();
      for (const [name, collection] of this.collections) {
        const finished: { key: string; changed: number }[] = [];
        finishedOf.set(collection, finished);
        for (const [key, at] of newest.get(name) ?? []) {
          const bytes = readBytes(from!, at);
          const value = this.check(collection, key, JSON.parse(bytes.toString('utf8')).v);
          const entry: Entry<unknown> = { offset: out.size, length: at.length };
          out.line(bytes);
          collection.records.set(key, entry);
          if (collection.finished?.(value)) finished.push({ key, changed: at.offset });
          else entry.value = value;
        }
      }
      out.end();
      fsyncSync(to);
      this.size = out.size;
      // The most recently changed finished records stay in memory, as they would have while running.
      for (const [collection, finished] of finishedOf) {
        finished.sort((a, b) => a.changed - b.changed);
        for (const { key } of finished.slice(Math.max(0, finished.length - collection.retained))) {
          const entry = collection.records.get(key)!;
          collection.keep(key, entry, readValue(to, entry as Location));
        }
      }
    } finally {
      closeSync(to);
      if (from !== undefined) closeSync(from);
    }
    renameSync(temp, this.file);
  }

  private check(collection: JournalCollection<unknown>, key: string, value: unknown): unknown {
    const parsed = collection.schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      this.refuse(`${collection.name} ${key} is not a record (${issue?.path.join('.')}: ${issue?.message})`);
    }
    return parsed.data;
  }

  private importLegacy(legacyFile: string, lines: (json: unknown) => Line[]): void {
    let records: Line[];
    try {
      records = lines(JSON.parse(readFileSync(legacyFile, 'utf8')));
    } catch (error) {
      throw new Error(
        `${legacyFile} does not hold a simulator snapshot (${(error as Error).message}); start with --fresh to clear it`,
      );
    }
    // Whole or not at all: a crash here leaves the old file to import again.
    const temp = `${this.file}.${process.pid}.tmp`;
    const fd = openSync(temp, 'w');
    try {
      const out = new LineWriter(fd);
      for (const line of records) out.line(Buffer.from(JSON.stringify(line)));
      out.end();
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
    rmSync(legacyFile);
  }

  private refuse(why: string): never {
    throw new Error(`${this.file}: ${why}; start with --fresh to clear it`);
  }
}

/** One kind of record in a journal, used as a Map (simulators/shared/record-store.ts). */
export class JournalCollection<T> implements RecordStore<T> {
  /** Every record, in the order first set; a record on disk only has no `value`. */
  readonly records = new Map<string, Entry<T>>();
  /** @internal Keys set or deleted since the last write. */
  readonly dirty = new Set<string>();
  /** Finished records in memory, least recently changed or read first: the next to leave. */
  private readonly finishedInMemory = new Set<string>();
  readonly schema: z.ZodType<T>;
  readonly finished: ((value: T) => boolean) | undefined;
  readonly retained: number;

  constructor(
    private readonly journal: Journal,
    readonly name: string,
    options: CollectionOptions<T>,
  ) {
    this.schema = options.schema;
    this.finished = options.finished;
    this.retained = options.retained ?? Number.POSITIVE_INFINITY;
  }

  get size(): number {
    return this.records.size;
  }

  /** How many records are whole in memory (the rest are read from the file when asked for). */
  get inMemory(): number {
    let count = 0;
    for (const entry of this.records.values()) if (entry.value !== undefined) count += 1;
    return count;
  }

  has(key: string): boolean {
    return this.records.has(key);
  }

  /** A record on disk comes back into memory as the most recent: a change to it usually follows. */
  get(key: string): T | undefined {
    const entry = this.records.get(key);
    if (!entry) return undefined;
    if (entry.value === undefined) {
      this.keep(key, entry, this.readValue(entry));
      this.journal.changed(); // so that it leaves again when newer ones crowd it out
    }
    return entry.value;
  }

  set(key: string, value: T): this {
    const entry = this.records.get(key);
    if (entry) entry.value = value;
    else this.records.set(key, { value });
    this.finishedInMemory.delete(key);
    if (this.finished?.(value)) this.finishedInMemory.add(key);
    this.dirty.add(key);
    this.journal.changed();
    return this;
  }

  delete(key: string): boolean {
    if (!this.records.delete(key)) return false;
    this.finishedInMemory.delete(key);
    this.dirty.add(key);
    this.journal.changed();
    return true;
  }

  clear(): void {
    this.records.clear();
    this.finishedInMemory.clear();
    this.dirty.clear();
    this.journal.cleared(this.name);
  }

  keys(): IterableIterator<string> {
    return this.records.keys();
  }

  /** Records on disk are read for this (not kept): listings are rare. */
  *values(): IterableIterator<T> {
    for (const entry of this.records.values()) yield entry.value ?? this.readValue(entry);
  }

  *entries(): IterableIterator<[string, T]> {
    for (const [key, entry] of this.records) yield [key, entry.value ?? this.readValue(entry)];
  }

  /** @internal Holds a finished record in memory as the most recent. */
  keep(key: string, entry: Entry<T>, value: T): void {
    entry.value = value;
    this.finishedInMemory.delete(key);
    this.finishedInMemory.add(key);
  }

  /** @internal After a write: the finished records beyond `retained` leave memory (they are on disk). */
  evict(): void {
    for (const key of this.finishedInMemory) {
      if (this.finishedInMemory.size <= this.retained) return;
      const entry = this.records.get(key);
      this.finishedInMemory.delete(key);
      if (entry?.offset !== undefined && !this.dirty.has(key)) entry.value = undefined;
    }
  }

  private readValue(entry: Entry<T>): T {
    return this.journal.read(entry as Location) as T;
  }
}

interface FileLine {
  text: string;
  offset: number;
  length: number;
  /** 1-based, for messages. */
  number: number;
}

/** The file's lines with their byte offsets, read a megabyte at a time (never the whole file at once). */
function* linesOf(fd: number): Generator<FileLine> {
  const chunk = Buffer.alloc(1 << 20);
  let carry = Buffer.alloc(0);
  let position = 0; // the file offset of carry[0]
  let number = 0;
  for (;;) {
    const read = readSync(fd, chunk, 0, chunk.length, null);
    if (read === 0) break;
    const buffer =
      carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, read)]) : chunk.subarray(0, read);
    let start = 0;
    for (let end = buffer.indexOf(NEWLINE_BYTE); end !== -1; end = buffer.indexOf(NEWLINE_BYTE, start)) {
      number += 1;
      yield {
        text: buffer.toString('utf8', start, end),
        offset: position + start,
        length: end - start,
        number,
      };
      start = end + 1;
    }
    position += start;
    carry = Buffer.from(buffer.subarray(start)); // a copy: the chunk is read into again
  }
  if (carry.length > 0)
    yield { text: carry.toString('utf8'), offset: position, length: carry.length, number: number + 1 };
}

const NEWLINE_BYTE = 0x0a;
const NEWLINE = Buffer.from('\n');

function readBytes(fd: number, at: Location): Buffer {
  const bytes = Buffer.alloc(at.length);
  let done = 0;
  while (done < at.length) {
    const read = readSync(fd, bytes, done, at.length - done, at.offset + done);
    if (read === 0) throw new Error('the journal is shorter than its index says');
    done += read;
  }
  return bytes;
}

function readValue(fd: number, at: Location): unknown {
  return (JSON.parse(readBytes(fd, at).toString('utf8')) as { v: unknown }).v;
}

function writeAll(fd: number, bytes: Buffer): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
}

/** Lines written in batches of about a megabyte; `size` counts what was given, written or not. */
class LineWriter {
  size = 0;
  private parts: Buffer[] = [];
  private pending = 0;

  constructor(private readonly fd: number) {}

  line(bytes: Buffer): void {
    this.parts.push(bytes, NEWLINE);
    this.pending += bytes.length + 1;
    this.size += bytes.length + 1;
    if (this.pending >= 1 << 20) this.end();
  }

  end(): void {
    if (this.parts.length > 0) writeAll(this.fd, Buffer.concat(this.parts));
    this.parts = [];
    this.pending = 0;
  }
}
