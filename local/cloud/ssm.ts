/**
 * Local SSM Parameter Store: the parameters and secrets the functions read at run time, seeded from
 * the committed development-only file local/dev-secrets.json. Kept in memory: a restart re-seeds.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AwsError, type ServiceApi } from './aws-error';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

interface Parameter {
  name: string;
  type: ParameterType;
  value: string;
  version: number;
  lastModified: Date;
  description?: string;
}

export interface LocalSsmOptions {
  stage?: string;
  region?: string;
  accountId?: string;
  /** A dev-secrets file: `{ parameters: { [name]: { type, value } } }`. Defaults to local/dev-secrets.json. */
  seedFile?: string;
  /** Extra parameters, applied after the file. */
  seed?: Record<string, { type: ParameterType; value: string }>;
}

/** The committed file's names use this prefix; another stage gets its own prefix instead. */
const SEED_PREFIX = '/order-middleware/local/';

export const DEFAULT_SEED_FILE = new URL('../dev-secrets.json', import.meta.url);

const PAGE_SIZE_BY_PATH = 10;
const PAGE_SIZE_DESCRIBE = 50;

export class LocalSsm {
  private readonly parameters = new Map<string, Parameter>();
  private readonly region: string;
  private readonly accountId: string;

  constructor(options: LocalSsmOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    const stagePrefix = `/order-middleware/${options.stage ?? 'local'}/`;
    const file = JSON.parse(readFileSync(options.seedFile ?? DEFAULT_SEED_FILE, 'utf8')) as {
      parameters: Record<string, { type: ParameterType; value: string }>;
    };
    for (const [name, { type, value }] of Object.entries(file.parameters)) {
      const staged = name.startsWith(SEED_PREFIX) ? stagePrefix + name.slice(SEED_PREFIX.length) : name;
      this.put(staged, value, type);
    }
    for (const [name, { type, value }] of Object.entries(options.seed ?? {}))
      this.put(name, value, type, true);
  }

  /** Sets a parameter, returning its new version. */
  put(name: string, value: string, type?: ParameterType, overwrite = true): number {
    if (!name || (!name.startsWith('/') && name.includes('/'))) {
      throw new AwsError(
        'ValidationException',
        `Parameter name ${name} is not valid: a hierarchy must begin with /`,
      );
    }
    if (typeof value !== 'string' || value.length === 0) {
      throw new AwsError('ValidationException', 'Parameter value must not be empty');
    }
    const existing = this.parameters.get(name);
    if (existing && !overwrite) {
      throw new AwsError(
        'ParameterAlreadyExists',
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    if (!existing && !type)
      throw new AwsError('ValidationException', 'A parameter type is required when you create a parameter.');
    const version = (existing?.version ?? 0) + 1;
    this.parameters.set(name, {
      name,
      type: type ?? existing!.type,
      value,
      version,
      lastModified: new Date(),
    });
    return version;
  }

  readonly api: ServiceApi = {
    GetParameter: async (input: { Name: string; WithDecryption?: boolean }) => ({
      Parameter: this.shape(this.find(input.Name), input.WithDecryption),
    }),
    GetParameters: async (input: { Names: string[]; WithDecryption?: boolean }) => {
      const found = input.Names.filter((name) => this.lookup(name));
      return {
        Parameters: found.map((name) => this.shape(this.find(name), input.WithDecryption)),
        InvalidParameters: input.Names.filter((name) => !this.lookup(name)),
      };
    },
    GetParametersByPath: async (input: {
      Path: string;
      Recursive?: boolean;
      WithDecryption?: boolean;
      MaxResults?: number;
      NextToken?: string;
    }) => {
      const base = input.Path.endsWith('/') ? input.Path : `${input.Path}/`;
      const under = this.sorted().filter((p) => {
        if (!p.name.startsWith(base)) return false;
        return input.Recursive || !p.name.slice(base.length).includes('/');
      });
      const page = paginate(under, input.NextToken, input.MaxResults ?? PAGE_SIZE_BY_PATH);
      return { Parameters: page.items.map((p) => this.shape(p, input.WithDecryption)), ...page.next };
    },
    PutParameter: async (input: {
      Name: string;
      Value: string;
      Type?: ParameterType;
      Overwrite?: boolean;
      Description?: string;
    }) => ({
      Version: this.put(input.Name, input.Value, input.Type, input.Overwrite ?? false),
      Tier: 'Standard',
    }),
    DeleteParameter: async (input: { Name: string }) => {
      this.find(input.Name);
      this.parameters.delete(input.Name);
      return {};
    },
    DescribeParameters: async (input: {
      ParameterFilters?: Array<{ Key: string; Option?: string; Values?: string[] }>;
      MaxResults?: number;
      NextToken?: string;
    }) => {
      const matching = this.sorted().filter((p) =>
        (input.ParameterFilters ?? []).every((f) => matchesFilter(p, f)),
      );
      const page = paginate(matching, input.NextToken, input.MaxResults ?? PAGE_SIZE_DESCRIBE);
      return {
        Parameters: page.items.map((p) => {
          const { Value: _value, Selector: _selector, ...metadata } = this.shape(p, true);
          return { ...metadata, Tier: 'Standard', Policies: [] };
        }),
        ...page.next,
      };
    },
  };

  private sorted(): Parameter[] {
    return [...this.parameters.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Names may carry a version selector (`name:3`); only the current version is kept locally. */
  private lookup(nameWithSelector: string): Parameter | undefined {
    const [name, selector] = splitSelector(nameWithSelector);
    const parameter = this.parameters.get(name);
    if (!parameter || (selector !== undefined && selector !== String(parameter.version))) return undefined;
    return parameter;
  }

  private find(name: string): Parameter {
    const parameter = this.lookup(name);
    if (!parameter) throw new AwsError('ParameterNotFound', `Parameter ${name} not found.`);
    return parameter;
  }

  private arn(name: string): string {
    return `arn:aws:ssm:${this.region}:${this.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  }

  private shape(p: Parameter, withDecryption = false) {
    const hidden = p.type === 'SecureString' && !withDecryption;
    return {
      Name: p.name,
      Type: p.type,
      Value: hidden ? opaqueCiphertext(p) : p.value,
      Version: p.version,
      LastModifiedDate: p.lastModified,
      ARN: this.arn(p.name),
      DataType: 'text',
      Selector: undefined as string | undefined,
    };
  }
}

/** Stands in for the KMS ciphertext AWS returns for a SecureString read without decryption. */
function opaqueCiphertext(p: Parameter): string {
  const digest = createHash('sha256').update(`${p.name}:${p.version}:${p.value}`).digest();
  return `AQICAH${Buffer.concat([Buffer.from('local-kms:'), digest]).toString('base64')}`;
}

function splitSelector(name: string): [string, string | undefined] {
  const selector = /^(.+):(\d+)$/.exec(name);
  return selector ? [selector[1]!, selector[2]] : [name, undefined];
}

function paginate<T>(items: T[], token: string | undefined, size: number) {
  const start = token ? Number(Buffer.from(token, 'base64').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw new AwsError('InvalidNextToken', 'The specified token is not valid.');
  const end = start + size;
  return {
    items: items.slice(start, end),
    next: end < items.length ? { NextToken: Buffer.from(String(end)).toString('base64') } : {},
  };
}

/** DescribeParameters' ParameterFilters for Name, Path and Type. */
function matchesFilter(p: Parameter, filter: { Key: string; Option?: string; Values?: string[] }): boolean {
  const values = filter.Values ?? [];
  switch (filter.Key) {
    case 'Name':
      return values.some((v) => (filter.Option === 'BeginsWith' ? p.name.startsWith(v) : p.name === v));
    case 'Path':
      return values.some((v) => {
        const base = v.endsWith('/') ? v : `${v}/`;
        if (!p.name.startsWith(base)) return false;
        return filter.Option === 'Recursive' || !p.name.slice(base.length).includes('/');
      });
    case 'Type':
      return values.includes(p.type);
    default:
      throw new AwsError('InvalidFilterKey', `The filter key ${filter.Key} is not supported locally.`);
  }
}
