/** The local EventBridge: pattern matcher, buses/rules/targets, and the AWS JSON 1.1 API. */
export { type EventBridgeApi, eventBridgeApi } from './api';
export {
  type EventBridgeStats,
  type EventEnvelope,
  LocalEventBridge,
  type LocalEventBridgeOptions,
  type LocalRule,
  type PutEventsRequestEntry,
  type PutEventsResult,
  type PutEventsResultEntry,
  type RuleConfig,
  type TargetConfig,
  type TargetDelivery,
} from './bus';
export { compilePattern, type EventMatcher, matchesPattern, validatePattern } from './pattern';
