/**
 * The local cloud: the packaged CloudFormation template brought up on one machine. Data flows one
 * way — template → emulators → functions — and the functions reach the emulators only through the
 * AWS SDK and HTTP, exactly as on AWS.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { ensureTables, startDynamo } from './dynamodb';
import { startEdge } from './edge';
import { eventBridgeApi } from './eventbridge/api';
import { LocalEventBridge } from './eventbridge/index';
import { IAM_MODES, type IamMode, startHttpApi } from './http-api';
import { lambdaReadApi } from './lambda/api';
import { LocalLambda } from './lambda/index';
import { LocalLogs } from './logs';
import { LocalSqs } from './sqs';
import { LocalSsm } from './ssm';
import { stepFunctionsApi } from './stepfunctions/api';
import { LocalStepFunctions } from './stepfunctions/service';
import { type LocalStackModel, loadTemplate } from './template';

export const REGION = 'us-east-1';
export const ACCOUNT_ID = '000000000000';

export interface LocalCloudOptions {
  /** The `sls package` output folder: the template and one zip per function. */
  packageDir: string;
  /** Where tables, executions and queues live; emptied with `fresh`. */
  dataDir: string;
  fresh?: boolean;
  stage?: string;
  ports?: Partial<Record<'http' | 'aws', number>>;
  host?: string;
  /** Where each function line goes (Powertools JSON lines); silent when omitted. */
  log?: (functionName: string, line: string) => void;
  /** The Lambda env vars to override. */
  environmentOverrides?: Record<string, string>;
  /** SSM parameters the local SSM starts with, beyond local/dev-secrets.json (e.g. the simulators' URLs). */
  ssmParameters?: Record<string, { type: 'String' | 'SecureString'; value: string }>;
  /** EventBridge's first retry delay; the local stage keeps it short. */
  busRetryBaseDelayMs?: number;
  /** How the IAM-authorized routes check callers; default `LOCAL_IAM`, else `signed`. */
  iam?: IamMode;
}

/** `LOCAL_IAM` (ARCHITECTURE section 7, "IAM locally"): `signed` unless it says otherwise. */
export function iamModeFromEnv(value = process.env.LOCAL_IAM): IamMode {
  if (value === undefined || value === '') return 'signed';
  if ((IAM_MODES as readonly string[]).includes(value)) return value as IamMode;
  throw new Error(`LOCAL_IAM=${value} is not one of ${IAM_MODES.join(', ')}`);
}

export interface LocalCloud {
  model: LocalStackModel;
  httpUrl: string;
  awsUrl: string;
  dynamodbEndpoint: string;
  lambda: LocalLambda;
  stepFunctions: LocalStepFunctions;
  eventBridge: LocalEventBridge;
  sqs: LocalSqs;
  ssm: LocalSsm;
  logs: LocalLogs;
  close(): Promise<void>;
}

/** This project's version, which the LocalStack-shaped health endpoint reports. */
function packageVersion(): string {
  try {
    return String(JSON.parse(readFileSync(path.resolve('package.json'), 'utf8')).version ?? '0.0.0');
  } catch {
    return '0.0.0';
  }
}

/** Unzips each function's artifact so its worker imports exactly the bundle that would deploy. */
function extractBundles(model: LocalStackModel, packageDir: string, bundlesDir: string) {
  rmSync(bundlesDir, { recursive: true, force: true });
  return model.functions.map((fn) => {
    const zip = path.join(packageDir, path.basename(fn.artifactKey ?? `${fn.logicalId}.zip`));
    if (!existsSync(zip)) throw new Error(`No artifact ${zip} for function ${fn.name}`);
    const dir = path.join(bundlesDir, fn.name);
    mkdirSync(dir, { recursive: true });
    execFileSync('unzip', ['-q', '-o', zip, '-d', dir]);
    const [modulePath, handlerExport] = splitHandler(fn.handler);
    const bundlePath = ['.mjs', '.js', '.cjs']
      .map((ext) => path.join(dir, modulePath + ext))
      .find(existsSync);
    if (!bundlePath) throw new Error(`No bundle for handler ${fn.handler} in ${zip}`);
    return { fn, bundlePath, handlerExport };
  });
}

function splitHandler(handler: string): [string, string] {
  const dot = handler.lastIndexOf('.');
  return [handler.slice(0, dot), handler.slice(dot + 1)];
}

const LAMBDA_REPORT_LINE = /^(START|END|REPORT) RequestId: /;

const DYNAMODB_COMMANDS = {
  getItem: GetItemCommand,
  putItem: PutItemCommand,
  updateItem: UpdateItemCommand,
  deleteItem: DeleteItemCommand,
  query: QueryCommand,
} as const;

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const stage = options.stage ?? 'local';
  const host = options.host ?? '127.0.0.1';
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closeOne of closers.reverse()) await closeOne().catch(() => {});
  };
  try {
    if (options.fresh) rmSync(options.dataDir, { recursive: true, force: true });
    mkdirSync(options.dataDir, { recursive: true });

    // The edge's port is known before the template is resolved: queue URLs and endpoints name it.
    const awsPort = options.ports?.aws ?? 4566;
    const awsUrl = `http://${host}:${awsPort}`;
    const template = readFileSync(
      path.join(options.packageDir, 'cloudformation-template-update-stack.json'),
      'utf8',
    );
    const model = loadTemplate(template, { stage, region: REGION, accountId: ACCOUNT_ID, edgeUrl: awsUrl });

    const dynamo = await startDynamo({ dataDir: path.join(options.dataDir, 'dynamodb') });
    closers.push(dynamo.close);
    const dynamoClient = new DynamoDBClient({
      endpoint: dynamo.endpoint,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    await ensureTables(dynamoClient, model.tables);

    // What callers write to SSM is kept beside the tables (and goes with them on --fresh).
    const ssm = new LocalSsm({
      stage,
      region: REGION,
      accountId: ACCOUNT_ID,
      dataDir: options.dataDir,
      seed: options.ssmParameters,
    });
    const sqs = new LocalSqs({
      region: REGION,
      accountId: ACCOUNT_ID,
      endpoint: awsUrl,
      dataDir: options.dataDir,
    });
    closers.push(() => sqs.close());
    for (const queue of model.queues) sqs.createQueue(queue.name, queue.attributes);
    const sendToQueue = (arn: string, body: string, attributes?: Record<string, unknown>) =>
      Promise.resolve(sqs.sendToQueueArn(arn, body, attributes as never)).then(() => undefined);

    // Inside the project, so a bundle's external @aws-sdk imports resolve like the Lambda runtime's own SDK.
    const bundlesDir = path.resolve(
      '.local',
      'bundles',
      createHash('sha1').update(options.dataDir).digest('hex').slice(0, 8),
    );
    const bundles = extractBundles(model, options.packageDir, bundlesDir);
    // Unpacked again at every start: gone at close, or each test cloud would leave ~40 MB a function.
    closers.push(async () => rmSync(bundlesDir, { recursive: true, force: true }));
    // Every function's lines land in its /aws/lambda group, in its sandbox's stream, as on Lambda.
    const logs = new LocalLogs({ region: REGION, accountId: ACCOUNT_ID });
    for (const group of model.logGroups) logs.ensureLogGroup(group.name, group.retentionInDays);
    for (const fn of model.functions) logs.ensureLogGroup(`/aws/lambda/${fn.name}`);
    const servingRequests = new Set(model.httpApi?.routes.map((route) => route.functionName));
    const lambda = new LocalLambda({
      region: REGION,
      accountId: ACCOUNT_ID,
      sendToQueue,
      log: (functionName, line, logStreamName) => {
        logs.put(`/aws/lambda/${functionName}`, logStreamName ?? 'local', line);
        // Lambda's own START/END/REPORT lines stay in the logs: the console shows what functions say.
        if (!LAMBDA_REPORT_LINE.test(line)) options.log?.(functionName, line);
      },
      // The SDK inside each function reaches the local endpoints; DynamoDB goes straight to dynalite.
      baseEnv: { AWS_ENDPOINT_URL: awsUrl, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint },
      functions: bundles.map(({ fn, bundlePath, handlerExport }) => ({
        name: fn.name,
        arn: fn.arn,
        bundlePath,
        handlerExport,
        environment: { ...fn.environment, ...options.environmentOverrides },
        memorySize: fn.memorySize,
        timeout: fn.timeout,
        concurrency: fn.reservedConcurrency,
        servesRequests: servingRequests.has(fn.name),
        architecture: fn.architecture,
        deadLetterArn: fn.deadLetterArn,
        onFailureArn: fn.onFailureArn,
        maximumRetryAttempts: fn.maximumRetryAttempts,
        maximumEventAgeInSeconds: fn.maximumEventAgeInSeconds,
      })),
    });
    closers.push(() => lambda.close());

    // eventBridge is created after stepFunctions but both need each other: late binding.
    let eventBridge: LocalEventBridge | undefined;
    const stepFunctions = new LocalStepFunctions({
      region: REGION,
      accountId: ACCOUNT_ID,
      dataDir: path.join(options.dataDir, 'stepfunctions'),
      log: (group, stream, message, timestamp) => logs.put(group, stream, message, timestamp),
      sendEvent: (event) => eventBridge?.sendServiceEvent(event),
      integrations: {
        invokeLambda: async (name, payload) => {
          const result = await lambda.invoke(name, payload);
          return { payload: result.payload, error: result.error };
        },
        putEvents: async (entries) => {
          if (!eventBridge) throw new Error('EventBridge is not up yet');
          return eventBridge.putEvents(entries);
        },
        dynamodb: async (action, params) => {
          const Command = DYNAMODB_COMMANDS[action as keyof typeof DYNAMODB_COMMANDS] as unknown as
            | (new (
                input: unknown,
              ) => GetItemCommand)
            | undefined;
          if (!Command) throw new Error(`dynamodb:${action} is not supported locally`);
          const { $metadata: _metadata, ...output } = await dynamoClient.send(new Command(params));
          return output;
        },
      },
    });
    closers.push(() => stepFunctions.close());
    for (const machine of model.stateMachines) {
      stepFunctions.createStateMachine({
        name: machine.name,
        definition: machine.definition,
        roleArn: machine.roleArn ?? `arn:aws:iam::${ACCOUNT_ID}:role/local`,
        type: machine.type,
        ...(machine.logging && {
          loggingConfiguration: {
            level: machine.logging.level,
            includeExecutionData: machine.logging.includeExecutionData,
            ...(machine.logging.logGroupArn && {
              destinations: [{ cloudWatchLogsLogGroup: { logGroupArn: machine.logging.logGroupArn } }],
            }),
          },
        }),
      });
    }

    eventBridge = new LocalEventBridge({
      region: REGION,
      accountId: ACCOUNT_ID,
      buses: model.buses.map((bus) => bus.name),
      retryBaseDelayMs: options.busRetryBaseDelayMs ?? 200,
      rules: model.rules.map((rule) => ({
        name: rule.name,
        eventBusName: rule.eventBusName,
        eventPattern: rule.eventPattern,
        scheduleExpression: rule.scheduleExpression,
        state: rule.state,
        targets: rule.targets,
      })),
      delivery: {
        deliver: async (arn, payload) => {
          if (arn.includes(':states:')) await stepFunctions.eventBridgeTarget(arn, JSON.parse(payload));
          else if (arn.includes(':lambda:')) await lambda.invokeAsync(arn, JSON.parse(payload));
          else if (arn.includes(':sqs:')) await sendToQueue(arn, payload);
          else throw Object.assign(new Error(`No local target for ${arn}`), { retryable: false });
        },
        sendToQueue: (arn, body, attributes) => sendToQueue(arn, body, attributes),
      },
    });
    const bridge = eventBridge;
    closers.push(() => bridge.close());

    const edge = await startEdge({
      port: awsPort,
      host,
      version: packageVersion(),
      dynamodbEndpoint: dynamo.endpoint,
      lambda: lambda.invoker(),
      lambdaApi: lambdaReadApi(
        model.functions.map((fn) => ({
          ...fn,
          environment: { ...fn.environment, ...options.environmentOverrides },
        })),
      ),
      services: {
        stepfunctions: stepFunctionsApi(stepFunctions),
        events: eventBridgeApi(bridge),
        ssm: ssm.api,
        sqs: sqs.api,
        logs: logs.api,
      },
    });
    closers.push(edge.close);

    const http = await startHttpApi({
      port: options.ports?.http ?? 3000,
      host,
      routes: model.httpApi?.routes ?? [],
      iam: options.iam ?? iamModeFromEnv(),
      accountId: ACCOUNT_ID,
      invoke: (functionName, event) => lambda.invoke(functionName, event),
    });
    closers.push(http.close);

    // Executions that were waiting (or running) when the cloud stopped carry on where they were.
    await stepFunctions.resume();
    // Schedule rules start counting now; minutes missed while the cloud was down are not replayed.
    bridge.startSchedules();

    return {
      model,
      httpUrl: `http://${host}:${http.port}`,
      awsUrl: edge.url,
      dynamodbEndpoint: dynamo.endpoint,
      lambda,
      stepFunctions,
      eventBridge: bridge,
      sqs,
      ssm,
      logs,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
