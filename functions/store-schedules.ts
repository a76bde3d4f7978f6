import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import { logger, metrics } from './lib/powertools';
import { resyncLaggingStores } from './lib/services/partner-sync';
import { probePosHealth } from './lib/services/pos-health';
import { expireStoreStates } from './lib/services/stores';

/**
 * storeSchedules — the store work EventBridge runs every minute (`rate(1 minute)`; tests invoke it
 * directly): `until` expiries, then the POS health probe, then the partner re-sync sweep. Each part
 * catches its own per-store failures, so one bad store or partner does not stop the others.
 */
export const handler = middy(async () => {
  const now = new Date();
  const expired = await expireStoreStates(now);
  const posHealth = await probePosHealth(now);
  await resyncLaggingStores(); // logs and counts what it re-pushed
  logger.info('store schedules ran', { expired, posHealth });
  return { expired, posHealth };
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
