import type { z } from 'zod';
import { getStore, setItemAvailability, setStoreStatus } from './lib/adapters/store-repo';
import { InvalidPayload, NotFound } from './lib/domain/errors';
import { type HttpEvent, httpHandler, json } from './lib/http';
import {
  SetItemAvailabilityRequestSchema,
  SetStoreStatusRequestSchema,
  type Store,
} from './lib/schemas/store';

function parseBody<S extends z.ZodType>(schema: S, event: HttpEvent): z.infer<S> {
  let body: unknown;
  try {
    body = JSON.parse(event.body ?? '');
  } catch {
    throw new InvalidPayload('the body is not valid JSON');
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success)
    throw new InvalidPayload(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return parsed.data;
}

function storeView(store: Store | undefined, storeId: string) {
  if (!store) throw new NotFound(`no store ${storeId}`);
  const { storeId: id, name, status, menu } = store;
  return json(200, { storeId: id, name, status, menu });
}

/** GET /stores/{storeId}, PUT /stores/{storeId}/status, PUT /stores/{storeId}/items/{sku} */
export const handler = httpHandler(async (event) => {
  const storeId = event.pathParameters?.storeId ?? '';
  switch (event.routeKey) {
    case 'PUT /stores/{storeId}/status':
      return storeView(
        await setStoreStatus(storeId, parseBody(SetStoreStatusRequestSchema, event).status),
        storeId,
      );
    case 'PUT /stores/{storeId}/items/{sku}': {
      const { available } = parseBody(SetItemAvailabilityRequestSchema, event);
      const sku = event.pathParameters?.sku ?? '';
      const { store, itemFound } = await setItemAvailability(storeId, sku, available);
      if (store && !itemFound) throw new NotFound(`store ${storeId} has no item ${sku}`);
      return storeView(store, storeId);
    }
    default:
      return storeView(await getStore(storeId), storeId);
  }
});
