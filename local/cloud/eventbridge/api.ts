/**
 * The EventBridge JSON 1.1 API (`X-Amz-Target: AWSEvents.<Operation>`) over a LocalEventBridge:
 * AWS operation names, request and response shapes, and AWS error codes.
 */
import { AwsError } from '../aws-error';
import {
  busNameOf,
  type LocalEventBridge,
  type LocalRule,
  type PutEventsRequestEntry,
  type RuleState,
} from './bus';
import { compilePattern } from './pattern';
import type { TargetConfig } from './targets';

type Input = Record<string, unknown>;

/** Fields AWS insists on in TestEventPattern's Event (it lists `resources` too but does not enforce it). */
const REQUIRED_EVENT_FIELDS = ['id', 'account', 'source', 'time', 'region', 'detail-type'];

export function eventBridgeApi(bridge: LocalEventBridge) {
  return {
    PutEvents: async (input: Input) => bridge.putEvents(putEventsEntries(input)),

    ListEventBuses: async (input: Input) => {
      const prefix = optionalString(input, 'NamePrefix') ?? '';
      const buses = bridge.buses().filter((name) => name.startsWith(prefix));
      return page(
        buses.map((name) => ({ Name: name, Arn: bridge.busArn(name) })),
        input,
        'EventBuses',
      );
    },

    DescribeEventBus: async (input: Input) => {
      const name = busOf(bridge, input, 'Name');
      return { Name: name, Arn: bridge.busArn(name) };
    },

    ListRules: async (input: Input) => {
      const prefix = optionalString(input, 'NamePrefix') ?? '';
      const rules = bridge.rules(busOf(bridge, input)).filter((rule) => rule.name.startsWith(prefix));
      return page(rules.map(ruleShape), input, 'Rules');
    },

    PutRule: async (input: Input) => {
      const name = requiredString(input, 'Name');
      const constraint = !RULE_NAME.test(name)
        ? 'Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+'
        : name.length > 64
          ? 'Member must have length less than or equal to 64'
          : undefined;
      if (constraint) {
        throw validation(
          `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: ${constraint}`,
        );
      }
      const description = optionalString(input, 'Description');
      if (description !== undefined && description.length > 512) {
        throw validation(
          "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 512",
        );
      }
      const eventPattern = optionalString(input, 'EventPattern');
      const rule = bridge.putRule({
        name,
        eventBusName: busOf(bridge, input),
        ...(eventPattern !== undefined && { eventPattern: parsePattern(eventPattern) as object }),
        ...optionalSetting(input, 'ScheduleExpression', 'scheduleExpression'),
        ...(optionalString(input, 'State') !== undefined && { state: input.State as RuleState }),
        ...(description !== undefined && { description }),
        ...optionalSetting(input, 'RoleArn', 'roleArn'),
      });
      return { RuleArn: rule.arn };
    },

    DescribeRule: async (input: Input) => {
      const rule = ruleOf(bridge, input, 'Name');
      return { ...ruleShape(rule), CreatedBy: bridge.accountId };
    },

    ListTargetsByRule: async (input: Input) =>
      page(ruleOf(bridge, input, 'Rule').targets.map(targetShape), input, 'Targets'),

    TestEventPattern: async (input: Input) => {
      const matches = compilePattern(parsePattern(requiredString(input, 'EventPattern')));
      return { Result: matches(parseTestEvent(requiredString(input, 'Event'))) };
    },
  };
}

export type EventBridgeApi = ReturnType<typeof eventBridgeApi>;

function putEventsEntries(input: Input): PutEventsRequestEntry[] {
  const entries = input?.Entries;
  if (!Array.isArray(entries))
    throw validation("Value null at 'entries' failed to satisfy constraint: Member must not be null");
  return entries as PutEventsRequestEntry[];
}

function busOf(bridge: LocalEventBridge, input: Input, field = 'EventBusName'): string {
  const name = optionalString(input, field) ?? 'default';
  if (!bridge.hasBus(name))
    throw new AwsError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
  return busNameOf(name);
}

function ruleOf(bridge: LocalEventBridge, input: Input, field: string): LocalRule {
  const name = requiredString(input, field);
  const bus = busOf(bridge, input);
  const rule = bridge.rules(bus).find((candidate) => candidate.name === name);
  if (!rule)
    throw new AwsError('ResourceNotFoundException', `Rule ${name} does not exist on EventBus ${bus}.`);
  return rule;
}

function ruleShape(rule: LocalRule) {
  return {
    Name: rule.name,
    Arn: rule.arn,
    ...(rule.eventPattern ? { EventPattern: JSON.stringify(rule.eventPattern) } : {}),
    ...(rule.scheduleExpression ? { ScheduleExpression: rule.scheduleExpression } : {}),
    State: rule.state,
    ...(rule.description ? { Description: rule.description } : {}),
    ...(rule.roleArn ? { RoleArn: rule.roleArn } : {}),
    EventBusName: rule.eventBusName,
  };
}

/** A rule name as AWS allows it. */
const RULE_NAME = /^[.\-_A-Za-z0-9]+$/;

function optionalSetting<K extends string>(input: Input, field: string, key: K): { [P in K]?: string } {
  const value = optionalString(input, field);
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

function targetShape(target: TargetConfig) {
  const retry = target.retryPolicy;
  return {
    Id: target.id,
    Arn: target.arn,
    ...(target.input !== undefined ? { Input: target.input } : {}),
    ...(target.inputPath !== undefined ? { InputPath: target.inputPath } : {}),
    ...(target.roleArn ? { RoleArn: target.roleArn } : {}),
    ...(retry
      ? {
          RetryPolicy: {
            ...(retry.maximumRetryAttempts !== undefined
              ? { MaximumRetryAttempts: retry.maximumRetryAttempts }
              : {}),
            ...(retry.maximumEventAgeInSeconds !== undefined
              ? { MaximumEventAgeInSeconds: retry.maximumEventAgeInSeconds }
              : {}),
          },
        }
      : {}),
    ...(target.deadLetterArn ? { DeadLetterConfig: { Arn: target.deadLetterArn } } : {}),
  };
}

/** `Limit` / `NextToken` paging; the token is the offset of the next item. */
function page<T, K extends string>(items: T[], input: Input, key: K) {
  const limit = typeof input?.Limit === 'number' && input.Limit > 0 ? input.Limit : 100;
  const token = optionalString(input, 'NextToken');
  const start = token === undefined ? 0 : Number(token);
  if (!Number.isInteger(start) || start < 0) throw validation('The NextToken is not valid.');
  const next = start + limit < items.length ? { NextToken: String(start + limit) } : {};
  return { [key]: items.slice(start, start + limit), ...next } as { [P in K]: T[] } & { NextToken?: string };
}

function parsePattern(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new AwsError(
      'InvalidEventPatternException',
      `Event pattern is not valid. Reason: ${error instanceof Error ? error.message : 'not JSON'}`,
    );
  }
}

function parseTestEvent(text: string): unknown {
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    throw validation('Parameter Event is not valid. Reason: it is not JSON.');
  }
  const isObject = typeof event === 'object' && event !== null && !Array.isArray(event);
  const missing = REQUIRED_EVENT_FIELDS.filter(
    (field) => !isObject || !Object.hasOwn(event as object, field),
  );
  if (missing.length > 0) {
    throw validation(
      `Parameter Event is not valid. Reason: missing required field(s): ${missing.join(', ')}.`,
    );
  }
  return event;
}

function requiredString(input: Input, field: string): string {
  const value = input?.[field];
  if (typeof value !== 'string' || value === '') {
    throw validation(`Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  }
  return value;
}

function optionalString(input: Input, field: string): string | undefined {
  const value = input?.[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw validation(`Value at '${field}' must be a string`);
  return value;
}

function validation(message: string): AwsError {
  return new AwsError('ValidationException', message);
}
