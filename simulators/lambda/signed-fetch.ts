/**
 * `fetch` signed with SigV4 for execute-api with the function role's credentials (the Lambda
 * runtime hands them over in the environment): how the partner simulator reads the stack's
 * IAM-authorized `GET /stores/{storeId}`, as any IAM client of the middleware must.
 */
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from './sha256';

const signer = new SignatureV4({
  service: 'execute-api',
  region: process.env.AWS_REGION ?? 'us-east-1',
  sha256: Sha256,
  // Read at each signature: the runtime's temporary credentials are fixed for the sandbox's life.
  credentials: async () => ({
    accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? '',
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
    ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}),
  }),
});

export async function roleSignedFetch(url: string, init: { signal: AbortSignal }): Promise<Response> {
  const target = new URL(url);
  const signed = await signer.sign({
    method: 'GET',
    protocol: target.protocol,
    hostname: target.hostname,
    path: target.pathname,
    query: Object.fromEntries(target.searchParams),
    headers: { host: target.host },
  });
  const { host: _host, ...headers } = signed.headers;
  return fetch(url, { method: 'GET', headers, signal: init.signal });
}
