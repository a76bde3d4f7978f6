/**
 * The POS's order book: held → fired, held → voided, fired → voided (the kitchen gets a void
 * ticket), and the idempotency keys of creates. A key seen before returns the first order (Stripe's
 * rule), a key reused with a different request is refused. Order numbers are never reused.
 */
import { z } from 'zod';
import {
  type CreatePosOrderRequest,
  CreatePosOrderRequestSchema,
  type CreatePosOrderResponse,
  type PosOrderView,
  PosOrderViewSchema,
} from '../../functions/lib/schemas/pos';
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

const PosOrderRecordSchema = z.object({
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

/** What `pos-simulator.json` holds: the whole book, so numbering and idempotency survive a restart. */
export const PosBookSnapshotSchema = z.object({
  version: z.literal(1),
  sequence: z.number().int().nonnegative(),
  orders: z.array(PosOrderRecordSchema),
  idempotencyKeys: z.array(z.object({ key: z.string(), posOrderId: z.string(), fingerprint: z.string() })),
});
export type PosBookSnapshot = z.infer<typeof PosBookSnapshotSchema>;

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

export class PosOrderBook {
  readonly orders = new Map<string, PosOrder>();
  private readonly byKey = new Map<string, { posOrderId: string; fingerprint: string }>();
  private sequence = 0;

  /** `changed` runs after every change (the snapshot file listens). */
  constructor(
    private readonly now: () => Date,
    private readonly changed: () => void = () => {},
  ) {}

  /** Creates a held order, or returns the one this key already made. */
  create(
    storeId: string,
    idempotencyKey: string,
    request: CreatePosOrderRequest,
  ): { order: PosOrder; replayed: boolean } {
    const fingerprint = stableJson({ storeId, request });
    const seen = this.byKey.get(idempotencyKey);
    if (seen) return { order: this.replay(seen, fingerprint, idempotencyKey), replayed: true };
    this.sequence += 1;
    const order: PosOrder = {
      posOrderId: `pos-${String(this.sequence).padStart(6, '0')}`,
      reference: request.reference,
      storeId,
      status: 'held',
      createRequests: 1,
      idempotencyKey,
      request,
      createdAt: this.now().toISOString(),
    };
    this.orders.set(order.posOrderId, order);
    this.byKey.set(idempotencyKey, { posOrderId: order.posOrderId, fingerprint });
    this.changed();
    return { order, replayed: false };
  }

  private replay(
    seen: { posOrderId: string; fingerprint: string },
    fingerprint: string,
    key: string,
  ): PosOrder {
    if (seen.fingerprint !== fingerprint) {
      throw new HttpError(
        422,
        'IDEMPOTENCY_KEY_REUSED',
        `Idempotency-Key ${key} was used for a different request`,
      );
    }
    const order = this.find(seen.posOrderId);
    order.createRequests += 1;
    this.changed();
    return order;
  }

  find(posOrderId: string): PosOrder {
    const order = this.orders.get(posOrderId);
    if (!order) throw new HttpError(404, 'ORDER_NOT_FOUND', `no POS order ${posOrderId}`);
    return order;
  }

  /** Every order made under this reference (our order id), oldest first. */
  byReference(reference: string): PosOrder[] {
    return [...this.orders.values()].filter((order) => order.reference === reference);
  }

  /** The kitchen starts cooking. Firing twice is a no-op; a voided order cannot be fired. */
  fire(order: PosOrder): void {
    if (order.status === 'voided')
      throw new HttpError(409, 'ORDER_VOIDED', `POS order ${order.posOrderId} is voided`);
    if (order.status === 'held') {
      order.status = 'fired';
      order.firedAt = this.now().toISOString();
      this.changed();
    }
  }

  /** Held or fired (then the kitchen prints a void ticket), the order is voided; voiding twice is a no-op. */
  void(order: PosOrder): void {
    if (order.status !== 'voided') {
      order.status = 'voided';
      order.voidedAt = this.now().toISOString();
      this.changed();
    }
  }

  /** Forgets every order and key; numbering goes on, so no number is ever given twice. */
  clear(): number {
    const forgotten = this.orders.size;
    this.orders.clear();
    this.byKey.clear();
    this.changed();
    return forgotten;
  }

  snapshot(): PosBookSnapshot {
    return {
      version: 1,
      sequence: this.sequence,
      orders: [...this.orders.values()],
      idempotencyKeys: [...this.byKey].map(([key, seen]) => ({ key, ...seen })),
    };
  }

  /** Takes over a snapshot's state (at start, before any call). */
  restore(snapshot: PosBookSnapshot): void {
    this.orders.clear();
    this.byKey.clear();
    for (const order of snapshot.orders) this.orders.set(order.posOrderId, order);
    for (const { key, posOrderId, fingerprint } of snapshot.idempotencyKeys)
      this.byKey.set(key, { posOrderId, fingerprint });
    this.sequence = snapshot.sequence;
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
