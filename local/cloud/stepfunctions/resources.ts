import { randomUUID } from 'node:crypto';
import { TaskFailure } from './errors';

/** The services a Task reaches, injected by the local cloud (fakes in tests). */
export interface Integrations {
  invokeLambda(
    functionArnOrName: string,
    payload: unknown,
  ): Promise<{ payload?: unknown; error?: { errorType: string; errorMessage: string } }>;
  putEvents(entries: EventEntry[]): Promise<{ FailedEntryCount: number; Entries: unknown[] }>;
  /** Raw DynamoDB JSON in and out; throws errors named after the DynamoDB error. */
  dynamodb(action: string, params: Record<string, unknown>): Promise<unknown>;
}

export interface EventEntry {
  Source: string;
  DetailType: string;
  Detail: string;
  EventBusName?: string;
  Resources?: string[];
}

export type Pattern = 'request' | 'token' | 'sync' | 'sync2';

/** What a Task's Resource ARN asks for; `undefined` from resourceOf means "not supported locally". */
export type Resource =
  | { service: 'lambda'; functionArn: string; pattern: 'request' }
  | { service: 'lambda'; action: 'invoke'; pattern: 'request' | 'token' }
  | { service: 'events'; action: 'putEvents'; pattern: 'request' }
  | { service: 'dynamodb'; action: DynamoAction; pattern: 'request' }
  | { service: 'states'; action: 'startExecution'; pattern: 'request' | 'sync' | 'sync2' };

type DynamoAction = 'getItem' | 'putItem' | 'updateItem' | 'deleteItem';

const LAMBDA_FUNCTION_ARN = /^arn:aws[\w-]*:lambda:[\w-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/;
const SERVICE_ARN = /^arn:aws[\w-]*:states:::(\w+):(\w+)(\.waitForTaskToken|\.sync:2|\.sync)?$/;
const PATTERNS: Record<string, Pattern> = {
  '': 'request',
  '.waitForTaskToken': 'token',
  '.sync': 'sync',
  '.sync:2': 'sync2',
};

export function resourceOf(arn: string): Resource | undefined {
  if (LAMBDA_FUNCTION_ARN.test(arn)) return { service: 'lambda', functionArn: arn, pattern: 'request' };
  const match = SERVICE_ARN.exec(arn);
  if (!match) return undefined;
  const [, service, action, suffix = ''] = match;
  const pattern = PATTERNS[suffix];
  if (service === 'lambda' && action === 'invoke' && (pattern === 'request' || pattern === 'token')) {
    return { service, action, pattern };
  }
  if (service === 'events' && action === 'putEvents' && pattern === 'request')
    return { service, action, pattern };
  if (service === 'dynamodb' && isDynamoAction(action) && pattern === 'request')
    return { service, action, pattern };
  if (service === 'states' && action === 'startExecution' && pattern !== 'token' && pattern !== undefined) {
    return { service, action, pattern };
  }
  return undefined;
}

function isDynamoAction(action: string | undefined): action is DynamoAction {
  return action === 'getItem' || action === 'putItem' || action === 'updateItem' || action === 'deleteItem';
}

/** History's `resourceType`/`resource` pair, e.g. `lambda` / `invoke.waitForTaskToken`. */
export function historyResource(arn: string): { resourceType: string; resource: string } {
  const match = /^arn:aws[\w-]*:states:::(\w+):(.+)$/.exec(arn);
  return match ? { resourceType: match[1]!, resource: match[2]! } : { resourceType: 'lambda', resource: arn };
}

/** `{ errorType, errorMessage }` from a function becomes the ASL error, with AWS's JSON cause. */
export async function invokeFunction(integrations: Integrations, functionName: string, payload: unknown) {
  let answer: Awaited<ReturnType<Integrations['invokeLambda']>>;
  try {
    answer = await integrations.invokeLambda(functionName, payload);
  } catch (error) {
    throw lambdaServiceFailure(error);
  }
  if (answer.error) {
    const { errorType, errorMessage } = answer.error;
    throw new TaskFailure(errorType, JSON.stringify({ errorType, errorMessage, trace: [] }));
  }
  return answer.payload ?? null;
}

function lambdaServiceFailure(error: unknown): TaskFailure {
  const name = error instanceof Error ? error.name : 'ServiceException';
  const message = error instanceof Error ? error.message : String(error);
  const aslName = name.startsWith('Lambda.')
    ? name
    : `Lambda.${name === 'Error' ? 'ServiceException' : name}`;
  return new TaskFailure(aslName, message);
}

/** `arn:aws:states:::lambda:invoke` answers like the Lambda Invoke API, payload inside. */
export function lambdaInvokeResult(payload: unknown) {
  const requestId = randomUUID();
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload,
    SdkHttpMetadata: {
      AllHttpHeaders: { 'X-Amz-Executed-Version': ['$LATEST'], 'x-amzn-RequestId': [requestId] },
      HttpHeaders: { 'X-Amz-Executed-Version': '$LATEST', 'x-amzn-RequestId': requestId },
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: 200,
  };
}

export function functionNameOf(parameters: unknown): string {
  const name = (parameters as { FunctionName?: unknown } | null)?.FunctionName;
  if (typeof name !== 'string')
    throw new TaskFailure('States.Runtime', 'lambda:invoke needs Parameters.FunctionName');
  return name;
}

export function payloadOf(parameters: unknown): unknown {
  return (parameters as { Payload?: unknown } | null)?.Payload ?? {};
}

/**
 * The optimized EventBridge integration: Detail may be JSON (it is serialised), the execution
 * and state machine ARNs are added to Resources, and any failed entry fails the task.
 */
export async function putEvents(integrations: Integrations, parameters: unknown, arns: string[]) {
  const entries = (parameters as { Entries?: unknown } | null)?.Entries;
  if (!Array.isArray(entries))
    throw new TaskFailure('States.Runtime', 'events:putEvents needs Parameters.Entries');
  const result = await integrations.putEvents(entries.map((entry) => eventEntry(entry, arns)));
  if (result.FailedEntryCount > 0) throw new TaskFailure('EventBridge.FailedEntry', JSON.stringify(result));
  return result;
}

function eventEntry(entry: Record<string, unknown>, arns: string[]): EventEntry {
  const detail = entry.Detail;
  return {
    ...(entry as unknown as EventEntry),
    Detail: typeof detail === 'string' ? detail : JSON.stringify(detail ?? {}),
    Resources: [...((entry.Resources as string[] | undefined) ?? []), ...arns],
  };
}

/** DynamoDB errors reach ASL prefixed `DynamoDB.`, as on AWS. */
export async function callDynamo(integrations: Integrations, action: string, parameters: unknown) {
  try {
    return await integrations.dynamodb(action, (parameters ?? {}) as Record<string, unknown>);
  } catch (error) {
    const name = error instanceof Error && error.name !== 'Error' ? error.name : 'AmazonDynamoDBException';
    const message = error instanceof Error ? error.message : String(error);
    throw new TaskFailure(
      `DynamoDB.${name}`,
      `${message} (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ${name})`,
    );
  }
}
