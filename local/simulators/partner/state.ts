/** Moved to simulators/partner/state.ts (deployed with the Lambda simulator too); kept here for local imports. */
export * from '../../../simulators/partner/state';
