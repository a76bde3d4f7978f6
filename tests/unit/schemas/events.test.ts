import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  DETAIL_TYPES,
  EVENT_SOURCE,
  eventEnvelopeSchema,
  putEventsEntry,
  STORE_DETAIL_TYPES,
  type StoreDetailType,
  storeEventDetailSchemas,
} from '../../../functions/lib/schemas/events';
import { IsoTimeSchema } from '../../../functions/lib/schemas/order';

const sample = (detailType: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../events/${detailType}.json`, import.meta.url), 'utf8'));

describe('bus event samples', () => {
  it.each(DETAIL_TYPES)('%s sample parses with its schema', (detailType) => {
    const result = eventEnvelopeSchema(detailType).safeParse(sample(detailType));
    expect(result.error).toBeUndefined();
  });

  it('refuses an event whose detail-type does not match its schema', () => {
    const result = eventEnvelopeSchema('OrderAccepted').safeParse(sample('OrderRejected'));
    expect(result.success).toBe(false);
  });

  it('refuses a detail without schemaVersion', () => {
    const event = sample('OrderCancelled') as { detail: Record<string, unknown> };
    delete event.detail['schemaVersion'];
    expect(eventEnvelopeSchema('OrderCancelled').safeParse(event).success).toBe(false);
  });

  it('builds a PutEvents entry from a valid detail and refuses an invalid one', () => {
    const { detail } = eventEnvelopeSchema('OrderRejected').parse(sample('OrderRejected'));
    const entry = putEventsEntry('OrderRejected', detail, 'bus-local');
    expect(entry).toMatchObject({
      Source: 'order-middleware',
      DetailType: 'OrderRejected',
      EventBusName: 'bus-local',
    });
    expect(JSON.parse(entry.Detail)).toEqual(detail);
    expect(() =>
      putEventsEntry('OrderRejected', { ...detail, reason: 'NOPE' as never }, 'bus-local'),
    ).toThrow();
  });
});

describe('store event samples', () => {
  /** The event as EventBridge delivers it, the detail checked against its store schema. */
  const storeEnvelope = (detailType: StoreDetailType) =>
    z.object({
      version: z.string(),
      id: z.string().min(1),
      'detail-type': z.literal(detailType),
      source: z.literal(EVENT_SOURCE),
      time: IsoTimeSchema,
      detail: storeEventDetailSchemas[detailType],
    });

  it.each(STORE_DETAIL_TYPES)('%s sample parses with its schema', (detailType) => {
    const result = storeEnvelope(detailType).safeParse(sample(detailType));
    expect(result.error).toBeUndefined();
  });

  it('samples carry the eventId the services give: the store (and sku), the detail-type and the version', () => {
    const detailOf = (detailType: StoreDetailType) => (sample(detailType) as { detail: unknown }).detail;
    const status = storeEventDetailSchemas.StoreStatusChanged.parse(detailOf('StoreStatusChanged'));
    const item = storeEventDetailSchemas.ItemAvailabilityChanged.parse(detailOf('ItemAvailabilityChanged'));
    expect(status.eventId).toBe(`${status.storeId}/StoreStatusChanged/${status.version}`);
    expect(item.eventId).toBe(`${item.storeId}/${item.sku}/ItemAvailabilityChanged/${item.version}`);
  });

  it.each([
    ['a changedBy nobody is', { changedBy: 'robot' }],
    ['a negative version', { version: -1 }],
    ['a status that is not one', { status: 'closed' }],
    ['no version', { version: undefined }],
  ])('refuses a StoreStatusChanged with %s', (_, change) => {
    const event = sample('StoreStatusChanged') as { detail: Record<string, unknown> };
    const detail = { ...event.detail, ...change };
    expect(storeEventDetailSchemas.StoreStatusChanged.safeParse(detail).success).toBe(false);
  });

  it('refuses an ItemAvailabilityChanged without its sku', () => {
    const { detail } = sample('ItemAvailabilityChanged') as { detail: Record<string, unknown> };
    const { sku: _sku, ...withoutSku } = detail;
    expect(storeEventDetailSchemas.ItemAvailabilityChanged.safeParse(withoutSku).success).toBe(false);
  });
});
