/**
 * Local SSM Parameter Store: the parameters and secrets the functions read at run time, seeded from
 * the committed development-only file local/dev-secrets.json. What callers write (PutParameter,
 * DeleteParameter(s)) is kept in `<dataDir>/ssm.json`, so it survives a restart and `--fresh`
 * (which empties the data dir) forgets it; the seed file still supplies every parameter nobody wrote.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AwsError, type ServiceApi } from './aws-error';

export type ParameterType = 'String' | 'StringList' | 'SecureString';
const PARAMETER_TYPES: readonly string[] = ['String', 'StringList', 'SecureString'];

/** One version of a parameter, as GetParameterHistory shows it. */
interface ParameterVersion {
  name: string;
  type: ParameterType;
  value: string;
  version: number;
  /** ISO time: the data file is JSON. */
  lastModified: string;
  description?: string;
  tier: 'Standard' | 'Advanced';
}

export interface LocalSsmOptions {
  stage?: string;
  region?: string;
  accountId?: string;
  /** A dev-secrets file: `{ parameters: { [name]: { type, value } } }`. Defaults to local/dev-secrets.json. */
  seedFile?: string;
  /** Extra parameters, applied after the file. */
  seed?: Record<string, { type: ParameterType; value: string }>;
  /** Keep what callers write in `<dataDir>/ssm.json`; in memory only when omitted. */
  dataDir?: string;
  /** Forget what callers wrote before (as `npm start -- --fresh` does). */
  fresh?: boolean;
}

/** The committed file's names use this prefix; another stage gets its own prefix instead. */
const SEED_PREFIX = '/order-middleware/local/';

export const DEFAULT_SEED_FILE = new URL('../dev-secrets.json', import.meta.url);

const PAGE_SIZE_BY_PATH = 10;
const PAGE_SIZE_DESCRIBE = 50;
/** AWS's quotas: value length per tier, versions kept per parameter, names per Get/DeleteParameters. */
const MAX_VALUE_LENGTH = { Standard: 4096, Advanced: 8192 } as const;
const MAX_VERSIONS = 100;
const MAX_NAMES_PER_CALL = 10;

/** What callers wrote: each written parameter's history, and the names they deleted. */
interface SavedWrites {
  written: Record<string, ParameterVersion[]>;
  deleted: string[];
}

export class LocalSsm {
  /** Every version kept per name, oldest first; the last is the current one. */
  private readonly parameters = new Map<string, ParameterVersion[]>();
  private readonly region: string;
  private readonly accountId: string;
  private readonly file: string | undefined;
  private readonly writes: SavedWrites = { written: {}, deleted: [] };

  constructor(options: LocalSsmOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    const stagePrefix = `/order-middleware/${options.stage ?? 'local'}/`;
    const file = JSON.parse(readFileSync(options.seedFile ?? DEFAULT_SEED_FILE, 'utf8')) as {
      parameters: Record<string, { type: ParameterType; value: string }>;
    };
    for (const [name, { type, value }] of Object.entries(file.parameters)) {
      const staged = name.startsWith(SEED_PREFIX) ? stagePrefix + name.slice(SEED_PREFIX.length) : name;
      this.store(staged, value, type, true);
    }
    for (const [name, { type, value }] of Object.entries(options.seed ?? {}))
      this.store(name, value, type, true);
    if (options.dataDir) {
      mkdirSync(options.dataDir, { recursive: true });
      this.file = join(options.dataDir, 'ssm.json');
      if (options.fresh) rmSync(this.file, { force: true });
      else this.load();
    }
  }

  /** Sets a parameter (a caller's write: kept across restarts), returning its new version. */
  put(
    name: string,
    value: string,
    type?: ParameterType,
    overwrite = true,
    description?: string,
    tier: 'Standard' | 'Advanced' = 'Standard',
  ): number {
    const version = this.store(name, value, type, overwrite, description, tier);
    this.writes.written[name] = this.parameters.get(name) ?? [];
    this.writes.deleted = this.writes.deleted.filter((deleted) => deleted !== name);
    this.save();
    return version;
  }

  /** Removes a parameter and its history (a caller's delete: kept across restarts). */
  delete(name: string): void {
    if (!this.parameters.delete(name))
      throw new AwsError('ParameterNotFound', `Parameter ${name} not found.`);
    delete this.writes.written[name];
    if (!this.writes.deleted.includes(name)) this.writes.deleted.push(name);
    this.save();
  }

  private store(
    name: string,
    value: string,
    type: ParameterType | undefined,
    overwrite: boolean,
    description?: string,
    tier: 'Standard' | 'Advanced' = 'Standard',
  ): number {
    checkName(name);
    if (typeof value !== 'string' || value.length === 0) {
      throw new AwsError('ValidationException', 'Parameter value must not be empty');
    }
    if (type !== undefined && !PARAMETER_TYPES.includes(type)) {
      throw new AwsError(
        'ValidationException',
        `1 validation error detected: Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`,
      );
    }
    if (value.length > MAX_VALUE_LENGTH[tier]) {
      throw new AwsError(
        'ValidationException',
        tier === 'Standard'
          ? `Standard tier parameters support a maximum parameter value of ${MAX_VALUE_LENGTH.Standard} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html`
          : `Advanced tier parameters support a maximum parameter value of ${MAX_VALUE_LENGTH.Advanced} characters.`,
      );
    }
    const history = this.parameters.get(name) ?? [];
    const current = history.at(-1);
    if (current && !overwrite) {
      throw new AwsError(
        'ParameterAlreadyExists',
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    if (!current && !type)
      throw new AwsError('ValidationException', 'A parameter type is required when you create a parameter.');
    const version = (current?.version ?? 0) + 1;
    // AWS keeps 100 versions: a new one drops the oldest (which, locally, never has a label).
    if (history.length >= MAX_VERSIONS) history.shift();
    const kept = description ?? current?.description;
    history.push({
      name,
      type: type ?? (current?.type as ParameterType),
      value,
      version,
      lastModified: new Date().toISOString(),
      ...(kept !== undefined && { description: kept }),
      tier: current?.tier === 'Advanced' ? 'Advanced' : tier,
    });
    this.parameters.set(name, history);
    return version;
  }

  readonly api: ServiceApi = {
    GetParameter: async (input: { Name: string; WithDecryption?: boolean }) => ({
      Parameter: this.shape(this.find(input.Name), input.WithDecryption, selectorOf(input.Name)),
    }),
    GetParameters: async (input: { Names: string[]; WithDecryption?: boolean }) => {
      checkNameCount(input.Names, 'names');
      const found = input.Names.filter((name) => this.lookup(name));
      return {
        Parameters: found.map((name) => this.shape(this.find(name), input.WithDecryption, selectorOf(name))),
        InvalidParameters: input.Names.filter((name) => !this.lookup(name)),
      };
    },
    GetParametersByPath: async (input: {
      Path: string;
      Recursive?: boolean;
      WithDecryption?: boolean;
      ParameterFilters?: ParameterFilter[];
      MaxResults?: number;
      NextToken?: string;
    }) => {
      if (!input.Path?.startsWith('/')) {
        throw new AwsError(
          'ValidationException',
          `The parameter path ${input.Path} is not valid: it must begin with /`,
        );
      }
      const filters = checkFilters(input.ParameterFilters, BY_PATH_FILTERS);
      const base = input.Path.endsWith('/') ? input.Path : `${input.Path}/`;
      const under = this.current().filter((p) => {
        if (!p.name.startsWith(base)) return false;
        if (!input.Recursive && p.name.slice(base.length).includes('/')) return false;
        return filters.every((f) => matchesFilter(p, f));
      });
      const page = paginate(under, input.NextToken, input.MaxResults ?? PAGE_SIZE_BY_PATH, 10);
      return { Parameters: page.items.map((p) => this.shape(p, input.WithDecryption)), ...page.next };
    },
    GetParameterHistory: async (input: {
      Name: string;
      WithDecryption?: boolean;
      MaxResults?: number;
      NextToken?: string;
    }) => {
      const history = this.parameters.get(input.Name);
      if (!history) throw new AwsError('ParameterNotFound', `Parameter ${input.Name} not found.`);
      const page = paginate(history, input.NextToken, input.MaxResults ?? 50, 50);
      return {
        Parameters: page.items.map((p) => {
          const { ARN: _arn, Selector: _selector, ...shown } = this.shape(p, input.WithDecryption);
          return { ...shown, Tier: p.tier, Labels: [], Policies: [], ...describedBy(p) };
        }),
        ...page.next,
      };
    },
    PutParameter: async (input: {
      Name: string;
      Value: string;
      Type?: ParameterType;
      Overwrite?: boolean;
      Description?: string;
      Tier?: string;
      DataType?: string;
      AllowedPattern?: string;
      Tags?: unknown[];
      Policies?: string;
      KeyId?: string;
    }) => {
      if (input.Overwrite && input.Tags?.length) {
        throw new AwsError(
          'ValidationException',
          "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
        );
      }
      if (input.DataType !== undefined && input.DataType !== 'text') {
        throw new AwsError(
          'UnsupportedParameterType',
          `DataType ${input.DataType} is not emulated locally; only text is`,
        );
      }
      if (input.Policies !== undefined) {
        throw new AwsError('InvalidPolicyTypeException', 'Parameter policies are not emulated locally');
      }
      if (input.AllowedPattern !== undefined && !new RegExp(input.AllowedPattern).test(input.Value ?? '')) {
        throw new AwsError(
          'ParameterPatternMismatchException',
          `Parameter value, cannot be validated against allowedPattern: ${input.AllowedPattern}`,
        );
      }
      const tier = input.Tier === 'Advanced' ? 'Advanced' : 'Standard';
      if (input.Tier !== undefined && !['Standard', 'Advanced', 'Intelligent-Tiering'].includes(input.Tier)) {
        throw new AwsError('ValidationException', `Tier ${input.Tier} is not valid`);
      }
      // Intelligent-Tiering picks Advanced only for what Standard cannot hold.
      const chosen =
        input.Tier === 'Intelligent-Tiering' && (input.Value?.length ?? 0) > MAX_VALUE_LENGTH.Standard
          ? 'Advanced'
          : tier;
      const version = this.put(
        input.Name,
        input.Value,
        input.Type,
        input.Overwrite ?? false,
        input.Description,
        chosen,
      );
      return { Version: version, Tier: this.parameters.get(input.Name)?.at(-1)?.tier ?? chosen };
    },
    DeleteParameter: async (input: { Name: string }) => {
      this.delete(input.Name);
      return {};
    },
    DeleteParameters: async (input: { Names: string[] }) => {
      checkNameCount(input.Names, 'names');
      const deleted = input.Names.filter((name) => this.parameters.has(name));
      for (const name of deleted) this.delete(name);
      return {
        DeletedParameters: deleted,
        InvalidParameters: input.Names.filter((name) => !deleted.includes(name)),
      };
    },
    DescribeParameters: async (input: {
      Filters?: Array<{ Key: string; Values: string[] }>;
      ParameterFilters?: ParameterFilter[];
      MaxResults?: number;
      NextToken?: string;
    }) => {
      if (input.Filters?.length && input.ParameterFilters?.length) {
        throw new AwsError(
          'ValidationException',
          'You can use either Filters or ParameterFilters in a single request.',
        );
      }
      // The older Filters are ParameterFilters with the Equals option (Name, Type, KeyId only).
      const legacy = (input.Filters ?? []).map((f) => {
        if (!['Name', 'Type', 'KeyId'].includes(f.Key))
          throw new AwsError('InvalidFilterKey', `The filter key ${f.Key} is not valid for Filters.`);
        return { Key: f.Key, Option: 'Equals', Values: f.Values };
      });
      const filters = [...legacy, ...checkFilters(input.ParameterFilters, DESCRIBE_FILTERS)];
      const matching = this.current().filter((p) => filters.every((f) => matchesFilter(p, f)));
      const page = paginate(matching, input.NextToken, input.MaxResults ?? PAGE_SIZE_DESCRIBE, 50);
      return {
        Parameters: page.items.map((p) => {
          const { Value: _value, Selector: _selector, ...metadata } = this.shape(p, true);
          return { ...metadata, Tier: p.tier, Policies: [], ...describedBy(p) };
        }),
        ...page.next,
      };
    },
  };

  /** The current version of every parameter, by name. */
  private current(): ParameterVersion[] {
    return [...this.parameters.values()]
      .map((history) => history.at(-1))
      .filter((p): p is ParameterVersion => p !== undefined)
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Names may carry a version selector (`name:3`): that version from the history. */
  private lookup(nameWithSelector: string): ParameterVersion | undefined {
    const [name, selector] = splitSelector(nameWithSelector);
    const history = this.parameters.get(name);
    if (selector === undefined) return history?.at(-1);
    return history?.find((p) => String(p.version) === selector);
  }

  private find(name: string): ParameterVersion {
    const parameter = this.lookup(name);
    if (parameter) return parameter;
    const [bare, selector] = splitSelector(name);
    if (selector !== undefined && this.parameters.has(bare)) {
      throw new AwsError(
        'ParameterVersionNotFound',
        `Systems Manager could not find version ${selector} of ${bare}. Verify the version and try again.`,
      );
    }
    throw new AwsError('ParameterNotFound', `Parameter ${name} not found.`);
  }

  private arn(name: string): string {
    return `arn:aws:ssm:${this.region}:${this.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  }

  private shape(p: ParameterVersion, withDecryption = false, selector?: string) {
    const hidden = p.type === 'SecureString' && !withDecryption;
    return {
      Name: p.name,
      Type: p.type,
      Value: hidden ? opaqueCiphertext(p) : p.value,
      Version: p.version,
      LastModifiedDate: new Date(p.lastModified),
      ARN: this.arn(p.name),
      DataType: 'text',
      Selector: selector,
    };
  }

  private save(): void {
    if (!this.file) return;
    const temporary = `${this.file}.tmp`;
    writeFileSync(temporary, JSON.stringify(this.writes));
    renameSync(temporary, this.file);
  }

  /** Replays what callers wrote over the seed: their versions, and their deletes. */
  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.file!, 'utf8');
    } catch {
      return; // nothing written yet
    }
    const saved = JSON.parse(text) as SavedWrites;
    for (const [name, history] of Object.entries(saved.written ?? {})) {
      this.parameters.set(name, history);
      this.writes.written[name] = history;
    }
    for (const name of saved.deleted ?? []) {
      this.parameters.delete(name);
      this.writes.deleted.push(name);
    }
  }
}

/** Parameter names as AWS takes them: a hierarchy begins with `/`, and `aws`/`ssm` prefixes are reserved. */
function checkName(name: string): void {
  if (!name || (!name.startsWith('/') && name.includes('/'))) {
    throw new AwsError(
      'ValidationException',
      `Parameter name ${name} is not valid: a hierarchy must begin with /`,
    );
  }
  if (/^\/?(aws|ssm)/i.test(name)) {
    throw new AwsError(
      'ValidationException',
      'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_',
    );
  }
  if (!/^[A-Za-z0-9_.\-/]+$/.test(name) || name.length > 1011) {
    throw new AwsError(
      'ValidationException',
      `Parameter name ${name} is not valid: only a-zA-Z0-9_.-/ are allowed`,
    );
  }
  if (name.split('/').filter(Boolean).length > 15) {
    throw new AwsError(
      'HierarchyLevelLimitExceededException',
      'A hierarchy can have a maximum of 15 levels.',
    );
  }
}

function checkNameCount(names: string[] | undefined, member: string): void {
  if (!names?.length || names.length > MAX_NAMES_PER_CALL) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${MAX_NAMES_PER_CALL}, Member must have length greater than or equal to 1`,
    );
  }
}

function describedBy(p: ParameterVersion) {
  return p.description === undefined ? {} : { Description: p.description };
}

/** Stands in for the KMS ciphertext AWS returns for a SecureString read without decryption. */
function opaqueCiphertext(p: ParameterVersion): string {
  const digest = createHash('sha256').update(`${p.name}:${p.version}:${p.value}`).digest();
  return `AQICAH${Buffer.concat([Buffer.from('local-kms:'), digest]).toString('base64')}`;
}

function splitSelector(name: string): [string, string | undefined] {
  const selector = /^(.+):(\d+)$/.exec(name);
  return selector ? [selector[1]!, selector[2]] : [name, undefined];
}

/** The Selector AWS echoes for a `name:version` read. */
function selectorOf(name: string): string | undefined {
  const [, selector] = splitSelector(name);
  return selector === undefined ? undefined : `:${selector}`;
}

function paginate<T>(items: T[], token: string | undefined, size: number, maxSize: number) {
  if (!Number.isInteger(size) || size < 1 || size > maxSize) {
    throw new AwsError(
      'ValidationException',
      `1 validation error detected: Value '${size}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${maxSize}`,
    );
  }
  const start = token ? Number(Buffer.from(token, 'base64').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw new AwsError('InvalidNextToken', 'The specified token is not valid.');
  const end = start + size;
  return {
    items: items.slice(start, end),
    next: end < items.length ? { NextToken: Buffer.from(String(end)).toString('base64') } : {},
  };
}

interface ParameterFilter {
  Key: string;
  Option?: string;
  Values?: string[];
}

/**
 * Which filter keys each operation takes, and their options (the first is the default). From the
 * ParameterStringFilter reference: DescribeParameters takes Equals and BeginsWith, Name also
 * Contains, Path Recursive and OneLevel, and not Label; GetParametersByPath takes Equals and
 * BeginsWith, and not tag, DataType, Name, Path or Tier. Label and tag: keys are not emulated.
 */
const DESCRIBE_FILTERS: Record<string, string[]> = {
  Name: ['Equals', 'BeginsWith', 'Contains'],
  Path: ['OneLevel', 'Recursive'],
  Type: ['Equals', 'BeginsWith'],
  KeyId: ['Equals', 'BeginsWith'],
  Tier: ['Equals', 'BeginsWith'],
  DataType: ['Equals', 'BeginsWith'],
};
const BY_PATH_FILTERS: Record<string, string[]> = {
  Type: ['Equals', 'BeginsWith'],
  KeyId: ['Equals', 'BeginsWith'],
};

/** Checks each filter's key and option as AWS does, filling in the default option. */
function checkFilters(
  filters: ParameterFilter[] | undefined,
  allowed: Record<string, string[]>,
): Required<ParameterFilter>[] {
  return (filters ?? []).map((filter) => {
    const options = allowed[filter.Key];
    if (!options) {
      const emulatedElsewhere = filter.Key === 'Label' || filter.Key.startsWith('tag:');
      throw new AwsError(
        'InvalidFilterKey',
        emulatedElsewhere
          ? `The filter key ${filter.Key} is not emulated locally (parameters carry no labels or tags here).`
          : `The following filter key is not valid: ${filter.Key}. Valid filter keys include: [${Object.keys(allowed).join(', ')}].`,
      );
    }
    const option = filter.Option ?? options[0]!;
    if (!options.includes(option)) {
      throw new AwsError(
        'InvalidFilterOption',
        `The following filter option is not valid: ${option}. Valid options include: [${options.join(', ')}].`,
      );
    }
    if (!filter.Values?.length && filter.Key !== 'Path') {
      throw new AwsError('InvalidFilterValue', `The filter ${filter.Key} needs at least one value.`);
    }
    return { Key: filter.Key, Option: option, Values: filter.Values ?? [] };
  });
}

/** The text a filter key compares: the parameter's name, type, key, tier or data type. */
function fieldOf(p: ParameterVersion, key: string): string {
  switch (key) {
    case 'Name':
      return p.name;
    case 'Type':
      return p.type;
    case 'KeyId':
      return p.type === 'SecureString' ? 'alias/aws/ssm' : '';
    case 'Tier':
      return p.tier;
    default:
      return 'text';
  }
}

/** One filter against a parameter; a filter matches when any of its values does. */
function matchesFilter(
  p: ParameterVersion,
  filter: { Key: string; Option: string; Values: string[] },
): boolean {
  if (filter.Key === 'Path') {
    return filter.Values.some((v) => {
      const base = v.endsWith('/') ? v : `${v}/`;
      if (!p.name.startsWith(base)) return false;
      return filter.Option === 'Recursive' || !p.name.slice(base.length).includes('/');
    });
  }
  const field = fieldOf(p, filter.Key);
  return filter.Values.some((value) => {
    if (filter.Option === 'BeginsWith') return field.startsWith(value);
    if (filter.Option === 'Contains') return field.includes(value);
    return field === value;
  });
}
