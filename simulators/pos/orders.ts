/**
 * The POS's order book: held → fired, held → voided, fired → voided (the kitchen gets a void
 * ticket), and the idempotency keys of creates. A key seen before returns the first order (Stripe's
 * rule), a key reused with a different request is refused. Order numbers are never reused.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  type CreatePosOrderRequest,
  CreatePosOrderRequestSchema,
  type CreatePosOrderResponse,
  type PosOrderView,
  PosOrderViewSchema,
} from '../../functions/lib/schemas/pos';
import type { RecordStore } from '../shared/record-store';
import { HttpError } from '../shared/routes';

export type PosOrderStatus = 'held' | 'fired' | 'voided';

export interface PosOrder {
  posOrderId: string;
  /** The middleware's order id. */
  reference: string;
  storeId: string;
  status: PosOrderStatus;
  /** Create requests that carried this order's idempotency key, the first included. */
  createRequests: number;
  idempotencyKey: string;
  request: CreatePosOrderRequest;
  createdAt: string;
  firedAt?: string;
  voidedAt?: string;
}

export const PosOrderRecordSchema = z.object({
  posOrderId: z.string(),
  reference: z.string(),
  storeId: z.string(),
  status: z.enum(['held', 'fired', 'voided']),
  createRequests: z.number().int().positive(),
  idempotencyKey: z.string(),
  request: CreatePosOrderRequestSchema,
  createdAt: z.string(),
  firedAt: z.string().optional(),
  voidedAt: z.string().optional(),
});

/** What an idempotency key remembers: the order it made, and a fingerprint of the request it came with. */
export const IdempotencyRecordSchema = z.object({ posOrderId: z.string(), fingerprint: z.string() });
export type IdempotencyRecord = z.infer<typeof IdempotencyRecordSchema>;

/**
 * The whole book in one document: what the Lambda simulator reads from and writes to its table, and
 * what the local process's `pos-simulator.json` held before its journal (imported once).
 */
export const PosBookSnapshotSchema = z.object({
  version: z.literal(1),
  sequence: z.number().int().nonnegative(),
  orders: z.array(PosOrderRecordSchema),
  idempotencyKeys: z.array(z.object({ key: z.string(), ...IdempotencyRecordSchema.shape })),
});
export type PosBookSnapshot = z.infer<typeof PosBookSnapshotSchema>;

/** Where the book keeps its records: Maps by default; the local process passes its journal's. */
export interface PosBookRecords {
  /** By POS order number, oldest first. */
  orders: RecordStore<PosOrder>;
  /** By idempotency key: small (a number and a digest), so always whole in memory. */
  keys: RecordStore<IdempotencyRecord>;
  /** `sequence`: the last order number given. */
  counters: RecordStore<number>;
}

/** A held order may still be fired or voided; a fired one only voided (rarely), a voided one never again. */
export const isFinishedPosOrder = (order: PosOrder) => order.status !== 'held';

/** JSON with object keys sorted, so the same request always has the same fingerprint. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    const record = value as Record<string, unknown>;
    return `{${keys.map((key) => `${JSON.stringify(key)}:${stableJson(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A request's fingerprint: the digest of its stable JSON (43 characters, whatever the order's size). */
const fingerprintOf = (json: string) => createHash('sha256').update(json).digest('base64url');

/** What an idempotency key is checked against: the store and the request, as stable JSON. */
const requestJson = (storeId: string, request: CreatePosOrderRequest) => stableJson({ storeId, request });

const SEQUENCE = 'sequence';

export class PosOrderBook {
  readonly orders: RecordStore<PosOrder>;
  private readonly keys: RecordStore<IdempotencyRecord>;
  private readonly counters: RecordStore<number>;
  /** Our order id → the POS orders made under it: a lookup never scans the book. */
  private readonly references = new Map<string, string[]>();

  /** `records`: stores already holding a book (the local journal's) are indexed here. */
  constructor(
    private readonly now: () => Date,
    records: Partial<PosBookRecords> = {},
  ) {
    this.orders = records.orders ?? new Map();
    this.keys = records.keys ?? new Map();
    this.counters = records.counters ?? new Map();
    for (const order of this.orders.values()) {
      this.indexReference(order);
      // Each order carries its key and request: a key whose write a crash cut off is made again.
      if (!this.keys.has(order.idempotencyKey))
        this.keys.set(order.idempotencyKey, {
          posOrderId: order.posOrderId,
          fingerprint: fingerprintOf(requestJson(order.storeId, order.request)),
        });
    }
  }

  private get sequence(): number {
    return this.counters.get(SEQUENCE) ?? 0;
  }

  /** Creates a held order, or returns the one this key already made. */
  create(
    storeId: string,
    idempotencyKey: string,
    request: CreatePosOrderRequest,
  ): { order: PosOrder; replayed: boolean } {
    const json = requestJson(storeId, request);
    const seen = this.keys.get(idempotencyKey);
    if (seen) return { order: this.replay(seen, json, idempotencyKey), replayed: true };
    const sequence = this.sequence + 1;
    this.counters.set(SEQUENCE, sequence);
    const order: PosOrder = {
      posOrderId: `pos-${String(sequence).padStart(6, '0')}`,
      reference: request.reference,
      storeId,
      status: 'held',
      createRequests: 1,
      idempotencyKey,
      request,
      createdAt: this.now().toISOString(),
    };
    this.orders.set(order.posOrderId, order);
    this.indexReference(order);
    this.keys.set(idempotencyKey, { posOrderId: order.posOrderId, fingerprint: fingerprintOf(json) });
    return { order, replayed: false };
  }

  private replay(seen: IdempotencyRecord, json: string, key: string): PosOrder {
    // A key kept before fingerprints were digests holds the request's JSON itself.
    if (seen.fingerprint !== fingerprintOf(json) && seen.fingerprint !== json) {
      throw new HttpError(
        422,
        'IDEMPOTENCY_KEY_REUSED',
        `Idempotency-Key ${key} was used for a different request`,
      );
    }
    const order = this.find(seen.posOrderId);
    order.createRequests += 1;
    this.orders.set(order.posOrderId, order);
    return order;
  }

  find(posOrderId: string): PosOrder {
    const order = this.orders.get(posOrderId);
    if (!order) throw new HttpError(404, 'ORDER_NOT_FOUND', `no POS order ${posOrderId}`);
    return order;
  }

  /** Every order made under this reference (our order id), oldest first. */
  byReference(reference: string): PosOrder[] {
    return (this.references.get(reference) ?? []).map((posOrderId) => this.find(posOrderId));
  }

  /** The kitchen starts cooking. Firing twice is a no-op; a voided order cannot be fired. */
  fire(order: PosOrder): void {
    if (order.status === 'voided')
      throw new HttpError(409, 'ORDER_VOIDED', `POS order ${order.posOrderId} is voided`);
    if (order.status === 'held') {
      order.status = 'fired';
      order.firedAt = this.now().toISOString();
      this.orders.set(order.posOrderId, order);
    }
  }

  /** Held or fired (then the kitchen prints a void ticket), the order is voided; voiding twice is a no-op. */
  void(order: PosOrder): void {
    if (order.status !== 'voided') {
      order.status = 'voided';
      order.voidedAt = this.now().toISOString();
      this.orders.set(order.posOrderId, order);
    }
  }

  /** Forgets every order and key; numbering goes on, so no number is ever given twice. */
  clear(): number {
    const forgotten = this.orders.size;
    this.orders.clear();
    this.keys.clear();
    this.references.clear();
    return forgotten;
  }

  snapshot(): PosBookSnapshot {
    return {
      version: 1,
      sequence: this.sequence,
      orders: [...this.orders.values()],
      idempotencyKeys: [...this.keys.entries()].map(([key, seen]) => ({ key, ...seen })),
    };
  }

  /** Takes over a snapshot's state (at start, before any call). */
  restore(snapshot: PosBookSnapshot): void {
    this.clear();
    for (const order of snapshot.orders) {
      this.orders.set(order.posOrderId, order);
      this.indexReference(order);
    }
    for (const { key, posOrderId, fingerprint } of snapshot.idempotencyKeys)
      this.keys.set(key, { posOrderId, fingerprint });
    this.counters.set(SEQUENCE, snapshot.sequence);
  }

  private indexReference(order: PosOrder): void {
    const made = this.references.get(order.reference);
    if (made) made.push(order.posOrderId);
    else this.references.set(order.reference, [order.posOrderId]);
  }
}

/** The first answer to a create, replayed as is for the same key. */
export function createdAnswer(order: PosOrder): CreatePosOrderResponse {
  return { posOrderId: order.posOrderId, reference: order.reference, status: 'held' };
}

/** An order as the POS API shows it to the middleware (lookups), checked against the contract. */
export function orderView(order: PosOrder): PosOrderView {
  return PosOrderViewSchema.parse({
    posOrderId: order.posOrderId,
    reference: order.reference,
    storeId: order.storeId,
    status: order.status,
    createdAt: order.createdAt,
    ...(order.firedAt ? { firedAt: order.firedAt } : {}),
    ...(order.voidedAt ? { voidedAt: order.voidedAt } : {}),
  });
}

/** A row of `GET /_control/orders`. */
export function orderRow(order: PosOrder) {
  return {
    posOrderId: order.posOrderId,
    reference: order.reference,
    storeId: order.storeId,
    status: order.status,
    createRequests: order.createRequests,
    items: order.request.items,
    total: order.request.total,
    ...(order.request.pickupAt ? { pickupAt: order.request.pickupAt } : {}),
    createdAt: order.createdAt,
    ...(order.firedAt ? { firedAt: order.firedAt } : {}),
    ...(order.voidedAt ? { voidedAt: order.voidedAt } : {}),
  };
}
