import {
  type DetailType,
  EVENT_SCHEMA_VERSION,
  type EventDetail,
  eventDetailSchemas,
} from '../schemas/events';
import type { OrderRecord } from '../schemas/order';

/** The detail of an order event: the common fields from the record, checked against its schema. */
export function orderEventDetail<T extends DetailType>(
  detailType: T,
  record: Pick<OrderRecord, 'orderId' | 'partner' | 'partnerOrderId' | 'storeId'>,
  extra: Omit<
    EventDetail<T>,
    'schemaVersion' | 'eventId' | 'orderId' | 'partner' | 'partnerOrderId' | 'storeId' | 'occurredAt'
  >,
  now = new Date(),
): EventDetail<T> {
  return eventDetailSchemas[detailType].parse({
    schemaVersion: EVENT_SCHEMA_VERSION,
    eventId: `${record.orderId}/${detailType}`,
    orderId: record.orderId,
    partner: record.partner,
    partnerOrderId: record.partnerOrderId,
    storeId: record.storeId,
    occurredAt: now.toISOString(),
    ...extra,
  }) as EventDetail<T>;
}
