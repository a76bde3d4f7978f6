import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { config } from '../config';
import {
  type DetailType,
  EVENT_SOURCE,
  type StoreDetailType,
  type StoreEventDetail,
  storeEventDetailSchemas,
} from '../schemas/events';

const eventBridge = new EventBridgeClient({});

/** Puts one order event on the bus; a failed entry is an error, not a silent loss. */
export function publishOrderEvent(detailType: DetailType, detail: object): Promise<void> {
  return putEvent(detailType, detail);
}

/** Puts one store event on the bus, its detail checked against its schema first. */
export function publishStoreEvent<T extends StoreDetailType>(
  detailType: T,
  detail: StoreEventDetail<T>,
): Promise<void> {
  return putEvent(detailType, storeEventDetailSchemas[detailType].parse(detail));
}

async function putEvent(detailType: string, detail: object): Promise<void> {
  const result = await eventBridge.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: config.eventBusName,
          Source: EVENT_SOURCE,
          DetailType: detailType,
          Detail: JSON.stringify(detail),
        },
      ],
    }),
  );
  if (result.FailedEntryCount) {
    const entry = result.Entries?.[0];
    throw new Error(`PutEvents failed for ${detailType}: ${entry?.ErrorCode} ${entry?.ErrorMessage}`);
  }
}
