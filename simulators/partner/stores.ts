/**
 * Where the partner simulator learns a store's menu and its own id for the store: the demo data
 * (or stores given at start), and the middleware's live `GET /stores/{storeId}` for what is
 * available right now (an 86'd item must not be picked). That route is IAM-authorized, so the
 * simulator signs it with SigV4 as any IAM client must (service execute-api): `signedFetch` is the
 * local credentials' signer locally, the function role's on AWS.
 */

import { DEMO_STORES } from '../../functions/lib/domain/demo-stores';
import type { PartnerId } from '../../functions/lib/schemas/partners/index';
import { type MenuItem, type Store, StoreViewSchema } from '../../functions/lib/schemas/store';

export interface StoreCatalog {
  /** The partner's id for our store; our own id when the store is unknown (so the middleware refuses it). */
  partnerStoreId(storeId: string, partner: PartnerId): string;
  storeName(storeId: string): string | undefined;
  /** The menu to order from: live from the middleware when it answers, else the known one. */
  menu(storeId: string): Promise<readonly MenuItem[]>;
}

/** A fetch that signs the request with SigV4 for execute-api. */
export type SignedFetch = (url: string, init: { signal: AbortSignal }) => Promise<Response>;

export interface CatalogOptions {
  stores?: readonly Store[];
  middlewareUrl: string;
  signedFetch: SignedFetch;
  /** `static` never asks the middleware (load runs that must not add GETs). Default `live`. */
  menuSource?: 'live' | 'static';
}

const LIVE_MENU_TIMEOUT_MS = 2000;

async function liveMenu(
  signedFetch: SignedFetch,
  middlewareUrl: string,
  storeId: string,
): Promise<readonly MenuItem[] | undefined> {
  try {
    const url = `${middlewareUrl}/stores/${encodeURIComponent(storeId)}`;
    const response = await signedFetch(url, { signal: AbortSignal.timeout(LIVE_MENU_TIMEOUT_MS) });
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
        options.menuSource === 'static'
          ? undefined
          : await liveMenu(options.signedFetch, options.middlewareUrl, storeId);
      // A store the brand does not know still gets an order from the partner; the middleware refuses it.
      return live ?? find(storeId)?.menu ?? stores[0]?.menu ?? [];
    },
  };
}
