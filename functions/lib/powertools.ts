import type { GenericLogger } from '@aws-lambda-powertools/commons/types';
import { Logger } from '@aws-lambda-powertools/logger';
import { search } from '@aws-lambda-powertools/logger/correlationId';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** The one Logger and Metrics every function imports; the order id is the correlation id. */
export const logger = new Logger({ correlationIdSearchFn: search });

/**
 * Metrics' own notices go through our logger (Powertools' `logger` option), all but the one it
 * prints whenever an invocation recorded nothing: most reads and refusals record no metric, and
 * that is normal here, not news. Invalid dimensions or metrics still warn.
 */
const metricsNotices: GenericLogger = {
  debug: (...content) => logger.debug(String(content[0]), ...content.slice(1)),
  info: (...content) => logger.info(String(content[0]), ...content.slice(1)),
  warn: (...content) => {
    if (!String(content[0]).startsWith('No application metrics to publish'))
      logger.warn(String(content[0]), ...content.slice(1));
  },
  error: (...content) => logger.error(String(content[0]), ...content.slice(1)),
};

/** Every stage of the account writes the same namespace: the stage dimension keeps their alarms apart. */
export const metrics = new Metrics({
  defaultDimensions: { service: 'order-middleware', stage: process.env.STAGE ?? 'unknown' },
  logger: metricsNotices,
});
