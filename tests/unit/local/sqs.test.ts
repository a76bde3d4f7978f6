import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchEntryIdsNotDistinct,
  BatchRequestTooLong,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  EmptyBatchRequest,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  InvalidBatchEntryId,
  ListDeadLetterSourceQueuesCommand,
  ListMessageMoveTasksCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  ResourceNotFoundException,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
  TooManyEntriesInBatchRequest,
} from '@aws-sdk/client-sqs';
import { type Edge, startEdge } from '../../../local/cloud/edge';
import { LocalSqs, md5OfMessageAttributes } from '../../../local/cloud/sqs';

const dataDir = mkdtempSync(join(tmpdir(), 'sqs-test-'));
let local: LocalSqs;
let edge: Edge;
let sqs: SQSClient;

async function start(fresh = false) {
  local = new LocalSqs({ dataDir, fresh, accountId: '000000000000' });
  edge = await startEdge({ port: 0, services: { sqs: local.api } });
  local.setEndpoint(edge.url);
  sqs = new SQSClient({
    endpoint: edge.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
}
async function stop() {
  await local.close();
  await edge.close();
}

beforeAll(() => start(true));
afterAll(async () => {
  await stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const attributes = (QueueUrl: string) =>
  sqs
    .send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }))
    .then((out) => out.Attributes ?? {});

test('send, receive and delete through the SDK, which checks the body MD5', async () => {
  const QueueUrl = local.createQueue('orders-dlq');
  expect(QueueUrl).toBe(`${edge.url}/000000000000/orders-dlq`);
  const sent = await sqs.send(
    new SendMessageCommand({
      QueueUrl,
      MessageBody: '{"orderId":"ord_1"}',
      MessageAttributes: { reason: { DataType: 'String', StringValue: 'Timeout' } },
    }),
  );
  expect(sent.MessageId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);

  const received = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['ApproximateReceiveCount'],
    }),
  );
  expect(received.Messages).toHaveLength(1);
  const [message] = received.Messages!;
  expect(message).toMatchObject({
    MessageId: sent.MessageId,
    Body: '{"orderId":"ord_1"}',
    MessageAttributes: { reason: { DataType: 'String', StringValue: 'Timeout' } },
    Attributes: { ApproximateReceiveCount: '1' },
  });
  expect(message?.MD5OfMessageAttributes).toBe(sent.MD5OfMessageAttributes);
  expect(await attributes(QueueUrl)).toMatchObject({
    ApproximateNumberOfMessages: '0',
    ApproximateNumberOfMessagesNotVisible: '1',
  });

  await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: message!.ReceiptHandle }));
  expect(await attributes(QueueUrl)).toMatchObject({
    ApproximateNumberOfMessages: '0',
    ApproximateNumberOfMessagesNotVisible: '0',
    QueueArn: 'arn:aws:sqs:us-east-1:000000000000:orders-dlq',
  });
});

test('a message not deleted comes back after its visibility timeout with a higher receive count', async () => {
  const QueueUrl = local.createQueue('retry-dlq');
  await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: 'again' }));
  const receive = () =>
    sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        VisibilityTimeout: 1,
        WaitTimeSeconds: 3,
        AttributeNames: ['All'],
      }),
    );
  const first = await receive();
  const second = await receive(); // long poll: waits until the message is visible again
  expect(first.Messages?.[0]?.Attributes?.ApproximateReceiveCount).toBe('1');
  expect(second.Messages?.[0]).toMatchObject({ Body: 'again', Attributes: { ApproximateReceiveCount: '2' } });
});

test('a long poll returns as soon as a message is sent', async () => {
  const QueueUrl = local.createQueue('long-poll');
  const polling = sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 10 }));
  setTimeout(() => local.sendToQueueArn('arn:aws:sqs:us-east-1:000000000000:long-poll', 'late'), 100);
  expect((await polling).Messages?.map((m) => m.Body)).toEqual(['late']);
});

test('an unknown queue is QueueDoesNotExist; purge empties a queue', async () => {
  await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'nope' }))).rejects.toBeInstanceOf(
    QueueDoesNotExist,
  );
  const QueueUrl = local.createQueue('to-purge');
  local.sendToQueueArn(local.queueArn('to-purge'), 'a');
  await sqs.send(new PurgeQueueCommand({ QueueUrl }));
  expect(local.depth('to-purge')).toBe(0);
  expect(() => local.sendToQueueArn(local.queueArn('nope'), 'x')).toThrow(/does not exist/);
});

test('DLQ contents survive a restart, and a fresh start empties them', async () => {
  local.createQueue('kept');
  local.sendToQueueArn(local.queueArn('kept'), 'survivor', {
    source: { DataType: 'String', StringValue: 'rule' },
    ERROR_CODE: 'Boom', // plain strings, as EventBridge's DLQ metadata is sent
  });
  await stop();
  await start();
  const QueueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'kept' }))).QueueUrl!;
  const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['All'] }));
  expect(out.Messages?.[0]?.Body).toBe('survivor');
  expect(out.Messages?.[0]?.MessageAttributes).toEqual({
    source: { DataType: 'String', StringValue: 'rule' },
    ERROR_CODE: { DataType: 'String', StringValue: 'Boom' },
  });
  await stop();
  await start(true);
  await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'kept' }))).rejects.toBeInstanceOf(
    QueueDoesNotExist,
  );
});

test('the MD5 of message attributes matches published reference values', () => {
  // Reference values from independent SQS implementations' tests (an AWS docs example and sqslite).
  expect(md5OfMessageAttributes({ SellerName: { DataType: 'String', StringValue: 'Example Store' } })).toBe(
    'cd28f3b68aeee4b2eac9c66f2f694b58',
  );
  expect(
    md5OfMessageAttributes({
      ordinal: { DataType: 'Number', StringValue: '1' },
      category: { DataType: 'String', StringValue: 'test' },
    }),
  ).toBe('d21ae90c49061e927f57df5f5d72be1f');
  expect(md5OfMessageAttributes({})).toBeUndefined();
});

describe('batches', () => {
  test('SendMessageBatch sends each entry, with the MD5s the SDK checks; DeleteMessageBatch deletes each, a bad handle failing alone', async () => {
    const QueueUrl = local.createQueue('batch');
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl,
        Entries: [
          {
            Id: 'a',
            MessageBody: 'first',
            MessageAttributes: { kind: { DataType: 'String', StringValue: 'x' } },
          },
          { Id: 'b', MessageBody: 'second' },
          { Id: 'c-3', MessageBody: 'third', DelaySeconds: 0 },
        ],
      }),
    );
    expect(sent.Successful?.map((entry) => entry.Id)).toEqual(['a', 'b', 'c-3']);
    expect(sent.Successful?.[0]?.MD5OfMessageAttributes).toBe(
      md5OfMessageAttributes({ kind: { DataType: 'String', StringValue: 'x' } }),
    );
    expect(sent.Failed ?? []).toEqual([]);

    const received = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10 }));
    expect(received.Messages?.map((m) => m.Body)).toEqual(['first', 'second', 'third']);
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl,
        Entries: [
          ...received.Messages!.slice(0, 2).map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })),
          { Id: 'bad', ReceiptHandle: 'not-a-handle' },
        ],
      }),
    );
    expect(deleted.Successful?.map((entry) => entry.Id)).toEqual(['d0', 'd1']);
    expect(deleted.Failed).toEqual([
      expect.objectContaining({ Id: 'bad', SenderFault: true, Code: 'ReceiptHandleIsInvalid' }),
    ]);
    expect(local.depth('batch')).toBe(1);
  });

  test.each([
    ['no entries', [], EmptyBatchRequest],
    [
      'eleven entries',
      Array.from({ length: 11 }, (_, i) => ({ Id: `m${i}`, MessageBody: 'x' })),
      TooManyEntriesInBatchRequest,
    ],
    [
      'two entries with one id',
      [
        { Id: 'same', MessageBody: 'x' },
        { Id: 'same', MessageBody: 'y' },
      ],
      BatchEntryIdsNotDistinct,
    ],
    ['an id with a dot', [{ Id: 'not.valid', MessageBody: 'x' }], InvalidBatchEntryId],
    [
      'bodies over the size limit together',
      [
        { Id: 'a', MessageBody: 'x'.repeat(200_000) },
        { Id: 'b', MessageBody: 'y'.repeat(100_000) },
      ],
      BatchRequestTooLong,
    ],
  ])('a batch with %s is refused whole, with AWS’s error', async (_, Entries, error) => {
    const QueueUrl = local.createQueue('batch-errors');
    await expect(sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries }))).rejects.toBeInstanceOf(error);
    expect(local.depth('batch-errors')).toBe(0);
  });
});

describe('redrive from a dead-letter queue', () => {
  /** A queue whose messages go to `<name>-dlq` after one receive; one message already there. */
  async function givenADeadLetter(name: string) {
    const dlqUrl = local.createQueue(`${name}-dlq`);
    const sourceUrl = local.createQueue(name, {
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: local.queueArn(`${name}-dlq`),
        maxReceiveCount: 1,
      }),
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: sourceUrl, MessageBody: `poison from ${name}` }));
    await sqs.send(new ReceiveMessageCommand({ QueueUrl: sourceUrl, VisibilityTimeout: 0 }));
    // Received once already: the next receive moves it to the DLQ instead.
    expect((await sqs.send(new ReceiveMessageCommand({ QueueUrl: sourceUrl }))).Messages ?? []).toEqual([]);
    expect(local.depth(`${name}-dlq`)).toBe(1);
    return { dlqUrl, sourceUrl, dlqArn: local.queueArn(`${name}-dlq`) };
  }

  test('ListDeadLetterSourceQueues names the queues whose RedrivePolicy points at the DLQ', async () => {
    const { dlqUrl, sourceUrl } = await givenADeadLetter('listed');
    const out = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }));
    expect(out.queueUrls).toEqual([sourceUrl]);
    expect(
      (await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: sourceUrl }))).queueUrls,
    ).toEqual([]);
  });

  test('StartMessageMoveTask sends the messages back to the queue they came from; ListMessageMoveTasks shows it done', async () => {
    const { dlqArn, sourceUrl } = await givenADeadLetter('moved');

    const { TaskHandle } = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlqArn }));

    expect(TaskHandle).toEqual(expect.any(String));
    const tasks = await eventuallyCompleted(dlqArn);
    expect(tasks).toEqual([
      expect.objectContaining({
        Status: 'COMPLETED',
        SourceArn: dlqArn,
        ApproximateNumberOfMessagesMoved: 1,
        ApproximateNumberOfMessagesToMove: 1,
      }),
    ]);
    expect(tasks[0]?.TaskHandle).toBeUndefined(); // a handle only while it runs, as on AWS
    expect(local.depth('moved-dlq')).toBe(0);
    const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: sourceUrl, AttributeNames: ['All'] }));
    expect(back.Messages?.[0]).toMatchObject({
      Body: 'poison from moved',
      Attributes: { ApproximateReceiveCount: '1' },
    });
  });

  test('a DestinationArn sends them there instead', async () => {
    const { dlqArn } = await givenADeadLetter('elsewhere');
    local.createQueue('elsewhere-target');

    await sqs.send(
      new StartMessageMoveTaskCommand({
        SourceArn: dlqArn,
        DestinationArn: local.queueArn('elsewhere-target'),
      }),
    );

    await eventuallyCompleted(dlqArn);
    expect(local.depth('elsewhere-target')).toBe(1);
    expect(local.depth('elsewhere')).toBe(0);
  });

  test('refuses, as AWS does, a queue that no queue names as its DLQ, an unknown queue, and a second task while one runs', async () => {
    local.createQueue('fed-by-eventbridge');
    await expect(
      sqs.send(new StartMessageMoveTaskCommand({ SourceArn: local.queueArn('fed-by-eventbridge') })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterValue',
      message: 'Source queue must be configured as a Dead Letter Queue.',
    });
    await expect(
      sqs.send(new StartMessageMoveTaskCommand({ SourceArn: local.queueArn('no-such-queue') })),
    ).rejects.toBeInstanceOf(ResourceNotFoundException);

    const { dlqArn } = await givenADeadLetter('busy');
    // Two calls in one turn: the first task has not run yet when the second asks.
    await local.api.StartMessageMoveTask!({ SourceArn: dlqArn });
    await expect(local.api.StartMessageMoveTask!({ SourceArn: dlqArn })).rejects.toMatchObject({
      code: 'InvalidParameterValue',
      message: expect.stringContaining('already a task running'),
    });
    await eventuallyCompleted(dlqArn);
  });

  async function eventuallyCompleted(SourceArn: string) {
    for (let i = 0; i < 50; i++) {
      const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn, MaxResults: 10 }));
      if (Results.length > 0 && Results.every((task) => task.Status !== 'RUNNING')) return Results;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`the move task of ${SourceArn} never completed`);
  }
});

describe('query protocol (AWS CLI 2.9)', () => {
  const query = async (params: Record<string, string>) => {
    const res = await fetch(edge.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: new URLSearchParams({ Version: '2012-11-05', ...params }).toString(),
    });
    return { status: res.status, xml: await res.text() };
  };

  test('SendMessage and ReceiveMessage answer in AWS XML', async () => {
    const created = await query({
      Action: 'CreateQueue',
      QueueName: 'cli-queue',
      'Attribute.1.Name': 'VisibilityTimeout',
      'Attribute.1.Value': '5',
    });
    expect(created.xml).toContain(
      `<CreateQueueResult><QueueUrl>${edge.url}/000000000000/cli-queue</QueueUrl></CreateQueueResult>`,
    );
    const QueueUrl = `${edge.url}/000000000000/cli-queue`;
    const sent = await query({
      Action: 'SendMessage',
      QueueUrl,
      MessageBody: '<order & "quotes">',
      'MessageAttribute.1.Name': 'kind',
      'MessageAttribute.1.Value.DataType': 'String',
      'MessageAttribute.1.Value.StringValue': 'dlq',
    });
    expect(sent.xml).toMatch(
      /<SendMessageResponse xmlns="http:\/\/queue.amazonaws.com\/doc\/2012-11-05\/"><SendMessageResult><MD5OfMessageBody>[0-9a-f]{32}<\/MD5OfMessageBody>/,
    );

    const received = await query({
      Action: 'ReceiveMessage',
      QueueUrl,
      'AttributeName.1': 'All',
      'MessageAttributeName.1': 'All',
    });
    expect(received.status).toBe(200);
    expect(received.xml).toContain('<Body>&lt;order &amp; &quot;quotes&quot;&gt;</Body>');
    expect(received.xml).toContain(
      '<Attribute><Name>ApproximateReceiveCount</Name><Value>1</Value></Attribute>',
    );
    expect(received.xml).toContain(
      '<MessageAttribute><Name>kind</Name><Value><StringValue>dlq</StringValue><DataType>String</DataType></Value></MessageAttribute>',
    );

    const attrs = await query({
      Action: 'GetQueueAttributes',
      QueueUrl,
      'AttributeName.1': 'VisibilityTimeout',
    });
    expect(attrs.xml).toContain(
      '<GetQueueAttributesResult><Attribute><Name>VisibilityTimeout</Name><Value>5</Value></Attribute></GetQueueAttributesResult>',
    );
  });

  test('SendMessageBatch, DeleteMessageBatch and ListDeadLetterSourceQueues answer in AWS XML', async () => {
    const QueueUrl = local.createQueue('cli-batch');
    const sent = await query({
      Action: 'SendMessageBatch',
      QueueUrl,
      'SendMessageBatchRequestEntry.1.Id': 'one',
      'SendMessageBatchRequestEntry.1.MessageBody': 'first',
      'SendMessageBatchRequestEntry.1.MessageAttribute.1.Name': 'kind',
      'SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType': 'String',
      'SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue': 'dlq',
      'SendMessageBatchRequestEntry.2.Id': 'two',
      'SendMessageBatchRequestEntry.2.MessageBody': 'second',
    });
    expect(sent.status).toBe(200);
    expect(sent.xml).toMatch(
      /<SendMessageBatchResult><SendMessageBatchResultEntry><Id>one<\/Id><MessageId>[0-9a-f-]{36}<\/MessageId><MD5OfMessageBody>[0-9a-f]{32}<\/MD5OfMessageBody><MD5OfMessageAttributes>[0-9a-f]{32}<\/MD5OfMessageAttributes><\/SendMessageBatchResultEntry><SendMessageBatchResultEntry><Id>two<\/Id>/,
    );
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
    );
    expect(received.Messages?.[0]?.MessageAttributes).toEqual({
      kind: { DataType: 'String', StringValue: 'dlq' },
    });

    const deleted = await query({
      Action: 'DeleteMessageBatch',
      QueueUrl,
      'DeleteMessageBatchRequestEntry.1.Id': 'd1',
      'DeleteMessageBatchRequestEntry.1.ReceiptHandle': received.Messages![0]!.ReceiptHandle!,
      'DeleteMessageBatchRequestEntry.2.Id': 'd2',
      'DeleteMessageBatchRequestEntry.2.ReceiptHandle': 'nonsense',
    });
    expect(deleted.xml).toContain(
      '<DeleteMessageBatchResult><DeleteMessageBatchResultEntry><Id>d1</Id></DeleteMessageBatchResultEntry><BatchResultErrorEntry><Id>d2</Id><SenderFault>true</SenderFault><Code>ReceiptHandleIsInvalid</Code>',
    );
    expect(local.depth('cli-batch')).toBe(1);

    const dlq = local.createQueue('cli-dlq');
    const source = local.createQueue('cli-source', {
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: local.queueArn('cli-dlq'), maxReceiveCount: 3 }),
    });
    const sources = await query({ Action: 'ListDeadLetterSourceQueues', QueueUrl: dlq });
    expect(sources.xml).toContain(
      `<ListDeadLetterSourceQueuesResult><QueueUrl>${source}</QueueUrl></ListDeadLetterSourceQueuesResult>`,
    );
    const empty = await query({ Action: 'SendMessageBatch', QueueUrl });
    expect(empty.status).toBe(400);
    expect(empty.xml).toContain('<Code>AWS.SimpleQueueService.EmptyBatchRequest</Code>');
  });

  test('errors use the query error codes', async () => {
    const missing = await query({ Action: 'GetQueueUrl', QueueName: 'nope' });
    expect(missing.status).toBe(400);
    expect(missing.xml).toContain('<Code>AWS.SimpleQueueService.NonExistentQueue</Code>');
    expect((await query({ Action: 'Frobnicate' })).xml).toContain('<Code>InvalidAction</Code>');
  });
});
