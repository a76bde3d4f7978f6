import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStepFunctions, stepFunctionsApi } from '../../../local/cloud/stepfunctions';
import {
  ACCOUNT,
  createMachine,
  eventually,
  fakeIntegrations,
  REGION,
  sleep,
  waitForCourierTask,
} from './stepfunctions-helpers';

/** A long `npm start` must not keep every finished execution whole: only the latest few. */
const RETAINED = 3;

let dataDir: string;
let open: LocalStepFunctions[] = [];

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'sfn-retention-'));
});

afterEach(async () => {
  await Promise.all(open.map((service) => service.close()));
  open = [];
  rmSync(dataDir, { recursive: true, force: true });
});

function startService(options: { dataDir?: string; tokens?: string[] } = {}) {
  const integrations = fakeIntegrations({
    waitForCourier: async (payload) => {
      options.tokens?.push((payload as { taskToken: string }).taskToken);
      return { payload: {} };
    },
  });
  const service = new LocalStepFunctions({
    region: REGION,
    accountId: ACCOUNT,
    integrations,
    dataDir: options.dataDir,
    retainedExecutions: RETAINED,
  });
  open.push(service);
  const arn = createMachine(service, 'ticket', ticket);
  const courierArn = createMachine(service, 'courier', courier);
  return { service, api: stepFunctionsApi(service), arn, courierArn };
}

const ticket = {
  StartAt: 'Print',
  States: {
    Print: { Type: 'Pass', Result: { printed: true }, ResultPath: '$.ticket', Next: 'Done' },
    Done: { Type: 'Succeed' },
  },
};

const courier = {
  StartAt: 'WaitForCourier',
  States: { WaitForCourier: waitForCourierTask({ End: true }) },
};

type Api = ReturnType<typeof stepFunctionsApi>;

/** Everything a client can read of one execution: description, history (whole, paged, reversed). */
async function readAll(api: Api, executionArn: string) {
  const firstPage = await api.GetExecutionHistory({ executionArn, maxResults: 2 });
  return {
    description: await api.DescribeExecution({ executionArn }),
    machine: await api.DescribeStateMachineForExecution({ executionArn }),
    history: await api.GetExecutionHistory({ executionArn }),
    firstPage,
    secondPage: await api.GetExecutionHistory({
      executionArn,
      maxResults: 2,
      nextToken: firstPage.nextToken,
    }),
    reversed: await api.GetExecutionHistory({ executionArn, reverseOrder: true }),
  };
}

/** Eight orders' tickets run to the end, one after another (distinct start times). */
async function runEight(service: LocalStepFunctions, arn: string) {
  const arns: string[] = [];
  for (let i = 1; i <= 8; i++) {
    const { executionArn } = service.startExecution({
      stateMachineArn: arn,
      name: `order-${i}`,
      input: JSON.stringify({ orderId: `o-${i}` }),
    });
    await service.waitForExecution(executionArn);
    arns.push(executionArn);
    await sleep(2);
  }
  return arns;
}

async function listedNames(api: Api, stateMachineArn: string) {
  const { executions } = await api.ListExecutions({ stateMachineArn });
  return executions.map((e) => `${e.name}:${e.status}:${e.stopDate! >= e.startDate!}`);
}

const NEWEST_FIRST = [8, 7, 6, 5, 4, 3, 2, 1].map((i) => `order-${i}:SUCCEEDED:true`);

test('only the latest finished executions stay whole in memory; older ones read the same from disk', async () => {
  const { service, api, arn } = startService({ dataDir });
  const { executionArn: first } = service.startExecution({
    stateMachineArn: arn,
    name: 'order-0',
    input: '{"orderId":"o-0"}',
  });
  await service.waitForExecution(first);
  const before = await readAll(api, first);
  expect(before.history.events.map((e) => e.type)).toEqual([
    'ExecutionStarted',
    'PassStateEntered',
    'PassStateExited',
    'SucceedStateEntered',
    'SucceedStateExited',
    'ExecutionSucceeded',
  ]);

  await sleep(2);
  await runEight(service, arn);

  expect(service.memoryStats()).toEqual({ executionsInMemory: RETAINED, executionsEvicted: 9 - RETAINED });
  expect(await readAll(api, first)).toEqual(before);
  expect(await listedNames(api, arn)).toEqual([...NEWEST_FIRST, 'order-0:SUCCEEDED:true']);
  const paged = await api.ListExecutions({ stateMachineArn: arn, maxResults: 4 });
  expect(paged.executions.map((e) => e.name)).toEqual(['order-8', 'order-7', 'order-6', 'order-5']);
  // An evicted execution's name is still taken, as on AWS.
  expect(() =>
    service.startExecution({ stateMachineArn: arn, name: 'order-0', input: '{"orderId":"o-0"}' }),
  ).toThrow(expect.objectContaining({ code: 'ExecutionAlreadyExists' }));
  await service.close();

  const after = startService({ dataDir });
  await after.service.resume();
  // A restart reads finished executions' summaries from the index, not their whole journals.
  expect(after.service.memoryStats()).toEqual({ executionsInMemory: 0, executionsEvicted: 9 });
  const read = await readAll(after.api, first);
  // The machine itself was created again at the restart: only its date differs.
  expect({ ...read, machine: { ...read.machine, updateDate: before.machine.updateDate } }).toEqual(before);
  expect(await listedNames(after.api, arn)).toEqual([...NEWEST_FIRST, 'order-0:SUCCEEDED:true']);
});

test('an execution that ended after the index was last written is indexed at the restart, and listed', async () => {
  const { service, api, arn } = startService({ dataDir });
  const [first] = await runEight(service, arn);
  await service.close();
  // As if the local cloud had stopped between an execution's end and its line in the index (or
  // the data folder came from before the index): only the journals are left.
  rmSync(join(dataDir, 'finished.jsonl'));

  const after = startService({ dataDir });
  expect(await after.service.resume()).toEqual({ resumed: [] });
  expect(await listedNames(after.api, arn)).toEqual(NEWEST_FIRST);
  expect(readFileSync(join(dataDir, 'finished.jsonl'), 'utf8').trim().split('\n')).toHaveLength(8);
  expect(await after.api.DescribeExecution({ executionArn: first! })).toEqual(
    await api.DescribeExecution({ executionArn: first! }),
  );
});

test('90 days after it closed, an execution is gone (journal too), as on AWS; one still running stays', async () => {
  const tokens: string[] = [];
  const { service, arn, courierArn } = startService({ dataDir, tokens });
  const [first] = await runEight(service, arn);
  const { executionArn: waiting } = service.startExecution({
    stateMachineArn: courierArn,
    input: '{"orderId":"o-waiting"}',
  });
  await eventually(() => tokens[0]);
  await service.close();
  const journals = () => readdirSync(join(dataDir, 'executions'));
  expect(journals()).toHaveLength(9);

  const after = startService({ dataDir, tokens });
  const ninetyOneDaysOn = Date.now() + 91 * 24 * 3600 * 1000;
  expect(await after.service.resume(ninetyOneDaysOn)).toEqual({ resumed: [waiting] });

  await expect(after.api.DescribeExecution({ executionArn: first! })).rejects.toMatchObject({
    code: 'ExecutionDoesNotExist',
  });
  expect(await listedNames(after.api, arn)).toEqual([]);
  expect(journals()).toHaveLength(1);
  expect(readFileSync(join(dataDir, 'finished.jsonl'), 'utf8')).toBe('');
  expect((await after.api.DescribeExecution({ executionArn: waiting })).status).toBe('RUNNING');
});

test('a running execution is never evicted, however many finish after it', async () => {
  const tokens: string[] = [];
  const { service, api, arn, courierArn } = startService({ dataDir, tokens });
  const { executionArn: waiting } = service.startExecution({
    stateMachineArn: courierArn,
    input: '{"orderId":"o-waiting"}',
  });
  const token = await eventually(() => tokens[0]);
  await runEight(service, arn);

  expect(service.memoryStats().executionsInMemory).toBe(RETAINED + 1);
  service.sendTaskSuccess(token, '{"courier":"here"}');
  expect((await service.waitForExecution(waiting)).status).toBe('SUCCEEDED');
  expect((await api.DescribeExecution({ executionArn: waiting })).output).toBe('{"courier":"here"}');
});

test('without a dataDir nothing is evicted (there is nothing to read it back from)', async () => {
  const { service, api, arn } = startService();
  await runEight(service, arn);
  expect(service.memoryStats()).toEqual({ executionsInMemory: 8, executionsEvicted: 0 });
  expect(await listedNames(api, arn)).toEqual(NEWEST_FIRST);
});

test('LOCAL_SFN_RETAINED_EXECUTIONS that is not a positive number stops the start, naming the variable', () => {
  process.env.LOCAL_SFN_RETAINED_EXECUTIONS = 'lots';
  try {
    expect(
      () =>
        new LocalStepFunctions({ region: REGION, accountId: ACCOUNT, integrations: fakeIntegrations({}) }),
    ).toThrow('LOCAL_SFN_RETAINED_EXECUTIONS=lots is not a positive number');
  } finally {
    delete process.env.LOCAL_SFN_RETAINED_EXECUTIONS;
  }
});
