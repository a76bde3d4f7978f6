import { z } from 'zod';
import { getStore, setItemAvailability, setStoreStatus } from './lib/adapters/store-repo';
import { NotFound } from './lib/domain/errors';
import { httpHandler, json, jsonBody, requestPart } from './lib/http';
import { SkuSchema, StoreIdSchema } from './lib/schemas/order';
import {
  SetItemAvailabilityRequestSchema,
  SetStoreStatusRequestSchema,
  type Store,
} from './lib/schemas/store';

const StorePathSchema = z.object({ storeId: StoreIdSchema });
const ItemPathSchema = StorePathSchema.extend({ sku: SkuSchema });

function storeView(store: Store | undefined, storeId: string) {
  if (!store) throw new NotFound(`no store ${storeId}`);
  const { storeId: id, name, status, menu } = store;
  return json(200, { storeId: id, name, status, menu });
}

/**
 * GET /stores/{storeId}, PUT /stores/{storeId}/status, PUT /stores/{storeId}/items/{sku} — operator
 * routes (IAM on AWS). Ids are checked before any read: one that cannot be a store is unknown to the
 * GET (404, its only refusal) and a bad request to the PUTs (400). The PUTs read their body as JSON
 * whatever its Content-Type says (curl sends `application/x-www-form-urlencoded` by default).
 */
export const handler = httpHandler(async (event) => {
  switch (event.routeKey) {
    case 'PUT /stores/{storeId}/status': {
      const { storeId } = requestPart(StorePathSchema, event.pathParameters);
      const { status } = requestPart(jsonBody(SetStoreStatusRequestSchema), event);
      return storeView(await setStoreStatus(storeId, status), storeId);
    }
    case 'PUT /stores/{storeId}/items/{sku}': {
      const { storeId, sku } = requestPart(ItemPathSchema, event.pathParameters);
      const { available } = requestPart(jsonBody(SetItemAvailabilityRequestSchema), event);
      const { store, itemFound } = await setItemAvailability(storeId, sku, available);
      if (store && !itemFound) throw new NotFound(`store ${storeId} has no item ${sku}`);
      return storeView(store, storeId);
    }
    default: {
      const { storeId } = requestPart(
        StorePathSchema,
        event.pathParameters,
        () => new NotFound('no such store'),
      );
      return storeView(await getStore(storeId), storeId);
    }
  }
});
