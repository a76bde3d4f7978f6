import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { config, requiredEnv } from '../config';
import { logger } from '../powertools';
import { DeadLetteredEventSchema } from '../schemas/operations';

const sqs = new SQSClient({});
const eventBridge = new EventBridgeClient({});

export interface DeadLetterQueue {
  name: string;
  url: string;
}

/**
 * Every dead-letter queue of the stack, from `DEAD_LETTER_QUEUES`: their URLs (`!Ref`), comma
 * separated, so adding a queue is one line in serverless.yml. A queue's name ends its URL.
 */
export function deadLetterQueues(): DeadLetterQueue[] {
  return requiredEnv('DEAD_LETTER_QUEUES')
    .split(',')
    .map((url) => url.trim())
    .filter(Boolean)
    .map((url) => ({ url, name: url.replace(/\/$/, '').split('/').at(-1) ?? url }));
}

/** Messages in the queue: visible, in flight and delayed, as SQS approximates them. */
export async function queueDepth(queue: DeadLetterQueue): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** A dead letter as an operator reads it: what failed, when, and the event it holds. */
export interface DeadLetterView {
  messageId: string;
  sentAt?: string;
  receiveCount: number;
  /** The message attributes EventBridge or Lambda wrote (RULE_ARN, ERROR_CODE, ERROR_MESSAGE…). */
  attributes: Record<string, string>;
  event?: { source: string; detailType: string; detail: Record<string, unknown> };
  /** The body, cut to 2,000 characters, when it holds no event. */
  body?: string;
}

/**
 * Up to `limit` (1–10) messages of the queue without taking them: received with a visibility timeout
 * of 0, as the SQS console polls, so they stay where they are for the redrive.
 */
export async function peekDeadLetters(queue: DeadLetterQueue, limit: number): Promise<DeadLetterView[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queue.url,
      MaxNumberOfMessages: limit,
      VisibilityTimeout: 0,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
    }),
  );
  return Messages.map((message) => {
    const event = eventOf(message);
    const sent = Number(message.Attributes?.SentTimestamp);
    return {
      messageId: message.MessageId ?? '',
      ...(sent ? { sentAt: new Date(sent).toISOString() } : {}),
      receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
      attributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          value.StringValue ?? '',
        ]),
      ),
      ...(event
        ? { event: { source: event.source, detailType: event['detail-type'], detail: event.detail } }
        : { body: (message.Body ?? '').slice(0, 2000) }),
    };
  });
}

/** Long enough to re-put and delete a batch; a message not sent back reappears after it. */
const VISIBILITY_SECONDS = 60;

/**
 * Sends every dead-lettered event back to the bus (PutEvents with its source, detail-type and
 * detail: the rule matches it again and its target gets it), then deletes it — SQS
 * `StartMessageMoveTask` cannot, as these queues are fed by EventBridge and Lambda, not by an SQS
 * queue. Only what was put is deleted; a message that holds no event stays. Stops when the queue is
 * empty or the time budget is spent.
 */
export async function redriveEvents(
  queue: DeadLetterQueue,
  budgetMs: number,
): Promise<{ redriven: number; left: number }> {
  const deadline = Date.now() + budgetMs;
  const seen = new Set<string>();
  let redriven = 0;
  let left = 0;
  while (Date.now() < deadline) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: VISIBILITY_SECONDS,
        WaitTimeSeconds: 1,
      }),
    );
    const fresh = Messages.filter((message) => message.MessageId && !seen.has(message.MessageId));
    if (fresh.length === 0) break;
    for (const message of fresh) seen.add(message.MessageId!);
    const events = fresh.map((message) => ({ message, event: eventOf(message) }));
    const sendable = events.filter((entry) => entry.event !== undefined);
    left += events.length - sendable.length;
    if (sendable.length === 0) continue;
    const sent = await putOnTheBus(sendable);
    left += sendable.length - sent.length;
    if (sent.length === 0) continue;
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queue.url,
        Entries: sent.map(({ message }, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle! })),
      }),
    );
    if (deleted.Failed?.length) logger.warn('redriven messages not deleted', { failed: deleted.Failed });
    redriven += sent.length;
  }
  return { redriven, left };
}

/** PutEvents takes at most 256 KB a call; order events carry the order (up to 64 KB each). */
const PUT_EVENTS_MAX_BYTES = 250_000;

type Dead = { message: Message; event: ReturnType<typeof eventOf> };

/** Puts the events back on the bus in calls within PutEvents' size limit; answers those it took. */
async function putOnTheBus(dead: Dead[]): Promise<Dead[]> {
  const entries = dead.map(({ event }) => ({
    EventBusName: config.eventBusName,
    Source: event!.source,
    DetailType: event!['detail-type'],
    Detail: JSON.stringify(event!.detail),
    ...(event!.resources?.length ? { Resources: event!.resources } : {}),
  }));
  const size = (entry: (typeof entries)[number]) =>
    Buffer.byteLength(entry.Source) +
    Buffer.byteLength(entry.DetailType) +
    Buffer.byteLength(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, r) => sum + Buffer.byteLength(r), 0);
  const taken: Dead[] = [];
  let start = 0;
  while (start < entries.length) {
    let end = start + 1;
    let bytes = size(entries[start]!);
    while (end < entries.length && bytes + size(entries[end]!) <= PUT_EVENTS_MAX_BYTES)
      bytes += size(entries[end++]!);
    const put = await eventBridge.send(new PutEventsCommand({ Entries: entries.slice(start, end) }));
    // Entries answer in order; a failed one keeps its message, for the next redrive.
    for (let i = start; i < end; i++) if (!put.Entries?.[i - start]?.ErrorCode) taken.push(dead[i]!);
    start = end;
  }
  return taken;
}

/**
 * The event a dead letter holds: the body itself from a rule's DLQ, or the `requestPayload` of a
 * Lambda on-failure record (an async invocation of an EventBridge target that failed every retry).
 */
function eventOf(message: Message) {
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    return undefined;
  }
  const direct = DeadLetteredEventSchema.safeParse(body);
  if (direct.success) return direct.data;
  const payload = (body as { requestPayload?: unknown } | null)?.requestPayload;
  const carried = DeadLetteredEventSchema.safeParse(payload);
  return carried.success ? carried.data : undefined;
}
