/**
 * `npm start`: package the service for stage `local` (offline), bring the packaged template up on
 * this machine, start the partner and POS simulators, seed the demo stores, and run until Ctrl-C.
 * `npm start -- --fresh` empties tables, executions, queues and the simulators' orders first.
 */
import path from 'node:path';
import { iamModeFromEnv, startLocalCloud } from './cloud/index';
import { packageAlone } from './cloud/package-cache';
import { localEndpoints } from './console/endpoints';
import { startConsole } from './console/server';
import { formatLogLine } from './log-format';
import { apiUrlParameters, seedDemoStores } from './seed';
import { startPartnerSimulator } from './simulators/partner/index';
import { startPosSimulator } from './simulators/pos/index';

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const ports = {
  http: port('LOCAL_HTTP_PORT', 3000),
  aws: port('LOCAL_AWS_PORT', 4566),
  partner: port('LOCAL_PARTNER_PORT', 4010),
  pos: port('LOCAL_POS_PORT', 4020),
  console: port('LOCAL_CONSOLE_PORT', 4000),
};
const fresh = process.argv.includes('--fresh');
const quiet = process.argv.includes('--quiet');
const iam = iamModeFromEnv(); // a LOCAL_IAM it does not know stops start-up before packaging
/** What each LOCAL_IAM asks of a call to an IAM-authorized route. */
const IAM_WORDS: Record<typeof iam, string> = {
  signed: 'SigV4-signed for execute-api, else 403',
  strict: 'SigV4 that verifies with local/local, else 403',
  off: 'unsigned calls pass',
};

const root = process.cwd();
const packageDir = path.join(root, '.serverless');
const dataDir = path.join(root, '.local', 'data');
const partnerUrl = `http://127.0.0.1:${ports.partner}`;
const posUrl = `http://127.0.0.1:${ports.pos}`;

console.log('Packaging order-middleware for stage local (offline)…');
await packageAlone(packageDir, 'local');

const cloud = await startLocalCloud({
  packageDir,
  dataDir,
  fresh,
  ports,
  iam,
  // The functions read where the simulators listen from SSM, as a deployed stage's do.
  ssmParameters: apiUrlParameters('local', { partnerUrl, posUrl }),
  log: quiet ? undefined : (fn, line) => console.log(formatLogLine(fn, line)),
});
const storesTable = cloud.model.tables.find((t) => t.logicalId === 'StoresTable')?.name;
if (!storesTable) throw new Error('The template has no StoresTable');
const seeded = await seedDemoStores(cloud.dynamodbEndpoint, storesTable);
// The simulators keep their orders beside the cloud's data, so a plain restart finds them and --fresh clears them.
const partner = await startPartnerSimulator({
  port: ports.partner,
  middlewareUrl: cloud.httpUrl,
  dataDir,
  fresh,
});
const pos = await startPosSimulator({ port: ports.pos, dataDir, fresh });
// The console reaches all of it as a client would: the HTTP API signed, the AWS endpoint, `_control`.
const consoleServer = await startConsole({
  endpoints: localEndpoints(cloud, { partnerUrl: partner.url, posUrl: pos.url }),
  port: ports.console,
});

console.log(`
order-middleware local cloud
  HTTP API           ${cloud.httpUrl}   (POST /webhooks/{partner}/orders, GET /orders/{orderId}, GET /stores/{storeId})
  IAM routes         LOCAL_IAM=${iam} (${IAM_WORDS[iam]})
  AWS endpoint       ${cloud.awsUrl}   (Step Functions, EventBridge, DynamoDB, SSM, SQS, Lambda Invoke, STS GetCallerIdentity; health at /_localstack/health)
  partner simulator  ${partner.url}   (POST /_control/orders)
  POS simulator      ${pos.url}   (GET /_control/orders)
  console            ${consoleServer.url}   (orders live, one order's executions, stores, simulators, dead letters)
  data               ${dataDir}${fresh ? ' (fresh)' : ''}; demo stores ${seeded ? 'seeded' : 'kept'}
  schedules          ${describeSchedules()}
  not emulated       ${cloud.model.notEmulated
    .map((r) => r.type)
    .filter((t, i, all) => all.indexOf(t) === i)
    .join(', ')}
Try: curl -s -XPOST ${partner.url}/_control/orders -d '{"partner":"doordash","storeId":"store-001"}'
ready`);

/** One line per schedule rule: expression, the functions it invokes, and its next minute (UTC). */
function describeSchedules(): string {
  const rules = cloud.eventBridge.scheduledRules();
  if (rules.length === 0) return 'none';
  return rules
    .map((rule) => {
      const targets = rule.targets.map((arn) => arn.split(':').at(-1)).join(', ');
      const when = rule.nextFireTime ? `next ${rule.nextFireTime.toISOString().slice(11, 16)} UTC` : 'never';
      const state = rule.state === 'DISABLED' ? 'disabled' : when;
      return `${rule.scheduleExpression} → ${targets || 'no target'} (${state})`;
    })
    .join('\n                     ');
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  console.log('Stopping…');
  await Promise.allSettled([consoleServer.close(), partner.close(), pos.close()]);
  await cloud.close();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
