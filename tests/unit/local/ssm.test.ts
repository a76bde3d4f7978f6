import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteParameterCommand,
  DeleteParametersCommand,
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
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

describe('filters as AWS applies them', () => {
  const names = (out: { Parameters?: Array<{ Name?: string }> }) =>
    (out.Parameters ?? []).map((p) => p.Name).sort();

  test('DescribeParameters Name Contains matches anywhere in the name, not only the whole name', async () => {
    const out = await ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Name', Option: 'Contains', Values: ['api-key'] }],
      }),
    );

    expect(names(out)).toEqual([
      `${prefix}/partners/doordash/api-key`,
      `${prefix}/partners/grubhub/api-key`,
      `${prefix}/partners/ubereats/api-key`,
      `${prefix}/pos/api-key`,
    ]);
  });

  test('Name BeginsWith takes a prefix; Name Equals (the default) only the whole name', async () => {
    const begins = await ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: [`${prefix}/partners/grub`] }],
      }),
    );
    const equals = await ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: 'Name', Values: [`${prefix}/pos/api-key`] }],
      }),
    );
    const partOnly = await ssm.send(
      new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['api-key'] }] }),
    );

    expect(names(begins)).toEqual([
      `${prefix}/partners/grubhub/api-key`,
      `${prefix}/partners/grubhub/signing-secrets`,
    ]);
    expect(names(equals)).toEqual([`${prefix}/pos/api-key`]);
    expect(names(partOnly)).toEqual([]);
  });

  test('Contains is for Name only; GetParametersByPath refuses Name and takes Type', async () => {
    await expect(
      ssm.send(
        new DescribeParametersCommand({
          ParameterFilters: [{ Key: 'Type', Option: 'Contains', Values: ['Secure'] }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidFilterOption' });
    await expect(
      ssm.send(
        new GetParametersByPathCommand({
          Path: prefix,
          Recursive: true,
          ParameterFilters: [{ Key: 'Name', Option: 'Contains', Values: ['api'] }],
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidFilterKey' });

    const byType = await ssm.send(
      new GetParametersByPathCommand({
        Path: `${prefix}/pos`,
        ParameterFilters: [{ Key: 'Type', Option: 'BeginsWith', Values: ['Secure'] }],
      }),
    );
    const noneOfType = await ssm.send(
      new GetParametersByPathCommand({
        Path: `${prefix}/pos`,
        ParameterFilters: [{ Key: 'Type', Values: ['String'] }],
      }),
    );
    expect(names(byType)).toEqual([`${prefix}/pos/api-key`]);
    expect(names(noneOfType)).toEqual([]);
  });
});

describe('writes', () => {
  let dataDir: string;
  let disk: SSMClient;
  let diskEdge: Edge;
  const name = `${prefix}/pos/base-url`;

  /** A local SSM over `dataDir`, as one start of the local cloud would have it. */
  async function startOn(options: { fresh?: boolean } = {}) {
    await diskEdge?.close();
    const local = new LocalSsm({ stage: 'feature-x-1a2b', dataDir, ...options });
    diskEdge = await startEdge({ port: 0, services: { ssm: local.api } });
    disk = new SSMClient({
      endpoint: diskEdge.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
  }

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ssm-'));
    await startOn();
  });
  afterEach(async () => {
    await diskEdge.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a parameter written, overwritten and a seed deleted are all there after a restart', async () => {
    await disk.send(new PutParameterCommand({ Name: name, Value: 'http://pos-1', Type: 'String' }));
    await disk.send(new PutParameterCommand({ Name: name, Value: 'http://pos-2', Overwrite: true }));
    await disk.send(new DeleteParameterCommand({ Name: `${prefix}/pos/api-key` }));

    await startOn();

    const { Parameter } = await disk.send(new GetParameterCommand({ Name: name }));
    expect(Parameter).toMatchObject({ Value: 'http://pos-2', Version: 2, Type: 'String' });
    await expect(
      disk.send(new GetParameterCommand({ Name: `${prefix}/pos/api-key` })),
    ).rejects.toBeInstanceOf(ParameterNotFound);
    const older = await disk.send(new GetParameterCommand({ Name: `${name}:1` }));
    expect(older.Parameter).toMatchObject({ Value: 'http://pos-1', Version: 1, Selector: ':1' });
    const history = await disk.send(new GetParameterHistoryCommand({ Name: name }));
    expect(history.Parameters?.map((p) => [p.Version, p.Value])).toEqual([
      [1, 'http://pos-1'],
      [2, 'http://pos-2'],
    ]);
  });

  test('a fresh start forgets every write and brings the seed back', async () => {
    await disk.send(new PutParameterCommand({ Name: name, Value: 'http://pos-1', Type: 'String' }));
    await disk.send(new DeleteParameterCommand({ Name: `${prefix}/pos/api-key` }));

    await startOn({ fresh: true });

    await expect(disk.send(new GetParameterCommand({ Name: name }))).rejects.toBeInstanceOf(
      ParameterNotFound,
    );
    const seed = await disk.send(
      new GetParameterCommand({ Name: `${prefix}/pos/api-key`, WithDecryption: true }),
    );
    expect(seed.Parameter).toMatchObject({ Value: 'dev-only-pos-api-key', Version: 1 });
  });

  test('a parameter deleted and made again starts over at version 1', async () => {
    await disk.send(new PutParameterCommand({ Name: name, Value: 'a', Type: 'String' }));
    await disk.send(new PutParameterCommand({ Name: name, Value: 'b', Overwrite: true }));
    await disk.send(new DeleteParameterCommand({ Name: name }));

    const again = await disk.send(new PutParameterCommand({ Name: name, Value: 'c', Type: 'String' }));

    expect(again.Version).toBe(1);
    await expect(disk.send(new GetParameterCommand({ Name: `${name}:2` }))).rejects.toMatchObject({
      name: 'ParameterVersionNotFound',
    });
  });

  test('DeleteParameter of an unknown name is ParameterNotFound; DeleteParameters lists what it could not delete', async () => {
    await expect(disk.send(new DeleteParameterCommand({ Name: `${prefix}/nope` }))).rejects.toBeInstanceOf(
      ParameterNotFound,
    );

    const out = await disk.send(
      new DeleteParametersCommand({ Names: [`${prefix}/pos/api-key`, `${prefix}/nope`] }),
    );

    expect(out).toMatchObject({
      DeletedParameters: [`${prefix}/pos/api-key`],
      InvalidParameters: [`${prefix}/nope`],
    });
    await startOn();
    await expect(
      disk.send(new GetParameterCommand({ Name: `${prefix}/pos/api-key` })),
    ).rejects.toBeInstanceOf(ParameterNotFound);
  });

  test('what AWS refuses: a value over 4 KB in the Standard tier, a reserved prefix, more than 10 names', async () => {
    await expect(
      disk.send(new PutParameterCommand({ Name: name, Value: 'x'.repeat(4097), Type: 'String' })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    const advanced = await disk.send(
      new PutParameterCommand({ Name: name, Value: 'x'.repeat(4097), Type: 'String', Tier: 'Advanced' }),
    );
    expect(advanced.Tier).toBe('Advanced');
    await expect(
      disk.send(new PutParameterCommand({ Name: '/aws/orders', Value: 'x', Type: 'String' })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
    await expect(
      disk.send(new GetParametersCommand({ Names: Array.from({ length: 11 }, (_, i) => `${prefix}/p${i}`) })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });
});
