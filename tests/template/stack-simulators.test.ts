/**
 * The simulators a deployed stage carries (ARCHITECTURE section 7): a review stage has both, behind
 * their own HTTP APIs, with their table and the outputs the e2e suite finds them by; production has
 * neither and names no loopback address; the local stage packages without them (its simulators are
 * processes) and still loads in the local cloud.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PARTNERS } from '../../functions/lib/schemas/partners/index';
import { loadTemplate } from '../../local/cloud/template';
import { apiUrlParameters } from '../../local/seed';
import { STACK_OUTPUTS } from '../steps/targets';
import {
  type CfnTemplate,
  getAtt,
  isSimulatorResource,
  PACKAGING_TIMEOUT_MS,
  packagedStack,
  REPO,
  ref,
  resource,
  resourcesOfType,
  roleStatements,
} from './packaged-stack';

let review: CfnTemplate;
let reviewStage: string;
let production: CfnTemplate;
let local: CfnTemplate;

beforeAll(async () => {
  ({ template: review, stage: reviewStage } = await packagedStack());
  ({ template: production } = await packagedStack('production'));
  ({ template: local } = await packagedStack('local'));
}, PACKAGING_TIMEOUT_MS * 3);

const SIMULATORS = [
  { fn: 'PartnerSimulatorLambdaFunction', api: 'PartnerSimulatorApi', output: 'PartnerSimulatorUrl' },
  { fn: 'PosSimulatorLambdaFunction', api: 'PosSimulatorApi', output: 'PosSimulatorUrl' },
];
const env = (template: CfnTemplate, fn: string) =>
  (resource(template, fn).Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
const functionsOf = (template: CfnTemplate) => resourcesOfType(template, 'AWS::Lambda::Function');
const routesOf = (template: CfnTemplate, api: string) =>
  resourcesOfType(template, 'AWS::ApiGatewayV2::Route')
    .map(([, route]) => route.Properties ?? {})
    .filter((route) => JSON.stringify(route.ApiId) === JSON.stringify(ref(api)));
const LOOPBACK = /127\.0\.0\.1|localhost|\[::1\]/;

describe('a review stage', () => {
  it.each(SIMULATORS)('runs $fn from simulators/ behind its own HTTP API', ({ fn, api }) => {
    const handler = String(resource(review, fn).Properties?.Handler);
    expect(handler).toMatch(/^simulators\/lambda\/\w+\.handler$/);
    expect(existsSync(join(REPO, `${handler.replace(/\.handler$/, '')}.ts`))).toBe(true);
    expect(resource(review, fn).Properties?.FunctionName).toContain(reviewStage);
    expect(resource(review, api).Properties?.ProtocolType).toBe('HTTP');
    expect(env(review, fn).SIMULATOR_TABLE).toEqual(ref('SimulatorsTable'));
  });

  it.each(SIMULATORS)(
    "opens $api's partner or POS API and wants SigV4 on its _control API, both reaching its function",
    ({ fn, api }) => {
      const routes = routesOf(review, api);
      expect(routes.map((route) => [route.RouteKey, route.AuthorizationType]).sort()).toEqual([
        ['$default', 'NONE'],
        ['ANY /_control/{proxy+}', 'AWS_IAM'],
      ]);
      for (const route of routes) {
        const integrationId = String(route.Target['Fn::Sub']).replace(/^integrations\/\$\{(\w+)\}$/, '$1');
        const integration = resource(review, integrationId).Properties ?? {};
        expect(integration).toMatchObject({
          ApiId: ref(api),
          IntegrationType: 'AWS_PROXY',
          IntegrationUri: getAtt(fn, 'Arn'),
          PayloadFormatVersion: '2.0',
        });
      }
      const permissions = resourcesOfType(review, 'AWS::Lambda::Permission')
        .map(([, permission]) => permission.Properties ?? {})
        .filter(
          (permission) => JSON.stringify(permission.FunctionName) === JSON.stringify(getAtt(fn, 'Arn')),
        );
      expect(permissions).toHaveLength(1);
      expect(permissions[0]?.Principal).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(permissions[0]?.SourceArn)).toContain(`:\${${api}}/*`);
    },
  );

  it('outputs every URL the e2e suite finds a stage by (E2E_TARGET=stack:NAME)', () => {
    for (const key of STACK_OUTPUTS) expect(Object.keys(review.Outputs ?? {})).toContain(key);
    for (const { api, output } of SIMULATORS)
      expect((review.Outputs?.[output] as { Value?: unknown } | undefined)?.Value).toEqual(
        getAtt(api, 'ApiEndpoint'),
      );
  });

  it('keeps both simulators’ state in one table of its own, named for the stage', () => {
    const table = resource(review, 'SimulatorsTable').Properties ?? {};
    expect(table.TableName).toBe(`order-middleware-${reviewStage}-simulators`);
    expect(table.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });

  it('points every partner’s and the POS’s URL parameter at its own simulators, where the functions read them', () => {
    const prefix = env(review, 'ReceiveOrderLambdaFunction').SSM_PREFIX;
    const parameters = resourcesOfType(review, 'AWS::SSM::Parameter').map(
      ([, parameter]) => parameter.Properties ?? {},
    );
    expect(parameters.map((p) => [p.Name, p.Type, p.Value]).sort()).toEqual(
      [
        ...PARTNERS.map((partner) => [
          `${prefix}/partners/${partner}/api-url`,
          'String',
          getAtt('PartnerSimulatorApi', 'ApiEndpoint'),
        ]),
        [`${prefix}/pos/api-url`, 'String', getAtt('PosSimulatorApi', 'ApiEndpoint')],
      ].sort(),
    );
  });

  it('sends the partner’s webhooks to the stack’s own HTTP API, and lets it read only the store route there', () => {
    expect(env(review, 'PartnerSimulatorLambdaFunction').MIDDLEWARE_URL).toEqual(
      getAtt('HttpApi', 'ApiEndpoint'),
    );
    const invokes = roleStatements(resource(review, 'SimulatorsRole')).filter((s) =>
      s.Action.some((action) => action.startsWith('execute-api:')),
    );
    expect(invokes).toHaveLength(1);
    expect(invokes[0]?.Action).toEqual(['execute-api:Invoke']);
    expect(JSON.stringify(invokes[0]?.Resource)).toContain(`\${HttpApi}/*/GET/stores/*`);
  });

  it('keeps short waits so the e2e suite runs there (the review profile)', () => {
    expect(env(review, 'ReceiveOrderLambdaFunction').MAX_COURIER_WAIT_SECONDS).toBe('20');
    expect(env(review, 'ReceiveOrderLambdaFunction').OWED_RETRY_BASE_SECONDS).toBe('5');
  });
});

describe('production', () => {
  it('contains neither simulator, its API, table, URL parameters nor outputs', () => {
    expect(Object.keys(production.Resources).filter(isSimulatorResource)).toEqual([]);
    expect(resourcesOfType(production, 'AWS::ApiGatewayV2::Api').map(([id]) => id)).toEqual(['HttpApi']);
    expect(resourcesOfType(production, 'AWS::SSM::Parameter')).toEqual([]);
    expect(Object.keys(production.Outputs ?? {}).filter((key) => /Simulator/.test(key))).toEqual([]);
    expect(
      functionsOf(production).filter(([, fn]) => String(fn.Properties?.Handler).startsWith('simulators/')),
    ).toEqual([]);
  });

  it('names no loopback address anywhere in its template or any function’s environment', () => {
    expect(JSON.stringify(production)).not.toMatch(LOOPBACK);
    for (const [id] of functionsOf(production)) {
      const variables = env(production, id);
      expect({
        id,
        loopback: Object.values(variables).filter((v) => LOOPBACK.test(JSON.stringify(v))),
      }).toEqual({
        id,
        loopback: [],
      });
      expect(Object.keys(variables)).not.toEqual(expect.arrayContaining(['PARTNER_API_URL']));
      expect(Object.keys(variables)).not.toEqual(expect.arrayContaining(['POS_API_URL']));
    }
  });

  it('keeps the long waits: a courier up to an hour, a bus event retried for a day', () => {
    expect(env(production, 'ReceiveOrderLambdaFunction').MAX_COURIER_WAIT_SECONDS).toBe('3600');
    const rule = resourcesOfType(production, 'AWS::Events::Rule').find(([, r]) =>
      JSON.stringify(r.Properties?.EventPattern ?? {}).includes('OrderReceived'),
    );
    const target = (
      rule?.[1].Properties?.Targets as { RetryPolicy: Record<string, number> }[] | undefined
    )?.[0];
    expect(target?.RetryPolicy.MaximumEventAgeInSeconds).toBe(86_400);
  });
});

describe('the local stage', () => {
  it('packages without the simulators (they run as processes) and loads in the local cloud', () => {
    expect(Object.keys(local.Resources).filter(isSimulatorResource)).toEqual([]);
    expect(Object.keys(local.Outputs ?? {}).filter((key) => /Simulator/.test(key))).toEqual([]);
    const model = loadTemplate(local, {
      stage: 'local',
      region: 'us-east-1',
      edgeUrl: 'http://127.0.0.1:4566',
    });
    expect(model.functions.map((fn) => fn.name)).not.toContain('order-middleware-local-partnerSimulator');
    expect(model.functions).toHaveLength(19);
  });

  it('seeds the same URL parameters in the local SSM as a review stack creates, and no function reads a URL from its environment', () => {
    const seeded = Object.keys(
      apiUrlParameters(reviewStage, { partnerUrl: 'http://partner', posUrl: 'http://pos' }),
    ).sort();
    const created = resourcesOfType(review, 'AWS::SSM::Parameter')
      .map(([, parameter]) => String(parameter.Properties?.Name))
      .sort();
    expect(seeded).toEqual(created);
    for (const [id] of functionsOf(local))
      expect(Object.keys(env(local, id)).filter((name) => /_API_URL$/.test(name))).toEqual([]);
  });
});
