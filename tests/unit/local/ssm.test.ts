import {
  DescribeParametersCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { type Edge, startEdge } from '../../../local/cloud/edge';
import { LocalSsm } from '../../../local/cloud/ssm';

const prefix = '/order-middleware/feature-x-1a2b';
let edge: Edge;
let ssm: SSMClient;

beforeAll(async () => {
  const local = new LocalSsm({ stage: 'feature-x-1a2b', region: 'us-east-1', accountId: '000000000000' });
  edge = await startEdge({ port: 0, services: { ssm: local.api } });
  ssm = new SSMClient({
    endpoint: edge.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
});
afterAll(() => edge.close());

test('GetParameter WithDecryption returns a seeded secret under the stage prefix', async () => {
  const { Parameter } = await ssm.send(
    new GetParameterCommand({ Name: `${prefix}/partners/ubereats/signing-secrets`, WithDecryption: true }),
  );
  expect(Parameter?.Value?.split(',')).toHaveLength(2);
  expect(Parameter).toMatchObject({
    Type: 'SecureString',
    Version: 1,
    ARN: `arn:aws:ssm:us-east-1:000000000000:parameter${prefix}/partners/ubereats/signing-secrets`,
  });
  expect(Parameter?.LastModifiedDate).toBeInstanceOf(Date);
});

test('a SecureString read without decryption is opaque', async () => {
  const name = `${prefix}/pos/api-key`;
  const clear = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  const opaque = await ssm.send(new GetParameterCommand({ Name: name }));
  expect(opaque.Parameter?.Value).not.toBe(clear.Parameter?.Value);
  expect(opaque.Parameter?.Value).not.toContain(clear.Parameter?.Value);
});

test('an unknown name is ParameterNotFound; the unstaged seed name does not exist', async () => {
  await expect(
    ssm.send(new GetParameterCommand({ Name: '/order-middleware/local/pos/api-key' })),
  ).rejects.toBeInstanceOf(ParameterNotFound);
});

test('GetParameters lists the names it does not know as InvalidParameters', async () => {
  const out = await ssm.send(
    new GetParametersCommand({ Names: [`${prefix}/pos/api-key`, `${prefix}/nope`], WithDecryption: true }),
  );
  expect(out.Parameters?.map((p) => p.Value)).toEqual(['dev-only-pos-api-key']);
  expect(out.InvalidParameters).toEqual([`${prefix}/nope`]);
});

test('GetParametersByPath is one level unless Recursive, and pages', async () => {
  const flat = await ssm.send(new GetParametersByPathCommand({ Path: `${prefix}/pos` }));
  expect(flat.Parameters?.map((p) => p.Name)).toEqual([`${prefix}/pos/api-key`]);
  expect((await ssm.send(new GetParametersByPathCommand({ Path: prefix }))).Parameters).toEqual([]);

  const names: string[] = [];
  let NextToken: string | undefined;
  do {
    const page = await ssm.send(
      new GetParametersByPathCommand({ Path: prefix, Recursive: true, MaxResults: 3, NextToken }),
    );
    names.push(...(page.Parameters ?? []).map((p) => p.Name!));
    NextToken = page.NextToken;
  } while (NextToken);
  expect(names).toHaveLength(7);
  expect(names).toContain(`${prefix}/partners/grubhub/api-key`);
});

test('PutParameter refuses to overwrite unless asked, and bumps the version when it does', async () => {
  const name = `${prefix}/partners/doordash/signing-secrets`;
  await expect(
    ssm.send(new PutParameterCommand({ Name: name, Value: 'x', Type: 'SecureString' })),
  ).rejects.toBeInstanceOf(ParameterAlreadyExists);
  const put = await ssm.send(
    new PutParameterCommand({ Name: name, Value: 'new,old', Type: 'SecureString', Overwrite: true }),
  );
  expect(put.Version).toBe(2);
  const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
  expect(Parameter).toMatchObject({ Value: 'new,old', Version: 2 });
});

test('DescribeParameters filters by path and never shows values', async () => {
  const out = await ssm.send(
    new DescribeParametersCommand({
      ParameterFilters: [{ Key: 'Path', Option: 'Recursive', Values: [`${prefix}/partners/grubhub`] }],
    }),
  );
  expect(out.Parameters?.map((p) => p.Name).sort()).toEqual([
    `${prefix}/partners/grubhub/api-key`,
    `${prefix}/partners/grubhub/signing-secrets`,
  ]);
  expect(JSON.stringify(out.Parameters)).not.toContain('dev-only');
});
