/**
 * The console's server: the UI's one HTML shell for every page (the UI routes on the client), its
 * bundled assets under `/assets/…`, and the JSON API the pages call (ARCHITECTURE section 7, the
 * console contract). The same server serves `npm start` (the local cloud) and `npm run console --
 * --stage NAME` (a deployed stage); only how the endpoints are found differs (./endpoints.ts).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ORDER_STATUSES } from '../../functions/lib/schemas/order';
import { PARTNERS } from '../../functions/lib/schemas/partners/index';
import { buildConsoleUi } from './build';
import type { ConsoleEndpoints } from './endpoints';
import { orderDetail } from './order-detail';
import { listQuery, orderPage, watchOrders } from './order-feed';
import { storeDetail, storeList } from './stores';
import { type Answer, ConsoleSystem, Unreachable } from './system';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const DEFAULT_DIST_DIR = path.join(HERE, 'dist');
const MAX_BODY_BYTES = 256 * 1024;
const KEEP_ALIVE_MS = 15_000;

export interface ConsoleOptions {
  endpoints: ConsoleEndpoints;
  /** 0 for any free port; default `LOCAL_CONSOLE_PORT`, else 4000. */
  port?: number;
  host?: string;
  /** Where the bundled UI is (and is built to); default local/console/dist. */
  distDir?: string;
  /** Bundle the UI first (default true); false serves what `distDir` already holds. */
  build?: boolean;
  /** How often the live order feed polls the API. */
  feedIntervalMs?: number;
}

export interface RunningConsole {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** A refusal the console itself makes (bad input, unknown route): `{"error":{"code","message"}}`. */
class ConsoleError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Request {
  method: string;
  params: Record<string, string>;
  query: URLSearchParams;
  body: () => Promise<unknown>;
  raw: IncomingMessage;
  response: ServerResponse;
  /** How often a live feed polls the API. */
  feedIntervalMs: number;
}

type Handler = (system: ConsoleSystem, request: Request) => Promise<Answer | undefined>;

interface Route {
  method: string;
  pattern: RegExp;
  /** The `{name}` segments of the template, in order. */
  names: string[];
  handle: Handler;
}

/** `/api/orders/{orderId}` → a route matching one path segment per `{name}`. */
function route(method: string, template: string, handle: Handler): Route {
  const names: string[] = [];
  const source = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  return { method, pattern: new RegExp(`^${source}$`), names, handle };
}

const enc = encodeURIComponent;

/** A simulator's `_control` call, or 404 when the stage runs no such simulator (production). */
async function simulator(
  system: ConsoleSystem,
  which: 'partner' | 'pos',
  method: string,
  controlPath: string,
  body?: unknown,
): Promise<Answer> {
  const answer = system.simulator(which, method, controlPath, body);
  if (!answer)
    throw new ConsoleError(404, 'NO_SIMULATOR', `stage ${system.endpoints.stage} runs no ${which} simulator`);
  return answer;
}

/** `?limit=` passed on as given: the API behind it checks it. */
function limitQuery(request: Request): string {
  const limit = request.query.get('limit');
  return limit ? `?limit=${enc(limit)}` : '';
}

function partnerOf(request: Request): string {
  const partner = request.params.partner ?? '';
  if (!(PARTNERS as readonly string[]).includes(partner))
    throw new ConsoleError(400, 'UNKNOWN_PARTNER', `partner must be one of ${PARTNERS.join(', ')}`);
  return partner;
}

const ROUTES: Route[] = [
  route('GET', '/api/config', async (system) => ({
    status: 200,
    body: {
      stage: system.endpoints.stage,
      httpApiUrl: system.endpoints.httpApiUrl,
      ...(system.endpoints.partnerSimulatorUrl && {
        partnerSimulatorUrl: system.endpoints.partnerSimulatorUrl,
      }),
      ...(system.endpoints.posSimulatorUrl && { posSimulatorUrl: system.endpoints.posSimulatorUrl }),
      partners: [...PARTNERS],
      statuses: [...ORDER_STATUSES],
    },
  })),
  route('GET', '/api/orders', (system, request) => orderPage(system, request.query)),
  route('GET', '/api/orders/stream', (system, request) => streamOrders(system, request)),
  route('GET', '/api/orders/{orderId}', (system, request) => orderDetail(system, request.params.orderId!)),
  route('POST', '/api/orders/{orderId}/cancel', async (system, request) =>
    system.api('POST', `/orders/${enc(request.params.orderId!)}/cancel`, await request.body()),
  ),
  route('POST', '/api/orders/{orderId}/release', (system, request) =>
    system.api('POST', `/orders/${enc(request.params.orderId!)}/release`),
  ),
  route('GET', '/api/stores', (system) => storeList(system)),
  route('GET', '/api/stores/{storeId}', (system, request) => storeDetail(system, request.params.storeId!)),
  ...['status', 'busy', 'throttle'].flatMap((what) =>
    (what === 'status' ? ['PUT'] : ['PUT', 'DELETE']).map((method) =>
      route(method, `/api/stores/{storeId}/${what}`, async (system, request) =>
        system.api(
          method,
          `/stores/${enc(request.params.storeId!)}/${what}`,
          method === 'PUT' ? await request.body() : undefined,
        ),
      ),
    ),
  ),
  route('PUT', '/api/stores/{storeId}/items/{sku}', async (system, request) =>
    system.api(
      'PUT',
      `/stores/${enc(request.params.storeId!)}/items/${enc(request.params.sku!)}`,
      await request.body(),
    ),
  ),
  route('POST', '/api/simulators/orders', async (system, request) =>
    simulator(system, 'partner', 'POST', '/_control/orders', await request.body()),
  ),
  ...['release', 'cancel'].map((what) =>
    route('POST', `/api/simulators/orders/{partner}/{partnerOrderId}/${what}`, (system, request) =>
      simulator(
        system,
        'partner',
        'POST',
        `/_control/orders/${partnerOf(request)}/${enc(request.params.partnerOrderId!)}/${what}`,
        {},
      ),
    ),
  ),
  ...(['partner', 'pos'] as const).flatMap((which) =>
    ['GET', 'PUT', 'DELETE'].map((method) =>
      route(method, `/api/simulators/${which}/faults`, async (system, request) =>
        simulator(
          system,
          which,
          method,
          '/_control/faults',
          method === 'PUT' ? await request.body() : undefined,
        ),
      ),
    ),
  ),
  // The same order delivered again, as partners retry: `{"times","concurrent"}`.
  route('POST', '/api/simulators/orders/{partner}/{partnerOrderId}/redeliver', async (system, request) =>
    simulator(
      system,
      'partner',
      'POST',
      `/_control/orders/${partnerOf(request)}/${enc(request.params.partnerOrderId!)}/redeliver`,
      await request.body(),
    ),
  ),
  // What the partner saw of its order: its state, deny reason and the updates it was sent.
  route('GET', '/api/simulators/orders/{partner}/{partnerOrderId}', (system, request) =>
    simulator(
      system,
      'partner',
      'GET',
      `/_control/orders/${partnerOf(request)}/${enc(request.params.partnerOrderId!)}`,
    ),
  ),
  // The partners forget what they were told about a store (online, every item available): a clean slate.
  route('DELETE', '/api/simulators/stores/{storeId}', (system, request) =>
    simulator(system, 'partner', 'DELETE', `/_control/stores/${enc(request.params.storeId!)}`),
  ),
  // The page asks for the newest orders only: a long session's POS keeps thousands.
  route('GET', '/api/simulators/pos/orders', (system, request) =>
    simulator(system, 'pos', 'GET', `/_control/orders${limitQuery(request)}`),
  ),
  route('GET', '/api/dead-letters', (system) => system.api('GET', '/operations/dead-letters')),
  route('GET', '/api/dead-letters/{name}/messages', (system, request) =>
    system.api('GET', `/operations/dead-letters/${enc(request.params.name!)}/messages${limitQuery(request)}`),
  ),
  route('POST', '/api/dead-letters/{name}/redrive', (system, request) =>
    system.api('POST', `/operations/dead-letters/${enc(request.params.name!)}/redrive`),
  ),
];

/** `GET /api/orders/stream`: checks the filters once with the API (a 400 answers as JSON), then streams. */
async function streamOrders(system: ConsoleSystem, request: Request): Promise<Answer | undefined> {
  const first = await system.api('GET', `/orders${listQuery(request.query, { limit: '1' })}`);
  if (first.status !== 200) return first;
  const { response, raw } = request;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  response.write(': order feed\n\n');
  const stop = watchOrders(
    system,
    request.query,
    (update) => response.write(`event: orders\ndata: ${JSON.stringify(update)}\n\n`),
    request.feedIntervalMs,
  );
  const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
  raw.socket.once('close', () => {
    stop();
    clearInterval(keepAlive);
  });
  return undefined; // the answer is the stream
}

// ── the shell and its assets ─────────────────────────────────────────────────

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
};

/** Used only while the UI's bundle is missing: says so, rather than answer a blank page. */
const FALLBACK_SHELL = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>order-middleware console</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/console.css"></head>
<body><main id="app"><p>The console UI is not built (no local/console/dist/index.html).</p></main>
<script type="module" src="/assets/console.js"></script></body></html>
`;

async function serveAsset(distDir: string, urlPath: string, response: ServerResponse): Promise<void> {
  const relative = decodeURIComponent(urlPath.slice('/assets/'.length));
  const file = path.resolve(distDir, 'assets', relative);
  if (!file.startsWith(path.resolve(distDir, 'assets') + path.sep))
    return sendError(response, 404, 'NOT_FOUND', 'no such asset');
  try {
    const content = await readFile(file);
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
    });
    response.end(content);
  } catch {
    sendError(response, 404, 'NOT_FOUND', `no asset ${relative}`);
  }
}

async function serveShell(distDir: string, response: ServerResponse): Promise<void> {
  const shell = await readFile(path.join(distDir, 'index.html'), 'utf8').catch(() => FALLBACK_SHELL);
  response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
  response.end(shell);
}

// ── the server ───────────────────────────────────────────────────────────────

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  response.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
  });
  response.end(text);
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  sendJson(response, status, { error: { code, message } });
}

function readBody(raw: IncomingMessage): () => Promise<unknown> {
  return async () => {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of raw) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY_BYTES) throw new ConsoleError(400, 'BODY_TOO_LARGE', 'the body is over 256 KB');
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (text.trim() === '') return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new ConsoleError(400, 'INVALID_JSON', 'the body is not JSON');
    }
  };
}

function findRoute(method: string, urlPath: string) {
  let pathKnown = false;
  for (const candidate of ROUTES) {
    const match = candidate.pattern.exec(urlPath);
    if (!match) continue;
    pathKnown = true;
    if (candidate.method !== method) continue;
    let params: Record<string, string>;
    try {
      params = Object.fromEntries(
        candidate.names.map((name, i) => [name, decodeURIComponent(match[i + 1]!)]),
      );
    } catch {
      throw new ConsoleError(400, 'INVALID_PATH', 'the path is not valid percent-encoding');
    }
    return { route: candidate, params };
  }
  throw new ConsoleError(404, 'NOT_FOUND', pathKnown ? `no ${method} on ${urlPath}` : `no route ${urlPath}`);
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The console acts with the operator's credentials (on a stage: real ones), so only its own pages
 * may drive it: on a loopback address the Host must name loopback (no DNS rebinding), and a change
 * must come from the console's own origin (no cross-site form posting to it).
 */
function checkCaller(raw: IncomingMessage, method: string, loopback: boolean): void {
  const host = raw.headers.host ?? '';
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!;
  if (loopback && !LOOPBACK_NAMES.has(hostname))
    throw new ConsoleError(403, 'FORBIDDEN_HOST', `the console answers on localhost, not ${hostname}`);
  const origin = raw.headers.origin;
  if (method !== 'GET' && method !== 'HEAD' && origin !== undefined && origin !== `http://${host}`)
    throw new ConsoleError(
      403,
      'FORBIDDEN_ORIGIN',
      `changes come only from the console's own pages, not ${origin}`,
    );
}

/** What every request of one running console shares. */
interface ConsoleContext {
  system: ConsoleSystem;
  distDir: string;
  /** Bound to a loopback address: the Host must say so too. */
  loopback: boolean;
  feedIntervalMs: number;
}

async function handle(
  { system, distDir, loopback, feedIntervalMs }: ConsoleContext,
  raw: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const url = new URL(raw.url ?? '/', 'http://console');
  const method = raw.method ?? 'GET';
  try {
    checkCaller(raw, method, loopback);
    if (url.pathname.startsWith('/api/')) {
      const { route: matched, params } = findRoute(method, url.pathname);
      const answer = await matched.handle(system, {
        method,
        params,
        query: url.searchParams,
        body: readBody(raw),
        raw,
        response,
        feedIntervalMs,
      });
      if (answer) sendJson(response, answer.status, answer.body);
      return;
    }
    if (method !== 'GET' && method !== 'HEAD')
      throw new ConsoleError(404, 'NOT_FOUND', `no ${method} ${url.pathname}`);
    if (url.pathname.startsWith('/assets/')) return await serveAsset(distDir, url.pathname, response);
    return await serveShell(distDir, response);
  } catch (error) {
    if (response.headersSent) return void response.end();
    if (error instanceof ConsoleError) return sendError(response, error.status, error.code, error.message);
    if (error instanceof Unreachable) return sendError(response, 502, 'UNREACHABLE', error.message);
    // An AWS SDK error (a missing execution, a refused call): the system answered, but not usefully.
    const named = error as Error & { $metadata?: unknown };
    const code = named.$metadata ? named.name : 'CONSOLE_ERROR';
    return sendError(response, 502, code, named.message);
  }
}

/** Starts the console: bundles the UI (when its build is there), then serves it and the API. */
export async function startConsole(options: ConsoleOptions): Promise<RunningConsole> {
  const distDir = options.distDir ?? DEFAULT_DIST_DIR;
  if (options.build !== false) await buildConsoleUi(distDir);
  const port = options.port ?? Number(process.env.LOCAL_CONSOLE_PORT ?? 4000);
  const host = options.host ?? '127.0.0.1';
  const loopback = LOOPBACK_NAMES.has(host) || host === '::1';
  const system = new ConsoleSystem(options.endpoints);
  const sockets = new Set<Socket>();
  const context = { system, distDir, loopback, feedIntervalMs: options.feedIntervalMs ?? 1_000 };
  const server = createServer((raw, response) => void handle(context, raw, response));
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    close: async () => {
      // Live feeds never end by themselves: their sockets are closed with the server.
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      // A feed's poll may still be under way: it ends before the system it calls is taken away.
      await system.close();
    },
  };
}
