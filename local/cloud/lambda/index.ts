export type { InvocationType, InvokeResponse, LambdaInvoker } from './invoker';
export { lambdaInvoker } from './invoker';
export { functionNameOf, LocalLambda, type LocalLambdaOptions } from './local-lambda';
export type {
  FunctionConfig,
  FunctionStats,
  InvocationResult,
  LambdaError,
  QueueMessageAttribute,
  SendToQueue,
} from './types';
