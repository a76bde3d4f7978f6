/**
 * "Step Functions Execution Status Change": what Step Functions sends, best effort, to the account's
 * default event bus when a Standard execution starts and when it stops (Express executions send
 * none). Rules match on `detail.status` and `detail.stateMachineArn`; `input` and `output` travel as
 * JSON text, as AWS sends them.
 */
import type { ExecutionRecord } from './execution';

export const STATUS_CHANGE_DETAIL_TYPE = 'Step Functions Execution Status Change';

export interface ServiceEvent {
  source: string;
  'detail-type': string;
  resources: string[];
  detail: Record<string, unknown>;
}

export function statusChangeEvent(record: ExecutionRecord): ServiceEvent {
  const stopped = record.status !== 'RUNNING';
  return {
    source: 'aws.states',
    'detail-type': STATUS_CHANGE_DETAIL_TYPE,
    resources: [record.executionArn],
    detail: {
      executionArn: record.executionArn,
      stateMachineArn: record.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: record.startDate,
      stopDate: stopped ? (record.stopDate ?? null) : null,
      input: record.input,
      output: record.output ?? null,
      inputDetails: { included: true },
      outputDetails: record.output === undefined ? null : { included: true },
      error: record.error ?? null,
      cause: record.cause ?? null,
    },
  };
}
