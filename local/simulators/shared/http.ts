/**
 * The local simulators' HTTP server: the shared route table (simulators/shared/routes.ts) behind a
 * Node server that listens on any port (0 too). A DROPPED answer destroys the socket.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorBody, HttpError, type Route, router } from '../../../simulators/shared/routes';

export {
  type Answer,
  DROPPED,
  delay,
  errorBody,
  HttpError,
  header,
  json,
  parseJson,
  parseWith,
  type Request,
  type Route,
} from '../../../simulators/shared/routes';

const MAX_BODY_BYTES = 1024 * 1024;

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) reject(new HttpError(413, 'PAYLOAD_TOO_LARGE', 'request body too large'));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export interface JsonServer {
  server: Server;
  port: number;
  close(): Promise<void>;
}

/** Starts a JSON server for the routes; unknown paths answer 404, thrown HttpErrors their status. */
export async function startJsonServer(
  routes: readonly Route[],
  port: number,
  host: string,
): Promise<JsonServer> {
  const answer = router(routes);
  const serve = async (req: IncomingMessage, res: ServerResponse) => {
    const { pathname: path, searchParams: query } = new URL(req.url ?? '/', 'http://simulator');
    const method = (req.method ?? 'GET').toUpperCase();
    const rawBody = await readBody(req);
    const result = await answer({ method, path, query, headers: req.headers, rawBody });
    if (res.headersSent || res.destroyed) return;
    if ('dropped' in result) res.destroy();
    else if (result.body === undefined) res.writeHead(result.status).end();
    else sendJson(res, result.status, result.body);
  };
  const server = createServer((req, res) => {
    serve(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) return void res.destroy();
      if (error instanceof HttpError)
        return sendJson(res, error.status, errorBody(error.code, error.message));
      sendJson(res, 500, errorBody('INTERNAL_ERROR', (error as Error).message));
    });
  });
  server.keepAliveTimeout = 65_000; // the middleware's fetch keeps sockets open between calls
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
