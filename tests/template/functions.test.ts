/** The Lambda functions as a platform team reviews them: runtime, roles, configuration, logs. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CfnResource,
  type CfnTemplate,
  getAtt,
  PACKAGING_TIMEOUT_MS,
  packagedStack,
  REPO,
  ref,
  resourcesOfType,
  withoutSimulators,
} from './packaged-stack';

let template: CfnTemplate;
let stage: string;

beforeAll(async () => {
  // The middleware's own functions; the simulators' (review stages only) are tests/template/stack-simulators.test.ts's.
  const packaged = await packagedStack();
  template = withoutSimulators(packaged.template);
  stage = packaged.stage;
}, PACKAGING_TIMEOUT_MS);

const FUNCTIONS = [
  'receiveOrder',
  'releaseOrder',
  'cancelOrder',
  'getOrder',
  'stores',
  'validateOrder',
  'createPosOrder',
  'acceptOrder',
  'denyOrder',
  'waitForCourier',
  'releaseToKitchen',
  'voidPosOrder',
  'reconcileOrders',
  'storeSchedules',
  'syncStoreToPartners',
  'listOrders',
  'operatorOrders',
  'deadLetters',
  'settleStoppedOrder',
];

const functions = () => resourcesOfType(template, 'AWS::Lambda::Function');
const env = (fn: CfnResource): Record<string, unknown> => fn.Properties?.Environment?.Variables ?? {};

describe('Lambda functions', () => {
  it('are the nineteen of the design, one per handler file', () => {
    const names = functions().map(([, fn]) => fn.Properties?.FunctionName);
    expect(names.sort()).toEqual(FUNCTIONS.map((name) => `order-middleware-${stage}-${name}`).sort());
    for (const [, fn] of functions()) {
      const [file] = String(fn.Properties?.Handler).split('.handler');
      expect(existsSync(join(REPO, `${file}.ts`))).toBe(true);
    }
  });

  it('run Node.js 22 on arm64', () => {
    for (const [, fn] of functions()) {
      expect(fn.Properties?.Runtime).toBe('nodejs22.x');
      expect(fn.Properties?.Architectures).toEqual(['arm64']);
    }
  });

  it('each assume a role written for what it does, never the framework default role', () => {
    expect(template.Resources.IamRoleLambdaExecution).toBeUndefined();
    for (const [id, fn] of functions()) {
      const roleId = fn.Properties?.Role?.['Fn::GetAtt']?.[0] as string | undefined;
      expect({ id, role: fn.Properties?.Role }).toEqual({ id, role: getAtt(roleId ?? '?', 'Arn') });
      expect(template.Resources[roleId!]?.Type).toBe('AWS::IAM::Role');
    }
  });

  it('get their tables and bus as references, so every stage has its own', () => {
    const literalNames = ['orders', 'stores', 'idempotency'].map((t) => `order-middleware-${stage}-${t}`);
    for (const [, fn] of functions()) {
      expect(env(fn)).toMatchObject({
        ORDERS_TABLE: ref('OrdersTable'),
        STORES_TABLE: ref('StoresTable'),
        IDEMPOTENCY_TABLE: ref('IdempotencyTable'),
        EVENT_BUS_NAME: ref('OrderBus'),
        SSM_PREFIX: `/order-middleware/${stage}`,
        STAGE: stage,
        POWERTOOLS_SERVICE_NAME: 'order-middleware',
      });
      const text = JSON.stringify(env(fn));
      for (const name of literalNames) expect(text).not.toContain(name);
    }
  });

  it('carry no secrets in their environment: those are read from SSM at run time', () => {
    const secretLike = /secret|password|passwd|token|api[_-]?key|credential|private/i;
    for (const [, fn] of functions()) {
      for (const [name, value] of Object.entries(env(fn))) {
        expect(name).not.toMatch(secretLike);
        if (typeof value === 'string') expect(value).not.toMatch(secretLike);
      }
    }
  });

  it('bound how long a courier wait may last with a number', () => {
    for (const [, fn] of functions()) expect(Number(env(fn).MAX_COURIER_WAIT_SECONDS)).toBeGreaterThan(0);
  });

  it('log to a group of their own with a retention, so logs do not pile up forever', () => {
    const groups = resourcesOfType(template, 'AWS::Logs::LogGroup').map(
      ([, group]) => group.Properties ?? {},
    );
    for (const name of FUNCTIONS) {
      const group = groups.find((g) => g.LogGroupName === `/aws/lambda/order-middleware-${stage}-${name}`);
      expect({ name, retention: group?.RetentionInDays }).toEqual({ name, retention: expect.any(Number) });
    }
  });
});
