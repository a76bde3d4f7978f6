/**
 * Lambda's Invoke operation as the edge serves it: raw payload bytes in, status code and payload
 * bytes out, with the invocation types' status codes (200 RequestResponse, 202 Event, 204 DryRun).
 */
import type { InvocationResult } from './types';

export type InvocationType = 'RequestResponse' | 'Event' | 'DryRun';

export interface InvokeResponse {
  statusCode: number;
  payload?: Buffer;
  /** Set when the function failed: the edge sends it as `X-Amz-Function-Error`. */
  functionError?: 'Unhandled';
  /** `X-Amz-Executed-Version`. */
  executedVersion?: string;
  requestId?: string;
  /** A service error (unknown function, unreadable payload) for the edge to render in AWS's shape. */
  error?: { code: string; message: string };
}

export interface LambdaInvoker {
  invoke(functionName: string, payload: Buffer, invocationType: InvocationType): Promise<InvokeResponse>;
}

/** What the adapter needs from the service; LocalLambda provides it. */
export interface InvocableFunctions {
  has(nameOrArn: string): boolean;
  invoke(nameOrArn: string, event: unknown): Promise<InvocationResult>;
  invokeAsync(nameOrArn: string, event: unknown): Promise<{ requestId: string }>;
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** An empty payload is the event `{}`, as on Lambda. */
function parseEvent(payload: Buffer): { event: unknown } | { error: string } {
  if (payload.length === 0) return { event: {} };
  try {
    return { event: JSON.parse(payload.toString('utf8')) };
  } catch (error) {
    return { error: `Could not parse request body into json: ${(error as Error).message}` };
  }
}

export function lambdaInvoker(functions: InvocableFunctions): LambdaInvoker {
  return {
    async invoke(functionName, payload, invocationType) {
      if (!functions.has(functionName)) {
        const message = `Function not found: ${functionName}`;
        return { statusCode: 404, error: { code: 'ResourceNotFoundException', message } };
      }
      const parsed = parseEvent(payload);
      if ('error' in parsed) {
        return { statusCode: 400, error: { code: 'InvalidRequestContentException', message: parsed.error } };
      }
      if (invocationType === 'DryRun') return { statusCode: 204 };
      if (invocationType === 'Event') {
        const { requestId } = await functions.invokeAsync(functionName, parsed.event);
        return { statusCode: 202, requestId };
      }
      const result = await functions.invoke(functionName, parsed.event);
      const common = { statusCode: 200, executedVersion: '$LATEST', requestId: result.requestId };
      if (result.error) return { ...common, functionError: 'Unhandled', payload: json(result.error) };
      return { ...common, payload: json(result.payload ?? null) };
    },
  };
}
