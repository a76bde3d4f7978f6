/**
 * Pricing what an order path used with the list prices of local/prices.json: per 1,000 orders, the
 * share of each service, and the two designs the README compares it with (all in one Standard
 * machine; a Standard machine with a Lambda per step).
 */

export interface PriceEntry {
  usd: number;
  unit: string;
  source: string;
  billing?: { durationRoundUpMs: number; memoryChunkMb: number };
}

export interface PriceTable {
  region: string;
  currency: string;
  date: string;
  prices: Record<
    | 'stepFunctionsStandardTransition'
    | 'stepFunctionsExpressRequest'
    | 'stepFunctionsExpressGbSecond'
    | 'lambdaRequest'
    | 'lambdaGbSecondArm64'
    | 'lambdaGbSecondX86'
    | 'eventBridgeCustomEvent'
    | 'dynamoDbWriteRequestUnit'
    | 'dynamoDbReadRequestUnit'
    | 'httpApiRequest'
    | 'cloudWatchLogsIngestedGb',
    PriceEntry
  >;
}

/** What one path used over `orders` orders (totals, not per order). */
export interface PathUsage {
  orders: number;
  standardTransitions: number;
  expressRequests: number;
  expressGbSeconds: number;
  lambdaRequests: number;
  lambdaGbSecondsArm64: number;
  lambdaGbSecondsX86: number;
  events: number;
  dynamoWriteUnits: number;
  dynamoReadUnits: number;
  apiRequests: number;
  /** Bytes ingested into the Express machines' log groups (their level-ALL history). */
  expressLogBytes?: number;
  /** Bytes ingested into the functions' `/aws/lambda/…` log groups. */
  functionLogBytes?: number;
}

export type Service =
  | 'stepFunctionsStandard'
  | 'stepFunctionsExpress'
  | 'lambda'
  | 'eventBridge'
  | 'dynamoDb'
  | 'httpApi'
  | 'cloudWatchLogs';

export interface PathCost {
  /** Dollars per 1,000 orders by service. */
  byService: Record<Service, number>;
  usdPer1000: number;
  /** Each service's fraction of usdPer1000 (0..1). */
  shares: Record<Service, number>;
}

/** Express GB-seconds of executions: each duration rounded up to 100 ms, memory in 64 MB chunks. */
export function expressGbSeconds(
  durationsMs: readonly number[],
  billing = { durationRoundUpMs: 100, memoryChunkMb: 64 },
  memoryMb = 64,
): number {
  const memoryGb = (Math.ceil(memoryMb / billing.memoryChunkMb) * billing.memoryChunkMb) / 1024;
  return durationsMs.reduce((sum, ms) => {
    const billedMs = Math.max(1, Math.ceil(ms / billing.durationRoundUpMs)) * billing.durationRoundUpMs;
    return sum + (billedMs / 1000) * memoryGb;
  }, 0);
}

/** Lambda GB-seconds: billed milliseconds at the configured memory. */
export function lambdaGbSeconds(billedMs: number, memoryMb: number): number {
  return (billedMs / 1000) * (memoryMb / 1024);
}

export function priceUsage(usage: PathUsage, table: PriceTable): PathCost {
  if (usage.orders <= 0) throw new RangeError('a path needs at least one order to be priced');
  const p = table.prices;
  const per1000 = 1000 / usage.orders;
  const byService: Record<Service, number> = {
    stepFunctionsStandard: usage.standardTransitions * p.stepFunctionsStandardTransition.usd,
    stepFunctionsExpress:
      usage.expressRequests * p.stepFunctionsExpressRequest.usd +
      usage.expressGbSeconds * p.stepFunctionsExpressGbSecond.usd,
    lambda:
      usage.lambdaRequests * p.lambdaRequest.usd +
      usage.lambdaGbSecondsArm64 * p.lambdaGbSecondArm64.usd +
      usage.lambdaGbSecondsX86 * p.lambdaGbSecondX86.usd,
    eventBridge: usage.events * p.eventBridgeCustomEvent.usd,
    dynamoDb:
      usage.dynamoWriteUnits * p.dynamoDbWriteRequestUnit.usd +
      usage.dynamoReadUnits * p.dynamoDbReadRequestUnit.usd,
    httpApi: usage.apiRequests * p.httpApiRequest.usd,
    cloudWatchLogs:
      (((usage.expressLogBytes ?? 0) + (usage.functionLogBytes ?? 0)) / 1024 ** 3) *
      p.cloudWatchLogsIngestedGb.usd,
  };
  for (const service of Object.keys(byService) as Service[]) byService[service] *= per1000;
  const usdPer1000 = Object.values(byService).reduce((a, b) => a + b, 0);
  const shares = Object.fromEntries(
    Object.entries(byService).map(([service, usd]) => [service, usdPer1000 > 0 ? usd / usdPer1000 : 0]),
  ) as Record<Service, number>;
  return { byService, usdPer1000, shares };
}

/** The state counts the alternatives are built from (totals over the path's orders). */
export interface StateCounts {
  /** States entered in the Express children. */
  expressTransitions: number;
  /** Parent states that only start a child (Prepare, Finish): flattening removes them. */
  childStarts: number;
  /** Children's service-integration tasks (dynamodb, events) that a Lambda per step would replace. */
  serviceTasks: number;
}

/**
 * The same work done in one Standard machine: every state of parent and children is a billed
 * transition (less the parent states that only started a child), and no Express charges — nor
 * Express logs, since a Standard execution's path is in its GetExecutionHistory.
 */
export function allStandard(usage: PathUsage, counts: StateCounts): PathUsage {
  return {
    ...usage,
    standardTransitions: usage.standardTransitions - counts.childStarts + counts.expressTransitions,
    expressRequests: 0,
    expressGbSeconds: 0,
    expressLogBytes: 0,
  };
}

/**
 * All in Standard with a Lambda per step: each direct service integration becomes one more
 * invocation, billed at the path's average Lambda duration.
 */
export function lambdaPerStep(usage: PathUsage, counts: StateCounts): PathUsage {
  const flat = allStandard(usage, counts);
  const perInvocation = (gbs: number) => (usage.lambdaRequests > 0 ? gbs / usage.lambdaRequests : 0);
  return {
    ...flat,
    lambdaRequests: usage.lambdaRequests + counts.serviceTasks,
    lambdaGbSecondsArm64:
      usage.lambdaGbSecondsArm64 + counts.serviceTasks * perInvocation(usage.lambdaGbSecondsArm64),
    lambdaGbSecondsX86:
      usage.lambdaGbSecondsX86 + counts.serviceTasks * perInvocation(usage.lambdaGbSecondsX86),
  };
}
