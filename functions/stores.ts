import { z } from 'zod';
import { getStore } from './lib/adapters/store-repo';
import { NotFound } from './lib/domain/errors';
import { httpHandler, json, jsonBody, requestPart } from './lib/http';
import { SkuSchema, StoreIdSchema } from './lib/schemas/order';
import {
  SetBusyRequestSchema,
  SetItemAvailabilityRequestSchema,
  SetStoreStatusRequestSchema,
  SetThrottleRequestSchema,
} from './lib/schemas/store';
import {
  clearBusy,
  clearThrottle,
  setBusy,
  setItemAvailability,
  setStoreStatus,
  setThrottle,
  storeView,
} from './lib/services/stores';

const StorePathSchema = z.object({ storeId: StoreIdSchema });
const ItemPathSchema = StorePathSchema.extend({ sku: SkuSchema });

const answer = ({ store }: { store: Parameters<typeof storeView>[0] }) => json(200, storeView(store));

/**
 * GET /stores/{storeId} and the operator's store changes (IAM on AWS): PUT …/status, PUT
 * …/items/{sku}, PUT|DELETE …/busy, PUT|DELETE …/throttle — each answers the store view. Ids are
 * checked before any read: one that cannot be a store is unknown to the GET (404, its only refusal)
 * and a bad request to the others (400). Bodies are read as JSON whatever their Content-Type says
 * (curl sends `application/x-www-form-urlencoded` by default).
 */
export const handler = httpHandler(async (event) => {
  const storeId = () => requestPart(StorePathSchema, event.pathParameters).storeId;
  switch (event.routeKey) {
    case 'PUT /stores/{storeId}/status':
      return answer(
        await setStoreStatus(storeId(), requestPart(jsonBody(SetStoreStatusRequestSchema), event)),
      );
    case 'PUT /stores/{storeId}/items/{sku}': {
      const { storeId: id, sku } = requestPart(ItemPathSchema, event.pathParameters);
      const request = requestPart(jsonBody(SetItemAvailabilityRequestSchema), event);
      return answer(await setItemAvailability(id, sku, request));
    }
    case 'PUT /stores/{storeId}/busy':
      return answer(await setBusy(storeId(), requestPart(jsonBody(SetBusyRequestSchema), event)));
    case 'DELETE /stores/{storeId}/busy':
      return answer(await clearBusy(storeId()));
    case 'PUT /stores/{storeId}/throttle':
      return answer(await setThrottle(storeId(), requestPart(jsonBody(SetThrottleRequestSchema), event)));
    case 'DELETE /stores/{storeId}/throttle':
      return answer(await clearThrottle(storeId()));
    default: {
      const { storeId: id } = requestPart(
        StorePathSchema,
        event.pathParameters,
        () => new NotFound('no such store'),
      );
      const store = await getStore(id);
      if (!store) throw new NotFound(`no store ${id}`);
      return json(200, storeView(store));
    }
  }
});
