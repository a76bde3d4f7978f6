import { readFileSync } from 'node:fs';
import { DETAIL_TYPES, eventEnvelopeSchema, putEventsEntry } from '../../../functions/lib/schemas/events';

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
