/**
 * One stack per Git branch: every name carries the stage, nothing names an account, bucket or bus
 * literally, and the longest branch still fits AWS's name limits.
 */

import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type CfnTemplate,
  type Json,
  PACKAGING_TIMEOUT_MS,
  packagedStack,
  REPO,
  resourcesOfType,
} from './packaged-stack';

let template: CfnTemplate;
let stage: string;
let stageName: (branch: string) => string;

beforeAll(async () => {
  ({ template, stage } = await packagedStack());
  ({ stageName } = (await import(pathToFileURL(join(REPO, 'scripts', 'stage-name.mjs')).href)) as {
    stageName: (branch: string) => string;
  });
}, PACKAGING_TIMEOUT_MS);

/** Each named resource type, the property holding its name, and AWS's length limit for it. */
const NAMED: [type: string, property: string, limit: number][] = [
  ['AWS::Lambda::Function', 'FunctionName', 64],
  ['AWS::IAM::Role', 'RoleName', 64],
  ['AWS::StepFunctions::StateMachine', 'StateMachineName', 80],
  ['AWS::SQS::Queue', 'QueueName', 80],
  ['AWS::DynamoDB::Table', 'TableName', 255],
  ['AWS::Events::EventBus', 'Name', 256],
  ['AWS::SNS::Topic', 'TopicName', 256],
  ['AWS::CloudWatch::Alarm', 'AlarmName', 255],
  ['AWS::CloudWatch::Dashboard', 'DashboardName', 255],
  ['AWS::Logs::LogGroup', 'LogGroupName', 512],
  ['AWS::Logs::QueryDefinition', 'Name', 255],
  ['AWS::ApiGatewayV2::Api', 'Name', 128],
];

function names(of: CfnTemplate): { id: string; type: string; name: string; limit: number }[] {
  return NAMED.flatMap(([type, property, limit]) =>
    resourcesOfType(of, type).flatMap(([id, r]) => {
      const name = r.Properties?.[property];
      return typeof name === 'string' ? [{ id, type, name, limit }] : [];
    }),
  );
}

/** The same stack for another stage: the stage is a literal wherever it appears. */
const forStage = (other: string): CfnTemplate =>
  JSON.parse(JSON.stringify(template).split(stage).join(other)) as CfnTemplate;

const LONG_BRANCH = 'feature/JIRA-4711-let-store-managers-pause-a-store-from-the-pos-and-partner-apps';

describe('a stack per stage', () => {
  it('puts the stage in the name of every named resource, so two stages never collide', () => {
    const named = names(template);
    expect(named.length).toBeGreaterThan(30);
    for (const { id, name } of named)
      expect({ id, name, hasStage: name.includes(stage) }).toMatchObject({ hasStage: true });
  });

  it('shares no name between two stages', () => {
    const other = stageName('release/2025-06');
    const ours = new Set(names(template).map(({ name }) => name));
    for (const { name } of names(forStage(other))) expect(ours).not.toContain(name);
  });

  it('names no account, region-bound ARN or S3 bucket literally', () => {
    const text = JSON.stringify(template);
    expect(text).not.toMatch(/arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:/);
    expect(text).not.toMatch(/arn:aws[a-z-]*:(?!states:::)[a-z0-9-]+:[a-z]{2}-[a-z]+-\d:/);
    for (const [, bucket] of resourcesOfType(template, 'AWS::S3::Bucket')) {
      expect(bucket.Properties?.BucketName).toBeUndefined();
    }
  });

  it('refers to its bus and tables by reference inside the state machines, never by name', () => {
    for (const [, machine] of resourcesOfType(template, 'AWS::StepFunctions::StateMachine')) {
      const [text] = (machine.Properties?.DefinitionString?.['Fn::Sub'] ?? ['']) as [string, Json];
      expect(text).not.toContain(`order-middleware-${stage}`);
      expect(text).not.toMatch(/"(EventBusName|TableName|StateMachineArn|FunctionName)": "[^$]/);
    }
  });
});

describe('a long branch name', () => {
  it('becomes a stage short enough for every AWS name limit', () => {
    const longStage = stageName(LONG_BRANCH);
    expect(longStage.length).toBeLessThanOrEqual(27);
    const named = names(forStage(longStage));
    expect(named.some(({ name }) => name.includes(longStage))).toBe(true);
    for (const { id, name, limit } of named) {
      expect({ id, name, fits: name.length <= limit }).toMatchObject({ fits: true });
    }
  });

  it('keeps even the longest function name within Lambda’s 64 characters', () => {
    const longStage = stageName(LONG_BRANCH);
    const functionNames = names(forStage(longStage)).filter(({ type }) => type === 'AWS::Lambda::Function');
    // The middleware's nineteen and the two simulators a branch stage carries.
    expect(functionNames).toHaveLength(21);
    const longest = Math.max(...functionNames.map(({ name }) => name.length));
    expect(longest).toBeLessThanOrEqual(64);
  });

  it('keeps IAM policy names within 128 characters', () => {
    const longStage = stageName(LONG_BRANCH);
    for (const [id, role] of resourcesOfType(forStage(longStage), 'AWS::IAM::Role')) {
      for (const policy of (role.Properties?.Policies ?? []) as { PolicyName: string }[]) {
        expect({ id, fits: policy.PolicyName.length <= 128 }).toEqual({ id, fits: true });
      }
    }
  });
});
