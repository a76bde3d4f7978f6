/**
 * An order's Express executions as AWS lets you see them: from their machine's CloudWatch log group
 * (level ALL), since Express executions have no GetExecutionHistory, DescribeExecution or
 * ListExecutions. Through the public APIs only, so a test using it runs on every target.
 */
import { CloudWatchLogsClient, paginateFilterLogEvents } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeStateMachineCommand } from '@aws-sdk/client-sfn';
import { stepFunctionsOf, type TestCloud } from './local-cloud';

/** One history event as Step Functions logs it; `id`, `previous_event_id` and the time are strings there. */
export interface LoggedHistoryEvent {
  id: string;
  type: string;
  details: Record<string, unknown> & { name?: string; error?: string; cause?: string; resourceType?: string };
  previous_event_id: string;
  event_timestamp: string;
  execution_arn: string;
  redrive_count: string;
}

export interface LoggedExecution {
  executionArn: string;
  /** Its events in order; the last is ExecutionSucceeded/Failed/… once it has ended. */
  events: LoggedHistoryEvent[];
  ended: boolean;
}

/** The log group a machine writes to, by its logging configuration (as the console finds it). */
export async function theLogGroupOf(t: TestCloud, stateMachineArn: string): Promise<string> {
  const described = await stepFunctionsOf(t).send(new DescribeStateMachineCommand({ stateMachineArn }));
  const arn = described.loggingConfiguration?.destinations?.[0]?.cloudWatchLogsLogGroup?.logGroupArn;
  if (!arn || described.loggingConfiguration?.level !== 'ALL')
    throw new Error(
      `${stateMachineArn} does not log every event (level ${described.loggingConfiguration?.level})`,
    );
  return arn.replace(/:\*$/, ''); // an identifier is the ARN without DescribeLogGroups' `:*`
}

/**
 * The executions of an Express machine (`OrderPrepare`, `OrderFinish`) that the workflow named after
 * the order, read from the machine's log group.
 */
export async function theExpressRunsOf(
  t: TestCloud,
  logicalId: string,
  orderId: string,
): Promise<LoggedExecution[]> {
  const machineArn = t.resource(logicalId);
  const logGroupIdentifier = await theLogGroupOf(t, machineArn);
  const executionArns = `${machineArn.replace(':stateMachine:', ':express:')}:${orderId}:*`;
  const logs = new CloudWatchLogsClient(t.aws);
  const runs = new Map<string, LoggedHistoryEvent[]>();
  try {
    const pages = paginateFilterLogEvents(
      { client: logs },
      { logGroupIdentifier, filterPattern: `{ $.execution_arn = "${executionArns}" }` },
    );
    for await (const page of pages) {
      for (const { message } of page.events ?? []) {
        const event = JSON.parse(message ?? '{}') as LoggedHistoryEvent;
        runs.set(event.execution_arn, [...(runs.get(event.execution_arn) ?? []), event]);
      }
    }
  } finally {
    logs.destroy();
  }
  return [...runs].map(([executionArn, events]) => {
    const ordered = events.sort((a, b) => Number(a.id) - Number(b.id));
    return {
      executionArn,
      events: ordered,
      ended: /^Execution(Succeeded|Failed|TimedOut|Aborted)$/.test(ordered.at(-1)?.type ?? ''),
    };
  });
}
