import { z } from 'zod';
import { payDueOwedWork } from './lib/services/compensation';
import { stepHandler } from './lib/step';

/**
 * Every minute (an EventBridge schedule), and by hand (`npm run reconcile`, or an invoke with
 * `{"everything":true}`): pays what ended orders still owe — POS voids, partner notices, outcome
 * events their ending could not put on the bus — with backoff per order, and reports how many
 * still owe work after failures (the alarm's metric).
 */
const ReconcileEventSchema = z.looseObject({ everything: z.boolean().optional() });

export const handler = stepHandler(ReconcileEventSchema, ({ everything }) =>
  payDueOwedWork({ everything: everything === true }),
);
