import { Logger } from '@aws-lambda-powertools/logger';
import { search } from '@aws-lambda-powertools/logger/correlationId';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** The one Logger and Metrics every function imports; the order id is the correlation id. */
export const logger = new Logger({ correlationIdSearchFn: search });

export const metrics = new Metrics({ defaultDimensions: { service: 'order-middleware' } });
