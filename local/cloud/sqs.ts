/**
 * Local SQS: enough of the service for dead-letter queues — create, send, receive with visibility
 * timeouts and long polling, delete, purge, attributes, batches, redrive (message move tasks and
 * dead-letter source queues, as AWS serves them) — persisted to one JSON file so DLQ contents
 * survive a restart. The API object speaks the JSON 1.0 shapes; `handleSqsQuery` adapts the
 * form-encoded query protocol (what AWS CLI 2.9 sends) to it and answers in AWS's XML.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsError, type ServiceApi } from './aws-error';

export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string; // base64, as on the JSON wire
}

interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  messageAttributes: Record<string, MessageAttributeValue>;
  md5OfMessageAttributes?: string;
  sentAt: number;
  visibleAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  /** The receipt handle of the latest receive; older handles still delete, as on AWS. */
  receiptHandle?: string;
  /** The queue whose RedrivePolicy moved it here: where a move task without destination sends it back. */
  deadLetterSourceArn?: string;
}

/** A message move task (StartMessageMoveTask), as ListMessageMoveTasks shows it. */
interface MoveTask {
  taskHandle: string;
  status: 'RUNNING' | 'COMPLETED' | 'CANCELLED' | 'FAILED';
  sourceArn: string;
  destinationArn?: string;
  maxNumberOfMessagesPerSecond?: number;
  moved: number;
  toMove: number;
  failureReason?: string;
  startedAt: number;
}

/** One entry of a batch request, and the batch's answer. */
interface BatchEntry {
  Id: string;
}
interface BatchResult<T> {
  Successful: T[];
  Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[];
}

interface Queue {
  name: string;
  attributes: Record<string, string>;
  createdAt: number;
  messages: StoredMessage[];
}

export interface LocalSqsOptions {
  region?: string;
  accountId?: string;
  /** Base of queue URLs, normally the edge: http://127.0.0.1:4566 */
  endpoint?: string;
  /** Persist queues and messages to `<dataDir>/sqs.json`; in memory only when omitted. */
  dataDir?: string;
  fresh?: boolean;
  /** Upper bound for WaitTimeSeconds (AWS allows 20). */
  maxWaitSeconds?: number;
}

const DEFAULT_ATTRIBUTES: Record<string, string> = {
  VisibilityTimeout: '30',
  MessageRetentionPeriod: '345600',
  MaximumMessageSize: '262144',
  DelaySeconds: '0',
  ReceiveMessageWaitTimeSeconds: '0',
};

const md5 = (data: string | Buffer) => createHash('md5').update(data).digest('hex');

/** AWS's MD5 of message attributes: sorted by name, each part length-prefixed (big-endian u32). */
export function md5OfMessageAttributes(
  attributes: Record<string, MessageAttributeValue>,
): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const parts: Buffer[] = [];
  const field = (data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    parts.push(length, data);
  };
  for (const name of names) {
    const value = attributes[name]!;
    field(Buffer.from(name));
    field(Buffer.from(value.DataType));
    const binary = value.BinaryValue !== undefined;
    parts.push(Buffer.from([binary ? 2 : 1]));
    field(binary ? Buffer.from(value.BinaryValue!, 'base64') : Buffer.from(value.StringValue ?? ''));
  }
  return md5(Buffer.concat(parts));
}

export class LocalSqs {
  readonly region: string;
  readonly accountId: string;
  private endpoint: string;
  private readonly queues = new Map<string, Queue>();
  private readonly file?: string;
  private readonly maxWaitSeconds: number;
  private saveTimer?: NodeJS.Timeout;
  /** Long-polling receivers, woken when a message arrives on their queue. */
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Message move tasks, newest last, per source queue ARN. */
  private readonly moveTasks = new Map<string, MoveTask[]>();
  private closed = false;

  constructor(options: LocalSqsOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.endpoint = (options.endpoint ?? 'http://127.0.0.1:4566').replace(/\/$/, '');
    this.maxWaitSeconds = options.maxWaitSeconds ?? 20;
    if (options.dataDir) {
      mkdirSync(options.dataDir, { recursive: true });
      this.file = join(options.dataDir, 'sqs.json');
      if (options.fresh) rmSync(this.file, { force: true });
      else this.load();
    }
  }

  /** The edge's port is known only once it listens (port 0), so the URL base can change after start. */
  setEndpoint(endpoint: string): void {
    this.endpoint = endpoint.replace(/\/$/, '');
  }

  queueUrl(name: string): string {
    return `${this.endpoint}/${this.accountId}/${name}`;
  }

  queueArn(name: string): string {
    return `arn:aws:sqs:${this.region}:${this.accountId}:${name}`;
  }

  /** Creates the queue, or returns the existing one's URL when the attributes agree (as AWS does). */
  createQueue(name: string, attributes: Record<string, string | number> = {}): string {
    if (!/^[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(name)) {
      throw new AwsError('InvalidParameterValue', `Invalid queue name: ${name}`);
    }
    const wanted = Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, String(v)]));
    const existing = this.queues.get(name);
    if (existing) {
      const differs = Object.entries(wanted).some(([k, v]) => existing.attributes[k] !== v);
      if (differs)
        throw new AwsError(
          'QueueAlreadyExists',
          `A queue named ${name} already exists with different attributes`,
        );
      return this.queueUrl(name);
    }
    this.queues.set(name, {
      name,
      attributes: { ...DEFAULT_ATTRIBUTES, ...wanted },
      createdAt: Date.now(),
      messages: [],
    });
    this.scheduleSave();
    return this.queueUrl(name);
  }

  /**
   * How emulated services (EventBridge targets, async Lambda) deliver to a DLQ named by ARN. Attributes
   * may be SQS attribute values or plain strings (sent as `String` attributes, like EventBridge's DLQ metadata).
   */
  sendToQueueArn(
    arn: string,
    body: string,
    messageAttributes: Record<string, MessageAttributeValue | string> = {},
  ): { MessageId: string; MD5OfMessageBody: string } {
    const name = arn.split(':').at(-1) ?? '';
    const attributes = Object.fromEntries(
      Object.entries(messageAttributes).map(([key, value]) => [
        key,
        typeof value === 'string' ? { DataType: 'String', StringValue: value } : value,
      ]),
    );
    return this.send(this.queue(name, arn), body, attributes, 0);
  }

  /** Messages currently in a queue (visible or not), for tests and the start-up summary. */
  depth(name: string): number {
    return this.queue(name).messages.length;
  }

  readonly api: ServiceApi = {
    CreateQueue: async (input: { QueueName: string; Attributes?: Record<string, string> }) => ({
      QueueUrl: this.createQueue(input.QueueName, input.Attributes),
    }),
    GetQueueUrl: async (input: { QueueName: string }) => {
      this.queue(input.QueueName);
      return { QueueUrl: this.queueUrl(input.QueueName) };
    },
    ListQueues: async (input: { QueueNamePrefix?: string }) => ({
      QueueUrls: [...this.queues.keys()]
        .filter((name) => name.startsWith(input.QueueNamePrefix ?? ''))
        .map((name) => this.queueUrl(name)),
    }),
    DeleteQueue: async (input: { QueueUrl: string }) => {
      this.queues.delete(this.byUrl(input.QueueUrl).name);
      this.scheduleSave();
      return {};
    },
    SendMessage: async (input: {
      QueueUrl: string;
      MessageBody: string;
      DelaySeconds?: number;
      MessageAttributes?: Record<string, MessageAttributeValue>;
    }) => {
      const queue = this.byUrl(input.QueueUrl);
      const sent = this.send(queue, input.MessageBody, input.MessageAttributes ?? {}, input.DelaySeconds);
      const attributesMd5 = md5OfMessageAttributes(input.MessageAttributes ?? {});
      return { ...sent, ...(attributesMd5 && { MD5OfMessageAttributes: attributesMd5 }) };
    },
    SendMessageBatch: async (input: {
      QueueUrl: string;
      Entries?: (BatchEntry & {
        MessageBody: string;
        DelaySeconds?: number;
        MessageAttributes?: Record<string, MessageAttributeValue>;
      })[];
    }) => {
      const queue = this.byUrl(input.QueueUrl);
      const entries = checkBatch(input.Entries, 'SendMessageBatchRequestEntry');
      const total = entries.reduce(
        (sum, entry) => sum + Buffer.byteLength(String(entry.MessageBody ?? '')),
        0,
      );
      if (total > Number(queue.attributes.MaximumMessageSize)) {
        throw new AwsError(
          'BatchRequestTooLong',
          `Batch requests cannot be longer than ${queue.attributes.MaximumMessageSize} bytes. You have sent ${total} bytes.`,
        );
      }
      return eachEntry(entries, (entry) => {
        const sent = this.send(queue, entry.MessageBody, entry.MessageAttributes ?? {}, entry.DelaySeconds);
        const attributesMd5 = md5OfMessageAttributes(entry.MessageAttributes ?? {});
        return { Id: entry.Id, ...sent, ...(attributesMd5 && { MD5OfMessageAttributes: attributesMd5 }) };
      });
    },
    ReceiveMessage: async (input: ReceiveInput) => ({ Messages: await this.receive(input) }),
    DeleteMessage: async (input: { QueueUrl: string; ReceiptHandle: string }) => {
      this.deleteMessage(this.byUrl(input.QueueUrl), input.ReceiptHandle);
      return {};
    },
    DeleteMessageBatch: async (input: {
      QueueUrl: string;
      Entries?: (BatchEntry & { ReceiptHandle: string })[];
    }) => {
      const queue = this.byUrl(input.QueueUrl);
      return eachEntry(checkBatch(input.Entries, 'DeleteMessageBatchRequestEntry'), (entry) => {
        this.deleteMessage(queue, entry.ReceiptHandle);
        return { Id: entry.Id };
      });
    },
    ChangeMessageVisibility: async (input: {
      QueueUrl: string;
      ReceiptHandle: string;
      VisibilityTimeout: number;
    }) => {
      const queue = this.byUrl(input.QueueUrl);
      const message = queue.messages.find((m) => m.messageId === messageIdOf(input.ReceiptHandle));
      if (!message) throw new AwsError('MessageNotInflight', 'The message is not in flight');
      message.visibleAt = Date.now() + Number(input.VisibilityTimeout) * 1000;
      this.scheduleSave();
      return {};
    },
    GetQueueAttributes: async (input: { QueueUrl: string; AttributeNames?: string[] }) => ({
      Attributes: this.attributesOf(this.byUrl(input.QueueUrl), input.AttributeNames ?? ['All']),
    }),
    SetQueueAttributes: async (input: { QueueUrl: string; Attributes: Record<string, string> }) => {
      Object.assign(this.byUrl(input.QueueUrl).attributes, input.Attributes);
      this.scheduleSave();
      return {};
    },
    PurgeQueue: async (input: { QueueUrl: string }) => {
      this.byUrl(input.QueueUrl).messages = [];
      this.scheduleSave();
      return {};
    },
    /** The queues whose RedrivePolicy names this one as their dead-letter queue. */
    ListDeadLetterSourceQueues: async (input: {
      QueueUrl: string;
      MaxResults?: number;
      NextToken?: string;
    }) => {
      const arn = this.queueArn(this.byUrl(input.QueueUrl).name);
      const sources = this.deadLetterSourcesOf(arn).map((queue) => this.queueUrl(queue.name));
      const start = input.NextToken
        ? Number(Buffer.from(input.NextToken, 'base64').toString('utf8')) || 0
        : 0;
      const size = input.MaxResults ? Math.min(Math.max(Number(input.MaxResults), 1), 1000) : sources.length;
      const page = sources.slice(start, start + size);
      const next = start + size < sources.length && input.MaxResults;
      return {
        queueUrls: page,
        ...(next ? { NextToken: Buffer.from(String(start + size)).toString('base64') } : {}),
      };
    },
    StartMessageMoveTask: async (input: {
      SourceArn: string;
      DestinationArn?: string;
      MaxNumberOfMessagesPerSecond?: number;
    }) => ({ TaskHandle: this.startMoveTask(input) }),
    ListMessageMoveTasks: async (input: { SourceArn: string; MaxResults?: number }) => {
      this.queueByArn(input.SourceArn, 'SourceArn');
      const max = Math.min(Math.max(Number(input.MaxResults ?? 1), 1), 10);
      const tasks = [...(this.moveTasks.get(input.SourceArn) ?? [])].reverse().slice(0, max);
      return {
        Results: tasks.map((task) => ({
          ...(task.status === 'RUNNING' ? { TaskHandle: task.taskHandle } : {}),
          Status: task.status,
          SourceArn: task.sourceArn,
          ...(task.destinationArn ? { DestinationArn: task.destinationArn } : {}),
          ...(task.maxNumberOfMessagesPerSecond
            ? { MaxNumberOfMessagesPerSecond: task.maxNumberOfMessagesPerSecond }
            : {}),
          ApproximateNumberOfMessagesMoved: task.moved,
          ApproximateNumberOfMessagesToMove: task.toMove,
          ...(task.failureReason ? { FailureReason: task.failureReason } : {}),
          StartedTimestamp: task.startedAt,
        })),
      };
    },
  };

  /** Queues whose RedrivePolicy sends their exhausted messages to the queue `dlqArn`. */
  private deadLetterSourcesOf(dlqArn: string): Queue[] {
    return [...this.queues.values()].filter((queue) => {
      const policy = queue.attributes.RedrivePolicy;
      if (!policy) return false;
      try {
        return (JSON.parse(policy) as { deadLetterTargetArn?: string }).deadLetterTargetArn === dlqArn;
      } catch {
        return false;
      }
    });
  }

  private queueByArn(arn: string, parameter: 'SourceArn' | 'DestinationArn'): Queue {
    if (!arn) throw new AwsError('MissingParameter', `The request must contain the parameter ${parameter}.`);
    if (!/^arn:[^:]+:sqs:[^:]*:[^:]*:[^:]+$/.test(arn)) {
      throw new AwsError(
        'InvalidAddress',
        `You must use this format to specify the ${parameter}: arn:<partition>:<service>:<region>:<account-id>:<resource-id>`,
      );
    }
    const queue = this.queues.get(arn.split(':').at(-1) ?? '');
    if (!queue) {
      throw new AwsError(
        'ResourceNotFoundException',
        `The resource that you specified for the ${parameter} parameter doesn't exist.`,
        404,
      );
    }
    return queue;
  }

  /**
   * Moves a dead-letter queue's messages back to where they came from (or to `DestinationArn`), as
   * AWS does: only for a queue some SQS queue names as its DLQ, one running task per source. Each
   * message goes as a new message (new id, receive count 0) and leaves the DLQ.
   */
  private startMoveTask(input: {
    SourceArn: string;
    DestinationArn?: string;
    MaxNumberOfMessagesPerSecond?: number;
  }) {
    const source = this.queueByArn(input.SourceArn, 'SourceArn');
    const rate = input.MaxNumberOfMessagesPerSecond;
    if (rate !== undefined && (!Number.isInteger(Number(rate)) || Number(rate) < 1 || Number(rate) > 500)) {
      throw new AwsError(
        'InvalidParameterValue',
        'Value for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: You must enter a number that is between 1 and 500.',
      );
    }
    const sources = this.deadLetterSourcesOf(input.SourceArn);
    if (sources.length === 0)
      throw new AwsError('InvalidParameterValue', 'Source queue must be configured as a Dead Letter Queue.');
    const destination = input.DestinationArn
      ? this.queueByArn(input.DestinationArn, 'DestinationArn')
      : undefined;
    if (destination === source)
      throw new AwsError(
        'InvalidParameterValue',
        'Source queue arn and destination queue arn cannot be the same.',
      );
    const tasks = this.moveTasks.get(input.SourceArn) ?? [];
    if (tasks.some((task) => task.status === 'RUNNING')) {
      throw new AwsError(
        'InvalidParameterValue',
        'There is already a task running. Only one active task is allowed for a source queue arn at a given time.',
      );
    }
    const taskHandle = Buffer.from(
      JSON.stringify({ taskId: randomUUID(), sourceArn: input.SourceArn }),
    ).toString('base64');
    const task: MoveTask = {
      taskHandle,
      status: 'RUNNING',
      sourceArn: input.SourceArn,
      ...(input.DestinationArn ? { destinationArn: input.DestinationArn } : {}),
      ...(rate !== undefined ? { maxNumberOfMessagesPerSecond: Number(rate) } : {}),
      moved: 0,
      toMove: source.messages.length,
      startedAt: Date.now(),
    };
    tasks.push(task);
    this.moveTasks.set(input.SourceArn, tasks);
    // Like AWS, the task runs after the call answers; locally it finishes on the next turn.
    setImmediate(() => this.runMoveTask(task, source, destination, sources));
    return taskHandle;
  }

  private runMoveTask(task: MoveTask, source: Queue, destination: Queue | undefined, sources: Queue[]) {
    if (this.closed) return;
    const now = Date.now();
    this.dropExpired(source, now);
    for (const message of source.messages.slice(0, task.toMove)) {
      const origin = message.deadLetterSourceArn?.split(':').at(-1);
      // A message put straight into the DLQ has no origin: it goes to its one source queue, if one.
      const target =
        destination ??
        (origin ? this.queues.get(origin) : undefined) ??
        (sources.length === 1 ? sources[0] : undefined);
      if (!target) {
        task.status = 'FAILED';
        task.failureReason = 'AWS.SimpleQueueService.NonExistentQueue';
        break;
      }
      source.messages = source.messages.filter((m) => m !== message);
      this.send(target, message.body, message.messageAttributes, 0);
      task.moved += 1;
    }
    if (task.status === 'RUNNING') task.status = 'COMPLETED';
    this.scheduleSave();
  }

  /** Writes pending changes now and stops long polls; call on shutdown. */
  async close(): Promise<void> {
    this.closed = true;
    for (const wake of [...this.waiters.values()].flatMap((set) => [...set])) wake();
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
      this.save();
    }
  }

  private queue(name: string, shownAs = name): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new AwsError('QueueDoesNotExist', `The specified queue does not exist: ${shownAs}`);
    return queue;
  }

  /** Any host or port in the URL is accepted: clients may reach the edge under another name. */
  private byUrl(url: string): Queue {
    if (!url) throw new AwsError('MissingParameter', 'QueueUrl is required');
    return this.queue(url.replace(/\/$/, '').split('/').at(-1) ?? '', url);
  }

  private send(
    queue: Queue,
    body: string,
    messageAttributes: Record<string, MessageAttributeValue>,
    delaySeconds?: number,
  ) {
    if (typeof body !== 'string' || body.length === 0) {
      throw new AwsError('MissingParameter', 'The request must contain the parameter MessageBody.');
    }
    if (Buffer.byteLength(body) > Number(queue.attributes.MaximumMessageSize)) {
      throw new AwsError(
        'InvalidParameterValue',
        'Message must be shorter than the queue MaximumMessageSize',
      );
    }
    const now = Date.now();
    const delay = delaySeconds ?? Number(queue.attributes.DelaySeconds ?? 0);
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5(body),
      messageAttributes,
      md5OfMessageAttributes: md5OfMessageAttributes(messageAttributes),
      sentAt: now,
      visibleAt: now + delay * 1000,
      receiveCount: 0,
    };
    queue.messages.push(message);
    this.scheduleSave();
    this.wake(queue.name);
    return { MessageId: message.messageId, MD5OfMessageBody: message.md5OfBody };
  }

  private async receive(input: ReceiveInput) {
    const queue = this.byUrl(input.QueueUrl);
    const wanted = Math.min(Math.max(Number(input.MaxNumberOfMessages ?? 1), 1), 10);
    const waitSeconds = Math.min(
      Number(input.WaitTimeSeconds ?? queue.attributes.ReceiveMessageWaitTimeSeconds ?? 0),
      this.maxWaitSeconds,
    );
    const deadline = Date.now() + waitSeconds * 1000;
    let taken = this.take(queue, wanted, input);
    while (taken.length === 0 && Date.now() < deadline && !this.closed) {
      await this.waitForMessage(queue.name, deadline);
      taken = this.take(this.byUrl(input.QueueUrl), wanted, input);
    }
    return taken;
  }

  private take(queue: Queue, wanted: number, input: ReceiveInput) {
    const now = Date.now();
    this.dropExpired(queue, now);
    const visibility = Number(input.VisibilityTimeout ?? queue.attributes.VisibilityTimeout ?? 30);
    const picked = queue.messages.filter((m) => m.visibleAt <= now).slice(0, wanted);
    const delivered = [];
    for (const message of picked) {
      if (this.redriveIfExhausted(queue, message)) continue;
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.visibleAt = now + visibility * 1000;
      message.receiptHandle = Buffer.from(`${message.messageId}:${randomUUID()}`).toString('base64');
      delivered.push(this.shape(message, input));
    }
    if (picked.length > 0) this.scheduleSave();
    return delivered;
  }

  /** A RedrivePolicy on the queue moves a message received too often to its own DLQ, as AWS does. */
  private redriveIfExhausted(queue: Queue, message: StoredMessage): boolean {
    const policy = queue.attributes.RedrivePolicy;
    if (!policy) return false;
    const { deadLetterTargetArn, maxReceiveCount } = JSON.parse(policy) as {
      deadLetterTargetArn: string;
      maxReceiveCount: number | string;
    };
    if (message.receiveCount < Number(maxReceiveCount)) return false;
    const target = this.queues.get(deadLetterTargetArn.split(':').at(-1) ?? '');
    if (!target) return false;
    queue.messages = queue.messages.filter((m) => m !== message);
    target.messages.push({
      ...message,
      visibleAt: Date.now(),
      deadLetterSourceArn: this.queueArn(queue.name),
    });
    this.wake(target.name);
    return true;
  }

  private dropExpired(queue: Queue, now: number) {
    const retentionMs = Number(queue.attributes.MessageRetentionPeriod ?? 345600) * 1000;
    queue.messages = queue.messages.filter((m) => m.sentAt + retentionMs > now);
  }

  private shape(message: StoredMessage, input: ReceiveInput) {
    const systemNames = [...(input.AttributeNames ?? []), ...(input.MessageSystemAttributeNames ?? [])];
    const attributes = pick(
      {
        SenderId: this.accountId,
        SentTimestamp: String(message.sentAt),
        ApproximateReceiveCount: String(message.receiveCount),
        ApproximateFirstReceiveTimestamp: String(message.firstReceivedAt),
      },
      systemNames,
    );
    const messageAttributes = pick(message.messageAttributes, input.MessageAttributeNames ?? []);
    const attributesMd5 = md5OfMessageAttributes(messageAttributes);
    return {
      MessageId: message.messageId,
      ReceiptHandle: message.receiptHandle!,
      MD5OfBody: message.md5OfBody,
      Body: message.body,
      ...(Object.keys(attributes).length > 0 && { Attributes: attributes }),
      ...(attributesMd5 && { MessageAttributes: messageAttributes, MD5OfMessageAttributes: attributesMd5 }),
    };
  }

  private deleteMessage(queue: Queue, receiptHandle: string) {
    const messageId = messageIdOf(receiptHandle);
    if (!messageId)
      throw new AwsError(
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${receiptHandle}" is not valid.`,
      );
    queue.messages = queue.messages.filter((m) => m.messageId !== messageId);
    this.scheduleSave();
  }

  private attributesOf(queue: Queue, names: string[]) {
    const now = Date.now();
    this.dropExpired(queue, now);
    const visible = queue.messages.filter((m) => m.visibleAt <= now).length;
    const inFlight = queue.messages.filter((m) => m.visibleAt > now && m.receiveCount > 0).length;
    const all: Record<string, string> = {
      ...queue.attributes,
      QueueArn: this.queueArn(queue.name),
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(queue.messages.length - visible - inFlight),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.createdAt / 1000)),
    };
    return pick(all, names);
  }

  private wake(name: string) {
    const waiting = this.waiters.get(name);
    if (!waiting) return;
    this.waiters.delete(name);
    for (const wake of waiting) wake();
  }

  /** Resolves on a new message, at the deadline, or after a short tick (for messages becoming visible again). */
  private waitForMessage(name: string, deadline: number): Promise<void> {
    return new Promise((resolve) => {
      const set = this.waiters.get(name) ?? new Set();
      this.waiters.set(name, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, Math.min(deadline - Date.now(), 250)));
      set.add(done);
    });
  }

  private scheduleSave() {
    if (!this.file || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.save();
    }, 50);
    this.saveTimer.unref();
  }

  private save() {
    if (!this.file) return;
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify({ queues: [...this.queues.values()] }));
    renameSync(temporary, this.file);
  }

  private load() {
    let text: string;
    try {
      text = readFileSync(this.file!, 'utf8');
    } catch {
      return; // first start
    }
    const saved = JSON.parse(text) as { queues: Queue[] };
    for (const queue of saved.queues) this.queues.set(queue.name, queue);
  }
}

interface ReceiveInput {
  QueueUrl: string;
  MaxNumberOfMessages?: number;
  VisibilityTimeout?: number;
  WaitTimeSeconds?: number;
  AttributeNames?: string[];
  MessageSystemAttributeNames?: string[];
  MessageAttributeNames?: string[];
}

const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

/** AWS's checks of a whole batch, before any entry is tried: 1 to 10 entries, distinct valid ids. */
function checkBatch<T extends BatchEntry>(entries: T[] | undefined, entryName: string): T[] {
  if (!entries || entries.length === 0)
    throw new AwsError('EmptyBatchRequest', `There should be at least one ${entryName} in the request.`);
  if (entries.length > 10)
    throw new AwsError(
      'TooManyEntriesInBatchRequest',
      `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
    );
  for (const entry of entries) {
    if (!BATCH_ENTRY_ID.test(String(entry.Id ?? '')))
      throw new AwsError(
        'InvalidBatchEntryId',
        'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
      );
  }
  if (new Set(entries.map((entry) => entry.Id)).size !== entries.length)
    throw new AwsError(
      'BatchEntryIdsNotDistinct',
      'Two or more batch entries in the request have the same Id.',
    );
  return entries;
}

/** Runs each entry on its own: one that fails is listed in `Failed` with its error, the rest succeed. */
function eachEntry<T extends BatchEntry, R>(entries: T[], run: (entry: T) => R): BatchResult<R> {
  const result: BatchResult<R> = { Successful: [], Failed: [] };
  for (const entry of entries) {
    try {
      result.Successful.push(run(entry));
    } catch (error) {
      const known = error instanceof AwsError ? error : new AwsError('InternalError', String(error), 500);
      result.Failed.push({
        Id: entry.Id,
        SenderFault: known.status < 500,
        Code: known.code,
        Message: known.message,
      });
    }
  }
  return result;
}

function messageIdOf(receiptHandle: string): string | undefined {
  const decoded = Buffer.from(String(receiptHandle ?? ''), 'base64').toString('utf8');
  const [messageId, nonce] = decoded.split(':');
  return messageId && nonce ? messageId : undefined;
}

/** Picks entries by name; `All` or `.*` selects everything, `prefix.*` a prefix (SQS's selectors). */
function pick<T>(from: Record<string, T>, names: string[]): Record<string, T> {
  const selected = (key: string) =>
    names.some(
      (name) =>
        name === 'All' ||
        name === '.*' ||
        name === key ||
        (name.endsWith('.*') && key.startsWith(name.slice(0, -1))),
    );
  return Object.fromEntries(Object.entries(from).filter(([key]) => selected(key)));
}

// ---------------------------------------------------------------------------------------------
// Query protocol (form-encoded in, XML out), as AWS CLI 2.9 speaks to SQS.

const QUERY_ERROR_CODES: Record<string, string> = {
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueAlreadyExists: 'QueueAlreadyExists',
  MessageNotInflight: 'AWS.SimpleQueueService.MessageNotInflight',
  PurgeQueueInProgress: 'AWS.SimpleQueueService.PurgeQueueInProgress',
  EmptyBatchRequest: 'AWS.SimpleQueueService.EmptyBatchRequest',
  TooManyEntriesInBatchRequest: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  BatchEntryIdsNotDistinct: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  InvalidBatchEntryId: 'AWS.SimpleQueueService.InvalidBatchEntryId',
  BatchRequestTooLong: 'AWS.SimpleQueueService.BatchRequestTooLong',
};

const NUMERIC_PARAMETERS = new Set([
  'MaxNumberOfMessages',
  'VisibilityTimeout',
  'WaitTimeSeconds',
  'DelaySeconds',
  'MaxResults',
  'MaxNumberOfMessagesPerSecond',
]);

/** Turns the flattened query parameters (`Attribute.1.Name`, `MessageAttribute.1.Value.StringValue`…) into the JSON shape. */
export function queryToJsonInput(params: URLSearchParams): {
  action: string;
  input: Record<string, unknown>;
} {
  const input: Record<string, unknown> = {};
  const lists: Record<string, Record<string, Record<string, string>>> = {};
  for (const [key, value] of params) {
    if (key === 'Action' || key === 'Version') continue;
    const indexed = /^([A-Za-z]+)\.(\d+)(?:\.(.+))?$/.exec(key);
    if (!indexed) {
      input[key] = NUMERIC_PARAMETERS.has(key) ? Number(value) : value;
      continue;
    }
    const [, group, index, field] = indexed as unknown as [string, string, string, string | undefined];
    lists[group] ??= {};
    lists[group][index] ??= {};
    lists[group][index][field ?? ''] = value;
  }
  for (const [group, entries] of Object.entries(lists)) {
    const ordered = Object.entries(entries)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, entry]) => entry);
    Object.assign(input, listToJson(group, ordered));
  }
  return { action: params.get('Action') ?? '', input };
}

function listToJson(group: string, entries: Array<Record<string, string>>): Record<string, unknown> {
  switch (group) {
    case 'Attribute':
      return { Attributes: Object.fromEntries(entries.map((e) => [e.Name, e.Value])) };
    case 'MessageAttribute':
      return {
        MessageAttributes: Object.fromEntries(
          entries.map((e) => [
            e.Name,
            {
              DataType: e['Value.DataType'],
              ...(e['Value.StringValue'] !== undefined && { StringValue: e['Value.StringValue'] }),
              ...(e['Value.BinaryValue'] !== undefined && { BinaryValue: e['Value.BinaryValue'] }),
            },
          ]),
        ),
      };
    case 'Tag':
      return { tags: Object.fromEntries(entries.map((e) => [e.Key, e.Value])) };
    case 'SendMessageBatchRequestEntry':
    case 'DeleteMessageBatchRequestEntry':
      // Each entry's own fields (`Id`, `MessageBody`, `MessageAttribute.1.Name`…) read like a request's.
      return { Entries: entries.map((e) => queryToJsonInput(new URLSearchParams(e)).input) };
    default: // AttributeName.1, MessageAttributeName.1, MessageSystemAttributeName.1
      return { [`${group}s`]: entries.map((e) => e['']) };
  }
}

const xmlEscape = (text: string) =>
  text.replace(
    /[<>&"'\r]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;', '\r': '&#xD;' })[c]!,
  );

const element = (name: string, value: string | undefined) =>
  value === undefined ? '' : `<${name}>${xmlEscape(value)}</${name}>`;

const nameValueList = (tag: string, map: Record<string, string> = {}) =>
  Object.entries(map)
    .map(([name, value]) => `<${tag}>${element('Name', name)}${element('Value', value)}</${tag}>`)
    .join('');

type Output = Record<string, unknown>;

function messageXml(message: Output): string {
  const attributes = (message.MessageAttributes ?? {}) as Record<string, MessageAttributeValue>;
  const messageAttributes = Object.entries(attributes)
    .map(
      ([name, value]) =>
        `<MessageAttribute>${element('Name', name)}<Value>${element('StringValue', value.StringValue)}${element('BinaryValue', value.BinaryValue)}${element('DataType', value.DataType)}</Value></MessageAttribute>`,
    )
    .join('');
  return `<Message>${element('MessageId', message.MessageId as string)}${element('ReceiptHandle', message.ReceiptHandle as string)}${element('MD5OfBody', message.MD5OfBody as string)}${element('Body', message.Body as string)}${nameValueList('Attribute', message.Attributes as Record<string, string>)}${element('MD5OfMessageAttributes', message.MD5OfMessageAttributes as string | undefined)}${messageAttributes}</Message>`;
}

/** A batch answer: its successful entries, then `BatchResultErrorEntry` for each failed one. */
function batchXml(output: Output, successTag: string, fields: (entry: Output) => string): string {
  const successful = ((output.Successful as Output[]) ?? []).map(
    (entry) => `<${successTag}>${fields(entry)}</${successTag}>`,
  );
  const failed = ((output.Failed as Output[]) ?? []).map(
    (entry) =>
      `<BatchResultErrorEntry>${element('Id', entry.Id as string)}${element('SenderFault', String(entry.SenderFault))}${element('Code', entry.Code as string)}${element('Message', entry.Message as string)}</BatchResultErrorEntry>`,
  );
  return [...successful, ...failed].join('');
}

/** The `<…Result>` body of each operation's XML answer. */
function resultXml(action: string, output: Output): string {
  switch (action) {
    case 'CreateQueue':
    case 'GetQueueUrl':
      return element('QueueUrl', output.QueueUrl as string);
    case 'ListQueues':
      return ((output.QueueUrls as string[]) ?? []).map((url) => element('QueueUrl', url)).join('');
    case 'SendMessage':
      return `${element('MD5OfMessageBody', output.MD5OfMessageBody as string)}${element('MD5OfMessageAttributes', output.MD5OfMessageAttributes as string | undefined)}${element('MessageId', output.MessageId as string)}`;
    case 'ReceiveMessage':
      return ((output.Messages as Output[]) ?? []).map(messageXml).join('');
    case 'GetQueueAttributes':
      return nameValueList('Attribute', output.Attributes as Record<string, string>);
    case 'SendMessageBatch':
      return `${batchXml(output, 'SendMessageBatchResultEntry', (entry) =>
        ['Id', 'MessageId', 'MD5OfMessageBody', 'MD5OfMessageAttributes']
          .map((name) => element(name, entry[name] as string | undefined))
          .join(''),
      )}`;
    case 'DeleteMessageBatch':
      return batchXml(output, 'DeleteMessageBatchResultEntry', (entry) => element('Id', entry.Id as string));
    case 'ListDeadLetterSourceQueues':
      return `${((output.queueUrls as string[]) ?? []).map((url) => element('QueueUrl', url)).join('')}${element('NextToken', output.NextToken as string | undefined)}`;
    case 'StartMessageMoveTask':
      return element('TaskHandle', output.TaskHandle as string);
    case 'ListMessageMoveTasks':
      return ((output.Results as Output[]) ?? [])
        .map(
          (task) =>
            `<ListMessageMoveTasksResultEntry>${Object.entries(task)
              .map(([name, value]) => element(name, String(value)))
              .join('')}</ListMessageMoveTasksResultEntry>`,
        )
        .join('');
    default:
      return '';
  }
}

const XMLNS = 'http://queue.amazonaws.com/doc/2012-11-05/';
const RESULTLESS = new Set([
  'DeleteMessage',
  'DeleteQueue',
  'PurgeQueue',
  'SetQueueAttributes',
  'ChangeMessageVisibility',
]);

/** Answers one query-protocol request: status and XML body. */
export async function handleSqsQuery(
  api: ServiceApi,
  formBody: string,
  requestId: string,
): Promise<{ status: number; body: string; action: string }> {
  const { action, input } = queryToJsonInput(new URLSearchParams(formBody));
  const metadata = `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>`;
  try {
    const operation = Object.hasOwn(api, action) ? api[action] : undefined;
    if (!operation)
      throw new AwsError('InvalidAction', `The action ${action || '(none)'} is not valid for this endpoint.`);
    const output = (await operation(input)) as Output;
    const result = RESULTLESS.has(action)
      ? ''
      : `<${action}Result>${resultXml(action, output)}</${action}Result>`;
    return {
      status: 200,
      action,
      body: `<?xml version="1.0"?><${action}Response xmlns="${XMLNS}">${result}${metadata}</${action}Response>`,
    };
  } catch (error) {
    const known = error instanceof AwsError ? error : new AwsError('InternalError', String(error), 500);
    const code = QUERY_ERROR_CODES[known.code] ?? known.code;
    const type = known.status >= 500 ? 'Receiver' : 'Sender';
    return {
      status: known.status,
      action,
      body: `<?xml version="1.0"?><ErrorResponse xmlns="${XMLNS}"><Error><Type>${type}</Type>${element('Code', code)}${element('Message', known.message)}<Detail/></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
    };
  }
}
