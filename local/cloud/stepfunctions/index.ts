export { stepFunctionsApi } from './api';
export { loadDefinition } from './definition';
export type { ExecutionRecord } from './execution';
export type { HistoryEvent } from './history';
export type { ExecutionStatus } from './journal';
export type { EventEntry, Integrations } from './resources';
export {
  LocalStepFunctions,
  type LocalStepFunctionsOptions,
  type MachineStats,
  type StartExecutionRequest,
  type StateMachineRecord,
  type StateMachineType,
} from './service';
