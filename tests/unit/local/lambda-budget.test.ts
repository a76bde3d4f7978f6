/**
 * The sandbox budget shared by every function: idle sandboxes are reaped, the least recently used
 * idle one makes room at the limit, and the limit never makes an invocation wait.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type FunctionConfig, LocalLambda, type LocalLambdaOptions } from '../../../local/cloud/lambda';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'lambda');
const region = 'us-east-1';
const accountId = '000000000000';

function fn(name: string, fixture: string, overrides: Partial<FunctionConfig> = {}): FunctionConfig {
  return {
    name,
    arn: `arn:aws:lambda:${region}:${accountId}:function:${name}`,
    bundlePath: join(fixtures, fixture),
    handlerExport: 'handler',
    environment: {},
    memorySize: 256,
    timeout: 10,
    ...overrides,
  };
}

let lambda: LocalLambda | undefined;
let workdir: string;

function start(functions: FunctionConfig[], options: Partial<LocalLambdaOptions>): LocalLambda {
  lambda = new LocalLambda({ functions, region, accountId, log: () => {}, ...options });
  return lambda;
}

beforeEach(() => {
  workdir = mkdtempSync(join(tmpdir(), 'local-lambda-budget-'));
});
afterEach(async () => {
  await lambda?.close();
  lambda = undefined;
  rmSync(workdir, { recursive: true, force: true });
});

test('a sandbox idle longer than the idle time is ended: the next invocation starts cold, with fresh module state', async () => {
  const local = start([fn('count', 'counter.mjs', { concurrency: 1 })], { idleSandboxMs: 300 });

  const first = await local.invoke('count', {});
  const soon = await local.invoke('count', {});
  await sleep(800);
  const later = await local.invoke('count', {});

  expect([first, soon, later].map((r) => [r.coldStart, r.payload])).toEqual([
    [true, { invocations: 1 }],
    [false, { invocations: 2 }],
    [true, { invocations: 1 }],
  ]);
});

test('at the limit, the least recently used idle sandbox of another function makes room', async () => {
  const local = start(
    ['accept-order', 'fire-order', 'void-order'].map((name) => fn(name, 'counter.mjs', { concurrency: 1 })),
    { sandboxBudget: 2, idleSandboxMs: 60_000 },
  );
  await local.invoke('accept-order', {});
  await local.invoke('fire-order', {});

  await local.invoke('void-order', {}); // a third sandbox: accept-order's, used longest ago, ends for it
  const fire = await local.invoke('fire-order', {});
  const accept = await local.invoke('accept-order', {});

  expect([fire.coldStart, fire.payload]).toEqual([false, { invocations: 2 }]);
  expect([accept.coldStart, accept.payload]).toEqual([true, { invocations: 1 }]);
});

test('the limit never makes an invocation wait: with every sandbox busy, a function still grows to its concurrency', async () => {
  // A busy sandbox may be waiting on work that needs another one: waiting for room could deadlock.
  const local = start([fn('gate', 'gate.mjs', { concurrency: 2 })], {
    sandboxBudget: 1,
    idleSandboxMs: 60_000,
  });
  const common = { journal: join(workdir, 'journal') };
  const gate = join(workdir, 'gate');

  const [waiter, opener] = await Promise.all([
    local.invoke('gate', { ...common, name: 'waiter', waitFor: gate, patienceMs: 20_000 }),
    local.invoke('gate', { ...common, name: 'opener', open: gate }),
  ]);

  expect(waiter.payload).toEqual({ name: 'waiter', opened: true });
  expect([waiter.coldStart, opener.coldStart]).toEqual([true, true]);
  expect(local.sandboxes()).toBe(2);
});

test('quick invocations queue for the one warm sandbox: a second starts only behind a handler that runs long', async () => {
  // On a laptop's two cores a second V8 heap adds no throughput while the first is merely busy.
  const local = start([fn('count', 'counter.mjs', { concurrency: 2 })], { scaleAfterMs: 500 });

  const answers = await Promise.all([...Array(10).keys()].map(() => local.invoke('count', {})));

  expect(answers.filter((a) => a.coldStart)).toHaveLength(1);
  expect(
    answers.map((a) => (a.payload as { invocations: number }).invocations).sort((a, b) => a - b),
  ).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  expect(local.sandboxes()).toBe(1);
});

test('a function serving requests starts another sandbox once more than 4 invocations queue, not only behind a long handler', async () => {
  // Its callers (partners' webhooks) wait on the answers; on AWS they would not queue.
  const local = start(
    [
      fn('receive-order', 'gate.mjs', { concurrency: 2, servesRequests: true }),
      fn('create-pos-order', 'gate.mjs', { concurrency: 2 }),
    ],
    { scaleAfterMs: 60_000 },
  );
  const journal = join(workdir, 'journal');
  const heldBehindGate = async (name: string) => {
    const gate = join(workdir, `gate-${name}`);
    const held = local.invoke(name, { journal, name: 'held', waitFor: gate, patienceMs: 2_000 });
    await sleep(300); // the held one has its sandbox; the next five queue behind it
    const queued = [1, 2, 3, 4, 5].map((n) => local.invoke(name, { journal, name: `next-${n}`, open: gate }));
    return Promise.all([held, ...queued]);
  };

  const [served, background] = await Promise.all([
    heldBehindGate('receive-order'),
    heldBehindGate('create-pos-order'),
  ]);

  // The request's fifth queued invocation started a second sandbox and let the held one through;
  // the workflow step's waited their turn behind it, whose patience ran out first.
  expect(served[0].payload).toEqual({ name: 'held', opened: true });
  expect(background[0].payload).toEqual({ name: 'held', opened: false });
});

test('a few invocations queued behind a quick request share its one sandbox', async () => {
  const local = start([fn('receive-order', 'counter.mjs', { concurrency: 3, servesRequests: true })], {});

  await local.invoke('receive-order', {});
  await Promise.all([1, 2, 3, 4].map(() => local.invoke('receive-order', {})));

  expect(local.sandboxes()).toBe(1);
});

test('sandboxes of functions serving no request run at a lower CPU priority than those serving requests', async () => {
  const local = start(
    [fn('receive-order', 'niceness.mjs', { servesRequests: true }), fn('release-to-kitchen', 'niceness.mjs')],
    {},
  );

  const [request, background] = await Promise.all([
    local.invoke('receive-order', {}),
    local.invoke('release-to-kitchen', {}),
  ]);

  expect(request.payload).toEqual({ niceness: 0 });
  expect(background.payload).toEqual({ niceness: 10 });
});

test('a slow import does not count against the function timeout: the init phase has its own', async () => {
  const local = start(
    [fn('print-ticket', 'slow-init.mjs', { timeout: 0.5, environment: { INIT_MS: '900' }, concurrency: 1 })],
    {},
  );

  const cold = await local.invoke('print-ticket', {});

  expect(cold.error).toBeUndefined();
  expect(cold.payload).toEqual({ ready: true });
  expect(cold.initDurationMs).toBeGreaterThanOrEqual(900);
});

test('the budget and idle time refuse what is not a positive number, naming the variable', () => {
  process.env.LOCAL_LAMBDA_SANDBOXES = 'many';
  try {
    expect(() => start([fn('count', 'counter.mjs')], {})).toThrow(
      'LOCAL_LAMBDA_SANDBOXES=many is not a positive number',
    );
  } finally {
    delete process.env.LOCAL_LAMBDA_SANDBOXES;
  }
});
