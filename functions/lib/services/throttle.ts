/**
 * Throttle windows in StoresTable: `pk = THROTTLE#<storeId>#<windowStartIso>`, one item per window,
 * holding the ids of the orders that have a place in it (`orders`, a string set; its size is the count).
 * A place is claimed by ONE conditional UpdateItem and given back by another.
 *
 * The set rather than a bare counter makes both idempotent, which the workflow's at-least-once steps
 * need: a re-run of the validate step finds its order already in the window (the condition lets it
 * through, the set does not grow), and an order that ends in several places (the hold step losing to
 * a cancel, then the cancel's void step) gives its place back once however often it is asked. (A
 * bare `ADD count :one` would count a re-run twice.) The set stays small: at most ordersPerWindow ids.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { dynamo, isConditionFailure } from '../adapters/dynamo';
import { config } from '../config';
import { candidateWindows, type Throttle, type WindowChoice } from '../domain/throttle';
import { logger, metrics } from '../powertools';

const windowKey = (storeId: string, window: string) => ({ pk: `THROTTLE#${storeId}#${window}` });

/** A window item outlives its window by a day, for people reading the table; then TTL (`expiresAt`) removes it. */
const KEEP_SECONDS = 24 * 3600;

/** Takes a place in the window for the order; false when the window is full (and the order not in it). */
async function claimPlace(
  storeId: string,
  window: string,
  cap: number,
  orderId: string,
  windowMinutes: number,
) {
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.storesTable,
        Key: windowKey(storeId, window),
        UpdateExpression: 'ADD #orders :me SET expiresAt = :expires',
        ConditionExpression:
          'attribute_not_exists(#orders) OR size(#orders) < :cap OR contains(#orders, :id)',
        ExpressionAttributeNames: { '#orders': 'orders' },
        ExpressionAttributeValues: {
          ':me': new Set([orderId]),
          ':id': orderId,
          ':cap': cap,
          ':expires': Math.floor(Date.parse(window) / 1000) + windowMinutes * 60 + KEEP_SECONDS,
        },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * The first window with room for the order, from its pickup's (now for ASAP) to an hour ahead, with
 * the pickup the order gets there; undefined when every one is full (the order is STORE_BUSY).
 */
export async function claimThrottleWindow(
  storeId: string,
  orderId: string,
  throttle: Throttle,
  pickupAt: string | undefined,
  now = new Date(),
): Promise<WindowChoice | undefined> {
  for (const choice of candidateWindows(throttle, pickupAt, now)) {
    if (await claimPlace(storeId, choice.window, throttle.ordersPerWindow, orderId, throttle.windowMinutes)) {
      if (choice.moved) metrics.addMetric('OrderPickupMovedByThrottle', 'Count', 1);
      return choice;
    }
  }
  metrics.addMetric('OrderRefusedByThrottle', 'Count', 1);
  return undefined;
}

/**
 * Gives the order's place in its window back, best effort: an order that will not reach the kitchen
 * (REJECTED, CANCELLED, FAILED) should not keep another from being taken. A failure here only leaves
 * the window one place short until it passes; it never fails or delays the ending.
 */
export async function giveBackThrottlePlace(
  storeId: string,
  window: string | undefined | null,
  orderId: string,
): Promise<void> {
  if (!window) return;
  try {
    await dynamo.send(
      new UpdateCommand({
        TableName: config.storesTable,
        Key: windowKey(storeId, window),
        UpdateExpression: 'DELETE #orders :me',
        ConditionExpression: 'contains(#orders, :id)',
        ExpressionAttributeNames: { '#orders': 'orders' },
        ExpressionAttributeValues: { ':me': new Set([orderId]), ':id': orderId },
      }),
    );
  } catch (error) {
    // Not in the window (given back already): nothing to do.
    if (isConditionFailure(error)) return;
    logger.warn('throttle place not given back; the window stays one short until it passes', {
      storeId,
      window,
      error,
    });
  }
}
