/** The HTTP API a partner and the brand's operators reach, as the packaged stack makes it. */
import {
  type CfnTemplate,
  getAtt,
  type Json,
  PACKAGING_TIMEOUT_MS,
  packagedStack,
  resource,
  resourcesOfType,
  withoutSimulators,
} from './packaged-stack';

let template: CfnTemplate;

beforeAll(async () => {
  // The middleware's API; the simulators' own (review stages only) are tests/template/stack-simulators.test.ts's.
  ({ template } = await packagedStack());
  template = withoutSimulators(template);
}, PACKAGING_TIMEOUT_MS);

/** Architecture section 3: every route, and the function that answers it. */
const ROUTES: Record<string, string> = {
  'POST /webhooks/{partner}/orders': 'ReceiveOrderLambdaFunction',
  'POST /webhooks/{partner}/orders/{partnerOrderId}/release': 'ReleaseOrderLambdaFunction',
  'POST /webhooks/{partner}/orders/{partnerOrderId}/cancel': 'CancelOrderLambdaFunction',
  'GET /orders/{orderId}': 'GetOrderLambdaFunction',
  'GET /stores/{storeId}': 'StoresLambdaFunction',
  'PUT /stores/{storeId}/status': 'StoresLambdaFunction',
  'PUT /stores/{storeId}/items/{sku}': 'StoresLambdaFunction',
  'PUT /stores/{storeId}/busy': 'StoresLambdaFunction',
  'DELETE /stores/{storeId}/busy': 'StoresLambdaFunction',
  'PUT /stores/{storeId}/throttle': 'StoresLambdaFunction',
  'DELETE /stores/{storeId}/throttle': 'StoresLambdaFunction',
  'GET /orders': 'ListOrdersLambdaFunction',
  'POST /orders/{orderId}/cancel': 'OperatorOrdersLambdaFunction',
  'POST /orders/{orderId}/release': 'OperatorOrdersLambdaFunction',
  'GET /operations/dead-letters': 'DeadLettersLambdaFunction',
  'GET /operations/dead-letters/{name}/messages': 'DeadLettersLambdaFunction',
  'POST /operations/dead-letters/{name}/redrive': 'DeadLettersLambdaFunction',
};

const routes = () =>
  resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([, route]) => route.Properties ?? {});

const routeFor = (routeKey: string) => {
  const found = routes().find((route) => route.RouteKey === routeKey);
  if (!found) throw new Error(`no route ${routeKey}`);
  return found;
};

/** The integration a route targets: `Fn::Join ['/', ['integrations', {Ref}]]`. */
function integrationOf(route: Record<string, Json>) {
  const [, parts] = route.Target['Fn::Join'] as [string, [string, { Ref: string }]];
  return resource(template, parts[1].Ref).Properties ?? {};
}

describe('HTTP API', () => {
  it('is one HTTP API (not REST) carrying exactly the seventeen routes of the architecture', () => {
    const apis = resourcesOfType(template, 'AWS::ApiGatewayV2::Api');
    expect(apis).toHaveLength(1);
    expect(apis[0]![1].Properties?.ProtocolType).toBe('HTTP');
    expect(resourcesOfType(template, 'AWS::ApiGatewayV2::Route')).toHaveLength(17);
    expect(routes().map((route) => route.RouteKey)).toEqual(expect.arrayContaining(Object.keys(ROUTES)));
    expect(resourcesOfType(template, 'AWS::ApiGateway::RestApi')).toHaveLength(0);
  });

  it.each(Object.entries(ROUTES))('%s is answered by %s with payload format 2.0', (routeKey, functionId) => {
    const integration = integrationOf(routeFor(routeKey));
    expect(integration.IntegrationType).toBe('AWS_PROXY');
    expect(integration.IntegrationUri).toEqual(getAtt(functionId, 'Arn'));
    expect(integration.PayloadFormatVersion).toBe('2.0');
  });

  it('leaves the partner webhooks open to partners: they authenticate by signature, not IAM', () => {
    const webhooks = routes().filter((route) => String(route.RouteKey).includes(' /webhooks/'));
    expect(webhooks).toHaveLength(3);
    for (const route of webhooks) {
      expect([undefined, 'NONE']).toContain(route.AuthorizationType);
      expect(route.AuthorizerId).toBeUndefined();
    }
  });

  it('requires AWS_IAM on every /orders, /stores and /operations route', () => {
    const operations = routes().filter((route) =>
      /^\w+ \/(orders|stores|operations)(\/|$)/.test(String(route.RouteKey)),
    );
    expect(operations).toHaveLength(14);
    for (const route of operations) expect(route.AuthorizationType).toBe('AWS_IAM');
  });

  it('lets API Gateway invoke only the functions behind routes, and EventBridge only the scheduled functions, the store sync and the stopped-workflow settling', () => {
    const all = resourcesOfType(template, 'AWS::Lambda::Permission').map(
      ([, permission]) => permission.Properties ?? {},
    );
    const fromSchedules = all.filter((permission) => permission.Principal === 'events.amazonaws.com');
    expect(fromSchedules).toEqual([
      ...['ReconcileOrders', 'StoreSchedules'].map((fn) => ({
        FunctionName: { 'Fn::GetAtt': [`${fn}LambdaFunction`, 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: { 'Fn::GetAtt': [`${fn}EventsRuleSchedule1`, 'Arn'] },
      })),
      {
        FunctionName: { 'Fn::GetAtt': ['SettleStoppedOrderLambdaFunction', 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        // the stopped-workflow rule on the default bus
        SourceArn: expect.objectContaining({ 'Fn::Join': expect.anything() }),
      },
      {
        FunctionName: { 'Fn::GetAtt': ['SyncStoreToPartnersLambdaFunction', 'Arn'] },
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        // the store-sync rule on the stage's own bus
        SourceArn: expect.objectContaining({ 'Fn::Join': expect.anything() }),
      },
    ]);
    expect(JSON.stringify(fromSchedules[3]?.SourceArn)).toMatch(
      /"rule",\{"Fn::GetAtt":\["OrderBus","Name"\]\},"order-middleware-[a-z0-9-]+-store-sync"/,
    );
    expect(JSON.stringify(fromSchedules[2]?.SourceArn)).toMatch(
      /"rule","order-middleware-[a-z0-9-]+-stopped-runs"/,
    );
    const permissions = all.filter((permission) => !fromSchedules.includes(permission));
    const invoked = new Set(Object.values(ROUTES));
    for (const permission of permissions) {
      expect(permission.Principal).toBe('apigateway.amazonaws.com');
      expect(permission.Action).toBe('lambda:InvokeFunction');
      expect(invoked).toContain(permission.FunctionName['Fn::GetAtt'][0]);
      expect(JSON.stringify(permission.SourceArn)).toContain('{"Ref":"HttpApi"}');
    }
    expect(permissions).toHaveLength(invoked.size);
  });
});
