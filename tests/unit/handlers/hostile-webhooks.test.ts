/**
 * What a hostile (or confused) partner can send to the release, cancel and new-order webhooks, and
 * what must come of it: the exact refusal, and nothing read or written — no order looked up, no
 * workflow resumed or failed, no event published.
 */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { signWebhook } from '../../../functions/lib/domain/signatures';
import * as grubhub from '../../../functions/lib/schemas/partners/grubhub';
import { PARTNERS, type PartnerId } from '../../../functions/lib/schemas/partners/index';
import type { OrderEventKind } from '../../../functions/lib/schemas/partners/registry';
import * as ubereats from '../../../functions/lib/schemas/partners/ubereats';
import { doorDashWebhook, grubhubWebhook, uberEatsNotice } from '../domain/fixtures';
import {
  answer,
  canonicalOrderFrom,
  lambdaContext,
  orderRecord,
  SIGNING_SECRETS,
  setHandlerEnv,
  ssmParameters,
  webhookEvent,
} from './harness';

setHandlerEnv();
const handlers = {
  release: (await import('../../../functions/release-order')).handler,
  cancel: (await import('../../../functions/cancel-order')).handler,
  order: (await import('../../../functions/receive-order')).handler,
};

const ddb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);
const bus = mockClient(EventBridgeClient);
const ssm = mockClient(SSMClient);

const ORDER = 'order-42';
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** Every order webhook each partner sends, about ORDER (Uber Eats dated `eventTime`). */
function partnerEvent(partner: PartnerId, kind: OrderEventKind | 'new-order', eventTime = nowSeconds()) {
  switch (partner) {
    case 'ubereats': {
      const notice = uberEatsNotice();
      const event_type = {
        'new-order': notice.event_type,
        release: 'orders.release',
        cancel: 'orders.cancel',
      };
      return {
        ...notice,
        event_type: event_type[kind],
        event_time: eventTime,
        meta: { ...notice.meta, resource_id: ORDER },
      };
    }
    case 'doordash':
      if (kind === 'new-order')
        return { ...doorDashWebhook(), order: { ...doorDashWebhook().order, id: ORDER } };
      return {
        event: { type: kind === 'release' ? 'dasher_arriving' : 'order_cancelled' },
        order: { id: ORDER },
      };
    case 'grubhub':
      if (kind === 'new-order') return { ...grubhubWebhook(), order_uuid: ORDER };
      return { type: kind === 'release' ? 'DRIVER_ARRIVING' : 'ORDER_CANCELLED', order_uuid: ORDER };
  }
}

/** A webhook to `route`, its exact bytes signed as `partner` signs, delivered as API Gateway might. */
function delivery(
  partner: PartnerId,
  route: OrderEventKind | 'order',
  bytes: Buffer,
  options: { signed?: Buffer; at?: Date; base64?: boolean; headers?: Record<string, string> } = {},
): APIGatewayProxyEventV2 {
  const headers = {
    'content-type': 'application/json',
    ...signWebhook(partner, options.signed ?? bytes, SIGNING_SECRETS[partner][0], options.at ?? new Date()),
    ...options.headers,
  };
  const event = webhookEvent({
    partner,
    action: route === 'order' ? undefined : { partnerOrderId: ORDER, kind: route },
    body: bytes.toString('utf8'),
    headers,
  });
  return options.base64 ? { ...event, body: bytes.toString('base64'), isBase64Encoded: true } : event;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const call = async (route: keyof typeof handlers, event: APIGatewayProxyEventV2) =>
  answer(await handlers[route](event, lambdaContext()));

/** Nothing was read or written anywhere: the refusal came before the order was touched. */
function expectNothingHappened() {
  expect(ddb.calls()).toHaveLength(0);
  expect(sfn.calls()).toHaveLength(0);
  expect(bus.calls()).toHaveLength(0);
}

const refused = (status: number, code: string) => ({
  statusCode: status,
  body: { error: { code, message: expect.any(String) } },
});

const order = await canonicalOrderFrom('doordash', doorDashWebhook());

beforeEach(() => {
  ddb.reset();
  sfn.reset();
  bus.reset();
  ssm.reset();
  ssm
    .on(GetParameterCommand)
    .callsFake(({ Name }) => ({ Parameter: { Name, Value: ssmParameters()[Name] } }));
  // When a webhook does get through, the order is accepted and waiting: release and cancel both apply.
  const waiting = orderRecord(order, { status: 'ACCEPTED' });
  ddb.on(GetCommand).resolves({ Item: waiting });
  ddb.on(UpdateCommand).callsFake((input) => ({
    Attributes: { ...waiting, ...(input.ExpressionAttributeValues?.[':to'] ? { status: 'CANCELLED' } : {}) },
  }));
  sfn.on(SendTaskSuccessCommand).resolves({});
  sfn.on(SendTaskFailureCommand).resolves({});
  bus.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'evt-1' }] });
});

describe.each(PARTNERS)('%s: release and cancel act only on their own event', (partner) => {
  it.each(['release', 'cancel'] as const)('its own %s event gets through to the order: 202', async (kind) => {
    const result = await call(kind, delivery(partner, kind, json(partnerEvent(partner, kind))));

    expect(result.statusCode).toBe(202);
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(1);
  });

  it('cancel refuses the release event (the courier is close, not a cancellation): 400, nothing happens', async () => {
    const result = await call('cancel', delivery(partner, 'cancel', json(partnerEvent(partner, 'release'))));

    expect(result).toEqual(refused(400, 'INVALID_PAYLOAD'));
    expectNothingHappened();
  });

  it('cancel refuses the new-order webhook of the same order: 400, nothing happens', async () => {
    const result = await call(
      'cancel',
      delivery(partner, 'cancel', json(partnerEvent(partner, 'new-order'))),
    );

    expect(result).toEqual(refused(400, 'INVALID_PAYLOAD'));
    expectNothingHappened();
  });

  it('release refuses the cancel event and the new-order webhook: 400, nothing happens', async () => {
    for (const kind of ['cancel', 'new-order'] as const) {
      const result = await call('release', delivery(partner, 'release', json(partnerEvent(partner, kind))));
      expect(result).toEqual(refused(400, 'INVALID_PAYLOAD'));
    }
    expectNothingHappened();
  });

  it.each(['release', 'cancel'] as const)(
    '%s refuses another partner’s event of that kind, even signed with this partner’s secret: 400',
    async (kind) => {
      for (const other of PARTNERS.filter((p) => p !== partner)) {
        const result = await call(kind, delivery(partner, kind, json(partnerEvent(other, kind))));
        expect(result).toEqual(refused(400, 'INVALID_PAYLOAD'));
      }
      expectNothingHappened();
    },
  );
});

describe('events older than the partner retries', () => {
  const horizon = ubereats.EVENT_MAX_AGE_SECONDS;

  it.each(['release', 'cancel', 'new-order'] as const)(
    'Uber Eats %s dated past its retry horizon: 401, nothing happens',
    async (kind) => {
      const route = kind === 'new-order' ? 'order' : kind;
      const stale = partnerEvent('ubereats', kind, nowSeconds() - horizon - 5);
      // The Uber Eats order is fetched only after the notice is believed: not here.
      const fetched: string[] = [];
      const realFetch = globalThis.fetch;
      globalThis.fetch = (async (input: string | URL | Request) => {
        fetched.push(String(input));
        return new Response(null, { status: 599 });
      }) as typeof fetch;

      const result = await call(route, delivery('ubereats', route, json(stale))).finally(() => {
        globalThis.fetch = realFetch;
      });

      expect(result).toEqual(refused(401, 'UNAUTHORIZED'));
      expectNothingHappened();
      expect(fetched).toEqual([]);
    },
  );

  it('Uber Eats release still inside the horizon gets through', async () => {
    const recent = partnerEvent('ubereats', 'release', nowSeconds() - horizon + 5);

    expect((await call('release', delivery('ubereats', 'release', json(recent)))).statusCode).toBe(202);
  });

  it('Uber Eats release without event_time: 400, nothing happens', async () => {
    const undated: Record<string, unknown> = { ...partnerEvent('ubereats', 'release') };
    delete undated.event_time;

    expect(await call('release', delivery('ubereats', 'release', json(undated)))).toEqual(
      refused(400, 'INVALID_PAYLOAD'),
    );
    expectNothingHappened();
  });

  it.each(['release', 'cancel'] as const)(
    'Grubhub %s signed longer ago than its replay window: 401, nothing happens',
    async (kind) => {
      const at = new Date(Date.now() - (grubhub.REPLAY_WINDOW_SECONDS + 5) * 1000);

      const result = await call(kind, delivery('grubhub', kind, json(partnerEvent('grubhub', kind)), { at }));

      expect(result).toEqual(refused(401, 'UNAUTHORIZED'));
      expectNothingHappened();
    },
  );
});

describe('a signature binds the bytes, however API Gateway delivered them', () => {
  // A Grubhub cancel with a note whose middle byte varies: 0xFF is not UTF-8, and neither is 0xFE;
  // both decode (with replacement) to the same text as the UTF-8 of U+FFFD itself.
  const cancelWith = (...middle: number[]) =>
    Buffer.concat([
      Buffer.from(`{"type":"ORDER_CANCELLED","order_uuid":"${ORDER}","note":"a`),
      Buffer.from(middle),
      Buffer.from('b"}'),
    ]);
  const replacementText = cancelWith(0xef, 0xbf, 0xbd);

  it('base64-delivered bytes that verify are read as JSON: 202', async () => {
    const bytes = json(partnerEvent('grubhub', 'cancel'));

    expect((await call('cancel', delivery('grubhub', 'cancel', bytes, { base64: true }))).statusCode).toBe(
      202,
    );
  });

  it('bytes that are not UTF-8, even correctly signed, are refused after the signature: 400, nothing happens', async () => {
    const result = await call('cancel', delivery('grubhub', 'cancel', cancelWith(0xff), { base64: true }));

    expect(result).toEqual(refused(400, 'INVALID_PAYLOAD'));
    expectNothingHappened();
  });

  it('other bytes that decode to the signed text do not verify: 401, nothing happens', async () => {
    for (const bytes of [cancelWith(0xff), cancelWith(0xfe)]) {
      const event = delivery('grubhub', 'cancel', bytes, { base64: true, signed: replacementText });
      expect(await call('cancel', event)).toEqual(refused(401, 'UNAUTHORIZED'));
    }
    expectNothingHappened();
  });

  it('the same checks hold for a new order: bytes not UTF-8 are 400, other bytes 401', async () => {
    const notUtf8 = Buffer.concat([
      json(partnerEvent('grubhub', 'new-order')).subarray(0, -1),
      Buffer.from(',"x":"\xff"}', 'latin1'),
    ]);

    expect(await call('order', delivery('grubhub', 'order', notUtf8, { base64: true }))).toEqual(
      refused(400, 'INVALID_PAYLOAD'),
    );
    const lookalike = Buffer.from(notUtf8.toString('utf8'));
    expect(
      await call('order', delivery('grubhub', 'order', notUtf8, { base64: true, signed: lookalike })),
    ).toEqual(refused(401, 'UNAUTHORIZED'));
    expectNothingHappened();
  });
});

describe('signature spellings every partner accepts', () => {
  it.each(['ubereats', 'grubhub'] as const)(
    '%s: the hex signature in upper case gets through',
    async (partner) => {
      const bytes = json(partnerEvent(partner, 'cancel'));
      const headers = Object.fromEntries(
        Object.entries(signWebhook(partner, bytes, SIGNING_SECRETS[partner][0], new Date())).map(
          ([name, value]) => [name.toLowerCase(), value.replace(/[0-9a-f]{64}/, (hex) => hex.toUpperCase())],
        ),
      );

      expect((await call('cancel', delivery(partner, 'cancel', bytes, { headers }))).statusCode).toBe(202);
    },
  );

  it.each(['bearer', 'BEARER'])('DoorDash: the %s scheme gets through (RFC 7235)', async (scheme) => {
    const bytes = json(partnerEvent('doordash', 'cancel'));
    const headers = { authorization: `${scheme} ${SIGNING_SECRETS.doordash[0]}` };

    expect((await call('cancel', delivery('doordash', 'cancel', bytes, { headers }))).statusCode).toBe(202);
  });
});
