import { listOrders } from './lib/adapters/order-list';
import { InvalidPayload } from './lib/domain/errors';
import { decodeCursor, encodeCursor, listPlan } from './lib/domain/order-list';
import { httpHandler, json, requestPart } from './lib/http';
import { LIST_LIMIT_DEFAULT, ListOrdersQuerySchema, type OrderListAnswer } from './lib/schemas/operations';

/**
 * GET /orders?status=&storeId=&partner=&since=&limit=&cursor= — the operator's order list, newest
 * first, from DynamoDB Query on the list indexes (never a Scan). 400 for a bad filter or a cursor
 * that does not continue this list.
 */
export const handler = httpHandler(async (event) => {
  const {
    limit = LIST_LIMIT_DEFAULT,
    cursor,
    ...filter
  } = requestPart(ListOrdersQuerySchema, event.queryStringParameters ?? {});
  const plan = listPlan(filter);
  const start = cursor === undefined ? undefined : decodeCursor(cursor, plan);
  if (cursor !== undefined && !start) throw new InvalidPayload('cursor: not a cursor of this list');
  const { orders, next } = await listOrders(plan, filter, limit, start);
  const answer: OrderListAnswer = { orders, ...(next ? { cursor: encodeCursor(next) } : {}) };
  return json(200, answer);
});
