/** Resource names arrive as env vars from !Ref/!GetAtt; read once and fail fast with the name. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`Missing required environment variable ${name}`);
  return value;
}

export const config = {
  get ordersTable() {
    return requiredEnv('ORDERS_TABLE');
  },
  get storesTable() {
    return requiredEnv('STORES_TABLE');
  },
  get idempotencyTable() {
    return requiredEnv('IDEMPOTENCY_TABLE');
  },
  get eventBusName() {
    return requiredEnv('EVENT_BUS_NAME');
  },
  get ssmPrefix() {
    return requiredEnv('SSM_PREFIX');
  },
  get maxCourierWaitSeconds() {
    return Number(process.env.MAX_COURIER_WAIT_SECONDS ?? '3600');
  },
  /** Owed voids and partner notices are retried from this interval, doubling up to the maximum. */
  get owedRetryBaseSeconds() {
    return Number(process.env.OWED_RETRY_BASE_SECONDS ?? '60');
  },
  get owedRetryMaxSeconds() {
    return Number(process.env.OWED_RETRY_MAX_SECONDS ?? '3600');
  },
  /** How long a POS create we gave up on may still land; until then "none found" is not final. */
  get posLateWriteHorizonSeconds() {
    return Number(process.env.POS_LATE_WRITE_HORIZON_SECONDS ?? '900');
  },
  /** POS failures in a row (probes, or orders that ended FAILED POS_UNAVAILABLE) before a store is paused. */
  get posFailuresBeforePause() {
    return Number(process.env.POS_FAILURES_BEFORE_PAUSE ?? '5');
  },
  get reconcileBatchSize() {
    return Number(process.env.RECONCILE_BATCH_SIZE ?? '100');
  },
};
