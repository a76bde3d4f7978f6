import { z } from 'zod';
import { config } from './lib/config';
import { payDueOwedWork } from './lib/services/compensation';
import { restartUnstartedOrders } from './lib/services/intake';
import { stepHandler } from './lib/step';

/**
 * Every minute (an EventBridge schedule), and by hand (`npm run reconcile`, or an invoke with
 * `{"everything":true}`): pays what ended orders still owe — POS voids, partner notices, outcome
 * events their ending could not put on the bus — with backoff per order, and reports how many
 * still owe work after failures (the alarm's metric). It also starts again the workflow of an
 * order taken but never claimed by one (`restarted`).
 */
const ReconcileEventSchema = z.looseObject({ everything: z.boolean().optional() });

export const handler = stepHandler(ReconcileEventSchema, async ({ everything }) => ({
  ...(await payDueOwedWork({ everything: everything === true })),
  restarted: await restartUnstartedOrders(config.reconcileBatchSize),
}));
