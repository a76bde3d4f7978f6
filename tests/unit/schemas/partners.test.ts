import { DENY_REASONS } from '../../../functions/lib/schemas/order';
import type { PartnerId } from '../../../functions/lib/schemas/partners/index';
import {
  isPartnerId,
  matchPartnerApiPath,
  PARTNERS,
  partnerApiPath,
} from '../../../functions/lib/schemas/partners/index';
import { type OrderEventKind, partnerWire } from '../../../functions/lib/schemas/partners/registry';
import { REPORTED_STATUSES } from '../../../functions/lib/schemas/partners/signing';
import * as ubereats from '../../../functions/lib/schemas/partners/ubereats';
import {
  SetItemAvailabilityRequestSchema,
  SetStoreStatusRequestSchema,
} from '../../../functions/lib/schemas/store';
import { doorDashWebhook, grubhubWebhook, uberEatsNotice } from '../domain/fixtures';

describe.each(PARTNERS)('%s partner API wire format', (partner) => {
  const wire = partnerWire[partner];

  it('builds accept bodies its own request schema accepts', () => {
    const body = wire.buildAcceptRequest('pos-000123', '2025-06-01T18:20:00Z');
    expect(wire.AcceptRequestSchema.safeParse(body).success).toBe(true);
    expect(JSON.stringify(body)).toContain('pos-000123');
  });

  it.each(DENY_REASONS)('carries deny reason %s so the partner side can read it back', (reason) => {
    const body = wire.buildDenyRequest(reason, 'detail');
    expect(wire.DenyRequestSchema.safeParse(body).success).toBe(true);
    const code = Object.values(body).flatMap((v) => (typeof v === 'object' ? Object.values(v) : [v]));
    expect(code.map((c) => wire.DENY_REASON_BY_CODE[String(c)]).filter(Boolean)).toEqual([reason]);
  });

  it.each(REPORTED_STATUSES)('reports status %s in a body its schema accepts, readable back', (status) => {
    const body = wire.buildStatusRequest(status);
    expect(wire.StatusRequestSchema.safeParse(body).success).toBe(true);
    expect(Object.values(body).map((code) => wire.STATUS_BY_CODE[String(code)])).toEqual([status]);
  });

  it('builds and matches API paths with the partner order id escaped', () => {
    const path = partnerApiPath(wire.api.accept, 'id with/slash');
    expect(path).toBe(`/${partner}/v1/orders/id%20with%2Fslash/accept`);
    expect(matchPartnerApiPath(wire.api.accept, 'POST', path)).toBe('id with/slash');
    expect(matchPartnerApiPath(wire.api.accept, 'GET', path)).toBeUndefined();
    expect(matchPartnerApiPath(wire.api.deny, 'POST', path)).toBeUndefined();
  });
});

describe('partner ids', () => {
  it('knows exactly the three partners', () => {
    expect(PARTNERS.filter(isPartnerId)).toEqual(['ubereats', 'doordash', 'grubhub']);
    expect(isPartnerId('UberEats')).toBe(false);
    expect(isPartnerId('__proto__')).toBe(false);
  });

  it('only Uber Eats needs the order fetched', () => {
    expect(PARTNERS.filter((partner) => partnerWire[partner].api.fetchOrder !== undefined)).toEqual([
      'ubereats',
    ]);
  });

  it('Uber Eats accept sends the pickup time as unix seconds', () => {
    expect(ubereats.buildAcceptRequest('pos-1', '2025-06-01T18:20:00Z')).toEqual({
      external_reference_id: 'pos-1',
      pickup_time: 1748802000,
    });
  });
});

describe('store request bodies', () => {
  it('accept the documented bodies and refuse extra fields', () => {
    expect(SetStoreStatusRequestSchema.safeParse({ status: 'paused' }).success).toBe(true);
    expect(SetStoreStatusRequestSchema.safeParse({ status: 'closed' }).success).toBe(false);
    expect(SetItemAvailabilityRequestSchema.safeParse({ available: false }).success).toBe(true);
    expect(SetItemAvailabilityRequestSchema.safeParse({ available: false, price: 1 }).success).toBe(false);
  });
});

describe('release and cancel webhooks', () => {
  const ORDER = 'order-42';
  /** Every order webhook each partner sends, about the same order id. */
  const events: Record<PartnerId, Record<OrderEventKind | 'new-order', unknown>> = {
    ubereats: {
      'new-order': { ...uberEatsNotice(), meta: { ...uberEatsNotice().meta, resource_id: ORDER } },
      release: {
        ...uberEatsNotice(),
        event_type: 'orders.release',
        meta: { ...uberEatsNotice().meta, resource_id: ORDER },
      },
      cancel: {
        ...uberEatsNotice(),
        event_type: 'orders.cancel',
        meta: { ...uberEatsNotice().meta, resource_id: ORDER },
      },
    },
    doordash: {
      'new-order': { ...doorDashWebhook(), order: { ...doorDashWebhook().order, id: ORDER } },
      release: { event: { type: 'dasher_arriving' }, order: { id: ORDER } },
      cancel: { event: { type: 'order_cancelled' }, order: { id: ORDER } },
    },
    grubhub: {
      'new-order': { ...grubhubWebhook(), order_uuid: ORDER },
      release: { type: 'DRIVER_ARRIVING', order_uuid: ORDER },
      cancel: { type: 'ORDER_CANCELLED', order_uuid: ORDER },
    },
  };
  const kinds = ['release', 'cancel'] as const;

  describe.each(PARTNERS)('%s', (partner) => {
    it.each(kinds)('reads its own %s event as the order it names', (kind) => {
      expect(partnerWire[partner].OrderEventSchemas[kind].parse(events[partner][kind])).toBe(ORDER);
    });

    it.each(kinds)(
      'a %s takes no other event: not its sibling, not a new order, not another partner’s',
      (kind) => {
        const others = PARTNERS.flatMap((sender) =>
          (['new-order', ...kinds] as const)
            .filter((other) => sender !== partner || other !== kind)
            .map((other) => [`${sender} ${other}`, events[sender][other]] as const),
        );
        expect(others).toHaveLength(8);
        const schema = partnerWire[partner].OrderEventSchemas[kind];
        const taken = others.filter(([, body]) => schema.safeParse(body).success);
        expect(taken.map(([name]) => name)).toEqual([]);
      },
    );
  });
});
