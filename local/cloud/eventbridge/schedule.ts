/**
 * EventBridge schedule expressions, as scheduled rules take them: `rate(value unit)` and the
 * six-field `cron(Minutes Hours Day-of-month Month Day-of-week Year)`, always in UTC, to the minute.
 * Parsing refuses what PutRule refuses ("Parameter ScheduleExpression is not valid."), with the
 * reason; `nextFireTime` gives the minute a schedule fires next. Pure: no clock, no timers.
 *
 * The rules come from the EventBridge User Guide (rate and cron expression references): the value
 * ranges and wildcards of each field, exactly one of Day-of-month and Day-of-week as `?`, `#` alone
 * in Day-of-week, singular units for 1 and plural ones above. Where the guide is silent the
 * Quartz-style semantics it borrows apply: `a/n` counts from `a`, a range may wrap (`FRI-MON`),
 * an increment may not exceed the field (`*∕60` minutes is refused), and `L`, `LW`, `nW`, `nL`,
 * `n#k` stand alone in their field.
 */

const MINUTE_MS = 60_000;
const RATE_UNITS = { minute: 1, hour: 60, day: 1440 } as const;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
export const FIRST_YEAR = 1970;
export const LAST_YEAR = 2199;

export class ScheduleExpressionError extends Error {
  override name = 'ScheduleExpressionError';
  constructor(
    readonly expression: string,
    readonly reason: string,
  ) {
    super(`ScheduleExpression ${JSON.stringify(expression)} is not valid: ${reason}`);
  }
}

export interface Schedule {
  kind: 'rate' | 'cron';
  /** The expression as given. */
  expression: string;
  /**
   * The first whole minute strictly after `after` at which the schedule fires, or null when it never
   * does again (a cron whose years are past, or a date that does not exist such as 30 February).
   * A rate counts from `since`, when its rule was created: it fires every period after that minute.
   */
  nextFireTime(after: Date, since?: Date): Date | null;
}

export interface RateSchedule extends Schedule {
  kind: 'rate';
  value: number;
  unit: 'minute' | 'hour' | 'day';
  periodMinutes: number;
}

export interface CronSchedule extends Schedule {
  kind: 'cron';
  fields: CronFields;
}

interface CronFields {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  days: DaySpec;
  months: ReadonlySet<number>;
  years: ReadonlySet<number>;
}

/** Which days of a month match: from Day-of-month or from Day-of-week (the other one is `?`). */
type DaySpec =
  | { by: 'day-of-month'; days: ReadonlySet<number> }
  | { by: 'last-day-of-month' }
  | { by: 'last-weekday-of-month' }
  | { by: 'nearest-weekday'; day: number }
  | { by: 'day-of-week'; weekdays: ReadonlySet<number> }
  | { by: 'last-weekday-in-month'; weekday: number }
  | { by: 'nth-weekday'; weekday: number; nth: number };

/** Parses and validates a schedule expression; throws ScheduleExpressionError saying why AWS would refuse it. */
export function parseScheduleExpression(expression: string): RateSchedule | CronSchedule {
  if (typeof expression !== 'string') throw new ScheduleExpressionError(String(expression), 'not a string');
  const rate = /^rate\((.*)\)$/s.exec(expression);
  if (rate) return parseRate(expression, rate[1]!);
  const cron = /^cron\((.*)\)$/s.exec(expression);
  if (cron) return parseCron(expression, cron[1]!);
  throw new ScheduleExpressionError(expression, 'it must be rate(value unit) or cron(six fields)');
}

// ── rate ──────────────────────────────────────────────────────────────────────────────────

function parseRate(expression: string, inner: string): RateSchedule {
  const fail = (reason: string): never => {
    throw new ScheduleExpressionError(expression, reason);
  };
  const match = /^(\d+) ([a-z]+)$/.exec(inner);
  if (!match) return fail('a rate is a whole number and a unit separated by one space, e.g. rate(5 minutes)');
  const value = Number(match[1]);
  const word = match[2]!;
  const unit = word.replace(/s$/, '') as keyof typeof RATE_UNITS;
  if (!Object.hasOwn(RATE_UNITS, unit))
    return fail(`the unit must be minute(s), hour(s) or day(s), not ${word}`);
  if (!Number.isSafeInteger(value) || value < 1) return fail('the value must be a positive whole number');
  const plural = word.endsWith('s');
  if (value === 1 && plural) return fail(`a value of 1 takes the singular unit: rate(1 ${unit})`);
  if (value > 1 && !plural) return fail(`a value above 1 takes the plural unit: rate(${value} ${unit}s)`);
  const periodMinutes = value * RATE_UNITS[unit];
  return {
    kind: 'rate',
    expression,
    value,
    unit,
    periodMinutes,
    nextFireTime(after, since = after) {
      const period = periodMinutes * MINUTE_MS;
      const start = floorToMinute(since.getTime());
      const elapsedPeriods = Math.floor((after.getTime() - start) / period);
      return new Date(start + Math.max(1, elapsedPeriods + 1) * period);
    },
  };
}

// ── cron ──────────────────────────────────────────────────────────────────────────────────

interface FieldRule {
  name: string;
  min: number;
  max: number;
  /** The largest increment `/n` may take. */
  maxIncrement: number;
  names?: readonly string[];
  /** Whether a range may wrap past the end (FRI-MON, 22-2); years cannot. */
  wraps: boolean;
}

const MINUTES: FieldRule = { name: 'Minutes', min: 0, max: 59, maxIncrement: 59, wraps: true };
const HOURS: FieldRule = { name: 'Hours', min: 0, max: 23, maxIncrement: 23, wraps: true };
const DAY_OF_MONTH: FieldRule = { name: 'Day-of-month', min: 1, max: 31, maxIncrement: 31, wraps: true };
const MONTH: FieldRule = { name: 'Month', min: 1, max: 12, maxIncrement: 12, names: MONTHS, wraps: true };
const DAY_OF_WEEK: FieldRule = {
  name: 'Day-of-week',
  min: 1,
  max: 7,
  maxIncrement: 7,
  names: WEEKDAYS,
  wraps: true,
};
const YEAR: FieldRule = {
  name: 'Year',
  min: FIRST_YEAR,
  max: LAST_YEAR,
  maxIncrement: LAST_YEAR - FIRST_YEAR,
  wraps: false,
};

class FieldError extends Error {}

function parseCron(expression: string, inner: string): CronSchedule {
  const fields = inner.split(/ +/);
  if (inner !== inner.trim() || fields.length !== 6) {
    throw new ScheduleExpressionError(
      expression,
      'a cron expression has six fields separated by spaces: Minutes Hours Day-of-month Month Day-of-week Year',
    );
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = fields as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  try {
    const parsed: CronFields = {
      minutes: parseList(minutes, MINUTES),
      hours: parseList(hours, HOURS),
      days: parseDays(dayOfMonth, dayOfWeek),
      months: parseList(month, MONTH),
      years: parseList(year, YEAR),
    };
    return {
      kind: 'cron',
      expression,
      fields: parsed,
      nextFireTime: (after) => nextCronTime(parsed, after),
    };
  } catch (error) {
    if (error instanceof FieldError) throw new ScheduleExpressionError(expression, error.message);
    throw error;
  }
}

function parseDays(dayOfMonth: string, dayOfWeek: string): DaySpec {
  const anyMonthDay = dayOfMonth === '?';
  const anyWeekday = dayOfWeek === '?';
  if (anyMonthDay === anyWeekday) {
    throw new FieldError(
      'exactly one of Day-of-month and Day-of-week must be ? (AWS cannot take both, nor neither)',
    );
  }
  return anyWeekday ? parseDayOfMonth(dayOfMonth) : parseDayOfWeek(dayOfWeek);
}

function parseDayOfMonth(text: string): DaySpec {
  if (text === 'L') return { by: 'last-day-of-month' };
  if (text === 'LW') return { by: 'last-weekday-of-month' };
  const nearest = /^(\d+)W$/.exec(text);
  if (nearest) return { by: 'nearest-weekday', day: value(nearest[1]!, DAY_OF_MONTH) };
  if (/[LW]/.test(text)) {
    throw new FieldError(`Day-of-month ${text}: L, LW and nW stand alone, not in lists or ranges`);
  }
  return { by: 'day-of-month', days: parseList(text, DAY_OF_MONTH) };
}

function parseDayOfWeek(text: string): DaySpec {
  if (text === 'L') return { by: 'day-of-week', weekdays: new Set([7]) }; // the last day of the week
  if (text.includes('#')) {
    const nth = /^([A-Z]+|\d+)#(\d+)$/.exec(text);
    if (!nth) throw new FieldError(`Day-of-week ${text}: # takes one day and one instance, e.g. 3#2, alone`);
    const instance = Number(nth[2]);
    if (instance < 1 || instance > 5)
      throw new FieldError(`Day-of-week ${text}: the instance after # is 1 to 5`);
    return { by: 'nth-weekday', weekday: value(nth[1]!, DAY_OF_WEEK), nth: instance };
  }
  const last = /^([A-Z]+|\d+)L$/.exec(text);
  if (last) return { by: 'last-weekday-in-month', weekday: value(last[1]!, DAY_OF_WEEK) };
  if (text.includes('L'))
    throw new FieldError(`Day-of-week ${text}: L and nL stand alone, not in lists or ranges`);
  if (text.includes('/')) throw new FieldError(`Day-of-week ${text}: / is not a Day-of-week wildcard`);
  return { by: 'day-of-week', weekdays: parseList(text, DAY_OF_WEEK) };
}

/** A comma-separated list of `*`, values, ranges, each with an optional `/increment`. */
function parseList(text: string, rule: FieldRule): Set<number> {
  if (text === '?') throw new FieldError(`${rule.name} cannot be ?`);
  const matched = new Set<number>();
  for (const item of text.split(',')) {
    for (const n of parseItem(item, rule)) matched.add(n);
  }
  return matched;
}

function parseItem(item: string, rule: FieldRule): number[] {
  const [base = '', increment, ...extra] = item.split('/');
  if (extra.length > 0) throw new FieldError(`${rule.name} ${item}: one / at most`);
  const step = increment === undefined ? 1 : parseIncrement(increment, item, rule);
  let first: number;
  let last: number;
  if (base === '*') {
    first = rule.min;
    last = rule.max;
  } else {
    const [from = '', to, ...more] = base.split('-');
    if (more.length > 0) throw new FieldError(`${rule.name} ${item}: a range has one -`);
    first = value(from, rule);
    // `a/n` runs from a to the end of the field; a plain value is just itself.
    last = to !== undefined ? value(to, rule) : increment !== undefined ? rule.max : first;
  }
  if (last < first && !rule.wraps) throw new FieldError(`${rule.name} ${item}: the range runs backwards`);
  const span = rule.max - rule.min + 1;
  const length = last >= first ? last - first : last + span - first;
  const values: number[] = [];
  for (let offset = 0; offset <= length; offset += step) {
    values.push(((first - rule.min + offset) % span) + rule.min);
  }
  return values;
}

function parseIncrement(text: string, item: string, rule: FieldRule): number {
  if (!/^\d+$/.test(text)) throw new FieldError(`${rule.name} ${item}: the increment must be a whole number`);
  const step = Number(text);
  if (step < 1 || step > rule.maxIncrement) {
    throw new FieldError(`${rule.name} ${item}: the increment must be 1 to ${rule.maxIncrement}`);
  }
  return step;
}

function value(text: string, rule: FieldRule): number {
  const named = rule.names?.indexOf(text) ?? -1;
  if (named >= 0) return named + 1;
  if (!/^\d+$/.test(text)) {
    const names = rule.names ? ` or ${rule.names[0]}-${rule.names.at(-1)}` : '';
    throw new FieldError(`${rule.name} ${JSON.stringify(text)} is not ${rule.min}-${rule.max}${names}`);
  }
  const n = Number(text);
  if (n < rule.min || n > rule.max)
    throw new FieldError(`${rule.name} ${n} is outside ${rule.min}-${rule.max}`);
  return n;
}

// ── next fire time ────────────────────────────────────────────────────────────────────────

/**
 * Walks forward from the minute after `after`, jumping a whole year, month, day or hour whenever
 * that part does not match, so even a schedule that never fires again ends by the last year.
 */
function nextCronTime(fields: CronFields, after: Date): Date | null {
  let t = new Date(floorToMinute(after.getTime()) + MINUTE_MS);
  while (t.getUTCFullYear() <= LAST_YEAR) {
    const year = t.getUTCFullYear();
    const month = t.getUTCMonth() + 1;
    const day = t.getUTCDate();
    if (!fields.years.has(year)) t = utc(year + 1, 1, 1);
    else if (!fields.months.has(month)) t = utc(year, month + 1, 1);
    else if (!dayMatches(fields.days, year, month, day)) t = utc(year, month, day + 1);
    else if (!fields.hours.has(t.getUTCHours())) t = utc(year, month, day, t.getUTCHours() + 1);
    else if (!fields.minutes.has(t.getUTCMinutes())) t = new Date(t.getTime() + MINUTE_MS);
    else return t;
  }
  return null;
}

function dayMatches(spec: DaySpec, year: number, month: number, day: number): boolean {
  const lastDay = daysInMonth(year, month);
  const weekday = utc(year, month, day).getUTCDay() + 1; // 1 = SUN … 7 = SAT, as in cron
  switch (spec.by) {
    case 'day-of-month':
      return spec.days.has(day);
    case 'last-day-of-month':
      return day === lastDay;
    case 'last-weekday-of-month':
      return day === nearestWeekday(year, month, lastDay);
    case 'nearest-weekday':
      return spec.day <= lastDay && day === nearestWeekday(year, month, spec.day);
    case 'day-of-week':
      return spec.weekdays.has(weekday);
    case 'last-weekday-in-month':
      return weekday === spec.weekday && day + 7 > lastDay;
    case 'nth-weekday':
      return weekday === spec.weekday && Math.ceil(day / 7) === spec.nth;
  }
}

/** The weekday nearest the given day without leaving the month (1W on a Saturday is Monday the 3rd). */
function nearestWeekday(year: number, month: number, day: number): number {
  const lastDay = daysInMonth(year, month);
  const weekday = utc(year, month, day).getUTCDay();
  if (weekday === 6) return day === 1 ? 3 : day - 1;
  if (weekday === 0) return day === lastDay ? day - 2 : day + 1;
  return day;
}

function daysInMonth(year: number, month: number): number {
  return utc(year, month + 1, 0).getUTCDate();
}

/** Date.UTC with a 1-based month; days, months and hours past their end carry over. */
function utc(year: number, month: number, day: number, hour = 0): Date {
  return new Date(Date.UTC(year, month - 1, day, hour));
}

export function floorToMinute(ms: number): number {
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}
