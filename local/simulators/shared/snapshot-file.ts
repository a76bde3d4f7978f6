/**
 * A simulator's state kept in one JSON file, so a restart of the local cloud finds the orders the
 * partner and the POS already know (as the real systems would). Each change is written at most
 * ~100 ms later — one write in flight at a time, a burst of changes folded into the next write — to a
 * temporary file renamed over the old one, so a crash leaves the previous whole file, never half of one.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';

export const SNAPSHOT_DELAY_MS = 100;

export interface SnapshotFileOptions<S extends z.ZodType> {
  dataDir: string;
  /** e.g. `pos-simulator.json` */
  fileName: string;
  /** Start empty and overwrite what the file held. */
  fresh: boolean;
  schema: S;
  /** The state to write, as the file holds it. */
  snapshot: () => z.infer<S>;
  delayMs?: number;
}

export class SnapshotFile<S extends z.ZodType> {
  readonly file: string;
  private readonly tempFile: string;
  private dirty = false;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;

  constructor(private readonly options: SnapshotFileOptions<S>) {
    mkdirSync(options.dataDir, { recursive: true });
    this.file = path.join(options.dataDir, options.fileName);
    this.tempFile = `${this.file}.${process.pid}.tmp`;
  }

  /** What the file holds; undefined when there is none yet or `fresh` (which writes the empty state now). */
  load(): z.infer<S> | undefined {
    if (this.options.fresh) {
      this.writeNow();
      return undefined;
    }
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let parsed: z.ZodSafeParseResult<z.infer<S>>;
    try {
      parsed = this.options.schema.safeParse(JSON.parse(text));
    } catch (error) {
      throw new Error(
        `${this.file} is not JSON (${(error as Error).message}); start with --fresh to clear it`,
      );
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(
        `${this.file} does not hold a simulator snapshot (${issue?.path.join('.')}: ${issue?.message}); ` +
          'start with --fresh to clear it',
      );
    }
    return parsed.data;
  }

  /** The state changed: it reaches the file within the delay. */
  changed(): void {
    this.dirty = true;
    if (this.timer || this.writing || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.writing = this.drain();
    }, this.options.delayMs ?? SNAPSHOT_DELAY_MS);
  }

  /** Writes what is pending now and waits for it. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.writing;
    if (this.dirty) {
      this.writing = this.drain();
      await this.writing;
    }
  }

  /** The last write: nothing is scheduled afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** Writes until no change is pending; a change made during a write is picked up by the next lap. */
  private async drain(): Promise<void> {
    try {
      while (this.dirty) {
        this.dirty = false;
        const text = JSON.stringify(this.options.snapshot());
        await writeFile(this.tempFile, text);
        await rename(this.tempFile, this.file);
      }
    } catch (error) {
      // The simulator keeps serving; the next change tries again.
      console.error(`could not write ${this.file}: ${(error as Error).message}`);
    } finally {
      this.writing = undefined;
    }
  }

  private writeNow(): void {
    writeFileSync(this.tempFile, JSON.stringify(this.options.snapshot()));
    renameSync(this.tempFile, this.file);
  }
}
