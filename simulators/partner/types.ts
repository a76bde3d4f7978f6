import type { DenyReason } from '../../functions/lib/schemas/order';
import type { PartnerId } from '../../functions/lib/schemas/partners/index';
import type { ReportedStatus } from '../../functions/lib/schemas/partners/signing';

/** One line of an order before it is written in a partner's format. Money in cents. */
export interface DraftItem {
  sku: string;
  name: string;
  quantity: number;
  unitPrice: number;
  modifiers: { sku?: string; name: string; price: number }[];
  notes?: string;
}

/** An order as the partner's customer placed it, in no partner's format yet. */
export interface OrderDraft {
  partnerOrderId: string;
  partnerStoreId: string;
  storeName?: string;
  customer: { firstName: string; lastName: string; phone: string };
  items: DraftItem[];
  subtotal: number;
  tax: number;
  total: number;
  placedAt: Date;
  pickupAt: Date;
  notes?: string;
}

/** Which order a release or cancel webhook is about. */
export interface OrderRef {
  partnerOrderId: string;
  partnerStoreId: string;
}

/** An object payload, as every partner's JSON body is. */
export type Payload = Record<string, unknown>;

/**
 * One partner's side of the wire, written with that partner's schema module: the webhooks it
 * sends and how it reads and answers the partner API calls the middleware makes.
 */
export interface PartnerShape {
  partner: PartnerId;
  /** False for a bearer token (DoorDash): a changed body cannot be told from the original. */
  signsBody: boolean;
  /** The new-order webhook; `fetchable` is the order the partner API serves when the webhook is sparse. */
  newOrder(draft: OrderDraft): { webhook: Payload; fetchable?: Payload };
  /** The order id in a new-order webhook body (after overrides); undefined when it has none. */
  partnerOrderIdOf(webhook: Payload): string | undefined;
  releaseWebhook(order: OrderRef, now: Date): Payload;
  cancelWebhook(order: OrderRef, now: Date): Payload;
  /** Reads a parsed accept request. */
  readAccept(request: unknown): { posReference: string; pickupAt?: string };
  /** Reads a parsed deny request as our deny reason. */
  readDeny(request: unknown): { denyReason: DenyReason; code: string; explanation?: string };
  /** Reads a parsed status request as the status we report. */
  readStatus(request: unknown): { status: ReportedStatus; code: string };
  acceptAnswer(partnerOrderId: string): Payload;
  denyAnswer(partnerOrderId: string): Payload;
  statusAnswer(partnerOrderId: string, code: string): Payload;
}
