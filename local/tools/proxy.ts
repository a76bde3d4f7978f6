/**
 * A small recording reverse proxy on 127.0.0.1: the tools put it in front of the HTTP API (to time
 * each webhook's acknowledgement as the partner sees it) and in front of dynalite (to count the
 * DynamoDB calls the functions make and read the capacity units they consume).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Exchange {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  requestBody: Buffer;
  status: number;
  responseBody: Buffer;
  /** From the request's arrival at the proxy to the last byte of the upstream answer. */
  ms: number;
}

export interface RecordingProxyOptions {
  /** Upstream base URL; may be set later with `setTarget` (the proxy must exist before the cloud). */
  target?: string;
  /** May change the request body before it goes upstream (the caller gets the answer unchanged). */
  rewrite?: (headers: http.IncomingHttpHeaders, body: Buffer) => Buffer;
  onExchange?: (exchange: Exchange) => void;
}

export interface RecordingProxy {
  url: string;
  setTarget(target: string): void;
  close(): Promise<void>;
}

export async function startRecordingProxy(options: RecordingProxyOptions): Promise<RecordingProxy> {
  let target = options.target ? new URL(options.target) : undefined;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const server = http.createServer((request, response) => {
    const startedAt = performance.now();
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (!target) {
        response.writeHead(502).end('no upstream yet');
        return;
      }
      const original = Buffer.concat(chunks);
      const body = options.rewrite ? options.rewrite(request.headers, original) : original;
      const upstream = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          agent,
          headers: { ...request.headers, host: target.host, 'content-length': String(body.length) },
        },
        (answer) => {
          const answerChunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => answerChunks.push(chunk));
          answer.on('end', () => {
            const responseBody = Buffer.concat(answerChunks);
            response.writeHead(answer.statusCode ?? 502, answer.headers);
            response.end(responseBody);
            options.onExchange?.({
              method: request.method ?? 'GET',
              path: request.url ?? '/',
              headers: request.headers,
              requestBody: body,
              status: answer.statusCode ?? 502,
              responseBody,
              ms: performance.now() - startedAt,
            });
          });
        },
      );
      upstream.on('error', (error) => {
        if (!response.headersSent) response.writeHead(502);
        response.end(String(error));
      });
      upstream.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    setTarget(next) {
      target = new URL(next);
    },
    close: () =>
      new Promise((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
