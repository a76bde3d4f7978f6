/** POS health, throttling and busy mode in the packaged stack: configuration, the prepare machine's data, tables and roles. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  type AslDefinition,
  type CfnTemplate,
  getAtt,
  PACKAGING_TIMEOUT_MS,
  packagedStack,
  REPO,
  resource,
  roleStatements,
  stateMachineDefinition,
} from './packaged-stack';

let template: CfnTemplate;
let prepare: AslDefinition;

beforeAll(async () => {
  ({ template } = await packagedStack());
  prepare = stateMachineDefinition(template, 'OrderPrepare');
}, PACKAGING_TIMEOUT_MS);

const state = (name: string) => {
  const found = prepare.States[name];
  if (!found) throw new Error(`no state ${name}`);
  return found;
};
const payloadOf = (name: string) => state(name).Parameters?.Payload as Record<string, string>;
const allowsOn = (roleId: string, target: unknown) =>
  roleStatements(resource(template, roleId))
    .filter(
      (s) => s.Effect === 'Allow' && s.Resource.some((r) => JSON.stringify(r) === JSON.stringify(target)),
    )
    .flatMap((s) => s.Action);

describe('POS health configuration', () => {
  it(
    'pauses after 3 POS failures in a row locally and on review and staging stages, and 5 in production (Olo’s number)',
    async () => {
      const { params } = parse(readFileSync(join(REPO, 'serverless.yml'), 'utf8'), {
        logLevel: 'silent',
      }) as {
        params: Record<string, Record<string, unknown>>;
      };
      expect(params.local?.posFailuresBeforePause).toBe(3);
      expect(params.default?.posFailuresBeforePause).toBe(3);
      expect(params.production?.posFailuresBeforePause).toBe(5);
      const { template: production } = await packagedStack('production');
      for (const [stack, pause] of [
        [template, '3'],
        [production, '5'],
      ] as const) {
        for (const fn of ['StoreSchedulesLambdaFunction', 'DenyOrderLambdaFunction'])
          expect(resource(stack, fn).Properties?.Environment?.Variables?.POS_FAILURES_BEFORE_PAUSE).toBe(
            pause,
          );
      }
    },
    PACKAGING_TIMEOUT_MS,
  );

  it('lets the probe read the POS API key, and the endings count failures and pause the store', () => {
    const statements = roleStatements(resource(template, 'StoreSchedulesRole'));
    expect(
      statements.some(
        (s) => s.Action.includes('ssm:GetParameter') && JSON.stringify(s.Resource).includes('/pos/'),
      ),
    ).toBe(true);
    expect(allowsOn('CompensationRole', getAtt('StoresTable', 'Arn'))).toEqual(
      expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
    );
  });
});

describe('throttling and busy mode in the prepare machine', () => {
  it('carries the moved pickup (in the order), the busy minutes, the throttle window and the POS failures seen on from validation', () => {
    expect(state('ValidateOrder').ResultSelector).toMatchObject({
      'order.$': '$.Payload.order',
      'busyMinutes.$': '$.Payload.busyMinutes',
      'throttleWindow.$': '$.Payload.throttleWindow',
      'posFailures.$': '$.Payload.posFailures',
    });
    expect(payloadOf('CreatePosOrder')).toMatchObject({
      'order.$': '$.validated.order',
      'throttleWindow.$': '$.validated.throttleWindow',
      'posFailures.$': '$.validated.posFailures',
    });
    expect(payloadOf('AcceptOrder')).toMatchObject({
      'order.$': '$.validated.order',
      'busyMinutes.$': '$.validated.busyMinutes',
    });
    expect(payloadOf('FailOrder')).toMatchObject({ 'throttleWindow.$': '$.validated.throttleWindow' });
  });

  it('reaches FailOrder only where $.validated exists: after validation, or through NothingClaimed', () => {
    const validated = new Set(['CreatePosOrder', 'AcceptOrder', 'NothingClaimed']);
    for (const [name, s] of Object.entries(prepare.States)) {
      const next = [s.Next, ...(s.Catch ?? []).map((c) => c.Next)];
      if (next.includes('FailOrder'))
        expect({ name, validated: validated.has(name) }).toEqual({ name, validated: true });
    }
    expect(state('ValidateOrder').Catch?.find((c) => c.ErrorEquals.includes('States.ALL'))?.Next).toBe(
      'NothingClaimed',
    );
    expect(state('NothingClaimed')).toMatchObject({
      Type: 'Pass',
      Result: { throttleWindow: null },
      ResultPath: '$.validated',
      Next: 'FailOrder',
    });
  });

  it('lets validation claim throttle places, and the hold give one back', () => {
    for (const role of ['ValidateOrderRole', 'PosOrderRole'])
      expect(allowsOn(role, getAtt('StoresTable', 'Arn'))).toEqual(
        expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:UpdateItem']),
      );
  });

  it('expires throttle windows with TTL on expiresAt in the stores table', () => {
    expect(resource(template, 'StoresTable').Properties?.TimeToLiveSpecification).toEqual({
      AttributeName: 'expiresAt',
      Enabled: true,
    });
  });
});
