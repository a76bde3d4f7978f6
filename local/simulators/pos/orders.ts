/**
 * The POS's order book: held → fired or held → voided, and the idempotency keys of creates. A key
 * seen before returns the first order (Stripe's rule), a key reused with a different request is refused.
 */
import type { CreatePosOrderRequest, CreatePosOrderResponse } from '../../../functions/lib/schemas/pos';
import { HttpError } from '../shared/http';

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

  constructor(private readonly now: () => Date) {}

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
    return order;
  }

  find(posOrderId: string): PosOrder {
    const order = this.orders.get(posOrderId);
    if (!order) throw new HttpError(404, 'ORDER_NOT_FOUND', `no POS order ${posOrderId}`);
    return order;
  }

  /** The kitchen starts cooking. Firing twice is a no-op; a voided order cannot be fired. */
  fire(order: PosOrder): void {
    if (order.status === 'voided')
      throw new HttpError(409, 'ORDER_VOIDED', `POS order ${order.posOrderId} is voided`);
    if (order.status === 'held') {
      order.status = 'fired';
      order.firedAt = this.now().toISOString();
    }
  }

  /** Voiding twice is a no-op; food already fired cannot be voided. */
  void(order: PosOrder): void {
    if (order.status === 'fired')
      throw new HttpError(409, 'ORDER_FIRED', `POS order ${order.posOrderId} is already fired`);
    if (order.status === 'held') {
      order.status = 'voided';
      order.voidedAt = this.now().toISOString();
    }
  }

  clear(): number {
    const forgotten = this.orders.size;
    this.orders.clear();
    this.byKey.clear();
    return forgotten;
  }
}

/** The first answer to a create, replayed as is for the same key. */
export function createdAnswer(order: PosOrder): CreatePosOrderResponse {
  return { posOrderId: order.posOrderId, reference: order.reference, status: 'held' };
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
