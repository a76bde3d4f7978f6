/**
 * Lambda's read operations on their REST paths, as the edge serves them: `ListFunctions`
 * (`GET /2015-03-31/functions/`, `Marker`/`MaxItems`), `GetFunction` (`GET …/functions/{name}`) and
 * `GetFunctionConfiguration` (`GET …/functions/{name}/configuration`), in AWS's shapes, from the
 * template's functions. A name may be a name, a partial or a full ARN; an unknown one is a 404
 * `ResourceNotFoundException`, as on Lambda.
 */
import { createHash } from 'node:crypto';
import type { LambdaRestApi } from '../edge';
import type { LocalFunction } from '../template';

const FUNCTIONS_PATH = /^\/2015-03-31\/functions\/?$/;
const FUNCTION_PATH = /^\/2015-03-31\/functions\/([^/]+)(\/configuration)?\/?$/;
/** Lambda reports LastModified like this: `2024-05-01T12:00:00.000+0000`. */
const lastModified = new Date().toISOString().replace('Z', '+0000');

export function lambdaReadApi(functions: readonly LocalFunction[]): LambdaRestApi {
  const byName = new Map(functions.map((fn) => [fn.name, fn]));
  return (method, path, query) => {
    if (method !== 'GET') return undefined;
    if (FUNCTIONS_PATH.test(path)) return listFunctions(functions, query);
    const match = FUNCTION_PATH.exec(path);
    if (!match) return undefined;
    const nameOrArn = decodeURIComponent(match[1]!);
    const fn = byName.get(functionNameOf(nameOrArn));
    if (!fn) return notFound(nameOrArn, functions[0]?.arn);
    const qualifier = query.get('Qualifier') ?? qualifierOf(nameOrArn);
    if (qualifier !== undefined && qualifier !== '$LATEST') return notFound(`${fn.arn}:${qualifier}`);
    if (match[2]) return { status: 200, body: configurationOf(fn) };
    return {
      status: 200,
      body: {
        Configuration: configurationOf(fn),
        Code: { RepositoryType: 'S3', Location: `file://${fn.artifactKey ?? `${fn.logicalId}.zip`}` },
        ...(fn.reservedConcurrency !== undefined && {
          Concurrency: { ReservedConcurrentExecutions: fn.reservedConcurrency },
        }),
      },
    };
  };
}

function listFunctions(functions: readonly LocalFunction[], query: URLSearchParams) {
  const maxItems = query.has('MaxItems') ? Number(query.get('MaxItems')) : 50;
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > 50) {
    return invalidParameter(
      `1 validation error detected: Value '${query.get('MaxItems')}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 50`,
    );
  }
  const sorted = [...functions].sort((a, b) => (a.name < b.name ? -1 : 1));
  const marker = query.get('Marker');
  const start = marker ? Number(Buffer.from(marker, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) return invalidParameter('Invalid Marker');
  const page = sorted.slice(start, start + maxItems);
  const next = start + maxItems < sorted.length;
  return {
    status: 200,
    body: {
      Functions: page.map(configurationOf),
      ...(next && { NextMarker: Buffer.from(String(start + maxItems)).toString('base64url') }),
    },
  };
}

/** FunctionConfiguration as GetFunction and ListFunctions return it. */
function configurationOf(fn: LocalFunction) {
  const sha = createHash('sha256')
    .update(`${fn.name}:${fn.handler}:${fn.artifactKey ?? ''}`)
    .digest('base64');
  return {
    FunctionName: fn.name,
    FunctionArn: fn.arn,
    Runtime: fn.runtime,
    Handler: fn.handler,
    CodeSha256: sha,
    Description: '',
    Timeout: fn.timeout,
    MemorySize: fn.memorySize,
    LastModified: lastModified,
    Version: '$LATEST',
    Environment: { Variables: fn.environment },
    TracingConfig: { Mode: 'PassThrough' },
    ...(fn.deadLetterArn && { DeadLetterConfig: { TargetArn: fn.deadLetterArn } }),
    State: 'Active',
    LastUpdateStatus: 'Successful',
    PackageType: 'Zip',
    Architectures: [fn.architecture],
    EphemeralStorage: { Size: 512 },
    LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${fn.name}` },
  };
}

/** `name`, `name:qualifier`, `123456789012:function:name[:q]` or the full ARN → name. */
function functionNameOf(nameOrArn: string): string {
  const arn = /(?:^|:)function:([^:]+)/.exec(nameOrArn);
  if (arn) return arn[1]!;
  return nameOrArn.split(':')[0] ?? nameOrArn;
}

function qualifierOf(nameOrArn: string): string | undefined {
  const arn = /(?:^|:)function:[^:]+:([^:]+)$/.exec(nameOrArn);
  if (arn) return arn[1];
  if (nameOrArn.includes('function:')) return undefined;
  const parts = nameOrArn.split(':');
  return parts.length === 2 ? parts[1] : undefined;
}

function notFound(nameOrArn: string, anyArn?: string) {
  const arn = nameOrArn.startsWith('arn:')
    ? nameOrArn
    : `${(anyArn ?? 'arn:aws:lambda:us-east-1:000000000000:function:x').replace(/function:.*$/, 'function:')}${nameOrArn}`;
  return {
    status: 404,
    errorType: 'ResourceNotFoundException',
    body: { Type: 'User', Message: `Function not found: ${arn}` },
  };
}

function invalidParameter(message: string) {
  return { status: 400, errorType: 'InvalidParameterValueException', body: { Type: 'User', message } };
}
