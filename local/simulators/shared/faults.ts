/** Moved to simulators/shared/faults.ts (deployed with the Lambda simulators too); kept here for local imports. */
export * from '../../../simulators/shared/faults';
