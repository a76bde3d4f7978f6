/**
 * Events the middleware publishes on its bus. `detail-type` is a past-tense fact; every detail
 * carries `schemaVersion` so consumers can tell versions apart. Details hold ids and the canonical
 * order only, never raw partner payloads (EventBridge caps an event at 256 KB).
 */
import { z } from 'zod';
import {
  CanonicalOrderSchema,
  DenyReasonSchema,
  IsoTimeSchema,
  OrderIdSchema,
  SkuSchema,
  StoreIdSchema,
} from './order';
import { PartnerIdSchema, PartnerOrderIdSchema } from './partners/index';
import { BusySchema, ChangedBySchema, StoreStatusSchema } from './store';

export const EVENT_SOURCE = 'order-middleware';
export const EVENT_SCHEMA_VERSION = '1.0';

export const DETAIL_TYPES = [
  'OrderReceived',
  'OrderAccepted',
  'OrderRejected',
  'OrderReleasedToKitchen',
  'OrderCancelled',
  'OrderFailed',
] as const;
export const DetailTypeSchema = z.enum(DETAIL_TYPES);
export type DetailType = z.infer<typeof DetailTypeSchema>;

const base = {
  schemaVersion: z.literal(EVENT_SCHEMA_VERSION),
  /** The same for every publication of one fact (`{orderId}/{detail-type}`), so a repeat is recognisable. */
  eventId: z.string().min(1).max(200),
  orderId: OrderIdSchema,
  partner: PartnerIdSchema,
  partnerOrderId: PartnerOrderIdSchema,
  storeId: StoreIdSchema,
  occurredAt: IsoTimeSchema,
};

export const OrderReceivedDetailSchema = z.object({ ...base, order: CanonicalOrderSchema });
export const OrderAcceptedDetailSchema = z.object({
  ...base,
  posReference: z.string().min(1),
  pickupAt: IsoTimeSchema.optional(),
});
export const OrderRejectedDetailSchema = z.object({ ...base, reason: DenyReasonSchema });
export const OrderReleasedToKitchenDetailSchema = z.object({
  ...base,
  posReference: z.string().min(1),
  releasedBy: z.enum(['courier', 'operator', 'timeout']),
});
export const OrderCancelledDetailSchema = z.object({ ...base, cancelledBy: z.enum(['partner', 'operator']) });
/** `reason`: a deny reason (e.g. POS_UNAVAILABLE) or the error name that failed the order. */
export const OrderFailedDetailSchema = z.object({ ...base, reason: z.string().min(1).max(200) });

export const eventDetailSchemas = {
  OrderReceived: OrderReceivedDetailSchema,
  OrderAccepted: OrderAcceptedDetailSchema,
  OrderRejected: OrderRejectedDetailSchema,
  OrderReleasedToKitchen: OrderReleasedToKitchenDetailSchema,
  OrderCancelled: OrderCancelledDetailSchema,
  OrderFailed: OrderFailedDetailSchema,
} as const satisfies Record<DetailType, z.ZodType>;

export type EventDetail<T extends DetailType> = z.infer<(typeof eventDetailSchemas)[T]>;
export type OrderReceivedDetail = EventDetail<'OrderReceived'>;
export type OrderAcceptedDetail = EventDetail<'OrderAccepted'>;
export type OrderRejectedDetail = EventDetail<'OrderRejected'>;
export type OrderReleasedToKitchenDetail = EventDetail<'OrderReleasedToKitchen'>;
export type OrderCancelledDetail = EventDetail<'OrderCancelled'>;
export type OrderFailedDetail = EventDetail<'OrderFailed'>;

/** The event as EventBridge delivers it to a target (rule input, Lambda, Step Functions). */
export function eventEnvelopeSchema<T extends DetailType>(detailType: T) {
  return z.object({
    version: z.string(),
    id: z.string().min(1),
    'detail-type': z.literal(detailType),
    source: z.literal(EVENT_SOURCE),
    account: z.string(),
    time: IsoTimeSchema,
    region: z.string(),
    resources: z.array(z.string()),
    detail: eventDetailSchemas[detailType],
  });
}
export type EventEnvelope<T extends DetailType> = z.infer<ReturnType<typeof eventEnvelopeSchema<T>>>;

/** One `PutEvents` entry (SDK field names), the detail checked against its schema first. */
export function putEventsEntry<T extends DetailType>(
  detailType: T,
  detail: EventDetail<T>,
  eventBusName: string,
) {
  return {
    Source: EVENT_SOURCE,
    DetailType: detailType,
    Detail: JSON.stringify(eventDetailSchemas[detailType].parse(detail)),
    EventBusName: eventBusName,
  };
}

// ── store events (section 7): what partners must show, versioned so an older change never wins ──

export const STORE_DETAIL_TYPES = ['StoreStatusChanged', 'ItemAvailabilityChanged'] as const;
export type StoreDetailType = (typeof STORE_DETAIL_TYPES)[number];

const storeBase = {
  schemaVersion: z.literal(EVENT_SCHEMA_VERSION),
  /** `{storeId}/{detail-type}/{version}` (items: `{storeId}/{sku}/…`): the same for a repeat. */
  eventId: z.string().min(1).max(200),
  storeId: StoreIdSchema,
  changedBy: ChangedBySchema,
  version: z.number().int().nonnegative(),
  occurredAt: IsoTimeSchema,
};
export const StoreStatusChangedDetailSchema = z.object({
  ...storeBase,
  status: StoreStatusSchema,
  reason: z.string().min(1).max(200).optional(),
  until: IsoTimeSchema.optional(),
  busy: BusySchema.optional(),
});
export const ItemAvailabilityChangedDetailSchema = z.object({
  ...storeBase,
  sku: SkuSchema,
  available: z.boolean(),
  until: IsoTimeSchema.optional(),
});
export const storeEventDetailSchemas = {
  StoreStatusChanged: StoreStatusChangedDetailSchema,
  ItemAvailabilityChanged: ItemAvailabilityChangedDetailSchema,
} as const satisfies Record<StoreDetailType, z.ZodType>;
export type StoreEventDetail<T extends StoreDetailType> = z.infer<(typeof storeEventDetailSchemas)[T]>;
