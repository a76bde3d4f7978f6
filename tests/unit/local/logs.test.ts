import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  DescribeLogStreamsCommand,
  FilterLogEventsCommand,
  GetLogEventsCommand,
  InvalidParameterException,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { type Edge, startEdge } from '../../../local/cloud/edge';
import { LocalLogs } from '../../../local/cloud/logs';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const GROUP = '/aws/lambda/order-middleware-local-acceptOrder';
const EXPRESS = '/aws/vendedlogs/states/order-middleware-local-order-express';

let logs: LocalLogs;
let edge: Edge;
let client: CloudWatchLogsClient;

beforeEach(async () => {
  logs = new LocalLogs({ region: 'us-east-1', accountId: '000000000000', maxEventsPerGroup: 50 });
  logs.ensureLogGroup(GROUP);
  logs.ensureLogGroup(EXPRESS, 14);
  edge = await startEdge({ port: 0, services: { logs: logs.api } });
  client = new CloudWatchLogsClient({ endpoint: edge.url, region: 'us-east-1', credentials });
});

afterEach(async () => {
  client.destroy();
  await edge.close();
});

test('DescribeLogGroups lists groups by prefix, with their ARNs and retention, and pages', async () => {
  logs.ensureLogGroup('/aws/lambda/order-middleware-local-receiveOrder');

  const lambdaGroups = await client.send(
    new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/lambda/' }),
  );
  const first = await client.send(new DescribeLogGroupsCommand({ limit: 2 }));
  const rest = await client.send(new DescribeLogGroupsCommand({ limit: 2, nextToken: first.nextToken }));
  const states = await client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/aws/vendedlogs/' }));

  expect(lambdaGroups.logGroups?.map((g) => g.logGroupName)).toEqual([
    GROUP,
    '/aws/lambda/order-middleware-local-receiveOrder',
  ]);
  expect(first.logGroups).toHaveLength(2);
  expect(rest.logGroups?.map((g) => g.logGroupName)).toEqual([EXPRESS]);
  expect(rest.nextToken).toBeUndefined();
  expect(states.logGroups?.[0]).toMatchObject({
    logGroupName: EXPRESS,
    retentionInDays: 14,
    arn: `arn:aws:logs:us-east-1:000000000000:log-group:${EXPRESS}:*`,
    logGroupArn: `arn:aws:logs:us-east-1:000000000000:log-group:${EXPRESS}`,
  });
});

test('DescribeLogStreams orders by last event time, newest first when descending', async () => {
  logs.put(GROUP, '2026/11/30/[$LATEST]aaaa', 'first', 1_000);
  logs.put(GROUP, '2026/11/30/[$LATEST]bbbb', 'second', 2_000);
  logs.put(GROUP, '2026/11/30/[$LATEST]aaaa', 'third', 3_000);

  const byName = await client.send(new DescribeLogStreamsCommand({ logGroupName: GROUP }));
  const newest = await client.send(
    new DescribeLogStreamsCommand({ logGroupName: GROUP, orderBy: 'LastEventTime', descending: true }),
  );

  expect(byName.logStreams?.map((s) => s.logStreamName)).toEqual([
    '2026/11/30/[$LATEST]aaaa',
    '2026/11/30/[$LATEST]bbbb',
  ]);
  expect(newest.logStreams?.map((s) => [s.logStreamName, s.lastEventTimestamp])).toEqual([
    ['2026/11/30/[$LATEST]aaaa', 3_000],
    ['2026/11/30/[$LATEST]bbbb', 2_000],
  ]);
  await expect(
    client.send(
      new DescribeLogStreamsCommand({
        logGroupName: GROUP,
        orderBy: 'LastEventTime',
        logStreamNamePrefix: '2026',
      }),
    ),
  ).rejects.toBeInstanceOf(InvalidParameterException);
});

test('GetLogEvents pages forward from the head and gives the same token back at the end', async () => {
  const stream = '2026/11/30/[$LATEST]cccc';
  for (let i = 1; i <= 5; i++) logs.put(GROUP, stream, `line ${i}`, 1_000 + i);

  const first = await client.send(
    new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, startFromHead: true, limit: 3 }),
  );
  const second = await client.send(
    new GetLogEventsCommand({
      logGroupName: GROUP,
      logStreamName: stream,
      nextToken: first.nextForwardToken,
      limit: 3,
    }),
  );
  const end = await client.send(
    new GetLogEventsCommand({
      logGroupName: GROUP,
      logStreamName: stream,
      nextToken: second.nextForwardToken,
    }),
  );
  const back = await client.send(
    new GetLogEventsCommand({
      logGroupName: GROUP,
      logStreamName: stream,
      nextToken: second.nextBackwardToken,
    }),
  );
  const latest = await client.send(
    new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, limit: 2 }),
  );
  logs.put(GROUP, stream, 'line 6', 1_006);
  const more = await client.send(
    new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: stream, nextToken: end.nextForwardToken }),
  );

  expect(first.events?.map((e) => e.message)).toEqual(['line 1', 'line 2', 'line 3']);
  expect(second.events?.map((e) => e.message)).toEqual(['line 4', 'line 5']);
  expect(end.events).toEqual([]);
  expect(end.nextForwardToken).toBe(second.nextForwardToken);
  expect(back.events?.map((e) => e.message)).toEqual(['line 1', 'line 2', 'line 3']);
  expect(latest.events?.map((e) => e.message)).toEqual(['line 4', 'line 5']);
  expect(more.events?.map((e) => e.message)).toEqual(['line 6']);
});

test('FilterLogEvents matches terms, phrases and JSON patterns across streams, by time', async () => {
  const arn = 'arn:aws:states:us-east-1:000000000000:express:order-middleware-local-order-prepare:o-1:abc';
  const line = (fields: object) => JSON.stringify(fields);
  logs.put(
    EXPRESS,
    'states/prepare/2026-11-30-07-00/a',
    line({ type: 'ExecutionStarted', execution_arn: arn }),
    10,
  );
  logs.put(
    EXPRESS,
    'states/prepare/2026-11-30-07-00/b',
    line({ type: 'ExecutionStarted', execution_arn: `${arn}x` }),
    11,
  );
  logs.put(
    EXPRESS,
    'states/prepare/2026-11-30-07-00/a',
    line({ type: 'TaskFailed', execution_arn: arn, details: { error: 'PosUnavailable' } }),
    12,
  );
  logs.put(GROUP, 's', line({ level: 'ERROR', message: 'POS answered 503', correlation_id: 'o-1' }), 20);
  logs.put(GROUP, 's', line({ level: 'INFO', message: 'order accepted', correlation_id: 'o-1' }), 21);
  logs.put(GROUP, 's', 'START RequestId: r-1 Version: $LATEST', 22);

  const filter = (logGroupName: string, filterPattern: string) =>
    client
      .send(new FilterLogEventsCommand({ logGroupName, filterPattern }))
      .then((answer) =>
        answer.events?.map(
          (e) => e.message && (e.message.startsWith('{') ? JSON.parse(e.message) : e.message),
        ),
      );

  expect(await filter(EXPRESS, `{ $.execution_arn = "${arn}" }`)).toEqual([
    { type: 'ExecutionStarted', execution_arn: arn },
    { type: 'TaskFailed', execution_arn: arn, details: { error: 'PosUnavailable' } },
  ]);
  expect(await filter(EXPRESS, `{ $.execution_arn = "${arn}" && $.details.error = "Pos*" }`)).toHaveLength(1);
  expect(await filter(GROUP, '{ $.level = "ERROR" }')).toEqual([
    { level: 'ERROR', message: 'POS answered 503', correlation_id: 'o-1' },
  ]);
  expect(await filter(GROUP, '"order accepted"')).toHaveLength(1);
  expect(await filter(GROUP, 'o-1 -ERROR')).toEqual([
    { level: 'INFO', message: 'order accepted', correlation_id: 'o-1' },
  ]);
  expect(await filter(GROUP, '?START ?503')).toHaveLength(2);
  expect(await filter(GROUP, '')).toHaveLength(3);
  await expect(filter(GROUP, '[ip, user]')).rejects.toBeInstanceOf(InvalidParameterException);
  await expect(filter(GROUP, '{ $.level = }')).rejects.toBeInstanceOf(InvalidParameterException);
});

test('FilterLogEvents takes a group ARN, a time window and pages with nextToken', async () => {
  for (let i = 0; i < 5; i++) logs.put(GROUP, `stream-${i % 2}`, `event ${i}`, 100 + i);
  const identifier = `arn:aws:logs:us-east-1:000000000000:log-group:${GROUP}`;

  const windowed = await client.send(
    new FilterLogEventsCommand({ logGroupIdentifier: identifier, startTime: 101, endTime: 104 }),
  );
  const first = await client.send(new FilterLogEventsCommand({ logGroupName: GROUP, limit: 3 }));
  const rest = await client.send(
    new FilterLogEventsCommand({ logGroupName: GROUP, limit: 3, nextToken: first.nextToken }),
  );

  expect(windowed.events?.map((e) => e.message)).toEqual(['event 1', 'event 2', 'event 3']);
  expect(first.events?.map((e) => e.message)).toEqual(['event 0', 'event 1', 'event 2']);
  expect(rest.events?.map((e) => e.message)).toEqual(['event 3', 'event 4']);
  expect(rest.nextToken).toBeUndefined();
  expect(new Set([...(first.events ?? []), ...(rest.events ?? [])].map((e) => e.eventId)).size).toBe(5);
  // DescribeLogGroups' `arn` ends in `:*`, which an identifier may not (AWS's pattern refuses it).
  await expect(
    client.send(new FilterLogEventsCommand({ logGroupIdentifier: `${identifier}:*` })),
  ).rejects.toBeInstanceOf(InvalidParameterException);
});

test('an unknown log group is ResourceNotFoundException, as on AWS', async () => {
  const call = client.send(new FilterLogEventsCommand({ logGroupName: '/aws/lambda/nope' }));

  await expect(call).rejects.toBeInstanceOf(ResourceNotFoundException);
  await expect(call).rejects.toThrow('The specified log group does not exist.');
  await expect(
    client.send(new GetLogEventsCommand({ logGroupName: GROUP, logStreamName: 'nope' })),
  ).rejects.toThrow('The specified log stream does not exist.');
});

test('a group keeps its newest events only, and a stream whose events are all dropped goes too', async () => {
  logs.put(GROUP, 'old-sandbox', 'the oldest line', 1);
  for (let i = 0; i < 60; i++) logs.put(GROUP, 'warm-sandbox', `line ${i}`, 10 + i);

  const { events } = await client.send(new FilterLogEventsCommand({ logGroupName: GROUP }));
  const { logStreams } = await client.send(new DescribeLogStreamsCommand({ logGroupName: GROUP }));

  expect(events).toHaveLength(50);
  expect(events?.[0]?.message).toBe('line 10');
  expect(logStreams?.map((s) => s.logStreamName)).toEqual(['warm-sandbox']);
  expect(logs.ingestedBytes(GROUP)).toBe(
    Buffer.byteLength('the oldest line') +
      26 +
      Array.from({ length: 60 }, (_, i) => `line ${i}`.length + 26).reduce((a, b) => a + b),
  );
});

test('all groups together keep no more than the byte budget: the oldest events go first, whatever their group', async () => {
  const small = new LocalLogs({ region: 'us-east-1', accountId: '000000000000', maxBytes: 1000 });
  small.ensureLogGroup(GROUP);
  small.ensureLogGroup(EXPRESS);
  const line = (n: number) => `${n}${'x'.repeat(173)}`; // 200 bytes with the 26-byte overhead

  for (let i = 0; i < 8; i++) small.put(i % 2 === 0 ? GROUP : EXPRESS, 'stream', line(i), i);
  const kept = async (logGroupName: string) =>
    (await small.api.FilterLogEvents({ logGroupName })).events.map((e) => e.message[0]);
  const { logGroups } = await small.api.DescribeLogGroups({});

  expect(await kept(GROUP)).toEqual(['4', '6']);
  expect(await kept(EXPRESS)).toEqual(['3', '5', '7']);
  expect(logGroups.map((g) => g.storedBytes).reduce((a, b) => a + b, 0)).toBe(1000);
  expect(small.ingestedBytes(GROUP) + small.ingestedBytes(EXPRESS)).toBe(1600);
});

/** AWS CLI v2 (README: `apt-get install awscli`); the `aws` first on PATH here may be v1. */
const AWS_CLI = '/usr/bin/aws';

test('aws logs tail (AWS CLI v2) prints the group’s lines', async () => {
  expect(existsSync(AWS_CLI)).toBe(true);
  logs.put(GROUP, '2026/11/30/[$LATEST]dddd', 'hello from the kitchen', Date.now() - 1_000);

  const { stdout } = await promisify(execFile)(
    AWS_CLI,
    ['--endpoint-url', edge.url, 'logs', 'tail', GROUP, '--since', '1h', '--format', 'short'],
    {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_REGION: 'us-east-1',
        AWS_PAGER: '',
      },
    },
  );

  expect(stdout).toContain('hello from the kitchen');
});
