import { readFileSync } from 'node:fs';
import {
  allStandard,
  expressGbSeconds,
  lambdaGbSeconds,
  lambdaPerStep,
  type PathUsage,
  type PriceTable,
  priceUsage,
} from '../../../local/tools/pricing';

const prices = JSON.parse(readFileSync('local/prices.json', 'utf8')) as PriceTable;

const nothing: PathUsage = {
  orders: 1000,
  standardTransitions: 0,
  expressRequests: 0,
  expressGbSeconds: 0,
  lambdaRequests: 0,
  lambdaGbSecondsArm64: 0,
  lambdaGbSecondsX86: 0,
  events: 0,
  dynamoWriteUnits: 0,
  dynamoReadUnits: 0,
  apiRequests: 0,
};

describe('the price table', () => {
  it('says where each price comes from and when it was read', () => {
    expect(prices.region).toBe('us-east-1');
    expect(prices.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const entry of Object.values(prices.prices))
      expect(entry.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });
});

describe('priceUsage', () => {
  it('prices 3 Standard transitions per order at $0.075 per 1,000 orders', () => {
    const cost = priceUsage({ ...nothing, orders: 10, standardTransitions: 30 }, prices);
    expect(cost.usdPer1000).toBeCloseTo(0.075, 10);
    expect(cost.shares.stepFunctionsStandard).toBe(1);
  });

  it('adds every service and scales to 1,000 orders', () => {
    const usage: PathUsage = {
      orders: 2,
      standardTransitions: 6, // 6 × 0.000025 = 0.00015
      expressRequests: 4, // 0.000004
      expressGbSeconds: 0.05, // 0.0000008335
      lambdaRequests: 14, // 0.0000028
      lambdaGbSecondsArm64: 0.1, // 0.00000133334
      lambdaGbSecondsX86: 0,
      events: 6, // 0.000006
      dynamoWriteUnits: 20, // 0.0000125
      dynamoReadUnits: 4, // 0.0000005
      apiRequests: 4, // 0.000004
    };
    const total =
      0.00015 +
      0.000004 +
      0.0000008335 +
      0.0000028 +
      0.00000133334 +
      0.000006 +
      0.0000125 +
      0.0000005 +
      0.000004;
    const cost = priceUsage(usage, prices);
    expect(cost.usdPer1000).toBeCloseTo(total * 500, 12);
    expect(cost.byService.dynamoDb).toBeCloseTo((0.0000125 + 0.0000005) * 500, 12);
    expect(Object.values(cost.shares).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('prices x86 Lambda seconds higher than arm64 ones', () => {
    const arm = priceUsage({ ...nothing, lambdaGbSecondsArm64: 1000 }, prices).usdPer1000;
    const x86 = priceUsage({ ...nothing, lambdaGbSecondsX86: 1000 }, prices).usdPer1000;
    expect(x86).toBeGreaterThan(arm);
  });

  it('prices CloudWatch Logs ingestion at $0.50 per GB, Express history and function lines alike', () => {
    const gb = 1024 ** 3;
    const cost = priceUsage(
      { ...nothing, orders: 1000, expressLogBytes: gb / 2, functionLogBytes: gb / 2 },
      prices,
    );
    expect(cost.byService.cloudWatchLogs).toBeCloseTo(0.5, 12);
    expect(cost.shares.cloudWatchLogs).toBe(1);
  });

  it('refuses a path with no orders', () => {
    expect(() => priceUsage({ ...nothing, orders: 0 }, prices)).toThrow(RangeError);
  });
});

describe('billed duration', () => {
  it('rounds each Express execution up to 100 ms at 64 MB', () => {
    // 130 ms → 200 ms; 100 ms → 100 ms; 1 ms → 100 ms: 0.4 s × 1/16 GB
    expect(expressGbSeconds([130, 100, 1])).toBeCloseTo(0.4 / 16, 12);
  });

  it('bills Lambda per millisecond at the configured memory', () => {
    expect(lambdaGbSeconds(1500, 512)).toBeCloseTo(0.75, 12);
  });
});

describe('the designs the README compares', () => {
  const measured: PathUsage = {
    ...nothing,
    orders: 1,
    standardTransitions: 3,
    expressRequests: 2,
    expressGbSeconds: 0.0125,
    lambdaRequests: 6,
    lambdaGbSecondsArm64: 0.06,
  };
  const counts = { expressTransitions: 12, childStarts: 2, serviceTasks: 4 };

  it('all in Standard logs no Express history (its own history shows the path), but keeps the function logs', () => {
    const logged = allStandard({ ...measured, expressLogBytes: 15_000, functionLogBytes: 5_000 }, counts);
    expect(logged).toMatchObject({ expressLogBytes: 0, functionLogBytes: 5_000 });
  });

  it('all in Standard bills every state of parent and children, and no Express', () => {
    expect(allStandard(measured, counts)).toMatchObject({
      standardTransitions: 13,
      expressRequests: 0,
      expressGbSeconds: 0,
    });
  });

  it('a Lambda per step adds one invocation per service integration at the average duration', () => {
    const perStep = lambdaPerStep(measured, counts);
    expect(perStep.standardTransitions).toBe(13);
    expect(perStep.lambdaRequests).toBe(10);
    expect(perStep.lambdaGbSecondsArm64).toBeCloseTo(0.1, 12);
    expect(priceUsage(perStep, prices).usdPer1000).toBeGreaterThan(priceUsage(measured, prices).usdPer1000);
  });
});
