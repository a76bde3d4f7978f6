/**
 * The deployed simulators' Lambda handlers (simulators/lambda), driven with the payload-2.0 events
 * their HTTP APIs send: each invocation reads the state from DynamoDB and writes back what it
 * changed, conditionally. DynamoDB is an in-memory table that checks those conditions as DynamoDB
 * does (the local dynalite has no transactions); SSM answers the stage's secrets; the middleware is a
 * loopback server that checks the webhook's signature and the store read's SigV4.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { orderIdFor } from '../../../functions/lib/domain/order';
import { verifySignature } from '../../../functions/lib/domain/signatures';
import { partnerApiPath } from '../../../functions/lib/schemas/partners/index';
import { partnerWire } from '../../../functions/lib/schemas/partners/registry';
import { IDEMPOTENCY_KEY_HEADER, POS_API_KEY_HEADER, posPaths } from '../../../functions/lib/schemas/pos';

const SSM_PREFIX = '/order-middleware/review-1';
const SECRETS: Record<string, string> = {
  [`${SSM_PREFIX}/pos/api-key`]: 'stage-pos-key',
  [`${SSM_PREFIX}/partners/doordash/signing-secrets`]: 'dd-stage-token-new,dd-stage-token-old',
  [`${SSM_PREFIX}/partners/doordash/api-key`]: 'dd-stage-api-key',
  [`${SSM_PREFIX}/partners/ubereats/signing-secrets`]: 'ue-stage-secret',
  [`${SSM_PREFIX}/partners/ubereats/api-key`]: 'ue-stage-api-key',
  [`${SSM_PREFIX}/partners/grubhub/signing-secrets`]: 'gh-stage-secret',
  [`${SSM_PREFIX}/partners/grubhub/api-key`]: 'gh-stage-api-key',
};

/** DynamoDB's answer to a transaction whose condition failed. */
class TransactionCanceledException extends Error {
  override name = 'TransactionCanceledException';
}

/** One table, keyed pk|sk; Query reads a partition; a transaction applies all its writes or none. */
const items = new Map<string, Record<string, unknown>>();
let cancelled = 0;
const keyOf = (key: Record<string, unknown>) => `${key.pk}|${key.sk}`;
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 5));
/** With `together` set, the next reads wait for each other: two invocations then read the same state. */
let together = 0;
let waiting: (() => void)[] = [];
async function readTogether(): Promise<void> {
  if (together === 0) return tick();
  await new Promise<void>((resolve) => {
    waiting.push(resolve);
    if (waiting.length === together) {
      for (const release of waiting) release();
      waiting = [];
      together = 0;
    }
  });
}

const dynamo = mockClient(DynamoDBDocumentClient);
const ssm = mockClient(SSMClient);

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
let pos: Handler;
let partner: Handler;
let middleware: Server;
const webhooks: { headers: IncomingMessage['headers']; body: string }[] = [];
/** While set, the middleware answers a release webhook only once it settles. */
let holdRelease: Promise<void> | undefined;
const storeReads: IncomingMessage['headers'][] = [];

beforeAll(async () => {
  middleware = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      if (req.url?.startsWith('/stores/')) {
        storeReads.push(req.headers);
        res.writeHead(404).end(); // the simulator then offers the demo menu
        return;
      }
      webhooks.push({ headers: req.headers, body });
      const answer = () =>
        res
          .writeHead(202, { 'content-type': 'application/json' })
          .end(JSON.stringify({ orderId: 'ord_test' }));
      if (req.url?.endsWith('/release') && holdRelease) void holdRelease.then(answer);
      else answer();
    });
  });
  await new Promise<void>((resolve) => middleware.listen(0, '127.0.0.1', resolve));
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'ASIAROLE',
    AWS_SECRET_ACCESS_KEY: 'role-secret',
    AWS_SESSION_TOKEN: 'role-session',
    SSM_PREFIX,
    SIMULATOR_TABLE: 'order-middleware-review-1-simulators',
    MIDDLEWARE_URL: `http://127.0.0.1:${(middleware.address() as AddressInfo).port}`,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  ({ handler: pos } = await import('../../../simulators/lambda/pos'));
  ({ handler: partner } = await import('../../../simulators/lambda/partner'));
});

afterAll(async () => {
  await new Promise((resolve) => middleware.close(resolve));
  dynamo.restore();
  ssm.restore();
});

beforeEach(() => {
  items.clear();
  webhooks.length = 0;
  storeReads.length = 0;
  cancelled = 0;
  dynamo.reset();
  dynamo.on(QueryCommand).callsFake(async (input) => {
    await readTogether();
    const pk = input.ExpressionAttributeValues[':pk'];
    return { Items: [...items.values()].filter((item) => item.pk === pk).map((item) => ({ ...item })) };
  });
  dynamo.on(TransactWriteCommand).callsFake(async (input) => {
    const actions = input.TransactItems as Record<string, Record<string, unknown>>[];
    const holds = (
      { ConditionExpression, ExpressionAttributeValues }: Record<string, unknown>,
      key: string,
    ) => {
      const current = items.get(key);
      if (ConditionExpression === 'attribute_not_exists(sk)') return current === undefined;
      return current?.rev === (ExpressionAttributeValues as Record<string, unknown>)[':rev'];
    };
    const keyed = actions.map((action) => {
      const [kind, write] = Object.entries(action)[0]! as [string, Record<string, unknown>];
      const key = keyOf((write.Item ?? write.Key) as Record<string, unknown>);
      return { kind, write, key };
    });
    if (!keyed.every(({ write, key }) => holds(write, key))) {
      cancelled += 1;
      throw new TransactionCanceledException('Transaction cancelled, please refer cancellation reasons');
    }
    for (const { kind, write, key } of keyed) {
      if (kind === 'Put') items.set(key, write.Item as Record<string, unknown>);
      else items.delete(key);
    }
    return {};
  });
  dynamo.on(DeleteCommand).callsFake(async (input) => {
    items.delete(keyOf(input.Key));
    return {};
  });
  ssm.reset();
  ssm.on(GetParameterCommand).callsFake(({ Name }) => ({ Parameter: { Name, Value: SECRETS[Name] } }));
});

function event(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const [rawPath = '', rawQueryString = ''] = path.split('?');
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])),
    requestContext: { http: { method, path: rawPath } },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}
const bodyOf = (result: APIGatewayProxyStructuredResultV2) =>
  result.body ? JSON.parse(result.body) : undefined;

const heldOrder = (n: number) => ({
  reference: orderIdFor('doordash', `dd-lambda-${n}`),
  items: [{ sku: 'TACO-AL-PASTOR', name: 'Al Pastor Taco', quantity: 2, unitPrice: 450, modifiers: [] }],
  total: 900,
  pickupAt: '2025-06-01T18:20:00Z',
});
const createPosOrder = (n: number, key = 'stage-pos-key') =>
  pos(
    event('POST', posPaths.createOrder('store-001'), heldOrder(n), {
      [POS_API_KEY_HEADER]: key,
      [IDEMPOTENCY_KEY_HEADER]: heldOrder(n).reference,
    }),
  );

describe('the POS simulator as a Lambda function', () => {
  test('keeps a held order in DynamoDB, where the next invocation finds it; the stage’s key is required', async () => {
    const created = await createPosOrder(1);
    expect(created.statusCode).toBe(201);
    const { posOrderId } = bodyOf(created);
    expect((await pos(event('GET', '/_control/orders'))).body).toContain(posOrderId);
    const fired = await pos(
      event(
        'POST',
        posPaths.fireOrder(posOrderId),
        { reference: heldOrder(1).reference },
        {
          [POS_API_KEY_HEADER]: 'stage-pos-key',
        },
      ),
    );
    expect(bodyOf(fired)).toEqual({ posOrderId, status: 'fired' });
    expect(bodyOf(await pos(event('GET', '/_control/orders')))[0]).toMatchObject({
      posOrderId,
      status: 'fired',
    });

    const wrongKey = await createPosOrder(2, 'dev-only-pos-api-key');
    expect(wrongKey.statusCode).toBe(401);
    expect(bodyOf(wrongKey).error.code).toBe('UNAUTHORIZED');
  });

  test('two creates at once both land, under two numbers: the one that lost the race runs again', async () => {
    together = 2;
    const [first, second] = await Promise.all([createPosOrder(3), createPosOrder(4)]);
    expect([first.statusCode, second.statusCode]).toEqual([201, 201]);
    expect(new Set([bodyOf(first).posOrderId, bodyOf(second).posOrderId])).toEqual(
      new Set(['pos-000001', 'pos-000002']),
    );
    expect(cancelled).toBeGreaterThan(0);
    expect(bodyOf(await pos(event('GET', '/_control/orders')))).toHaveLength(2);
  });

  test('a lost answer is API Gateway’s 504 while the order is written; faults live across invocations', async () => {
    const faults = await pos(
      event('PUT', '/_control/faults', { dropResponseAfterWrite: 1, endpoints: ['create'] }),
    );
    expect(bodyOf(faults)).toMatchObject({ dropResponseAfterWrite: 1 });
    const lost = await createPosOrder(5);
    expect(lost.statusCode).toBe(504);
    expect(bodyOf(lost)).toEqual({ message: 'Endpoint request timed out' });
    expect(bodyOf(await pos(event('GET', '/_control/orders')))[0]).toMatchObject({
      reference: heldOrder(5).reference,
      status: 'held',
    });
    await pos(event('DELETE', '/_control/faults'));
    expect((await createPosOrder(5)).statusCode).toBe(201);
  });

  test('answers an unknown path 404 with a JSON error', async () => {
    const answer = await pos(event('GET', '/nowhere'));
    expect(answer.statusCode).toBe(404);
    expect(bodyOf(answer).error.code).toBe('NOT_FOUND');
  });
});

describe('the partner simulator as a Lambda function', () => {
  test('signs its webhook with the stage’s secret, reads the store route with SigV4, and keeps the order for the API calls back', async () => {
    const placed = await partner(
      event('POST', '/_control/orders', { partner: 'doordash', storeId: 'store-001' }),
    );
    expect(placed.statusCode).toBe(201);
    const { partnerOrderId, webhookStatus, orderId } = bodyOf(placed);
    expect([webhookStatus, orderId]).toEqual([202, 'ord_test']);

    const [webhook] = webhooks;
    const headers = Object.fromEntries(Object.entries(webhook!.headers).map(([k, v]) => [k, String(v)]));
    expect(verifySignature('doordash', webhook!.body, headers, ['dd-stage-token-new'], new Date())).toEqual({
      ok: true,
    });
    expect(storeReads[0]?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAROLE\/\d{8}\/us-east-1\/execute-api\/aws4_request/,
    );
    expect(storeReads[0]?.['x-amz-security-token']).toBe('role-session');

    // The middleware accepts through the partner API, in another invocation, with the stage's key.
    const accepted = await partner(
      event(
        'POST',
        partnerApiPath(partnerWire.doordash.api.accept, partnerOrderId),
        partnerWire.doordash.buildAcceptRequest('pos-000001'),
        partnerWire.doordash.apiAuthHeaders('dd-stage-api-key'),
      ),
    );
    expect(accepted.statusCode).toBeLessThan(300);
    const seen = bodyOf(await partner(event('GET', `/_control/orders/doordash/${partnerOrderId}`)));
    expect(seen).toMatchObject({ state: 'accepted', posReference: 'pos-000001' });
  });

  test('a release the middleware took is remembered even when the order changed while the webhook was out', async () => {
    const { partnerOrderId } = bodyOf(
      await partner(event('POST', '/_control/orders', { partner: 'doordash', storeId: 'store-001' })),
    );
    // While the release webhook is in flight, the middleware accepts the order (another invocation).
    let answerRelease = () => {};
    holdRelease = new Promise((resolve) => {
      answerRelease = resolve;
    });
    const releasing = partner(event('POST', `/_control/orders/doordash/${partnerOrderId}/release`));
    while (webhooks.length < 2) await tick(); // the order's webhook, then the release's
    await partner(
      event(
        'POST',
        partnerApiPath(partnerWire.doordash.api.accept, partnerOrderId),
        partnerWire.doordash.buildAcceptRequest('pos-000009'),
        partnerWire.doordash.apiAuthHeaders('dd-stage-api-key'),
      ),
    );
    answerRelease();
    expect(bodyOf(await releasing).webhookStatus).toBe(202);
    holdRelease = undefined;
    expect(cancelled).toBeGreaterThan(0); // the release's write lost to the accept's, and was made again
    const sent = webhooks.filter((webhook) => webhook.body.includes(partnerOrderId));
    expect(sent).toHaveLength(2); // the order, then one release: never re-sent
    const seen = bodyOf(await partner(event('GET', `/_control/orders/doordash/${partnerOrderId}`)));
    expect(seen).toMatchObject({ state: 'accepted', posReference: 'pos-000009' });
    expect(seen.releasedAt).toEqual(expect.any(String));
  });
});
