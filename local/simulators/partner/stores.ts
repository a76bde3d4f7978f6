/**
 * Where the partner simulator learns a store's menu and its own id for the store: the demo data
 * (or stores given at start), and the middleware's live `GET /stores/{storeId}` for what is
 * available right now (an 86'd item must not be picked). That route is IAM-authorized, so the
 * simulator signs it with SigV4 as any IAM client must (the local credentials, service execute-api).
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { DEMO_STORES } from '../../../functions/lib/domain/demo-stores';
import type { PartnerId } from '../../../functions/lib/schemas/partners/index';
import { type MenuItem, type Store, StoreViewSchema } from '../../../functions/lib/schemas/store';

export interface StoreCatalog {
  /** The partner's id for our store; our own id when the store is unknown (so the middleware refuses it). */
  partnerStoreId(storeId: string, partner: PartnerId): string;
  storeName(storeId: string): string | undefined;
  /** The menu to order from: live from the middleware when it answers, else the known one. */
  menu(storeId: string): Promise<readonly MenuItem[]>;
}

export interface CatalogOptions {
  stores?: readonly Store[];
  middlewareUrl: string;
  /** `static` never asks the middleware (load runs that must not add GETs). Default `live`. */
  menuSource?: 'live' | 'static';
}

const LIVE_MENU_TIMEOUT_MS = 2000;

/** SHA-256 (or its HMAC with a secret) on node's crypto, in the shape the SigV4 signer takes. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData) =>
  typeof data === 'string'
    ? Buffer.from(data, 'utf8')
    : ArrayBuffer.isView(data)
      ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
      : Buffer.from(data);

class Sha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh();
  }
  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
  reset(): void {
    this.hash = this.fresh();
  }
}

/** The local cloud's credentials (ARCHITECTURE section 7, "IAM locally"). */
export const LOCAL_SIGNER = new SignatureV4({
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  region: 'us-east-1',
  service: 'execute-api',
  sha256: Sha256,
});

/** The headers of a signed GET: `authorization`, `x-amz-date`, `x-amz-content-sha256`, `host`. */
export async function signedGetHeaders(url: string, signer = LOCAL_SIGNER): Promise<Record<string, string>> {
  const target = new URL(url);
  const signed = await signer.sign({
    method: 'GET',
    protocol: target.protocol,
    hostname: target.hostname,
    ...(target.port ? { port: Number(target.port) } : {}),
    path: target.pathname,
    query: Object.fromEntries(target.searchParams),
    headers: { host: target.host },
  });
  return signed.headers;
}

async function liveMenu(middlewareUrl: string, storeId: string): Promise<readonly MenuItem[] | undefined> {
  try {
    const url = `${middlewareUrl}/stores/${encodeURIComponent(storeId)}`;
    const { host: _host, ...headers } = await signedGetHeaders(url);
    const response = await fetch(url, {
      headers,
      signal: AbortSignal.timeout(LIVE_MENU_TIMEOUT_MS),
    });
    if (!response.ok) return undefined;
    // Only the menu matters here: what is on sale right now.
    const view = StoreViewSchema.pick({ menu: true }).safeParse(await response.json());
    return view.success ? view.data.menu : undefined;
  } catch {
    return undefined; // the middleware is not up (unit tests, start-up): the known menu will do
  }
}

export function storeCatalog(options: CatalogOptions): StoreCatalog {
  const stores = options.stores ?? DEMO_STORES;
  const find = (storeId: string) => stores.find((store) => store.storeId === storeId);
  return {
    partnerStoreId: (storeId, partner) => find(storeId)?.partnerStoreIds[partner] ?? storeId,
    storeName: (storeId) => find(storeId)?.name,
    async menu(storeId) {
      const live =
        options.menuSource === 'static' ? undefined : await liveMenu(options.middlewareUrl, storeId);
      // A store the brand does not know still gets an order from the partner; the middleware refuses it.
      return live ?? find(storeId)?.menu ?? stores[0]?.menu ?? [];
    },
  };
}
