import { z } from 'zod';
import { deadLetterQueues, peekDeadLetters, queueDepth, redriveEvents } from './lib/adapters/dead-letters';
import { NotFound } from './lib/domain/errors';
import { type HttpEvent, httpHandler, json, requestPart } from './lib/http';
import { logger } from './lib/powertools';
import {
  type DeadLettersAnswer,
  limitParamSchema,
  QueueNameSchema,
  type RedriveAnswer,
} from './lib/schemas/operations';

const QueuePathSchema = z.object({ name: QueueNameSchema });

const PeekQuerySchema = z
  .object({
    limit: limitParamSchema(10).optional(),
  })
  .strict();

/** The stack's DLQ the path names; 404 for any other name. */
function ourQueue(event: HttpEvent) {
  const { name } = requestPart(QueuePathSchema, event.pathParameters, () => new NotFound('no such queue'));
  const queue = deadLetterQueues().find((candidate) => candidate.name === name);
  if (!queue) throw new NotFound(`${name} is not a dead-letter queue of this stack`);
  return queue;
}

/** What a redrive may spend, well inside the HTTP API's 30 s. */
const REDRIVE_BUDGET_MS = 20_000;

/** Operator routes on the stack's dead-letter queues (IAM on AWS). */
const routes: Record<string, (event: HttpEvent) => Promise<ReturnType<typeof json>>> = {
  /** Every DLQ of the stack with its depth. */
  'GET /operations/dead-letters': async () => {
    const queues = await Promise.all(
      deadLetterQueues().map(async (queue) => ({ name: queue.name, messages: await queueDepth(queue) })),
    );
    const answer: DeadLettersAnswer = { queues };
    return json(200, answer);
  },
  /** A look at up to `limit` (10) messages, left in the queue. */
  'GET /operations/dead-letters/{name}/messages': async (event) => {
    const queue = ourQueue(event);
    const { limit = 10 } = requestPart(PeekQuerySchema, event.queryStringParameters ?? {});
    return json(200, { name: queue.name, messages: await peekDeadLetters(queue, limit) });
  },
  /** Each dead-lettered event back where it was going; 404 for a queue that is not one of ours. */
  'POST /operations/dead-letters/{name}/redrive': async (event) => {
    const queue = ourQueue(event);
    const { name } = queue;
    const { redriven, left } = await redriveEvents(queue, REDRIVE_BUDGET_MS);
    logger.info('dead letters redriven', { queue: name, redriven, left });
    const answer: RedriveAnswer = { name, redriven, ...(left > 0 ? { left } : {}) };
    return json(202, answer);
  },
};

export const handler = httpHandler(async (event) => {
  const route = routes[event.routeKey];
  if (!route) throw new NotFound(`no route ${event.routeKey}`);
  return route(event);
});
