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
import { parseInputPath, type TargetConfig } from './targets';

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

    /**
     * Adds targets to a rule, or updates those whose Id it already has (AWS: at most 5 per rule).
     * Entries AWS takes but this bridge cannot deliver as asked (an InputTransformer) are reported
     * in FailedEntries, as AWS reports the entries it refuses, and the others are still applied.
     */
    PutTargets: async (input: Input) => {
      const rule = ruleOf(bridge, input, 'Rule');
      const entries = input?.Targets;
      if (!Array.isArray(entries) || entries.length === 0) {
        throw validation(
          entries === undefined || entries === null
            ? "Value null at 'targets' failed to satisfy constraint: Member must not be null"
            : "1 validation error detected: Value '[]' at 'targets' failed to satisfy constraint: Member must have length greater than or equal to 1",
        );
      }
      const targets = entries.map((entry, i) => targetConfigOf(entry as Input, i));
      const ids = new Set(rule.targets.map((target) => target.id));
      const added = new Set(targets.map((target) => target.id).filter((id) => !ids.has(id)));
      if (ids.size + added.size > MAX_TARGETS_PER_RULE) {
        throw new AwsError(
          'LimitExceededException',
          `The requested resource exceeds the maximum number allowed (${MAX_TARGETS_PER_RULE} targets per rule).`,
        );
      }
      const failed: { TargetId: string; ErrorCode: string; ErrorMessage: string }[] = [];
      for (const target of targets) {
        if (target.inputTransformer !== undefined) {
          failed.push({
            TargetId: target.id,
            ErrorCode: 'UnsupportedOperation',
            ErrorMessage: 'The local EventBridge does not apply InputTransformer.',
          });
          continue;
        }
        const at = rule.targets.findIndex((existing) => existing.id === target.id);
        if (at >= 0) rule.targets[at] = target;
        else rule.targets.push(target);
      }
      return { FailedEntryCount: failed.length, FailedEntries: failed };
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
/** A target Id as AWS allows it (1–64 characters). */
const TARGET_ID = /^[.\-_A-Za-z0-9]{1,64}$/;
const MAX_TARGETS_PER_RULE = 5;

/** One PutTargets entry as a target of the bridge, checked as AWS checks it. */
function targetConfigOf(entry: Input, index: number): TargetConfig {
  const at = `targets.${index + 1}.member`;
  const id = entry?.Id;
  if (typeof id !== 'string' || !TARGET_ID.test(id)) {
    throw validation(
      `1 validation error detected: Value '${String(id)}' at '${at}.id' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+`,
    );
  }
  const arn = entry.Arn;
  if (typeof arn !== 'string' || arn === '') {
    throw validation(`Value null at '${at}.arn' failed to satisfy constraint: Member must not be null`);
  }
  const input = optionalString(entry, 'Input');
  const inputPath = optionalString(entry, 'InputPath');
  if ([input, inputPath, entry.InputTransformer].filter((value) => value !== undefined).length > 1) {
    throw validation(`Only one of Input, InputPath, or InputTransformer must be provided for target ${id}.`);
  }
  if (inputPath !== undefined) parseInputPath(inputPath);
  const retry = entry.RetryPolicy as
    | { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number }
    | undefined;
  const deadLetterArn = (entry.DeadLetterConfig as { Arn?: string } | undefined)?.Arn;
  return {
    id,
    arn,
    ...(input !== undefined && { input }),
    ...(inputPath !== undefined && { inputPath }),
    ...(entry.InputTransformer !== undefined && { inputTransformer: entry.InputTransformer }),
    ...optionalSetting(entry, 'RoleArn', 'roleArn'),
    ...(retry && {
      retryPolicy: {
        ...(retry.MaximumRetryAttempts !== undefined && { maximumRetryAttempts: retry.MaximumRetryAttempts }),
        ...(retry.MaximumEventAgeInSeconds !== undefined && {
          maximumEventAgeInSeconds: retry.MaximumEventAgeInSeconds,
        }),
      },
    }),
    ...(deadLetterArn && { deadLetterArn }),
  };
}

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
