/**
 * Driving orders through the simulators as a partner would, and watching them: the steps the
 * load, bench and cost tools share.
 */
import {
  BatchGetItemCommand,
  type BatchGetItemCommandInput,
  type BatchGetItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { signedFetch } from '../cloud/sigv4';
import type { ToolCloud } from './cloud';

export const PARTNERS = ['doordash', 'ubereats', 'grubhub'] as const;
export type Partner = (typeof PARTNERS)[number];

export interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: JSON from the simulators and the API, read field by field
  body: any;
}

/** A JSON call, SigV4-signed with the local credentials (the order and store routes are IAM-authorized). */
export async function call(method: string, url: string, body?: unknown): Promise<Answer> {
  const response = await signedFetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed };
}

export interface PlacedOrder {
  partner: Partner;
  partnerOrderId: string;
  orderId?: string;
  webhookStatus: number;
  /** Epoch ms when the partner was told to send it. */
  sentAt: number;
}

export interface NewOrder {
  partner: Partner;
  storeId?: string;
  pickupInSeconds?: number;
  items?: Array<{ sku: string; quantity: number }>;
  /** Sent even where the partner shows the store paused or the item unavailable (else its 409). */
  ignoreStoreState?: boolean;
}

/** The partner sends a new-order webhook (signed its own way) through the simulator. */
export async function placeOrder(t: ToolCloud, order: NewOrder): Promise<PlacedOrder> {
  const sentAt = Date.now();
  const { status, body } = await call('POST', `${t.partnerUrl}/_control/orders`, {
    storeId: 'store-001',
    ...order,
  });
  if (status !== 201) throw new Error(`partner simulator answered ${status}: ${JSON.stringify(body)}`);
  return {
    partner: order.partner,
    partnerOrderId: body.partnerOrderId,
    ...(typeof body.orderId === 'string' && { orderId: body.orderId }),
    webhookStatus: body.webhookStatus,
    sentAt,
  };
}

/** The partner says the courier is close (`release`) or cancels; answers the webhook status. */
export async function partnerSays(
  t: ToolCloud,
  order: Pick<PlacedOrder, 'partner' | 'partnerOrderId'>,
  what: 'release' | 'cancel',
): Promise<number> {
  const { body } = await call(
    'POST',
    `${t.partnerUrl}/_control/orders/${order.partner}/${order.partnerOrderId}/${what}`,
    {},
  );
  return Number(body?.webhookStatus ?? 0);
}

/** The partner's retries: the same order again, re-signed each time. */
export async function redeliver(
  t: ToolCloud,
  order: PlacedOrder,
  times: number,
  concurrent = true,
): Promise<Array<{ status: number; orderId?: string }>> {
  const { body } = await call(
    'POST',
    `${t.partnerUrl}/_control/orders/${order.partner}/${order.partnerOrderId}/redeliver`,
    { times, concurrent },
  );
  const statuses = (body?.webhookStatuses ?? []) as number[];
  const bodies = (body?.webhookBodies ?? []) as Array<{ orderId?: unknown } | null>;
  return statuses.map((status, i) => {
    const orderId = bodies[i]?.orderId;
    return typeof orderId === 'string' ? { status, orderId } : { status };
  });
}

export async function getOrder(t: ToolCloud, orderId: string): Promise<Answer> {
  return call('GET', `${t.cloud.httpUrl}/orders/${orderId}`);
}

export async function posOrders(t: ToolCloud): Promise<Array<{ reference: string; status: string }>> {
  return (await call('GET', `${t.posUrl}/_control/orders`)).body;
}

export async function setPosFaults(t: ToolCloud, faults: Record<string, unknown>): Promise<void> {
  await call('PUT', `${t.posUrl}/_control/faults`, faults);
}

export async function setPartnerFaults(t: ToolCloud, faults: Record<string, unknown>): Promise<void> {
  await call('PUT', `${t.partnerUrl}/_control/faults`, faults);
}

/** Messages waiting in every queue of the stack (all of them are dead-letter queues). */
export function dlqMessages(t: ToolCloud): number {
  return t.cloud.model.queues.reduce((sum, queue) => sum + t.cloud.sqs.depth(queue.name), 0);
}

interface Waiter {
  orderId: string;
  until: (status: string) => boolean;
  deadline: number;
  resolve: (status: string | undefined) => void;
}

/**
 * Watches order statuses for many waiting callers with one BatchGetItem per 100 keys straight from
 * the orders table (not through the HTTP API, so watching adds no Lambda invocations), every `everyMs`.
 */
export class StatusWatcher {
  private readonly waiters = new Set<Waiter>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly t: ToolCloud,
    private readonly everyMs = 100,
  ) {}

  /** Resolves with the first status that satisfies `until`, or undefined at the deadline. */
  waitFor(
    orderId: string,
    until: (status: string) => boolean,
    timeoutMs: number,
  ): Promise<string | undefined> {
    return new Promise((resolve) => {
      this.waiters.add({ orderId, until, deadline: Date.now() + timeoutMs, resolve });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.timer || this.waiters.size === 0) return;
    this.timer = setTimeout(() => {
      this.poll()
        .catch(() => {}) // a failed round is retried by the next one
        .finally(() => {
          this.timer = undefined;
          this.schedule();
        });
    }, this.everyMs);
  }

  private async poll(): Promise<void> {
    const waiting = [...this.waiters];
    const ids = [...new Set(waiting.map((w) => w.orderId))];
    const statuses = new Map<string, string>();
    for (let i = 0; i < ids.length; i += 100) {
      const keys = ids.slice(i, i + 100).map((orderId) => ({ orderId: { S: orderId } }));
      let request: BatchGetItemCommandInput['RequestItems'] = {
        [this.t.ordersTable]: {
          Keys: keys,
          ProjectionExpression: 'orderId, #s',
          ExpressionAttributeNames: { '#s': 'status' },
        },
      };
      while (request) {
        const answer: BatchGetItemCommandOutput = await this.t.dynamo.send(
          new BatchGetItemCommand({ RequestItems: request }),
        );
        for (const item of answer.Responses?.[this.t.ordersTable] ?? []) {
          if (item.orderId?.S && item.status?.S) statuses.set(item.orderId.S, item.status.S);
        }
        const rest = answer.UnprocessedKeys?.[this.t.ordersTable];
        request = rest?.Keys?.length ? { [this.t.ordersTable]: rest } : undefined;
      }
    }
    const now = Date.now();
    for (const waiter of waiting) {
      const status = statuses.get(waiter.orderId);
      if (status !== undefined && waiter.until(status)) {
        this.waiters.delete(waiter);
        waiter.resolve(status);
      } else if (now > waiter.deadline) {
        this.waiters.delete(waiter);
        waiter.resolve(undefined);
      }
    }
  }
}

/** Runs `work` for each item with at most `concurrency` at once. */
export async function inPool<T>(
  items: readonly T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, worker));
}

/** The execution-level work still under way: async Lambda retries and bus deliveries. */
export async function settle(t: ToolCloud): Promise<void> {
  await t.cloud.eventBridge.idle();
  await t.cloud.lambda.drain();
}
