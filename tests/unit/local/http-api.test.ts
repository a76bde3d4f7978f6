import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import {
  type HttpApi,
  type HttpApiRoute,
  type IamMode,
  MAX_BODY_BYTES,
  startHttpApi,
} from '../../../local/cloud/http-api';
import { iamModeFromEnv } from '../../../local/cloud/index';
import { LocalLambda } from '../../../local/cloud/lambda';
import {
  SIGNATURE_MISMATCH,
  type SignOptions,
  signedHeaders,
  UNKNOWN_ACCESS_KEY,
} from '../../../local/cloud/sigv4';

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

let api: HttpApi | undefined;
const received: Array<{ functionName: string; event: APIGatewayProxyEventV2 }> = [];

type Answer = { payload?: unknown; error?: unknown } | (() => Promise<never>);

async function startApi(
  routes: HttpApiRoute[],
  answer: Answer = { payload: { ok: true } },
  iam?: IamMode,
): Promise<HttpApi> {
  api = await startHttpApi({
    port: 0,
    routes,
    ...(iam && { iam }),
    log: () => {},
    invoke: async (functionName, event) => {
      received.push({ functionName, event });
      return typeof answer === 'function' ? answer() : answer;
    },
  });
  return api;
}

/** A plain node:http request, so repeated headers and raw bytes go out exactly as written. */
function send(
  method: string,
  path: string,
  headers: OutgoingHttpHeaders = {},
  body?: Buffer | string,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: api?.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const lastEvent = () => received.at(-1)?.event;

afterEach(async () => {
  await api?.close();
  api = undefined;
  received.length = 0;
});

const webhookRoute = { routeKey: 'POST /webhooks/{partner}/orders', functionName: 'receive-order' };

describe('request → payload format 2.0 event', () => {
  test('carries the route, path and query parameters, lowercased headers and cookies', async () => {
    await startApi([webhookRoute]);

    await send(
      'POST',
      '/webhooks/ubereats/orders?store=store-001&tag=a&tag=b',
      {
        'Content-Type': 'application/json',
        'X-Uber-Signature': 'abc123',
        'X-Partner-Trace': ['one', 'two'],
        Cookie: 'session=s1; theme=dark',
        'User-Agent': 'ubereats-webhooks/1.0',
      },
      '{}',
    );

    expect(received[0]?.functionName).toBe('receive-order');
    const event = lastEvent();
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/{partner}/orders',
      rawPath: '/webhooks/ubereats/orders',
      rawQueryString: 'store=store-001&tag=a&tag=b',
      cookies: ['session=s1', 'theme=dark'],
      queryStringParameters: { store: 'store-001', tag: 'a,b' },
      pathParameters: { partner: 'ubereats' },
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: `127.0.0.1:${api?.port}`,
        domainPrefix: '127',
        http: {
          method: 'POST',
          path: '/webhooks/ubereats/orders',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'ubereats-webhooks/1.0',
        },
        routeKey: 'POST /webhooks/{partner}/orders',
        stage: '$default',
      },
    });
    expect(event?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-uber-signature': 'abc123',
      'x-partner-trace': 'one,two',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-proto': 'http',
    });
    expect(event?.headers).not.toHaveProperty('cookie');
    expect(event?.headers).not.toHaveProperty('X-Uber-Signature');
    expect(event?.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs((event?.requestContext.timeEpoch ?? 0) - Date.now())).toBeLessThan(60_000);
    expect(event?.requestContext.requestId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
  });

  test('keeps a text body byte for byte: whitespace, key order, escapes and unicode', async () => {
    await startApi([webhookRoute]);
    const raw = '{\n  "b": 1,   "a": "crème brûlée 🍮",\r\n\t"escaped": "\\u00e9" }  \n';

    await send(
      'POST',
      '/webhooks/doordash/orders',
      { 'content-type': 'application/json; charset=utf-8' },
      raw,
    );

    expect(lastEvent()?.body).toBe(raw);
    expect(lastEvent()?.isBase64Encoded).toBe(false);
  });

  test('a binary body arrives base64-encoded, and no body means no body field', async () => {
    await startApi([webhookRoute]);
    const bytes = Buffer.from([0, 255, 1, 254, 10, 13]);

    await send('POST', '/webhooks/grubhub/orders', { 'content-type': 'application/octet-stream' }, bytes);
    const binary = lastEvent();
    await send('POST', '/webhooks/grubhub/orders');
    const empty = lastEvent();

    expect(binary?.isBase64Encoded).toBe(true);
    expect(Buffer.from(binary?.body ?? '', 'base64')).toEqual(bytes);
    expect(empty).not.toHaveProperty('body');
    expect(empty).not.toHaveProperty('queryStringParameters');
    expect(empty).not.toHaveProperty('cookies');
  });

  test('text or base64 is decided by the Content-Type alone, with the types API Gateway treats as text', async () => {
    await startApi([webhookRoute]);
    const json = '{"status":"paused"}';
    const delivered: Record<string, { body?: string; isBase64Encoded: boolean }> = {};
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'Application/JSON',
      'text/plain',
      'text/csv; charset=utf-8',
      'application/xml',
      'application/javascript',
      'application/problem+json',
      'application/vnd.api+json',
      'application/atom+xml',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
      'none',
    ]) {
      await send('POST', '/webhooks/doordash/orders', type === 'none' ? {} : { 'content-type': type }, json);
      delivered[type] = { body: lastEvent()?.body, isBase64Encoded: lastEvent()?.isBase64Encoded ?? false };
    }

    const asText = { body: json, isBase64Encoded: false };
    const asBase64 = { body: Buffer.from(json).toString('base64'), isBase64Encoded: true };
    expect(delivered).toEqual({
      'application/json': asText,
      'application/json; charset=utf-8': asText,
      'Application/JSON': asText,
      'text/plain': asText,
      'text/csv; charset=utf-8': asText,
      'application/xml': asText,
      'application/javascript': asText,
      'application/problem+json': asBase64,
      'application/vnd.api+json': asBase64,
      'application/atom+xml': asBase64,
      'application/x-www-form-urlencoded': asBase64,
      'application/octet-stream': asBase64,
      none: asBase64,
    });
  });

  test('a text-typed body that is not UTF-8 still arrives as text: the stray bytes become U+FFFD', async () => {
    await startApi([webhookRoute]);
    const bytes = Buffer.concat([Buffer.from('{"note":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}')]);

    await send('POST', '/webhooks/grubhub/orders', { 'content-type': 'application/json' }, bytes);

    expect(lastEvent()?.isBase64Encoded).toBe(false);
    expect(lastEvent()?.body).toBe('{"note":"a\uFFFD\uFFFDb"}');
    // Different bytes the function can no longer tell apart, which is why signatures must not verify text.
    expect(Buffer.from(lastEvent()?.body ?? '', 'utf8')).not.toEqual(bytes);
  });

  test('the most specific route wins, greedy variables take the rest, $default catches the others', async () => {
    await startApi([
      { routeKey: 'GET /orders/{orderId}', functionName: 'get-order' },
      { routeKey: 'GET /orders/summary', functionName: 'order-summary' },
      { routeKey: 'ANY /menus/{proxy+}', functionName: 'menus' },
      { routeKey: '$default', functionName: 'fallback' },
    ]);

    await send('GET', '/orders/ord_abc');
    await send('GET', '/orders/summary');
    await send('DELETE', '/menus/store-001/items/sku-9');
    await send('POST', '/orders/ord_abc');

    expect(
      received.map(({ functionName, event }) => [functionName, event.routeKey, event.pathParameters]),
    ).toEqual([
      ['get-order', 'GET /orders/{orderId}', { orderId: 'ord_abc' }],
      ['order-summary', 'GET /orders/summary', undefined],
      ['menus', 'ANY /menus/{proxy+}', { proxy: 'store-001/items/sku-9' }],
      ['fallback', '$default', undefined],
    ]);
  });
  test('a named stage prefixes the path: routes match without it, rawPath keeps it', async () => {
    api = await startHttpApi({
      port: 0,
      stage: 'dev',
      routes: [webhookRoute],
      log: () => {},
      invoke: async (functionName, event) => {
        received.push({ functionName, event });
        return { payload: {} };
      },
    });

    const staged = await send('POST', '/dev/webhooks/ubereats/orders');
    const unstaged = await send('POST', '/webhooks/ubereats/orders');

    expect(staged.status).toBe(200);
    expect(unstaged.status).toBe(404);
    expect(lastEvent()).toMatchObject({
      rawPath: '/dev/webhooks/ubereats/orders',
      requestContext: { stage: 'dev' },
    });
  });
});

describe('function answer → response', () => {
  test('a structured result sets status, headers, cookies and body', async () => {
    await startApi([webhookRoute], {
      payload: {
        statusCode: 202,
        headers: { 'Content-Type': 'application/json', 'X-Order-Id': 'ord_1' },
        cookies: ['a=1; Path=/', 'b=2'],
        body: '{"orderId":"ord_1","status":"RECEIVED"}',
      },
    });

    const reply = await send('POST', '/webhooks/ubereats/orders', {}, '{}');

    expect(reply.status).toBe(202);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(reply.headers['x-order-id']).toBe('ord_1');
    expect(reply.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2']);
    expect(reply.headers['apigw-requestid']).toBe(lastEvent()?.requestContext.requestId);
    expect(reply.body.toString()).toBe('{"orderId":"ord_1","status":"RECEIVED"}');
  });

  test('a base64-encoded body is decoded', async () => {
    const bytes = Buffer.from([137, 80, 78, 71, 0, 1]);
    await startApi([webhookRoute], {
      payload: {
        statusCode: 200,
        headers: { 'content-type': 'image/png' },
        body: bytes.toString('base64'),
        isBase64Encoded: true,
      },
    });

    const reply = await send('POST', '/webhooks/ubereats/orders');

    expect(reply.body).toEqual(bytes);
  });

  test('any other value is a 200 with its JSON', async () => {
    await startApi([webhookRoute], { payload: { orderId: 'ord_2', status: 'ACCEPTED' } });

    const reply = await send('POST', '/webhooks/ubereats/orders');

    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body.toString())).toEqual({ orderId: 'ord_2', status: 'ACCEPTED' });
  });

  test.each([
    ['a function error', { error: { errorType: 'Error', errorMessage: 'boom' } }],
    [
      'a timeout',
      { error: { errorType: 'Sandbox.Timedout', errorMessage: 'Task timed out after 3.00 seconds' } },
    ],
    ['a statusCode that is not a status', { payload: { statusCode: 'fine', body: '' } }],
    ['an invoke that throws', () => Promise.reject(new Error('no such function'))],
  ])('%s is a 500 Internal Server Error', async (_case, answer) => {
    await startApi([webhookRoute], answer as Answer);

    const reply = await send('POST', '/webhooks/ubereats/orders', {}, '{}');

    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body.toString())).toEqual({ message: 'Internal Server Error' });
  });
});

describe("API Gateway's own answers", () => {
  test('no matching route is a 404 Not Found and invokes nothing', async () => {
    await startApi([webhookRoute]);

    const wrongMethod = await send('GET', '/webhooks/ubereats/orders');
    const wrongPath = await send('POST', '/webhooks/ubereats/orders/extra', {}, '{}');

    for (const reply of [wrongMethod, wrongPath]) {
      expect(reply.status).toBe(404);
      expect(JSON.parse(reply.body.toString())).toEqual({ message: 'Not Found' });
    }
    expect(received).toEqual([]);
  });

  test('a body over 10 MB is a 413 and invokes nothing; exactly 10 MB passes', async () => {
    await startApi([webhookRoute]);

    const tooLarge = await send(
      'POST',
      '/webhooks/ubereats/orders',
      { 'content-type': 'text/plain' },
      Buffer.alloc(MAX_BODY_BYTES + 1, 'a'),
    );
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.body.toString())).toEqual({ message: 'Request Entity Too Large' });
    expect(received).toEqual([]);

    const atLimit = await send(
      'POST',
      '/webhooks/ubereats/orders',
      { 'content-type': 'text/plain' },
      Buffer.alloc(MAX_BODY_BYTES, 'a'),
    );
    expect(atLimit.status).toBe(200);
    expect(lastEvent()?.body).toHaveLength(MAX_BODY_BYTES);
  });
});

describe('IAM-authorized routes (LOCAL_IAM)', () => {
  const storeRoute = {
    routeKey: 'PUT /stores/{storeId}/status',
    functionName: 'store-status',
    authorizationType: 'AWS_IAM',
  };
  const orderRoute = {
    routeKey: 'GET /orders/{orderId}',
    functionName: 'get-order',
    authorizationType: 'AWS_IAM',
  };
  const routes = [webhookRoute, storeRoute, orderRoute];
  const forbidden = { message: 'Forbidden' };
  const json = (reply: Reply) => JSON.parse(reply.body.toString());

  /** The request signed as curl --aws-sigv4 or the SDK signs it, then sent byte for byte. */
  async function sendSigned(
    method: string,
    path: string,
    body?: string,
    options: SignOptions & { sendBody?: string } = {},
  ) {
    const url = `http://127.0.0.1:${api?.port}${path}`;
    const base: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
    const headers = await signedHeaders(method, url, base, body, options);
    return send(method, path, headers, options.sendBody ?? body);
  }

  test('signed (the default): an unsigned call is 403 Forbidden and invokes nothing; open routes stay open', async () => {
    await startApi(routes);

    const unsigned = await send(
      'PUT',
      '/stores/store-001/status',
      { 'content-type': 'application/json' },
      '{}',
    );
    const bearer = await send('GET', '/orders/ord_1', { authorization: 'Bearer local' });
    expect([unsigned.status, json(unsigned)]).toEqual([403, forbidden]);
    expect(bearer.status).toBe(403);
    expect(received).toEqual([]);

    expect((await send('POST', '/webhooks/doordash/orders', {}, '{}')).status).toBe(200);
    expect(received.map((r) => r.functionName)).toEqual(['receive-order']);
  });

  test('signed: a SigV4 signature for another service is refused, one for execute-api passes unverified', async () => {
    await startApi(routes);

    const forS3 = await sendSigned('GET', '/orders/ord_1', undefined, { service: 's3' });
    expect([forS3.status, json(forS3)]).toEqual([
      403,
      { message: "Credential should be scoped to correct service: 'execute-api'. " },
    ]);
    expect(received).toEqual([]);

    const otherSecret = await sendSigned('GET', '/orders/ord_1', undefined, {
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-local' },
    });
    expect(otherSecret.status).toBe(200);
  });

  test('the event carries requestContext.authorizer.iam as API Gateway fills it', async () => {
    await startApi(routes);

    await sendSigned('GET', '/orders/ord_1?expand=timeline');

    expect(lastEvent()?.requestContext).toMatchObject({
      authorizer: {
        iam: {
          accessKey: 'local',
          accountId: '000000000000',
          callerId: '000000000000',
          cognitoIdentity: null,
          principalOrgId: null,
          userArn: 'arn:aws:iam::000000000000:root',
          userId: '000000000000',
        },
      },
    });
    await send('POST', '/webhooks/doordash/orders', {}, '{}');
    expect(lastEvent()?.requestContext).not.toHaveProperty('authorizer');
  });

  test('strict: a signature made with the local credentials passes, with a body and a query', async () => {
    await startApi(routes, undefined, 'strict');

    const put = await sendSigned('PUT', '/stores/store-001/status', '{"status":"paused","reason":"rush"}');
    const get = await sendSigned('GET', '/orders/ord_1?a=1&b=two%20words&a=0');
    expect([put.status, get.status]).toEqual([200, 200]);
    expect(received.map((r) => r.functionName)).toEqual(['store-status', 'get-order']);
  });

  test('strict: a wrong secret, a changed body or path, an unknown key or an old date is refused as AWS refuses it', async () => {
    await startApi(routes, undefined, 'strict');
    const body = '{"status":"paused"}';

    const wrongSecret = await sendSigned('PUT', '/stores/store-001/status', body, {
      credentials: { accessKeyId: 'local', secretAccessKey: 'wrong' },
    });
    const tampered = await sendSigned('PUT', '/stores/store-001/status', body, {
      sendBody: '{"status":"offline"}',
    });
    const url = `http://127.0.0.1:${api?.port}`;
    const otherPath = await send('GET', '/orders/ord_2', await signedHeaders('GET', `${url}/orders/ord_1`));
    const unknownKey = await sendSigned('GET', '/orders/ord_1', undefined, {
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'local' },
    });
    const old = await sendSigned('GET', '/orders/ord_1', undefined, {
      signingDate: new Date(Date.now() - 10 * 60_000),
    });

    for (const reply of [wrongSecret, tampered, otherPath]) {
      expect([reply.status, json(reply)]).toEqual([403, { message: SIGNATURE_MISMATCH }]);
    }
    expect([unknownKey.status, json(unknownKey)]).toEqual([403, { message: UNKNOWN_ACCESS_KEY }]);
    expect(old.status).toBe(403);
    expect(json(old).message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier/);
    expect(received).toEqual([]);
  });

  test('temporary credentials (an assumed role, as CI has): the session token is signed and sent, as AWS requires', async () => {
    const headers = await signedHeaders('GET', 'https://api.example.com/orders/ord_1', {}, undefined, {
      credentials: {
        accessKeyId: 'ASIAEXAMPLE',
        secretAccessKey: 'secret',
        sessionToken: 'token-of-the-session',
      },
    });

    expect(headers['x-amz-security-token']).toBe('token-of-the-session');
    expect(headers.authorization).toMatch(/SignedHeaders=[^,]*x-amz-security-token/);
  });

  test('LOCAL_IAM is signed when unset, and a value it does not know stops start-up with its name', () => {
    expect(iamModeFromEnv(undefined)).toBe('signed');
    expect(iamModeFromEnv('strict')).toBe('strict');
    expect(() => iamModeFromEnv('none')).toThrow('LOCAL_IAM=none is not one of signed, strict, off');
  });

  test('off: unsigned calls pass', async () => {
    await startApi(routes, undefined, 'off');

    const unsigned = await send('GET', '/orders/ord_1');

    expect(unsigned.status).toBe(200);
    expect(received.map((r) => r.functionName)).toEqual(['get-order']);
  });
});

describe('with the local Lambda behind it', () => {
  let lambda: LocalLambda | undefined;
  afterEach(() => lambda?.close());

  test('a webhook reaches the function in its own sandbox and its answer comes back', async () => {
    const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'lambda');
    lambda = new LocalLambda({
      region: 'us-east-1',
      accountId: '000000000000',
      log: () => {},
      functions: [
        {
          name: 'receive-order',
          arn: 'arn:aws:lambda:us-east-1:000000000000:function:receive-order',
          bundlePath: join(fixtures, 'http-echo.mjs'),
          handlerExport: 'handler',
          environment: {},
          memorySize: 256,
          timeout: 5,
        },
      ],
    });
    const local = lambda;
    api = await startHttpApi({
      port: 0,
      routes: [webhookRoute],
      log: () => {},
      invoke: (name, event) => local.invoke(name, event),
    });
    const raw = '{ "order": "🍔 x2" }';

    const accepted = await send(
      'POST',
      '/webhooks/ubereats/orders',
      { 'content-type': 'application/json' },
      raw,
    );
    const crashed = await send(
      'POST',
      '/webhooks/broken/orders',
      { 'content-type': 'application/json' },
      raw,
    );

    expect(accepted.status).toBe(202);
    expect(JSON.parse(accepted.body.toString())).toEqual({ partner: 'ubereats', body: raw });
    expect(crashed.status).toBe(500);
  });
});
