import { AwsError, type ServiceApi } from '../aws-error';
import type { ExecutionRecord } from './execution';
import type { LoggingConfiguration } from './execution-logs';
import { historyPage } from './history';
import type { ExecutionStatus } from './journal';
import type { ExecutionSummary, LocalStepFunctions, StateMachineRecord } from './service';

/** Epoch seconds, as the AWS JSON 1.0 protocol sends timestamps. */
const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

const STATUSES: ExecutionStatus[] = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

/** The Step Functions JSON 1.0 operations (`AWSStepFunctions.<Operation>`), AWS request/response shapes. */
export function stepFunctionsApi(service: LocalStepFunctions) {
  return {
    CreateStateMachine: async (input: {
      name: string;
      definition: string;
      roleArn: string;
      type?: 'STANDARD' | 'EXPRESS';
      loggingConfiguration?: LoggingConfiguration;
    }) => {
      required(input, 'name', 'definition', 'roleArn');
      const machine = service.createStateMachine(input);
      return { stateMachineArn: machine.stateMachineArn, creationDate: seconds(machine.creationDate) };
    },
    ListStateMachines: async (input: PageRequest) => {
      const { items, nextToken } = page(service.listStateMachines(), input, (machine) => ({
        stateMachineArn: machine.stateMachineArn,
        name: machine.name,
        type: machine.type,
        creationDate: seconds(machine.creationDate),
      }));
      return { stateMachines: items, ...(nextToken && { nextToken }) };
    },
    DescribeStateMachine: async (input: { stateMachineArn: string }) =>
      describeMachine(service.describeStateMachine(input.stateMachineArn)),
    DescribeStateMachineForExecution: async (input: { executionArn: string }) => {
      const record = service.describeExecution(standardOnly(input.executionArn));
      const { stateMachineArn, name, definition, roleArn, loggingConfiguration, creationDate } =
        service.describeStateMachine(record.stateMachineArn);
      return {
        stateMachineArn,
        name,
        definition: record.definition ?? definition,
        roleArn,
        updateDate: seconds(creationDate),
        loggingConfiguration,
      };
    },
    StartExecution: async (input: { stateMachineArn: string; name?: string; input?: string }) => {
      const execution = service.startExecution(input);
      return { executionArn: execution.executionArn, startDate: seconds(execution.startDate) };
    },
    StartSyncExecution: async (input: { stateMachineArn: string; name?: string; input?: string }) =>
      describeSync(await service.startSyncExecution(input)),
    DescribeExecution: async (input: { executionArn: string }) =>
      describeExecution(service.describeExecution(standardOnly(input.executionArn))),
    ListExecutions: async (
      input: { stateMachineArn: string; statusFilter?: ExecutionStatus } & PageRequest,
    ) => {
      if (input.statusFilter && !STATUSES.includes(input.statusFilter)) {
        throw new AwsError('ValidationException', `Invalid statusFilter ${input.statusFilter}`);
      }
      if (service.describeStateMachine(input.stateMachineArn).type === 'EXPRESS') {
        throw new AwsError(
          'StateMachineTypeNotSupported',
          'This operation is not supported by this type of state machine',
        );
      }
      const { items, nextToken } = page(
        service.listExecutionSummaries(input.stateMachineArn, input.statusFilter),
        input,
        listedExecution,
      );
      return { executions: items, ...(nextToken && { nextToken }) };
    },
    GetExecutionHistory: async (input: {
      executionArn: string;
      maxResults?: number;
      reverseOrder?: boolean;
      nextToken?: string;
      includeExecutionData?: boolean;
    }) => historyPage(service.describeExecution(standardOnly(input.executionArn)).history, input),
    StopExecution: async (input: { executionArn: string; error?: string; cause?: string }) => {
      const execution = service.stopExecution(standardOnly(input.executionArn), input.error, input.cause);
      return { stopDate: seconds(execution.stopDate ?? Date.now()) };
    },
    SendTaskSuccess: async (input: { taskToken: string; output: string }) => {
      required(input, 'taskToken', 'output');
      service.sendTaskSuccess(input.taskToken, input.output);
      return {};
    },
    SendTaskFailure: async (input: { taskToken: string; error?: string; cause?: string }) => {
      required(input, 'taskToken');
      service.sendTaskFailure(input.taskToken, input.error, input.cause);
      return {};
    },
    SendTaskHeartbeat: async (input: { taskToken: string }) => {
      required(input, 'taskToken');
      service.sendTaskHeartbeat(input.taskToken);
      return {};
    },
  } satisfies ServiceApi;
}

interface PageRequest {
  maxResults?: number;
  nextToken?: string;
}

function page<T, R>(
  items: T[],
  request: PageRequest,
  map: (item: T) => R,
): { items: R[]; nextToken?: string } {
  const size = request.maxResults && request.maxResults > 0 ? Math.min(request.maxResults, 1000) : 100;
  const start = request.nextToken ? Number(Buffer.from(request.nextToken, 'base64url').toString('utf8')) : 0;
  if (!Number.isInteger(start) || start < 0) throw new AwsError('InvalidToken', 'Invalid nextToken');
  const next =
    start + size < items.length ? Buffer.from(String(start + size)).toString('base64url') : undefined;
  return { items: items.slice(start, start + size).map(map), ...(next && { nextToken: next }) };
}

function required(input: object | undefined, ...fields: string[]): void {
  for (const field of fields) {
    if (typeof (input as Record<string, unknown> | undefined)?.[field] !== 'string') {
      throw new AwsError('ValidationException', `1 validation error detected: '${field}' must not be null`);
    }
  }
}

/**
 * Express executions have no history, description or stop on AWS: their ARNs are refused as the
 * wrong kind of resource (their path is read from the machine's CloudWatch log group instead).
 */
function standardOnly(executionArn: string): string {
  if (/^arn:aws[\w-]*:states:[\w-]+:\d{12}:express:/.test(executionArn ?? ''))
    throw new AwsError('InvalidArn', "Invalid Arn: 'Resource type not valid in this context: express'");
  return executionArn;
}

function describeMachine(machine: StateMachineRecord) {
  return {
    stateMachineArn: machine.stateMachineArn,
    name: machine.name,
    status: 'ACTIVE',
    definition: machine.definition,
    roleArn: machine.roleArn,
    type: machine.type,
    creationDate: seconds(machine.creationDate),
    loggingConfiguration: machine.loggingConfiguration,
  };
}

function listedExecution(record: ExecutionSummary) {
  return {
    executionArn: record.executionArn,
    stateMachineArn: record.stateMachineArn,
    name: record.name,
    status: record.status,
    startDate: seconds(record.startDate),
    ...(record.stopDate !== undefined && { stopDate: seconds(record.stopDate) }),
  };
}

function describeExecution(record: ExecutionRecord) {
  return {
    ...listedExecution(record),
    input: record.input,
    inputDetails: { included: true },
    ...(record.output !== undefined && { output: record.output, outputDetails: { included: true } }),
    ...(record.error !== undefined && { error: record.error }),
    ...(record.cause !== undefined && { cause: record.cause }),
  };
}

function describeSync(record: ExecutionRecord) {
  const { executionArn, stateMachineArn, name, status, input, output, error, cause } = record;
  return {
    executionArn,
    stateMachineArn,
    name,
    status,
    startDate: seconds(record.startDate),
    stopDate: seconds(record.stopDate),
    input,
    inputDetails: { included: true },
    ...(output !== undefined && { output, outputDetails: { included: true } }),
    ...(error !== undefined && { error }),
    ...(cause !== undefined && { cause }),
    billingDetails: {
      billedDurationInMilliseconds: Math.max(100, (record.stopDate ?? Date.now()) - record.startDate),
      billedMemoryUsedInMB: 64,
    },
  };
}
