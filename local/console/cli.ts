/**
 * `npm run console -- --stage NAME [--port N]`: the same console against a deployed stage. Its
 * endpoints and resources come from the stage's CloudFormation stack (`order-middleware-NAME`), the
 * credentials and region from the standard AWS chain (AWS_PROFILE, AWS_REGION, SSO, …). The HTTP
 * API's IAM routes are signed with those credentials; Express paths come from their log group.
 * What those credentials need: cloudformation:DescribeStacks and ListStackResources on the stack;
 * execute-api:Invoke on the HTTP API (and the simulators' `_control` APIs where deployed);
 * states:DescribeStateMachine, DescribeExecution and GetExecutionHistory; logs:DescribeLogGroups and
 * FilterLogEvents; dynamodb:Query on the orders table's `by-status` index (the counts) and
 * dynamodb:Scan on the stores table (the store list).
 */
import { parseArgs } from 'node:util';
import { stageEndpoints } from './endpoints';
import { startConsole } from './server';

const USAGE = 'usage: npm run console -- --stage NAME [--port N]';

const { values } = parseArgs({
  options: { stage: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean' } },
});
if (values.help || !values.stage) {
  console.error(USAGE);
  process.exit(values.help ? 0 : 2);
}
const port = values.port === undefined ? undefined : Number(values.port);
if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) {
  console.error(`--port ${values.port} is not a port\n${USAGE}`);
  process.exit(2);
}

const endpoints = await stageEndpoints(values.stage).catch((error: Error) => {
  console.error(`Cannot read stage ${values.stage}'s stack: ${error.name}: ${error.message}`);
  process.exit(1);
});
const running = await startConsole({ endpoints, ...(port !== undefined && { port }) });
console.log(`order-middleware console for stage ${endpoints.stage} (${endpoints.region})
  console            ${running.url}
  HTTP API           ${endpoints.httpApiUrl}
  partner simulator  ${endpoints.partnerSimulatorUrl ?? 'none (this stage deploys none)'}
  POS simulator      ${endpoints.posSimulatorUrl ?? 'none (this stage deploys none)'}`);

const stop = async () => {
  await running.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
