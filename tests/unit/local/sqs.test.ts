import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
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
  expect(sent.MessageId).toBeDefined();

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

  test('errors use the query error codes', async () => {
    const missing = await query({ Action: 'GetQueueUrl', QueueName: 'nope' });
    expect(missing.status).toBe(400);
    expect(missing.xml).toContain('<Code>AWS.SimpleQueueService.NonExistentQueue</Code>');
    expect((await query({ Action: 'Frobnicate' })).xml).toContain('<Code>InvalidAction</Code>');
  });
});
