import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { z } from 'zod';
import { logger, metrics } from './lib/powertools';
import { EVENT_SOURCE, STORE_DETAIL_TYPES } from './lib/schemas/events';
import { StoreIdSchema } from './lib/schemas/order';
import { syncStoreToPartners } from './lib/services/partner-sync';

/**
 * The store events as the bus rule delivers them. Only the store id is trusted: the sync reads the
 * store as it is now, so a late or repeated event pushes the current state, never the event's.
 */
const StoreEventSchema = z.looseObject({
  source: z.literal(EVENT_SOURCE),
  'detail-type': z.enum(STORE_DETAIL_TYPES),
  detail: z.looseObject({ storeId: StoreIdSchema, version: z.number().int().nonnegative() }),
});

/**
 * syncStoreToPartners — on StoreStatusChanged and ItemAvailabilityChanged: every partner the store
 * sells through is told its current status, busy mode and items. A partner that does not take it
 * fails the invocation: retried with backoff, then the store-sync DLQ (and the sweep every minute).
 */
export const handler = middy(async (event: unknown) => {
  const { detail, 'detail-type': detailType } = StoreEventSchema.parse(event);
  logger.appendKeys({ storeId: detail.storeId });
  const result = await syncStoreToPartners(detail.storeId);
  logger.info('store pushed to partners', { detailType, eventVersion: detail.version, ...result });
  return result;
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
