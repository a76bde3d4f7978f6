/**
 * The partner simulator's routes: it plays Uber Eats, DoorDash and Grubhub at once, sends their
 * signed webhooks to the middleware when told to through `_control`, and serves the partner APIs the
 * middleware calls back (fetch, accept, deny, status, the store API). The same routes run as a local
 * process (local/simulators/partner) and as a Lambda function on non-production stages (../lambda).
 */
import { PARTNERS, type PartnerId } from '../../functions/lib/schemas/partners/index';
import type { Store } from '../../functions/lib/schemas/store';
import type { Route } from '../shared/routes';
import { controlRoutes } from './control';
import { doorDashShape } from './doordash';
import { grubhubShape } from './grubhub';
import { partnerApiRoutes } from './partner-api';
import type { PartnerSimulatorState } from './state';
import { storeApiRoutes } from './store-api';
import { type SignedFetch, storeCatalog } from './stores';
import type { PartnerShape } from './types';
import { uberEatsShape } from './ubereats';
import type { PartnerSecrets } from './webhooks';

/** Each partner's side of the wire; adding a partner adds its shape module and a line here. */
export const PARTNER_SHAPES: Record<PartnerId, PartnerShape> = {
  ubereats: uberEatsShape,
  doordash: doorDashShape,
  grubhub: grubhubShape,
};

export interface PartnerRoutesOptions {
  state: PartnerSimulatorState;
  /** Where webhooks go, without a trailing slash. */
  middlewareUrl: string;
  secrets: Record<PartnerId, PartnerSecrets>;
  /** Signs the middleware's IAM-authorized `GET /stores/{storeId}`. */
  signedFetch: SignedFetch;
  /** Stores with menus and partner store ids. Default: the demo stores. */
  stores?: readonly Store[];
  /** `live` (default) asks the middleware which items are available; `static` uses `stores` only. */
  menuSource?: 'live' | 'static';
  now: () => Date;
  random: () => number;
}

export function partnerRoutes(options: PartnerRoutesOptions): Route[] {
  const { state, secrets, middlewareUrl, now, random } = options;
  const catalog = storeCatalog({
    stores: options.stores,
    middlewareUrl,
    menuSource: options.menuSource,
    signedFetch: options.signedFetch,
  });
  return [
    ...controlRoutes({ state, shapes: PARTNER_SHAPES, secrets, catalog, middlewareUrl, now, random }),
    ...PARTNERS.flatMap((partner) =>
      partnerApiRoutes({ state, shape: PARTNER_SHAPES[partner], secrets: secrets[partner], now }),
    ),
    ...PARTNERS.flatMap((partner) => storeApiRoutes({ state, partner, secrets: secrets[partner], now })),
  ];
}
