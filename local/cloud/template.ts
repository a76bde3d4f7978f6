import { RULE_STATES, type RuleState } from './eventbridge/bus';
import { parseScheduleExpression, ScheduleExpressionError } from './eventbridge/schedule';

/**
 * Reads the packaged CloudFormation template (the very one that deploys) into a local model: every
 * intrinsic resolved to the names, ARNs and URLs the local cloud uses, one list per emulated
 * resource type, and the types with no local behaviour listed as "not emulated". Anything else
 * stops start-up with its logical id and type, so nothing runs half-emulated without anyone knowing.
 */

export interface LoadTemplateOptions {
  stage: string;
  region?: string;
  accountId?: string;
  /** The edge (AWS endpoint) base URL, for queue URLs. */
  edgeUrl: string;
  /** The local HTTP API base URL, for the Api's ApiEndpoint attribute. */
  httpApiUrl?: string;
  /** Defaults to the Serverless Framework's `<service>-<stage>` when the template says the service. */
  stackName?: string;
  /** Values for the template's Parameters (otherwise their Default). */
  parameters?: Record<string, string>;
  /** More resource types to accept without local behaviour. */
  notEmulatedTypes?: string[];
}

export interface LocalFunction {
  logicalId: string;
  name: string;
  handler: string;
  runtime: string;
  memorySize: number;
  timeout: number;
  environment: Record<string, string>;
  reservedConcurrency?: number;
  artifactKey?: string;
  deadLetterArn?: string;
  maximumRetryAttempts?: number;
  maximumEventAgeInSeconds?: number;
  /** An EventInvokeConfig's on-failure destination (an SQS queue): it gets Lambda's invocation record. */
  onFailureArn?: string;
  architecture: 'x86_64' | 'arm64';
  arn: string;
}

export interface HttpRoute {
  routeKey: string;
  functionName: string;
  authorizationType?: string;
}

export interface RuleTarget {
  id: string;
  arn: string;
  input?: string;
  inputPath?: string;
  inputTransformer?: { inputPathsMap?: Record<string, string>; inputTemplate: string };
  retryPolicy?: { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number };
  deadLetterArn?: string;
}

export interface LocalStackModel {
  stackName: string;
  functions: LocalFunction[];
  httpApi?: { routes: HttpRoute[] };
  tables: Array<{ logicalId: string; name: string; properties: Record<string, unknown> }>;
  queues: Array<{
    logicalId: string;
    name: string;
    arn: string;
    url: string;
    attributes: Record<string, string>;
  }>;
  buses: Array<{ logicalId: string; name: string; arn: string }>;
  rules: Array<{
    logicalId: string;
    name: string;
    eventBusName: string;
    /** A rule has a pattern, a schedule, or both (then it fires on matching events and on schedule). */
    eventPattern?: object;
    /** `rate(…)` or `cron(…)`, validated as PutRule does; default bus only. */
    scheduleExpression?: string;
    state: RuleState;
    targets: RuleTarget[];
  }>;
  stateMachines: Array<{
    logicalId: string;
    name: string;
    arn: string;
    type: 'STANDARD' | 'EXPRESS';
    definition: string;
    roleArn?: string;
    /** `LoggingConfiguration` with the group's ARN resolved: where its history events are logged. */
    logging?: StateMachineLogging;
  }>;
  /** The template's CloudWatch Logs groups (each function's `/aws/lambda/…` group comes on top). */
  logGroups: Array<{ logicalId: string; name: string; retentionInDays?: number }>;
  notEmulated: Array<{ logicalId: string; type: string }>;
}

export interface StateMachineLogging {
  level: 'ALL' | 'ERROR' | 'FATAL' | 'OFF';
  includeExecutionData: boolean;
  /** The destination log group's ARN (`arn:aws:logs:…:log-group:<name>:*`), as DescribeStateMachine gives it. */
  logGroupArn?: string;
}

/** Types accepted with no local behaviour: listed at start as "not emulated". */
export const NOT_EMULATED_TYPES = new Set([
  'AWS::S3::Bucket',
  'AWS::S3::BucketPolicy',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::IAM::ManagedPolicy',
  'AWS::Logs::QueryDefinition',
  'AWS::Logs::SubscriptionFilter',
  'AWS::CloudWatch::Alarm',
  'AWS::CloudWatch::Dashboard',
  'AWS::Lambda::Version',
  'AWS::Lambda::Permission',
  'AWS::SNS::Topic',
  'AWS::SNS::TopicPolicy',
  'AWS::SNS::Subscription',
  'AWS::SQS::QueuePolicy',
  'AWS::ApiGatewayV2::Api',
  'AWS::ApiGatewayV2::Stage',
]);

/** Types the local cloud emulates (or folds into another resource, like EventInvokeConfig). */
const EMULATED_TYPES = new Set([
  'AWS::Lambda::Function',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::Integration',
  'AWS::DynamoDB::Table',
  'AWS::SQS::Queue',
  'AWS::Events::EventBus',
  'AWS::Events::Rule',
  'AWS::StepFunctions::StateMachine',
  'AWS::Logs::LogGroup',
]);

/**
 * Per emulated type, every property the local cloud honours, and those it may leave aside because
 * nothing an order does could notice them here (descriptions and tags; IAM, which is not emulated;
 * encryption at rest; backups). Any other property present stops start-up, naming the resource,
 * its type and the property: nothing runs half-emulated. Values the emulators honour only in part
 * are checked where they are read (a target's keys, an integration's type, a destination).
 */
const PROPERTIES: Record<string, { honoured: string[]; inert: string[] }> = {
  'AWS::Lambda::Function': {
    honoured: [
      'FunctionName',
      'Handler',
      'Runtime',
      'Code',
      'MemorySize',
      'Timeout',
      'Environment',
      'Architectures',
      'ReservedConcurrentExecutions',
      'DeadLetterConfig',
    ],
    inert: ['Description', 'Role', 'Tags'],
  },
  'AWS::Lambda::EventInvokeConfig': {
    honoured: [
      'FunctionName',
      'Qualifier',
      'MaximumRetryAttempts',
      'MaximumEventAgeInSeconds',
      'DestinationConfig',
    ],
    inert: [],
  },
  'AWS::ApiGatewayV2::Route': {
    honoured: ['RouteKey', 'Target', 'AuthorizationType'],
    inert: ['ApiId', 'OperationName'],
  },
  'AWS::ApiGatewayV2::Integration': {
    honoured: ['IntegrationType', 'IntegrationUri', 'PayloadFormatVersion', 'TimeoutInMillis'],
    inert: ['ApiId', 'Description', 'CredentialsArn'],
  },
  // AWS deletes expired items only eventually (typically within days) and serves them until then,
  // so a TTL that never deletes locally is within what AWS promises; code must check expiry itself.
  'AWS::DynamoDB::Table': {
    honoured: [
      'TableName',
      'AttributeDefinitions',
      'KeySchema',
      'BillingMode',
      'ProvisionedThroughput',
      'GlobalSecondaryIndexes',
      'LocalSecondaryIndexes',
      'TimeToLiveSpecification',
    ],
    inert: [
      'PointInTimeRecoverySpecification',
      'SSESpecification',
      'DeletionProtectionEnabled',
      'ContributorInsightsSpecification',
      'TableClass',
      'Tags',
    ],
  },
  'AWS::SQS::Queue': {
    honoured: [
      'QueueName',
      'MessageRetentionPeriod',
      'VisibilityTimeout',
      'DelaySeconds',
      'MaximumMessageSize',
      'ReceiveMessageWaitTimeSeconds',
      'RedrivePolicy',
    ],
    inert: ['SqsManagedSseEnabled', 'KmsMasterKeyId', 'KmsDataKeyReusePeriodSeconds', 'Tags'],
  },
  'AWS::Events::EventBus': { honoured: ['Name'], inert: ['Description', 'Tags'] },
  'AWS::Events::Rule': {
    honoured: ['Name', 'EventBusName', 'EventPattern', 'ScheduleExpression', 'State', 'Targets'],
    inert: ['Description', 'RoleArn'],
  },
  'AWS::StepFunctions::StateMachine': {
    honoured: [
      'StateMachineName',
      'StateMachineType',
      'DefinitionString',
      'Definition',
      'DefinitionSubstitutions',
      'LoggingConfiguration',
    ],
    inert: ['RoleArn', 'Tags'],
  },
  'AWS::Logs::LogGroup': { honoured: ['LogGroupName', 'RetentionInDays'], inert: ['Tags'] },
};

/** The keys of a rule target the local EventBridge honours; RoleArn is IAM, not emulated. */
const TARGET_KEYS = new Set([
  'Id',
  'Arn',
  'Input',
  'InputPath',
  'RetryPolicy',
  'DeadLetterConfig',
  'RoleArn',
]);

/** `Resource X (Type) sets P, which the local cloud does not honour…`: the one refusal wording. */
function notHonoured(logicalId: string, type: string, property: string, why = ''): Error {
  return new Error(
    `Resource ${logicalId} (${type}) sets ${property}, which the local cloud does not honour${why ? `: ${why}` : ''}. It would run differently here than on AWS, so start-up stops.`,
  );
}

/** Refuses any property of an emulated resource that is neither honoured nor inert. */
function checkProperties(logicalId: string, resource: Resource): void {
  const known = PROPERTIES[resource.Type];
  if (!known) return;
  for (const property of Object.keys(resource.Properties ?? {})) {
    if (!known.honoured.includes(property) && !known.inert.includes(property))
      throw notHonoured(logicalId, resource.Type, property);
  }
}

/** Refuses a nested key the emulator does not honour (e.g. `Code.ImageUri`). */
function checkKeys(logicalId: string, type: string, property: string, value: unknown, allowed: string[]) {
  if (!value || typeof value !== 'object') return;
  for (const key of Object.keys(value))
    if (!allowed.includes(key)) throw notHonoured(logicalId, type, `${property}.${key}`);
}

/**
 * The HTTP API's stage and API resources are otherwise not emulated, but two of their settings
 * change what a caller sees: throttling (AWS answers 429) and CORS (AWS answers preflights and adds
 * headers). The local HTTP API does neither, so a template that sets them is refused.
 */
function checkHttpApiSettings(logicalId: string, resource: Resource): void {
  const p = resource.Properties ?? {};
  if (resource.Type === 'AWS::ApiGatewayV2::Api' && p.CorsConfiguration !== undefined)
    throw notHonoured(
      logicalId,
      resource.Type,
      'CorsConfiguration',
      'the local HTTP API answers no CORS preflight',
    );
  if (resource.Type !== 'AWS::ApiGatewayV2::Stage') return;
  const settings: Array<[string, unknown]> = [
    ['DefaultRouteSettings', p.DefaultRouteSettings],
    ...Object.entries((p.RouteSettings ?? {}) as Record<string, unknown>).map(
      ([route, value]): [string, unknown] => [`RouteSettings.${route}`, value],
    ),
  ];
  for (const [where, value] of settings) {
    for (const key of ['ThrottlingBurstLimit', 'ThrottlingRateLimit']) {
      if (value && typeof value === 'object' && key in value)
        throw notHonoured(
          logicalId,
          resource.Type,
          `${where}.${key}`,
          'the local HTTP API does not throttle (AWS answers 429)',
        );
    }
  }
}

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  Condition?: string;
}

interface Template {
  Parameters?: Record<string, { Type?: string; Default?: unknown }>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, Resource>;
}

/** The property holding each type's physical name, when the template sets one. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Events::EventBus': 'Name',
  'AWS::Events::Rule': 'Name',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::Policy': 'PolicyName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::ApiGatewayV2::Stage': 'StageName',
};

/** Marks a property removed by `Ref: AWS::NoValue`. */
const NO_VALUE = Symbol('AWS::NoValue');

export function loadTemplate(templateJson: string | object, options: LoadTemplateOptions): LocalStackModel {
  const template = (typeof templateJson === 'string' ? JSON.parse(templateJson) : templateJson) as Template;
  if (!template.Resources) throw new Error('Template has no Resources');
  return new TemplateReader(template, options).read();
}

class TemplateReader {
  private readonly region: string;
  private readonly accountId: string;
  private readonly stackName: string;
  private readonly names = new Map<string, string>();
  private readonly resolvingNames = new Set<string>();
  private readonly conditions = new Map<string, boolean>();
  private readonly notEmulatedTypes: Set<string>;

  constructor(
    private readonly template: Template,
    private readonly options: LoadTemplateOptions,
  ) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.stackName = options.stackName ?? defaultStackName(template, options.stage);
    this.notEmulatedTypes = new Set([...NOT_EMULATED_TYPES, ...(options.notEmulatedTypes ?? [])]);
  }

  read(): LocalStackModel {
    const model: LocalStackModel = {
      stackName: this.stackName,
      functions: [],
      tables: [],
      queues: [],
      buses: [],
      rules: [],
      stateMachines: [],
      logGroups: [],
      notEmulated: [],
    };
    const present = Object.entries(this.template.Resources).filter(
      ([, r]) => !r.Condition || this.condition(r.Condition),
    );
    for (const [logicalId, resource] of present) {
      if (this.notEmulatedTypes.has(resource.Type))
        model.notEmulated.push({ logicalId, type: resource.Type });
      else if (!EMULATED_TYPES.has(resource.Type)) {
        throw new Error(
          `Resource ${logicalId} has type ${resource.Type}, which the local cloud does not emulate`,
        );
      } else checkProperties(logicalId, resource);
    }
    const ofType = (type: string) => present.filter(([, r]) => r.Type === type);
    const invokeConfigs = ofType('AWS::Lambda::EventInvokeConfig').map(([id, r]) => ({
      logicalId: id,
      props: this.props(id, r),
    }));
    model.functions = ofType('AWS::Lambda::Function').map(([id, r]) =>
      this.lambdaFunction(id, r, invokeConfigs),
    );
    model.tables = ofType('AWS::DynamoDB::Table').map(([id, r]) => this.table(id, r));
    model.queues = ofType('AWS::SQS::Queue').map(([id, r]) => this.queue(id, r));
    model.buses = ofType('AWS::Events::EventBus').map(([id]) => ({
      logicalId: id,
      name: this.physicalName(id),
      arn: this.arnOf(id),
    }));
    model.rules = ofType('AWS::Events::Rule').map(([id, r]) => this.rule(id, r));
    model.stateMachines = ofType('AWS::StepFunctions::StateMachine').map(([id, r]) =>
      this.stateMachine(id, r),
    );
    model.logGroups = ofType('AWS::Logs::LogGroup').map(([id, r]) => {
      const retention = this.props(id, r).RetentionInDays;
      return {
        logicalId: id,
        name: this.physicalName(id),
        ...(retention !== undefined && { retentionInDays: Number(retention) }),
      };
    });
    const routes = ofType('AWS::ApiGatewayV2::Route').map(([id, r]) => this.route(id, r, model.functions));
    for (const [id, r] of present) checkHttpApiSettings(id, r);
    const hasApi = present.some(([, r]) => r.Type === 'AWS::ApiGatewayV2::Api');
    if (hasApi || routes.length > 0) model.httpApi = { routes };
    return model;
  }

  // ── resources ────────────────────────────────────────────────────────────────────────────

  private props(logicalId: string, resource: Resource): Record<string, unknown> {
    const resolved = this.resolve(resource.Properties ?? {}, logicalId);
    return (resolved === NO_VALUE ? {} : resolved) as Record<string, unknown>;
  }

  private lambdaFunction(
    logicalId: string,
    resource: Resource,
    invokeConfigs: Array<{ logicalId: string; props: Record<string, unknown> }>,
  ): LocalFunction {
    const p = this.props(logicalId, resource) as LambdaProps;
    const name = this.physicalName(logicalId);
    const arn = this.arnOf(logicalId);
    const type = 'AWS::Lambda::Function';
    checkKeys(logicalId, type, 'Code', p.Code, ['S3Bucket', 'S3Key']);
    checkKeys(logicalId, type, 'Environment', p.Environment, ['Variables']);
    checkKeys(logicalId, type, 'DeadLetterConfig', p.DeadLetterConfig, ['TargetArn']);
    // CloudFormation refuses these; locally they would run.
    if (p.Timeout !== undefined && !(Number(p.Timeout) >= 1 && Number(p.Timeout) <= 900))
      throw notHonoured(logicalId, type, `Timeout ${p.Timeout}`, 'Lambda takes 1 to 900 seconds');
    if (p.MemorySize !== undefined && !(Number(p.MemorySize) >= 128 && Number(p.MemorySize) <= 10240))
      throw notHonoured(logicalId, type, `MemorySize ${p.MemorySize}`, 'Lambda takes 128 to 10240 MB');
    if (name.length > 64)
      throw notHonoured(logicalId, type, `FunctionName ${name}`, 'Lambda names are at most 64 characters');
    const variables = Object.entries(p.Environment?.Variables ?? {});
    const environmentBytes = variables.reduce(
      (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(stringOf(v)),
      0,
    );
    if (environmentBytes > 4096)
      throw notHonoured(
        logicalId,
        type,
        `Environment.Variables (${environmentBytes} bytes)`,
        'Lambda takes at most 4 KB of environment variables',
      );
    if (p.Runtime !== undefined && !String(p.Runtime).startsWith('nodejs'))
      throw notHonoured(logicalId, type, `Runtime ${p.Runtime}`, 'local sandboxes run Node.js only');
    const found = invokeConfigs.find((c) => functionNameOf(String(c.props.FunctionName)) === name);
    const invokeConfig = found?.props;
    const onFailureArn = found && this.onFailureDestination(found.logicalId, found.props);
    const deadLetterArn = p.DeadLetterConfig?.TargetArn;
    return {
      logicalId,
      name,
      arn,
      handler: p.Handler ?? '',
      runtime: p.Runtime ?? '',
      memorySize: Number(p.MemorySize ?? 128),
      timeout: Number(p.Timeout ?? 3),
      environment: Object.fromEntries(
        Object.entries(p.Environment?.Variables ?? {}).map(([k, v]) => [k, stringOf(v)]),
      ),
      architecture: p.Architectures?.[0] === 'arm64' ? 'arm64' : 'x86_64',
      ...(p.ReservedConcurrentExecutions !== undefined && {
        reservedConcurrency: Number(p.ReservedConcurrentExecutions),
      }),
      ...(p.Code?.S3Key && { artifactKey: p.Code.S3Key }),
      ...(deadLetterArn && { deadLetterArn }),
      ...(onFailureArn && { onFailureArn }),
      ...(invokeConfig?.MaximumRetryAttempts !== undefined && {
        maximumRetryAttempts: Number(invokeConfig.MaximumRetryAttempts),
      }),
      ...(invokeConfig?.MaximumEventAgeInSeconds !== undefined && {
        maximumEventAgeInSeconds: Number(invokeConfig.MaximumEventAgeInSeconds),
      }),
    };
  }

  /**
   * An EventInvokeConfig's on-failure destination: an SQS queue gets Lambda's invocation record.
   * Other destinations, an on-success one, and a qualifier other than $LATEST (locally there are no
   * published versions to invoke) are refused.
   */
  private onFailureDestination(logicalId: string, p: Record<string, unknown>): string | undefined {
    const type = 'AWS::Lambda::EventInvokeConfig';
    if (p.Qualifier !== undefined && p.Qualifier !== '$LATEST')
      throw notHonoured(
        logicalId,
        type,
        `Qualifier ${String(p.Qualifier)}`,
        'only $LATEST is invoked locally',
      );
    const destinations = p.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined;
    checkKeys(logicalId, type, 'DestinationConfig', destinations, ['OnFailure']);
    const destination = destinations?.OnFailure?.Destination;
    if (destination === undefined) return undefined;
    if (!String(destination).startsWith('arn:aws:sqs:'))
      throw notHonoured(
        logicalId,
        type,
        'DestinationConfig.OnFailure.Destination',
        `${String(destination)} is not an SQS queue, the only destination emulated`,
      );
    return String(destination);
  }

  private table(logicalId: string, resource: Resource) {
    const name = this.physicalName(logicalId);
    return { logicalId, name, properties: { ...this.props(logicalId, resource), TableName: name } };
  }

  private queue(logicalId: string, resource: Resource) {
    const { QueueName: _name, Tags: _tags, ...rest } = this.props(logicalId, resource);
    const attributes = Object.fromEntries(
      Object.entries(rest).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : String(v)]),
    );
    const name = this.physicalName(logicalId);
    return { logicalId, name, arn: this.arnOf(logicalId), url: this.queueUrl(name), attributes };
  }

  /** Refuses, naming the rule, what PutRule would refuse when CloudFormation creates the rule. */
  private rule(logicalId: string, resource: Resource) {
    const p = this.props(logicalId, resource) as RuleProps;
    const name = this.physicalName(logicalId);
    const refuse = (reason: string) => new Error(`Rule ${logicalId} (${name}) ${reason}`);
    const pattern = typeof p.EventPattern === 'string' ? JSON.parse(p.EventPattern) : p.EventPattern;
    const schedule = p.ScheduleExpression;
    const eventBusName = busNameOf(p.EventBusName ?? 'default');
    if (!pattern && schedule === undefined) {
      throw refuse('has neither EventPattern nor ScheduleExpression: AWS needs one or both');
    }
    if (schedule !== undefined) {
      if (typeof schedule !== 'string') throw refuse('has a ScheduleExpression that is not a string');
      if (eventBusName !== 'default') {
        throw refuse(
          `has ScheduleExpression ${schedule} on event bus ${eventBusName}: AWS runs schedules only on the default bus`,
        );
      }
      try {
        parseScheduleExpression(schedule);
      } catch (error) {
        if (error instanceof ScheduleExpressionError) {
          throw new Error(`Rule ${logicalId} (${name}): ${error.message}`);
        }
        throw error;
      }
    }
    const state = p.State ?? 'ENABLED';
    if (!RULE_STATES.includes(state as RuleState)) {
      throw refuse(`has State ${state}; AWS takes ${RULE_STATES.join(', ')}`);
    }
    return {
      logicalId,
      name,
      eventBusName,
      ...(pattern && { eventPattern: pattern as object }),
      ...(schedule !== undefined && { scheduleExpression: schedule }),
      state: state as RuleState,
      targets: this.ruleTargets(logicalId, p.Targets ?? []),
    };
  }

  /** A rule's targets: at most 5, as AWS allows, each with only the keys the local EventBridge honours. */
  private ruleTargets(logicalId: string, targets: Array<Record<string, unknown>>): RuleTarget[] {
    if (targets.length > 5)
      throw notHonoured(
        logicalId,
        'AWS::Events::Rule',
        `Targets (${targets.length})`,
        'a rule takes at most 5 targets',
      );
    return targets.map((target) => {
      for (const key of Object.keys(target)) {
        if (TARGET_KEYS.has(key)) continue;
        const why =
          key === 'InputTransformer' ? 'the local EventBridge would deliver the untransformed event' : '';
        throw notHonoured(logicalId, 'AWS::Events::Rule', `Targets[${String(target.Id)}].${key}`, why);
      }
      return ruleTarget(target);
    });
  }

  private stateMachine(logicalId: string, resource: Resource) {
    const p = this.props(logicalId, resource) as StateMachineProps;
    const type = p.StateMachineType ?? 'STANDARD';
    if (type !== 'STANDARD' && type !== 'EXPRESS')
      throw new Error(`State machine ${logicalId} has unknown type ${type}`);
    return {
      logicalId,
      name: this.physicalName(logicalId),
      arn: this.arnOf(logicalId),
      type: type as 'STANDARD' | 'EXPRESS',
      definition: definitionOf(logicalId, p),
      ...(p.RoleArn && { roleArn: p.RoleArn }),
      ...(p.LoggingConfiguration && { logging: loggingOf(logicalId, p.LoggingConfiguration) }),
    };
  }

  private route(logicalId: string, resource: Resource, functions: LocalFunction[]): HttpRoute {
    const p = this.props(logicalId, resource) as {
      RouteKey: string;
      Target?: string;
      AuthorizationType?: string;
    };
    const integrationId = /^integrations\/(.+)$/.exec(p.Target ?? '')?.[1];
    const integration = integrationId ? this.template.Resources[integrationId] : undefined;
    if (!integrationId || integration?.Type !== 'AWS::ApiGatewayV2::Integration') {
      throw new Error(`Route ${logicalId} (${p.RouteKey}) does not target an integration in this template`);
    }
    const integrationProps = this.props(integrationId, integration);
    const uri = String(integrationProps.IntegrationUri ?? '');
    const functionName = functionNameOf(uri);
    const target = functions.find((f) => f.name === functionName);
    if (!target) {
      throw new Error(
        `Route ${logicalId} (${p.RouteKey}) integrates ${uri}, which is not a function of this template`,
      );
    }
    this.checkIntegration(integrationId, integrationProps, target);
    if (p.AuthorizationType !== undefined && !['NONE', 'AWS_IAM'].includes(p.AuthorizationType)) {
      throw notHonoured(
        logicalId,
        'AWS::ApiGatewayV2::Route',
        `AuthorizationType ${p.AuthorizationType}`,
        'the local HTTP API checks AWS_IAM only',
      );
    }
    return {
      routeKey: p.RouteKey,
      functionName,
      ...(p.AuthorizationType &&
        p.AuthorizationType !== 'NONE' && { authorizationType: p.AuthorizationType }),
    };
  }

  /**
   * The local HTTP API makes payload 2.0 events for Lambda proxy integrations and gives the function
   * its own Timeout; an integration timeout shorter than the function's would cut it off on AWS first.
   */
  private checkIntegration(logicalId: string, p: Record<string, unknown>, target: LocalFunction) {
    const type = 'AWS::ApiGatewayV2::Integration';
    if (p.IntegrationType !== 'AWS_PROXY')
      throw notHonoured(
        logicalId,
        type,
        `IntegrationType ${String(p.IntegrationType)}`,
        'only AWS_PROXY to a function is emulated',
      );
    if (String(p.PayloadFormatVersion ?? '') !== '2.0')
      throw notHonoured(
        logicalId,
        type,
        `PayloadFormatVersion ${String(p.PayloadFormatVersion ?? '(unset: 1.0)')}`,
        'the local HTTP API sends payload format 2.0 events only',
      );
    const timeoutMs = p.TimeoutInMillis === undefined ? 30_000 : Number(p.TimeoutInMillis);
    if (!(timeoutMs >= 50 && timeoutMs <= 30_000))
      throw notHonoured(
        logicalId,
        type,
        `TimeoutInMillis ${timeoutMs}`,
        'an HTTP API integration takes 50 to 30000 ms',
      );
    if (target.timeout * 1000 > timeoutMs)
      throw notHonoured(
        logicalId,
        type,
        `TimeoutInMillis ${timeoutMs}`,
        `it is shorter than ${target.name}'s Timeout of ${target.timeout} s, and the local HTTP API waits for the function`,
      );
  }

  // ── names, ARNs and attributes ───────────────────────────────────────────────────────────

  private resource(logicalId: string, usedIn: string): Resource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`${usedIn} refers to ${logicalId}, which is not in the template`);
    return resource;
  }

  /** The name the resource has locally: its name property, or one CloudFormation-style from the stack. */
  private physicalName(logicalId: string): string {
    const known = this.names.get(logicalId);
    if (known) return known;
    if (this.resolvingNames.has(logicalId)) throw new Error(`Circular reference while naming ${logicalId}`);
    this.resolvingNames.add(logicalId);
    const resource = this.resource(logicalId, logicalId);
    const property = NAME_PROPERTY[resource.Type];
    const given = property
      ? this.resolve(resource.Properties?.[property], `${logicalId}.${property}`)
      : undefined;
    const name =
      typeof given === 'string' && given ? given : generatedName(this.stackName, logicalId, resource.Type);
    this.resolvingNames.delete(logicalId);
    this.names.set(logicalId, name);
    return name;
  }

  private arnOf(logicalId: string): string {
    const { type, name } = {
      type: this.resource(logicalId, logicalId).Type,
      name: this.physicalName(logicalId),
    };
    const regional = (service: string, resource: string) =>
      `arn:aws:${service}:${this.region}:${this.accountId}:${resource}`;
    switch (type) {
      case 'AWS::Lambda::Function':
        return regional('lambda', `function:${name}`);
      case 'AWS::SQS::Queue':
        return regional('sqs', name);
      case 'AWS::DynamoDB::Table':
        return regional('dynamodb', `table/${name}`);
      case 'AWS::Events::EventBus':
        return regional('events', `event-bus/${name}`);
      case 'AWS::Events::Rule': {
        const bus = busNameOf(
          stringOf(
            this.resolve(
              this.resource(logicalId, logicalId).Properties?.EventBusName ?? 'default',
              logicalId,
            ),
          ),
        );
        return regional('events', bus === 'default' ? `rule/${name}` : `rule/${bus}/${name}`);
      }
      case 'AWS::StepFunctions::StateMachine':
        return regional('states', `stateMachine:${name}`);
      case 'AWS::SNS::Topic':
        return regional('sns', name);
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${this.accountId}:role/${name}`;
      case 'AWS::IAM::ManagedPolicy':
        return `arn:aws:iam::${this.accountId}:policy/${name}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      case 'AWS::Logs::LogGroup':
        return regional('logs', `log-group:${name}:*`);
      case 'AWS::CloudWatch::Alarm':
        return regional('cloudwatch', `alarm:${name}`);
      case 'AWS::Lambda::Version': {
        const fn = stringOf(
          this.resolve(this.resource(logicalId, logicalId).Properties?.FunctionName, logicalId),
        );
        return `${fn.startsWith('arn:') ? fn : regional('lambda', `function:${fn}`)}:1`;
      }
      default:
        throw new Error(`${logicalId} (${type}) has no ARN locally`);
    }
  }

  private queueUrl(name: string): string {
    return `${this.options.edgeUrl.replace(/\/$/, '')}/${this.accountId}/${name}`;
  }

  /** What `Ref` returns for each type, as the CloudFormation docs give it. */
  private ref(logicalId: string, usedIn: string): unknown {
    const parameter = this.template.Parameters?.[logicalId];
    if (parameter) return this.parameter(logicalId, parameter, usedIn);
    switch (logicalId) {
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.accountId;
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.region}:${this.accountId}:stack/${this.stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::NoValue':
        return NO_VALUE;
      case 'AWS::NotificationARNs':
        return [];
    }
    const type = this.resource(logicalId, usedIn).Type;
    switch (type) {
      case 'AWS::SQS::Queue':
        return this.queueUrl(this.physicalName(logicalId));
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::SNS::Topic':
      case 'AWS::IAM::ManagedPolicy':
      case 'AWS::Lambda::Version':
        return this.arnOf(logicalId);
      case 'AWS::ApiGatewayV2::Api':
        return 'local';
      default:
        // functions, tables, buses, rules, roles, buckets, log groups, alarms: the name;
        // integrations, routes, permissions and the like: an id, which locally is the logical id
        return NAME_PROPERTY[type] ? this.physicalName(logicalId) : logicalId;
    }
  }

  private getAtt(logicalId: string, attribute: string, usedIn: string): unknown {
    const type = this.resource(logicalId, usedIn).Type;
    const name = () => this.physicalName(logicalId);
    switch (attribute) {
      case 'Arn':
        return this.arnOf(logicalId);
      case 'QueueName':
      case 'Name':
      case 'TopicName':
      case 'StateMachineName':
        return name();
      case 'QueueUrl':
        return this.queueUrl(name());
      case 'TopicArn':
        return this.arnOf(logicalId);
      case 'StreamArn':
        return `${this.arnOf(logicalId)}/stream/1970-01-01T00:00:00.000`;
      case 'RoleId':
        return `AROA${logicalId.toUpperCase().slice(0, 16)}`;
      case 'ApiEndpoint':
        return this.options.httpApiUrl ?? 'http://127.0.0.1:3000';
      case 'ApiId':
        return 'local';
      case 'DomainName':
        return `${name()}.s3.amazonaws.com`;
      case 'RegionalDomainName':
        return `${name()}.s3.${this.region}.amazonaws.com`;
      case 'Version':
        return '1';
    }
    throw new Error(`${usedIn}: Fn::GetAtt ${logicalId}.${attribute} (${type}) is not known locally`);
  }

  private parameter(name: string, parameter: { Type?: string; Default?: unknown }, usedIn: string): unknown {
    const value = this.options.parameters?.[name] ?? parameter.Default;
    if (value === undefined) throw new Error(`${usedIn}: parameter ${name} has no value and no Default`);
    return parameter.Type === 'CommaDelimitedList' || parameter.Type?.startsWith('List<')
      ? String(value).split(',')
      : value;
  }

  private condition(name: string): boolean {
    const known = this.conditions.get(name);
    if (known !== undefined) return known;
    const definition = this.template.Conditions?.[name];
    if (definition === undefined) throw new Error(`Condition ${name} is not defined in the template`);
    const value = this.resolve(definition, `Conditions.${name}`);
    if (typeof value !== 'boolean') throw new Error(`Condition ${name} does not evaluate to true or false`);
    this.conditions.set(name, value);
    return value;
  }

  // ── intrinsic functions ──────────────────────────────────────────────────────────────────

  /** Resolves every intrinsic in a value; `usedIn` names the place for error messages. */
  private resolve(value: unknown, usedIn: string): unknown {
    if (Array.isArray(value)) {
      return value.map((v) => this.resolve(v, usedIn)).filter((v) => v !== NO_VALUE);
    }
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first && isIntrinsic(first[0]))
      return this.intrinsic(first[0], first[1], usedIn);
    const resolved: Record<string, unknown> = {};
    for (const [key, v] of entries) {
      const r = this.resolve(v, `${usedIn}.${key}`);
      if (r !== NO_VALUE) resolved[key] = r;
    }
    return resolved;
  }

  private intrinsic(fn: string, argument: unknown, usedIn: string): unknown {
    const args = () => this.resolve(argument, usedIn) as unknown[];
    switch (fn) {
      case 'Ref':
        return this.ref(String(argument), usedIn);
      case 'Fn::GetAtt': {
        const [logicalId, ...attribute] = Array.isArray(argument)
          ? argument.map(String)
          : String(argument).split('.');
        return this.getAtt(logicalId ?? '', attribute.join('.'), usedIn);
      }
      case 'Fn::Sub':
        return this.sub(argument, usedIn);
      case 'Fn::Join': {
        const [delimiter, list] = args() as [string, unknown[]];
        return list.map(stringOf).join(delimiter);
      }
      case 'Fn::Select': {
        const [index, list] = args() as [number | string, unknown[]];
        const picked = list[Number(index)];
        if (picked === undefined) throw new Error(`${usedIn}: Fn::Select index ${index} is out of range`);
        return picked;
      }
      case 'Fn::Split': {
        const [delimiter, text] = args() as [string, string];
        return String(text).split(delimiter);
      }
      case 'Fn::If': {
        const [name, whenTrue, whenFalse] = argument as [string, unknown, unknown];
        return this.resolve(this.condition(name) ? whenTrue : whenFalse, usedIn);
      }
      case 'Fn::Equals': {
        const [a, b] = args();
        return stringOf(a) === stringOf(b);
      }
      case 'Fn::Not':
        return !this.truth(args()[0], usedIn);
      case 'Fn::And':
        return args().every((c) => this.truth(c, usedIn));
      case 'Fn::Or':
        return args().some((c) => this.truth(c, usedIn));
      case 'Condition':
        return this.condition(String(argument));
      case 'Fn::FindInMap': {
        const [map, key, attribute] = args().map(String) as [string, string, string];
        const found = this.template.Mappings?.[map]?.[key]?.[attribute];
        if (found === undefined)
          throw new Error(`${usedIn}: Fn::FindInMap ${map}.${key}.${attribute} is not in Mappings`);
        return this.resolve(found, usedIn);
      }
      case 'Fn::Base64':
        return Buffer.from(stringOf(this.resolve(argument, usedIn))).toString('base64');
      case 'Fn::Length':
        return args().length;
      case 'Fn::ToJsonString':
        return JSON.stringify(this.resolve(argument, usedIn));
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.region}${zone}`);
      case 'Fn::ImportValue':
        throw new Error(
          `${usedIn}: Fn::ImportValue ${JSON.stringify(argument)} needs another stack's export, which the local cloud does not have`,
        );
      default:
        throw new Error(`${usedIn}: intrinsic function ${fn} is not supported locally`);
    }
  }

  private truth(value: unknown, usedIn: string): boolean {
    if (typeof value !== 'boolean')
      throw new Error(`${usedIn}: a condition function got ${JSON.stringify(value)}`);
    return value;
  }

  /** `Fn::Sub`: `${Param}`, `${Resource}`, `${Resource.Attribute}`, `${AWS::Region}`, `${!Literal}`. */
  private sub(argument: unknown, usedIn: string): string {
    const [text, variables] = Array.isArray(argument)
      ? (argument as [string, Record<string, unknown>?])
      : [argument as string, {}];
    const resolvedVariables = this.resolve(variables ?? {}, usedIn) as Record<string, unknown>;
    return String(text).replace(/\$\{([^}]*)\}/g, (_match, inner: string) => {
      if (inner.startsWith('!')) return `\${${inner.slice(1)}}`;
      const name = inner.trim();
      if (Object.hasOwn(resolvedVariables, name)) return stringOf(resolvedVariables[name]);
      const dot = name.indexOf('.');
      if (dot > 0 && !name.startsWith('AWS::'))
        return stringOf(this.getAtt(name.slice(0, dot), name.slice(dot + 1), usedIn));
      return stringOf(this.ref(name, usedIn));
    });
  }
}

const INTRINSICS = new Set([
  'Ref',
  'Condition',
  'Fn::GetAtt',
  'Fn::Sub',
  'Fn::Join',
  'Fn::Select',
  'Fn::Split',
  'Fn::If',
  'Fn::Equals',
  'Fn::Not',
  'Fn::And',
  'Fn::Or',
  'Fn::FindInMap',
  'Fn::Base64',
  'Fn::GetAZs',
  'Fn::ImportValue',
  'Fn::Cidr',
  'Fn::Transform',
  'Fn::Length',
  'Fn::ToJsonString',
]);

/** `Condition` is an intrinsic only inside condition functions; as a resource key it is handled before resolving. */
function isIntrinsic(key: string): boolean {
  return INTRINSICS.has(key);
}

interface LambdaProps {
  FunctionName?: string;
  Handler?: string;
  Runtime?: string;
  MemorySize?: number | string;
  Timeout?: number | string;
  Environment?: { Variables?: Record<string, unknown> };
  Architectures?: string[];
  ReservedConcurrentExecutions?: number | string;
  Code?: { S3Key?: string };
  DeadLetterConfig?: { TargetArn?: string };
}

interface RuleProps {
  EventBusName?: string;
  EventPattern?: object | string;
  ScheduleExpression?: unknown;
  State?: string;
  Targets?: Array<Record<string, unknown>>;
}

interface StateMachineProps {
  StateMachineType?: string;
  DefinitionString?: string;
  Definition?: object;
  DefinitionSubstitutions?: Record<string, unknown>;
  RoleArn?: string;
  LoggingConfiguration?: {
    Level?: string;
    IncludeExecutionData?: boolean | string;
    Destinations?: Array<{ CloudWatchLogsLogGroup?: { LogGroupArn?: string } }>;
  };
}

/** A state machine's LoggingConfiguration as the local Step Functions honours it (one destination, as AWS allows). */
function loggingOf(logicalId: string, config: NonNullable<StateMachineProps['LoggingConfiguration']>) {
  const level = config.Level ?? 'OFF';
  if (!['ALL', 'ERROR', 'FATAL', 'OFF'].includes(level))
    throw new Error(
      `State machine ${logicalId}: LoggingConfiguration Level ${level} is not ALL, ERROR, FATAL or OFF`,
    );
  const destinations = config.Destinations ?? [];
  if (destinations.length > 1)
    throw new Error(`State machine ${logicalId}: LoggingConfiguration takes one destination, as on AWS`);
  const logGroupArn = destinations[0]?.CloudWatchLogsLogGroup?.LogGroupArn;
  if (level !== 'OFF' && !logGroupArn)
    throw new Error(
      `State machine ${logicalId}: LoggingConfiguration level ${level} needs a log group destination`,
    );
  return {
    level: level as StateMachineLogging['level'],
    includeExecutionData: String(config.IncludeExecutionData ?? false) === 'true',
    ...(logGroupArn && { logGroupArn: String(logGroupArn) }),
  };
}

function ruleTarget(t: Record<string, unknown>): RuleTarget {
  const retry = t.RetryPolicy as
    | { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number }
    | undefined;
  const transformer = t.InputTransformer as
    | { InputPathsMap?: Record<string, string>; InputTemplate: string }
    | undefined;
  const deadLetter = t.DeadLetterConfig as { Arn?: string } | undefined;
  return {
    id: String(t.Id),
    arn: String(t.Arn),
    ...(t.Input !== undefined && { input: String(t.Input) }),
    ...(t.InputPath !== undefined && { inputPath: String(t.InputPath) }),
    ...(transformer && {
      inputTransformer: {
        inputTemplate: transformer.InputTemplate,
        ...(transformer.InputPathsMap && { inputPathsMap: transformer.InputPathsMap }),
      },
    }),
    ...(retry && {
      retryPolicy: {
        ...(retry.MaximumRetryAttempts !== undefined && {
          maximumRetryAttempts: Number(retry.MaximumRetryAttempts),
        }),
        ...(retry.MaximumEventAgeInSeconds !== undefined && {
          maximumEventAgeInSeconds: Number(retry.MaximumEventAgeInSeconds),
        }),
      },
    }),
    ...(deadLetter?.Arn && { deadLetterArn: deadLetter.Arn }),
  };
}

/** The ASL as JSON text: DefinitionString as given, or Definition with DefinitionSubstitutions applied. */
function definitionOf(logicalId: string, p: StateMachineProps): string {
  let definition: unknown;
  if (p.DefinitionString !== undefined) {
    try {
      definition = JSON.parse(p.DefinitionString);
    } catch (error) {
      throw new Error(
        `State machine ${logicalId}: DefinitionString is not valid JSON (${(error as Error).message})`,
      );
    }
  } else if (p.Definition) {
    definition = substitute(p.Definition, p.DefinitionSubstitutions ?? {});
  } else {
    throw new Error(
      `State machine ${logicalId} has neither DefinitionString nor Definition (DefinitionS3Location is not supported locally)`,
    );
  }
  return JSON.stringify(definition);
}

/** DefinitionSubstitutions replace `${name}` in string values; a string that is one whole placeholder takes the value's type. */
function substitute(value: unknown, substitutions: Record<string, unknown>): unknown {
  if (typeof value === 'string') {
    const whole = /^\$\{([^}]+)\}$/.exec(value);
    if (whole && Object.hasOwn(substitutions, whole[1]!)) return substitutions[whole[1]!];
    return value.replace(/\$\{([^}]+)\}/g, (match, name: string) =>
      Object.hasOwn(substitutions, name) ? stringOf(substitutions[name]) : match,
    );
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, substitutions));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, substitutions)]));
  }
  return value;
}

function stringOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** A function name from a name, a function ARN, or an API Gateway `…/functions/<arn>/invocations` URI. */
function functionNameOf(reference: string): string {
  return /function:([^:/]+)/.exec(reference)?.[1] ?? reference;
}

function busNameOf(nameOrArn: string): string {
  return nameOrArn.startsWith('arn:') ? (nameOrArn.split('/').at(-1) ?? nameOrArn) : nameOrArn;
}

/** CloudFormation names unnamed resources `<stack>-<logicalId>-<random>`; locally the suffix is dropped so names stay stable. */
function generatedName(stackName: string, logicalId: string, type: string): string {
  const name = `${stackName}-${logicalId}`.slice(0, 64);
  return type === 'AWS::S3::Bucket' ? name.toLowerCase() : name;
}

/**
 * The Serverless Framework names the stack `<service>-<stage>` and its functions `<service>-<stage>-<key>`,
 * so a function name reveals the service when no stack name is given.
 */
function defaultStackName(template: Template, stage: string): string {
  const marker = `-${stage}-`;
  const functionName = Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map((r) => r.Properties?.FunctionName)
    .find((n): n is string => typeof n === 'string' && n.includes(marker));
  const service = functionName ? functionName.slice(0, functionName.indexOf(marker)) : 'local-stack';
  return `${service}-${stage}`;
}
