import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AwsError } from '../../../local/cloud/aws-error';
import { eventBridgeApi } from '../../../local/cloud/eventbridge/api';
import {
  LocalEventBridge,
  type LocalEventBridgeOptions,
  type RuleConfig,
  type TargetDelivery,
} from '../../../local/cloud/eventbridge/bus';
import { parseScheduleExpression, ScheduleExpressionError } from '../../../local/cloud/eventbridge/schedule';
import { type ScheduleClock, systemClock } from '../../../local/cloud/eventbridge/scheduler';
import { LocalLambda } from '../../../local/cloud/lambda';

const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const RECONCILER_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:reconcile-orders`;
const DLQ_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:reconcile-dlq`;
const ruleArn = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`;
const at = (iso: string) => new Date(iso);

// ── expressions ──────────────────────────────────────────────────────────────────────────

/** The next `count` fire times after `from`, as ISO strings. */
function fireTimes(expression: string, from: string, count = 3, since?: string): string[] {
  const schedule = parseScheduleExpression(expression);
  const times: string[] = [];
  let after = at(from);
  for (let i = 0; i < count; i++) {
    const next = schedule.nextFireTime(after, since ? at(since) : at(from));
    if (!next) break;
    times.push(next.toISOString());
    after = next;
  }
  return times;
}

function refusalOf(expression: string): string {
  try {
    parseScheduleExpression(expression);
  } catch (error) {
    expect(error).toBeInstanceOf(ScheduleExpressionError);
    return (error as ScheduleExpressionError).reason;
  }
  throw new Error(`${expression} was accepted`);
}

describe('rate expressions', () => {
  test.each([
    ['rate(1 minute)', 1],
    ['rate(5 minutes)', 5],
    ['rate(1 hour)', 60],
    ['rate(2 hours)', 120],
    ['rate(1 day)', 1440],
    ['rate(7 days)', 10080],
  ])('%s is valid, every %i minutes', (expression, minutes) => {
    expect(parseScheduleExpression(expression)).toMatchObject({ kind: 'rate', periodMinutes: minutes });
  });

  test.each([
    ['rate(1 minutes)', 'singular'],
    ['rate(1 hours)', 'singular'],
    ['rate(5 minute)', 'plural'],
    ['rate(2 day)', 'plural'],
    ['rate(0 minutes)', 'positive'],
    ['rate(-1 minutes)', 'whole number'],
    ['rate(1.5 minutes)', 'whole number'],
    ['rate(5 seconds)', 'minute(s), hour(s) or day(s)'],
    ['rate(2 weeks)', 'minute(s), hour(s) or day(s)'],
    ['rate(5 Minutes)', 'whole number and a unit'],
    ['rate(5  minutes)', 'whole number and a unit'],
    ['rate(5minutes)', 'whole number and a unit'],
    ['rate( 5 minutes)', 'whole number and a unit'],
    ['rate()', 'whole number and a unit'],
    ['Rate(5 minutes)', 'rate(value unit) or cron'],
    ['rate(5 minutes) ', 'rate(value unit) or cron'],
    ['every 5 minutes', 'rate(value unit) or cron'],
    ['', 'rate(value unit) or cron'],
  ])('%s is refused (%s)', (expression, reason) => {
    expect(refusalOf(expression)).toContain(reason);
  });

  test('fires on whole minutes, whole periods after the minute its rule was created', () => {
    const created = '2025-01-31T23:57:30.500Z';

    expect(fireTimes('rate(1 minute)', created)).toEqual([
      '2025-01-31T23:58:00.000Z',
      '2025-01-31T23:59:00.000Z',
      '2025-02-01T00:00:00.000Z',
    ]);
    expect(fireTimes('rate(5 minutes)', created)).toEqual([
      '2025-02-01T00:02:00.000Z',
      '2025-02-01T00:07:00.000Z',
      '2025-02-01T00:12:00.000Z',
    ]);
    expect(fireTimes('rate(1 day)', created, 2)).toEqual([
      '2025-02-01T23:57:00.000Z',
      '2025-02-02T23:57:00.000Z',
    ]);
  });

  test('the next time is strictly after the given one and keeps counting from creation', () => {
    const rate = parseScheduleExpression('rate(5 minutes)');
    const created = at('2025-03-01T10:02:10Z');

    expect(rate.nextFireTime(at('2025-03-01T10:07:00Z'), created)?.toISOString()).toBe(
      '2025-03-01T10:12:00.000Z',
    );
    expect(rate.nextFireTime(at('2025-03-01T10:59:59Z'), created)?.toISOString()).toBe(
      '2025-03-01T11:02:00.000Z',
    );
  });
});

describe('cron expressions: valid ones and when they fire (UTC)', () => {
  test('every day at 10:00, across a month end', () => {
    expect(fireTimes('cron(0 10 * * ? *)', '2025-01-31T10:00:00Z', 2)).toEqual([
      '2025-02-01T10:00:00.000Z',
      '2025-02-02T10:00:00.000Z',
    ]);
  });

  test('the first of each month, across a year end', () => {
    expect(fireTimes('cron(0 8 1 * ? *)', '2025-11-15T00:00:00Z')).toEqual([
      '2025-12-01T08:00:00.000Z',
      '2026-01-01T08:00:00.000Z',
      '2026-02-01T08:00:00.000Z',
    ]);
  });

  test('weekdays by name: a Friday evening is followed by Monday', () => {
    expect(fireTimes('cron(0 18 ? * MON-FRI *)', '2025-01-31T18:00:00Z', 2)).toEqual([
      '2025-02-03T18:00:00.000Z',
      '2025-02-04T18:00:00.000Z',
    ]);
  });

  test('increments: 0/15 every quarter hour, 1/10 from the first minute, seconds ignored', () => {
    expect(fireTimes('cron(0/15 * * * ? *)', '2025-01-01T10:50:30Z', 2)).toEqual([
      '2025-01-01T11:00:00.000Z',
      '2025-01-01T11:15:00.000Z',
    ]);
    expect(fireTimes('cron(*/15 * * * ? *)', '2025-01-01T10:50:30Z', 1)).toEqual([
      '2025-01-01T11:00:00.000Z',
    ]);
    expect(fireTimes('cron(1/10 * * * ? *)', '2025-01-01T10:00:00Z', 3)).toEqual([
      '2025-01-01T10:01:00.000Z',
      '2025-01-01T10:11:00.000Z',
      '2025-01-01T10:21:00.000Z',
    ]);
    expect(fireTimes('cron(* * * * ? *)', '2025-01-01T10:00:30Z', 1)).toEqual(['2025-01-01T10:01:00.000Z']);
  });

  test('lists, ranges with increments, and month names', () => {
    expect(fireTimes('cron(5,35 14 * * ? *)', '2025-01-01T14:10:00Z', 2)).toEqual([
      '2025-01-01T14:35:00.000Z',
      '2025-01-02T14:05:00.000Z',
    ]);
    expect(fireTimes('cron(0 9-17/4 * * ? *)', '2025-01-01T00:00:00Z', 4)).toEqual([
      '2025-01-01T09:00:00.000Z',
      '2025-01-01T13:00:00.000Z',
      '2025-01-01T17:00:00.000Z',
      '2025-01-02T09:00:00.000Z',
    ]);
    expect(fireTimes('cron(0 0 1 JAN,JUL ? *)', '2025-02-01T00:00:00Z', 2)).toEqual([
      '2025-07-01T00:00:00.000Z',
      '2026-01-01T00:00:00.000Z',
    ]);
  });

  test('ranges wrap past the end of the field: 22-2 hours, FRI-MON', () => {
    expect(fireTimes('cron(0 22-2 * * ? *)', '2025-01-01T12:00:00Z', 5)).toEqual([
      '2025-01-01T22:00:00.000Z',
      '2025-01-01T23:00:00.000Z',
      '2025-01-02T00:00:00.000Z',
      '2025-01-02T01:00:00.000Z',
      '2025-01-02T02:00:00.000Z',
    ]);
    // 2025-01-02 is a Thursday
    expect(fireTimes('cron(0 0 ? * FRI-MON *)', '2025-01-02T00:00:00Z', 5)).toEqual([
      '2025-01-03T00:00:00.000Z',
      '2025-01-04T00:00:00.000Z',
      '2025-01-05T00:00:00.000Z',
      '2025-01-06T00:00:00.000Z',
      '2025-01-10T00:00:00.000Z',
    ]);
  });

  test('L in Day-of-month: the last day, 29 February in a leap year', () => {
    expect(fireTimes('cron(0 0 L * ? *)', '2024-01-31T00:00:00Z', 4)).toEqual([
      '2024-02-29T00:00:00.000Z',
      '2024-03-31T00:00:00.000Z',
      '2024-04-30T00:00:00.000Z',
      '2024-05-31T00:00:00.000Z',
    ]);
    expect(fireTimes('cron(0 0 L 2 ? *)', '2025-01-01T00:00:00Z', 1)).toEqual(['2025-02-28T00:00:00.000Z']);
  });

  test('LW: the last weekday of the month (31 May 2025 is a Saturday, 31 August a Sunday)', () => {
    expect(fireTimes('cron(0 9 LW * ? *)', '2025-05-01T00:00:00Z', 4)).toEqual([
      '2025-05-30T09:00:00.000Z',
      '2025-06-30T09:00:00.000Z',
      '2025-07-31T09:00:00.000Z',
      '2025-08-29T09:00:00.000Z',
    ]);
  });

  test('nW: the weekday nearest the day, never leaving the month', () => {
    // 15 March 2025 is a Saturday → Friday 14th; 15 June 2025 is a Sunday → Monday 16th
    expect(fireTimes('cron(0 9 15W * ? *)', '2025-03-01T00:00:00Z', 4)).toEqual([
      '2025-03-14T09:00:00.000Z',
      '2025-04-15T09:00:00.000Z',
      '2025-05-15T09:00:00.000Z',
      '2025-06-16T09:00:00.000Z',
    ]);
    // 1 March 2025 is a Saturday: Monday the 3rd, not Friday 28 February
    expect(fireTimes('cron(0 9 1W 3 ? *)', '2025-01-01T00:00:00Z', 1)).toEqual(['2025-03-03T09:00:00.000Z']);
    // 31 August 2025 is a Sunday: Friday the 29th; months without a 31st are skipped
    expect(fireTimes('cron(0 9 31W * ? *)', '2025-07-01T00:00:00Z', 3)).toEqual([
      '2025-07-31T09:00:00.000Z',
      '2025-08-29T09:00:00.000Z',
      '2025-10-31T09:00:00.000Z',
    ]);
  });

  test('nL in Day-of-week: the last such weekday of the month; L alone is Saturday', () => {
    expect(fireTimes('cron(0 12 ? * 6L *)', '2025-01-01T00:00:00Z', 3)).toEqual([
      '2025-01-31T12:00:00.000Z',
      '2025-02-28T12:00:00.000Z',
      '2025-03-28T12:00:00.000Z',
    ]);
    expect(fireTimes('cron(0 12 ? * FRIL *)', '2025-01-01T00:00:00Z', 1)).toEqual([
      '2025-01-31T12:00:00.000Z',
    ]);
    expect(fireTimes('cron(0 12 ? * L *)', '2025-01-01T00:00:00Z', 2)).toEqual([
      '2025-01-04T12:00:00.000Z',
      '2025-01-11T12:00:00.000Z',
    ]);
  });

  test('#: the nth such weekday; a fifth Monday only in months that have one', () => {
    expect(fireTimes('cron(0 12 ? * 3#2 *)', '2025-01-01T00:00:00Z', 2)).toEqual([
      '2025-01-14T12:00:00.000Z',
      '2025-02-11T12:00:00.000Z',
    ]);
    expect(fireTimes('cron(0 12 ? * MON#5 *)', '2025-01-01T00:00:00Z', 2)).toEqual([
      '2025-03-31T12:00:00.000Z',
      '2025-06-30T12:00:00.000Z',
    ]);
  });

  test('years: a leap day waits for a leap year, a range with an increment, the last year', () => {
    expect(fireTimes('cron(0 0 29 2 ? *)', '2025-01-01T00:00:00Z', 1)).toEqual(['2028-02-29T00:00:00.000Z']);
    expect(fireTimes('cron(0 0 1 1 ? 2030-2034/2)', '2025-01-01T00:00:00Z', 4)).toEqual([
      '2030-01-01T00:00:00.000Z',
      '2032-01-01T00:00:00.000Z',
      '2034-01-01T00:00:00.000Z',
    ]);
    expect(fireTimes('cron(59 23 31 12 ? 2199)', '2199-12-31T23:00:00Z', 2)).toEqual([
      '2199-12-31T23:59:00.000Z',
    ]);
  });

  test('a schedule that never fires (again) is valid and has no next time', () => {
    expect(parseScheduleExpression('cron(0 0 30 2 ? *)').nextFireTime(at('2025-01-01T00:00:00Z'))).toBeNull();
    expect(
      parseScheduleExpression('cron(0 0 1 1 ? 2020)').nextFireTime(at('2025-01-01T00:00:00Z')),
    ).toBeNull();
  });
});

describe('cron expressions AWS refuses', () => {
  test.each([
    ['cron(0 10 * * ?)', 'six fields'],
    ['cron(0 10 * * ? * *)', 'six fields'],
    ['cron( 0 10 * * ? *)', 'six fields'],
    ['cron(0/5, 9-18, ?, *, MON-FRI, *)', 'not 0-59'],
    ['cron(7 20 * * 1-7 *)', 'exactly one of Day-of-month and Day-of-week'],
    ['cron(0 10 * * * *)', 'exactly one of Day-of-month and Day-of-week'],
    ['cron(0 10 ? * ? *)', 'exactly one of Day-of-month and Day-of-week'],
    ['cron(? 10 * * ? *)', 'Minutes cannot be ?'],
    ['cron(60 * * * ? *)', 'Minutes 60 is outside 0-59'],
    ['cron(0 24 * * ? *)', 'Hours 24 is outside 0-23'],
    ['cron(0 0 0 * ? *)', 'Day-of-month 0 is outside 1-31'],
    ['cron(0 0 32 * ? *)', 'Day-of-month 32 is outside 1-31'],
    ['cron(0 0 1 13 ? *)', 'Month 13 is outside 1-12'],
    ['cron(0 0 1 jan ? *)', 'Month "jan" is not 1-12 or JAN-DEC'],
    ['cron(0 0 ? * 0 *)', 'Day-of-week 0 is outside 1-7'],
    ['cron(0 0 ? * 8 *)', 'Day-of-week 8 is outside 1-7'],
    ['cron(0 0 ? * mon-fri *)', 'not 1-7 or SUN-SAT'],
    ['cron(0 0 1 1 ? 1969)', 'Year 1969 is outside 1970-2199'],
    ['cron(0 0 1 1 ? 2200)', 'Year 2200 is outside 1970-2199'],
    ['cron(0 0 1 1 ? 2030-2025)', 'runs backwards'],
    ['cron(*/60 * * * ? *)', 'increment must be 1 to 59'],
    ['cron(*/0 * * * ? *)', 'increment must be 1 to 59'],
    ['cron(0 */24 * * ? *)', 'increment must be 1 to 23'],
    ['cron(0/x * * * ? *)', 'whole number'],
    ['cron(0/5/2 * * * ? *)', 'one / at most'],
    ['cron(1-2-3 * * * ? *)', 'one -'],
    ['cron(*-5 * * * ? *)', 'not 0-59'],
    ['cron(1,,2 * * * ? *)', 'not 0-59'],
    ['cron(0 0 1,L * ? *)', 'stand alone'],
    ['cron(0 0 1-15W * ? *)', 'stand alone'],
    ['cron(0 0 L-3 * ? *)', 'stand alone'],
    ['cron(0 0 ? * 3#1,6#3 *)', '# takes one day'],
    ['cron(0 0 ? * 3#6 *)', '1 to 5'],
    ['cron(0 0 ? * 3#0 *)', '1 to 5'],
    ['cron(0 0 ? * 2,6L *)', 'stand alone'],
    ['cron(0 0 ? * 2/2 *)', 'not a Day-of-week wildcard'],
    ['cron(0 0 1 ? ? *)', 'Month cannot be ?'],
    ['cron(0 0 W * ? *)', 'stand alone'],
    ['cron(0 0 1 1 L *)', 'exactly one of'],
    ['CRON(0 10 * * ? *)', 'rate(value unit) or cron'],
  ])('%s (%s)', (expression, reason) => {
    expect(refusalOf(expression)).toContain(reason);
  });

  test('the error names the expression', () => {
    expect(() => parseScheduleExpression('cron(0 10 * * ?)')).toThrow(
      'ScheduleExpression "cron(0 10 * * ?)" is not valid',
    );
  });
});

// ── the scheduler in the local EventBridge ───────────────────────────────────────────────

/** A clock whose time moves only when told, running the timers that come due on the way. */
class ManualClock implements ScheduleClock {
  private timers: Array<{ at: number; callback: () => void }> = [];
  nowMs: number;

  constructor(iso: string) {
    this.nowMs = Date.parse(iso);
  }

  now(): number {
    return this.nowMs;
  }

  setTimer(callback: () => void, delayMs: number) {
    const timer = { at: this.nowMs + delayMs, callback };
    this.timers.push(timer);
    return {
      cancel: () => {
        this.timers = this.timers.filter((t) => t !== timer);
      },
    };
  }

  get pendingTimers(): number {
    return this.timers.length;
  }

  /** Time passes normally up to `iso`: each timer runs at its own time. */
  advanceTo(iso: string): void {
    const target = Date.parse(iso);
    for (;;) {
      const next = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at)[0];
      if (!next) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.nowMs = Math.max(this.nowMs, next.at);
      next.callback();
    }
    this.nowMs = target;
  }

  /** The machine was asleep until `iso`: the timers that came due meanwhile run late, now. */
  sleepUntil(iso: string): void {
    this.nowMs = Date.parse(iso);
    const due = this.timers.filter((t) => t.at <= this.nowMs);
    this.timers = this.timers.filter((t) => t.at > this.nowMs);
    for (const timer of due) timer.callback();
  }
}

class FakeDelivery implements TargetDelivery {
  readonly delivered: { arn: string; payload: unknown }[] = [];
  readonly queued: { queueArn: string; body: unknown; attributes?: Record<string, string> }[] = [];
  failing = new Set<string>();

  async deliver(targetArn: string, payload: string): Promise<void> {
    if (this.failing.has(targetArn)) throw new Error('Rate exceeded');
    this.delivered.push({ arn: targetArn, payload: JSON.parse(payload) });
  }

  async sendToQueue(queueArn: string, body: string, attributes?: Record<string, string>): Promise<void> {
    this.queued.push({ queueArn, body: JSON.parse(body), attributes });
  }

  times(): string[] {
    return this.delivered.map((d) => (d.payload as { time: string }).time);
  }
}

const reconcilerRule: RuleConfig = {
  name: 'reconcile-orders-schedule',
  eventBusName: 'default',
  scheduleExpression: 'rate(1 minute)',
  targets: [{ id: 'reconcileOrdersSchedule', arn: RECONCILER_ARN }],
};

let bridges: LocalEventBridge[] = [];

function bridgeWith(
  clock: ManualClock,
  delivery: TargetDelivery,
  rules: RuleConfig[],
  overrides: Partial<LocalEventBridgeOptions> = {},
) {
  const bridge = new LocalEventBridge({
    region: REGION,
    accountId: ACCOUNT,
    buses: ['orders'],
    rules,
    delivery,
    retryBaseDelayMs: 1,
    scheduleClock: clock,
    log: () => {},
    ...overrides,
  });
  bridges.push(bridge);
  return bridge;
}

afterEach(async () => {
  await Promise.all(bridges.map((bridge) => bridge.close()));
  bridges = [];
});

describe('schedule rules in the local EventBridge', () => {
  test('a rate rule fires its target with AWS’s Scheduled Event at each whole minute', async () => {
    const clock = new ManualClock('2025-06-01T10:02:30.500Z');
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(clock, delivery, [reconcilerRule]);
    bridge.startSchedules();

    clock.advanceTo('2025-06-01T10:02:59.999Z');
    await bridge.idle();
    expect(delivery.delivered).toEqual([]);

    clock.advanceTo('2025-06-01T10:05:00Z');
    await bridge.idle();

    expect(delivery.times()).toEqual([
      '2025-06-01T10:03:00Z',
      '2025-06-01T10:04:00Z',
      '2025-06-01T10:05:00Z',
    ]);
    expect(delivery.delivered[0]).toEqual({
      arn: RECONCILER_ARN,
      payload: {
        version: '0',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: ACCOUNT,
        time: '2025-06-01T10:03:00Z',
        region: REGION,
        resources: [ruleArn('reconcile-orders-schedule')],
        detail: {},
      },
    });
    const ids = delivery.delivered.map((d) => (d.payload as { id: string }).id);
    expect(new Set(ids).size).toBe(3);
    expect(bridge.stats().scheduledEvents).toBe(3);
  });

  test('rate(5 minutes) fires every five minutes from the minute the rule was created, not on the clock face', async () => {
    const clock = new ManualClock('2025-06-01T10:02:10Z');
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(clock, delivery, [
      { ...reconcilerRule, scheduleExpression: 'rate(5 minutes)' },
    ]);
    bridge.startSchedules();

    clock.advanceTo('2025-06-01T10:20:00Z');
    await bridge.idle();

    expect(delivery.times()).toEqual([
      '2025-06-01T10:07:00Z',
      '2025-06-01T10:12:00Z',
      '2025-06-01T10:17:00Z',
    ]);
  });

  test('a cron rule fires at its times only', async () => {
    const clock = new ManualClock('2025-06-01T09:58:00Z');
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(clock, delivery, [
      { ...reconcilerRule, scheduleExpression: 'cron(0/15 10 * * ? *)' },
    ]);
    bridge.startSchedules();

    clock.advanceTo('2025-06-01T11:30:00Z');
    await bridge.idle();

    expect(delivery.times()).toEqual([
      '2025-06-01T10:00:00Z',
      '2025-06-01T10:15:00Z',
      '2025-06-01T10:30:00Z',
      '2025-06-01T10:45:00Z',
    ]);
  });

  test('a DISABLED schedule rule never fires', async () => {
    const clock = new ManualClock('2025-06-01T10:00:00Z');
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(clock, delivery, [{ ...reconcilerRule, state: 'DISABLED' }]);
    bridge.startSchedules();

    clock.advanceTo('2025-06-01T12:00:00Z');
    await bridge.idle();

    expect(delivery.delivered).toEqual([]);
    expect(bridge.stats().scheduledEvents).toBe(0);
    expect(bridge.scheduledRules()).toEqual([
      expect.objectContaining({ name: 'reconcile-orders-schedule', state: 'DISABLED', nextFireTime: null }),
    ]);
  });

  test('nothing fires before startSchedules, and close stops the timer', async () => {
    const clock = new ManualClock('2025-06-01T10:00:00Z');
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(clock, delivery, [reconcilerRule]);

    clock.advanceTo('2025-06-01T10:10:00Z');
    expect(clock.pendingTimers).toBe(0);

    bridge.startSchedules();
    expect(clock.pendingTimers).toBe(1);
    await bridge.close();
    expect(clock.pendingTimers).toBe(0);
    clock.advanceTo('2025-06-01T10:20:00Z');
    await bridge.idle();

    expect(delivery.delivered).toEqual([]);
  });

  test('no catch-up storm: minutes missed while the machine slept are not replayed', async () => {
    const clock = new ManualClock('2025-06-01T10:00:30Z');
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(clock, delivery, [reconcilerRule]);
    bridge.startSchedules();

    clock.sleepUntil('2025-06-01T10:45:20Z');
    await bridge.idle();
    expect(delivery.times()).toEqual(['2025-06-01T10:45:00Z']);

    clock.advanceTo('2025-06-01T10:47:00Z');
    await bridge.idle();
    expect(delivery.times()).toEqual([
      '2025-06-01T10:45:00Z',
      '2025-06-01T10:46:00Z',
      '2025-06-01T10:47:00Z',
    ]);
  });

  test('a new cloud (a restart) counts its rates from its own start, with nothing owed from before', async () => {
    const delivery = new FakeDelivery();
    const first = new ManualClock('2025-06-01T10:00:30Z');
    bridgeWith(first, delivery, [
      { ...reconcilerRule, scheduleExpression: 'rate(10 minutes)' },
    ]).startSchedules();
    first.advanceTo('2025-06-01T10:10:00Z');
    await Promise.all(bridges.map((b) => b.close()));

    const second = new ManualClock('2025-06-01T11:03:00Z');
    const restarted = bridgeWith(second, delivery, [
      { ...reconcilerRule, scheduleExpression: 'rate(10 minutes)' },
    ]);
    restarted.startSchedules();
    second.advanceTo('2025-06-01T11:13:00Z');
    await restarted.idle();

    expect(delivery.times()).toEqual(['2025-06-01T10:10:00Z', '2025-06-01T11:13:00Z']);
  });

  test('targets get Input and InputPath as pattern rules’ targets do', async () => {
    const clock = new ManualClock('2025-06-01T10:00:00Z');
    const delivery = new FakeDelivery();
    const other = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:probe-pos`;
    const bridge = bridgeWith(clock, delivery, [
      {
        ...reconcilerRule,
        targets: [
          { id: 'constant', arn: RECONCILER_ARN, input: '{"sweep":"all"}' },
          { id: 'path', arn: other, inputPath: '$.resources' },
        ],
      },
    ]);
    bridge.startSchedules();

    clock.advanceTo('2025-06-01T10:01:00Z');
    await bridge.idle();

    expect(delivery.delivered).toEqual([
      { arn: RECONCILER_ARN, payload: { sweep: 'all' } },
      { arn: other, payload: [ruleArn('reconcile-orders-schedule')] },
    ]);
  });

  test('a failing target is retried and then dead-lettered like any rule target', async () => {
    const clock = new ManualClock('2025-06-01T10:00:00Z');
    const delivery = new FakeDelivery();
    delivery.failing.add(RECONCILER_ARN);
    const bridge = bridgeWith(clock, delivery, [
      {
        ...reconcilerRule,
        targets: [
          {
            id: 'reconcile',
            arn: RECONCILER_ARN,
            retryPolicy: { maximumRetryAttempts: 2 },
            deadLetterArn: DLQ_ARN,
          },
        ],
      },
    ]);
    bridge.startSchedules();

    clock.advanceTo('2025-06-01T10:01:00Z');
    await bridge.idle();

    expect(delivery.queued).toEqual([
      {
        queueArn: DLQ_ARN,
        body: expect.objectContaining({ 'detail-type': 'Scheduled Event', time: '2025-06-01T10:01:00Z' }),
        attributes: expect.objectContaining({
          RULE_ARN: ruleArn('reconcile-orders-schedule'),
          TARGET_ARN: RECONCILER_ARN,
          RETRY_ATTEMPTS: '2',
          EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
        }),
      },
    ]);
    expect(bridge.stats()).toMatchObject({ retries: 2, deadLettered: 1 });
  });

  test('a rule with both a pattern and a schedule fires on matching events and on its minutes', async () => {
    const clock = new ManualClock('2025-06-01T10:00:00Z');
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(clock, delivery, [
      { ...reconcilerRule, eventPattern: { source: ['order-middleware'], 'detail-type': ['OrderFailed'] } },
    ]);
    bridge.startSchedules();

    bridge.putEvents([{ Source: 'order-middleware', DetailType: 'OrderFailed', Detail: '{}' }]);
    clock.advanceTo('2025-06-01T10:01:00Z');
    await bridge.idle();

    expect(delivery.delivered.map((d) => (d.payload as { source: string }).source).sort()).toEqual([
      'aws.events',
      'order-middleware',
    ]);
  });

  test('a scheduled event is not put on the bus: pattern rules for aws.events do not see it', async () => {
    const clock = new ManualClock('2025-06-01T10:00:00Z');
    const delivery = new FakeDelivery();
    const watcher = `arn:aws:sqs:${REGION}:${ACCOUNT}:watcher`;
    const bridge = bridgeWith(clock, delivery, [
      reconcilerRule,
      {
        name: 'all-aws-events',
        eventBusName: 'default',
        eventPattern: { source: ['aws.events'] },
        targets: [{ id: 'watcher', arn: watcher }],
      },
    ]);
    bridge.startSchedules();

    clock.advanceTo('2025-06-01T10:01:00Z');
    await bridge.idle();

    expect(delivery.delivered.map((d) => d.arn)).toEqual([RECONCILER_ARN]);
  });

  test('scheduledRules lists each schedule with its targets and next minute', () => {
    const clock = new ManualClock('2025-06-01T10:00:20Z');
    const bridge = bridgeWith(clock, new FakeDelivery(), [
      reconcilerRule,
      { ...reconcilerRule, name: 'nightly', scheduleExpression: 'cron(0 2 * * ? *)' },
    ]);

    expect(bridge.scheduledRules()).toEqual([
      {
        name: 'reconcile-orders-schedule',
        arn: ruleArn('reconcile-orders-schedule'),
        scheduleExpression: 'rate(1 minute)',
        state: 'ENABLED',
        targets: [RECONCILER_ARN],
        nextFireTime: at('2025-06-01T10:01:00Z'),
      },
      expect.objectContaining({ name: 'nightly', nextFireTime: at('2025-06-02T02:00:00Z') }),
    ]);
  });

  describe('rules from configuration are refused as PutRule would refuse them, naming the rule', () => {
    const refusal = (rule: RuleConfig) => {
      try {
        bridgeWith(new ManualClock('2025-06-01T10:00:00Z'), new FakeDelivery(), [rule]);
      } catch (error) {
        return error as AwsError;
      }
      throw new Error('the rule was accepted');
    };

    test('a bad expression', () => {
      const error = refusal({ ...reconcilerRule, scheduleExpression: 'rate(1 minutes)' });
      expect(error.code).toBe('ValidationException');
      expect(error.message).toContain(
        'Rule reconcile-orders-schedule: Parameter ScheduleExpression is not valid.',
      );
      expect(error.message).toContain('singular');
    });

    test('a schedule on a custom bus', () => {
      const error = refusal({ ...reconcilerRule, eventBusName: 'orders' });
      expect(error.message).toBe(
        'Rule reconcile-orders-schedule: ScheduleExpression is supported only on the default event bus.',
      );
    });

    test('neither pattern nor schedule', () => {
      const { scheduleExpression: _none, ...bare } = reconcilerRule;
      expect(refusal(bare).message).toBe(
        'Rule reconcile-orders-schedule: Parameter(s) EventPattern or ScheduleExpression must be specified.',
      );
    });
  });
});

describe('the real clock', () => {
  test('its timers do not keep the process alive, and they fire', async () => {
    const timeouts = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timeouts();
    const idle = systemClock.setTimer(() => {}, 60_000);
    expect(timeouts()).toBe(before);
    idle.cancel();

    await new Promise<void>((resolve) => systemClock.setTimer(resolve, 1));
  });
});

describe('a schedule rule with a Lambda target, end to end in the local cloud’s pieces', () => {
  const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'lambda');
  let lambda: LocalLambda | undefined;
  afterEach(async () => {
    await lambda?.close();
    lambda = undefined;
  });

  test('the function is invoked asynchronously with the Scheduled Event as its event', async () => {
    const lines: string[] = [];
    lambda = new LocalLambda({
      region: REGION,
      accountId: ACCOUNT,
      log: (_name, line) => lines.push(line),
      functions: [
        {
          name: 'reconcile-orders',
          arn: RECONCILER_ARN,
          bundlePath: join(fixtures, 'log-event.mjs'),
          handlerExport: 'handler',
          environment: {},
          memorySize: 128,
          timeout: 5,
        },
      ],
    });
    const invoker = lambda;
    // As the local cloud delivers: a Lambda target is an asynchronous (Event) invocation.
    const delivery: TargetDelivery = {
      deliver: async (arn, payload) => void (await invoker.invokeAsync(arn, JSON.parse(payload))),
      sendToQueue: async () => {},
    };
    const clock = new ManualClock('2025-06-01T10:00:10Z');
    const bridge = bridgeWith(clock, delivery, [reconcilerRule]);
    bridge.startSchedules();

    clock.advanceTo('2025-06-01T10:01:00Z');
    await bridge.idle();
    await invoker.drain();
    await waitFor(() => lines.some((line) => line.startsWith('{')));

    expect(JSON.parse(lines.find((line) => line.startsWith('{'))!)).toMatchObject({
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      time: '2025-06-01T10:01:00Z',
      resources: [ruleArn('reconcile-orders-schedule')],
    });
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
}

describe('the EventBridge API on schedules', () => {
  function setup() {
    const clock = new ManualClock('2025-06-01T10:00:30Z');
    const delivery = new FakeDelivery();
    const bridge = bridgeWith(clock, delivery, [reconcilerRule]);
    bridge.startSchedules();
    return { clock, delivery, bridge, api: eventBridgeApi(bridge) };
  }

  async function awsError(call: Promise<unknown>): Promise<AwsError> {
    const error = await call.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AwsError);
    return error as AwsError;
  }

  test.each([
    'rate(1 minutes)',
    'rate(5 minute)',
    'rate(0 minutes)',
    'cron(0 10 * * ?)',
    'cron(7 20 * * 1-7 *)',
    'cron(*/60 * * * ? *)',
    'every minute',
    '',
  ])('PutRule refuses ScheduleExpression %j with ValidationException', async (expression) => {
    const { api } = setup();

    const error = await awsError(api.PutRule({ Name: 'nightly', ScheduleExpression: expression }));

    expect(error.code).toBe('ValidationException');
    expect(error.message).toBe('Parameter ScheduleExpression is not valid.');
    expect((await awsError(api.DescribeRule({ Name: 'nightly' }))).code).toBe('ResourceNotFoundException');
  });

  test('PutRule refuses a schedule on a custom bus, and a rule with neither pattern nor schedule', async () => {
    const { api } = setup();

    const custom = await awsError(
      api.PutRule({ Name: 'nightly', EventBusName: 'orders', ScheduleExpression: 'rate(1 day)' }),
    );
    expect(custom).toMatchObject({
      code: 'ValidationException',
      message: 'ScheduleExpression is supported only on the default event bus.',
    });
    const neither = await awsError(api.PutRule({ Name: 'nightly' }));
    expect(neither).toMatchObject({
      code: 'ValidationException',
      message: 'Parameter(s) EventPattern or ScheduleExpression must be specified.',
    });
  });

  test('PutRule refuses a bad name and an unknown state', async () => {
    const { api } = setup();

    expect(
      (await awsError(api.PutRule({ Name: 'nightly sweep', ScheduleExpression: 'rate(1 day)' }))).message,
    ).toContain("at 'name' failed to satisfy constraint");
    expect(
      (await awsError(api.PutRule({ Name: 'x'.repeat(65), ScheduleExpression: 'rate(1 day)' }))).message,
    ).toContain('length less than or equal to 64');
    expect(
      (await awsError(api.PutRule({ Name: 'nightly', ScheduleExpression: 'rate(1 day)', State: 'PAUSED' })))
        .message,
    ).toContain("Value 'PAUSED' at 'state'");
  });

  test('PutRule creates a schedule rule that DescribeRule and ListRules show', async () => {
    const { api } = setup();

    const created = await api.PutRule({
      Name: 'nightly',
      ScheduleExpression: 'cron(0 2 * * ? *)',
      Description: 'nightly sweep',
    });

    expect(created).toEqual({ RuleArn: ruleArn('nightly') });
    expect(await api.DescribeRule({ Name: 'nightly' })).toEqual({
      Name: 'nightly',
      Arn: ruleArn('nightly'),
      ScheduleExpression: 'cron(0 2 * * ? *)',
      State: 'ENABLED',
      Description: 'nightly sweep',
      EventBusName: 'default',
      CreatedBy: ACCOUNT,
    });
    expect((await api.ListRules({})).Rules).toEqual([
      {
        Name: 'reconcile-orders-schedule',
        Arn: ruleArn('reconcile-orders-schedule'),
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        EventBusName: 'default',
      },
      expect.objectContaining({ Name: 'nightly', ScheduleExpression: 'cron(0 2 * * ? *)' }),
    ]);
  });

  test('PutRule on an existing rule replaces its schedule and state but keeps its targets', async () => {
    const { api, clock, bridge, delivery } = setup();

    await api.PutRule({ Name: 'reconcile-orders-schedule', ScheduleExpression: 'rate(2 minutes)' });
    clock.advanceTo('2025-06-01T10:04:00Z');
    await bridge.idle();
    expect(delivery.times()).toEqual(['2025-06-01T10:02:00Z', '2025-06-01T10:04:00Z']);
    expect((await api.ListTargetsByRule({ Rule: 'reconcile-orders-schedule' })).Targets).toEqual([
      { Id: 'reconcileOrdersSchedule', Arn: RECONCILER_ARN },
    ]);

    await api.PutRule({
      Name: 'reconcile-orders-schedule',
      ScheduleExpression: 'rate(2 minutes)',
      State: 'DISABLED',
    });
    clock.advanceTo('2025-06-01T10:30:00Z');
    await bridge.idle();
    expect(delivery.times()).toHaveLength(2);

    await api.PutRule({
      Name: 'reconcile-orders-schedule',
      EventPattern: JSON.stringify({ source: ['order-middleware'] }),
    });
    expect(await api.DescribeRule({ Name: 'reconcile-orders-schedule' })).not.toHaveProperty(
      'ScheduleExpression',
    );
    expect(bridge.scheduledRules()).toEqual([]);
  });
});
