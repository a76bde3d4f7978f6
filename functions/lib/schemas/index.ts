/** The wire formats, defined once; runtime code and the simulators import them from here. */
export * from './events';
export * from './http';
export * from './order';
export * from './partners/index';
export { type PartnerWire, partnerWire } from './partners/registry';
export type { ReportedStatus } from './partners/signing';
export * from './pos';
export * from './store';
