/**
 * Every partner's wire format behind one shape, for code that handles any partner by id
 * (handlers, partner client, simulator). Adding a partner = its module + one line here.
 */
import type { z } from 'zod';
import type { DenyReason } from '../order';
import * as doordash from './doordash';
import * as grubhub from './grubhub';
import type { PartnerApiRoutes, PartnerId } from './index';
import type { ReportedStatus } from './signing';
import type { ShownStore, StoreCall, StoreRoute } from './store-push';
import * as ubereats from './ubereats';

export interface PartnerWire {
  /** Partner API calls the middleware makes; `fetchOrder` present when webhooks are sparse. */
  api: PartnerApiRoutes;
  apiAuthHeaders(apiKey: string): Record<string, string>;
  NewOrderWebhookSchema: z.ZodType;
  ReleaseWebhookSchema: z.ZodType;
  CancelWebhookSchema: z.ZodType;
  /** The release and cancel webhooks, each parsed to the partner order id it names. */
  OrderEventSchemas: Record<OrderEventKind, z.ZodType<string>>;
  /** The partner's full order: fetched (Uber Eats) or found inside the webhook. */
  OrderSchema: z.ZodType;
  AcceptRequestSchema: z.ZodType;
  DenyRequestSchema: z.ZodType;
  StatusRequestSchema: z.ZodType;
  AcceptResponseSchema: z.ZodType;
  DenyResponseSchema: z.ZodType;
  StatusResponseSchema: z.ZodType;
  buildAcceptRequest(posReference: string, pickupAt?: string): object;
  buildDenyRequest(reason: DenyReason, explanation?: string): object;
  buildStatusRequest(status: ReportedStatus): object;
  DENY_REASON_BY_CODE: Record<string, DenyReason>;
  STATUS_BY_CODE: Record<string, ReportedStatus>;
  /** The partner's store API (section 7): store status, busy mode and item availability. */
  storeApi: Record<string, StoreRoute>;
  /** The calls that make the partner show `shown` for its store `partnerStoreId`, in order. */
  storePushCalls(shown: ShownStore, partnerStoreId: string, now: Date): StoreCall[];
}

/** The partner webhooks that act on an order the middleware already has. */
export type OrderEventKind = 'release' | 'cancel';

export const partnerWire: Record<PartnerId, PartnerWire> = { ubereats, doordash, grubhub };
