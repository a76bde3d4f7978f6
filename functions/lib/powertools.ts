import { Logger } from '@aws-lambda-powertools/logger';
import { search } from '@aws-lambda-powertools/logger/correlationId';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** The one Logger and Metrics every function imports; the order id is the correlation id. */
export const logger = new Logger({ correlationIdSearchFn: search });

/** Every stage of the account writes the same namespace: the stage dimension keeps their alarms apart. */
export const metrics = new Metrics({
  defaultDimensions: { service: 'order-middleware', stage: process.env.STAGE ?? 'unknown' },
});
