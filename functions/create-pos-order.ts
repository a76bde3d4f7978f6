import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { config } from './lib/config';
import type { CanonicalOrder } from './lib/schemas/order';
import { HoldStepSchema } from './lib/schemas/steps';
import { holdInPos } from './lib/services/kitchen';
import { stepHandler } from './lib/step';

/**
 * Two guards against a second POS order: Powertools idempotency keyed on the order id (a re-run
 * answers the stored result without calling the POS) and the order id as the POS's own
 * idempotency key (a create whose answer was lost is found again, not made twice).
 */
const persistenceStore = new DynamoDBPersistenceLayer({ tableName: config.idempotencyTable });
const idempotency = new IdempotencyConfig({ eventKeyJmesPath: 'orderId', expiresAfterSeconds: 48 * 3600 });

const holdOnce = makeIdempotent(
  async (input: {
    orderId: string;
    order: CanonicalOrder;
    throttleWindow?: string | null;
    posFailures?: number;
  }) => holdInPos(input.orderId, input.order, input.throttleWindow ?? null, input.posFailures ?? 0),
  { persistenceStore, config: idempotency },
);

export const handler = stepHandler(HoldStepSchema, async (input, context) => {
  idempotency.registerLambdaContext(context);
  return holdOnce(input);
});
