import type { Integrations } from '../../../local/cloud/stepfunctions';
import type { LocalStepFunctions } from '../../../local/cloud/stepfunctions/service';

export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/sfn`;

type LambdaAnswer = Awaited<ReturnType<Integrations['invokeLambda']>>;
type LambdaFn = (payload: unknown) => LambdaAnswer | Promise<LambdaAnswer>;

/** Fake services: Lambda functions by name, recorded calls for PutEvents and DynamoDB. */
export function fakeIntegrations(functions: Record<string, LambdaFn> = {}) {
  const calls = {
    lambda: [] as Array<{ name: string; payload: unknown }>,
    events: [] as Array<Parameters<Integrations['putEvents']>[0]>,
    dynamodb: [] as Array<{ action: string; params: Record<string, unknown> }>,
  };
  const fake = {
    calls,
    failEvents: false,
    dynamoError: undefined as string | undefined,
    async invokeLambda(name: string, payload: unknown) {
      calls.lambda.push({ name, payload });
      const fn = functions[name.split(':').pop() ?? name];
      if (!fn)
        throw Object.assign(new Error(`Function not found: ${name}`), { name: 'ResourceNotFoundException' });
      return fn(payload);
    },
    async putEvents(entries: Parameters<Integrations['putEvents']>[0]) {
      calls.events.push(entries);
      const failed = fake.failEvents ? entries.length : 0;
      const results = entries.map((_, i) =>
        fake.failEvents
          ? { ErrorCode: 'InternalFailure', ErrorMessage: 'bus down' }
          : { EventId: `event-${i}` },
      );
      return { FailedEntryCount: failed, Entries: results };
    },
    async dynamodb(action: string, params: Record<string, unknown>) {
      calls.dynamodb.push({ action, params });
      if (fake.dynamoError) {
        throw Object.assign(new Error('The conditional request failed'), { name: fake.dynamoError });
      }
      return { Attributes: { status: { S: 'CLAIMED' } } };
    },
  };
  return fake;
}

export function createMachine(
  service: LocalStepFunctions,
  name: string,
  definition: object,
  type: 'STANDARD' | 'EXPRESS' = 'STANDARD',
): string {
  return service.createStateMachine({ name, definition: JSON.stringify(definition), roleArn: ROLE, type })
    .stateMachineArn;
}

export async function runToEnd(service: LocalStepFunctions, stateMachineArn: string, input: unknown = {}) {
  const { executionArn } = service.startExecution({ stateMachineArn, input: JSON.stringify(input) });
  return service.waitForExecution(executionArn);
}

/** Polls until `read()` returns a value (e.g. the token a fake Lambda received). */
export async function eventually<T>(read: () => T | undefined, timeoutMs = 2000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A `lambda:invoke.waitForTaskToken` Task passing the token and the order id to `waitForCourier`. */
export function waitForCourierTask(extra: object = {}) {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
    Parameters: {
      FunctionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:waitForCourier`,
      Payload: { 'taskToken.$': '$$.Task.Token', 'orderId.$': '$.orderId' },
    },
    ...extra,
  };
}
