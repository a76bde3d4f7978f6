/** Alarms, dashboard and saved queries: what on-call sees when orders go wrong. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CfnTemplate,
  getAtt,
  type Json,
  PACKAGING_TIMEOUT_MS,
  packagedStack,
  REPO,
  ref,
  resourcesOfType,
  substitute,
} from './packaged-stack';

let template: CfnTemplate;
let stage: string;

beforeAll(async () => {
  ({ template, stage } = await packagedStack());
}, PACKAGING_TIMEOUT_MS);

const alarms = () => resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties ?? {});

/** The alarm watching a metric (plain or inside metric math), or undefined. */
function alarmOn(namespace: string, metricName: string): Record<string, Json> | undefined {
  return alarms().find(
    (alarm) =>
      (alarm.Namespace === namespace && alarm.MetricName === metricName) ||
      (alarm.Metrics as Json[] | undefined)?.some(
        (m) =>
          m.MetricStat?.Metric?.Namespace === namespace && m.MetricStat?.Metric?.MetricName === metricName,
      ),
  );
}

const emittedMetricNames = (): Set<string> => {
  const sources = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? sources(join(dir, entry.name))
        : entry.name.endsWith('.ts')
          ? [readFileSync(join(dir, entry.name), 'utf8')]
          : [],
    );
  const names = sources(join(REPO, 'functions')).flatMap((text) =>
    // The name argument, including each branch of a `failed ? 'OrderFailed' : 'OrderRejected'`.
    [...text.matchAll(/addMetric\(([^,]+),/g)].flatMap((call) =>
      [...call[1]!.matchAll(/'([A-Za-z]+)'/g)].map((name) => name[1]!),
    ),
  );
  return new Set(names);
};

describe('alarms', () => {
  it('all notify the stage’s alarm topic', () => {
    expect(alarms().length).toBeGreaterThanOrEqual(6);
    for (const alarm of alarms()) expect(alarm.AlarmActions).toEqual([ref('AlarmTopic')]);
    const [topic] = resourcesOfType(template, 'AWS::SNS::Topic');
    expect(topic?.[1].Properties?.TopicName).toBe(`order-middleware-${stage}-alarms`);
  });

  it.each([['ExecutionsFailed'], ['ExecutionsTimedOut']])('fire on workflow %s', (metricName) => {
    const alarm = alarmOn('AWS/States', metricName);
    expect(alarm?.Dimensions).toEqual([{ Name: 'StateMachineArn', Value: ref('OrderWorkflow') }]);
  });

  it('fire as soon as one OrderReceived event lands in the dead-letter queue', () => {
    const alarm = alarmOn('AWS/SQS', 'ApproximateNumberOfMessagesVisible');
    expect(alarm?.Dimensions).toEqual([
      { Name: 'QueueName', Value: getAtt('OrderReceivedDLQ', 'QueueName') },
    ]);
    expect(alarm).toMatchObject({ Threshold: 0, ComparisonOperator: 'GreaterThanThreshold' });
  });

  it('fire when partners get 5xx from the webhooks', () => {
    expect(alarmOn('AWS/ApiGateway', '5xx')?.Dimensions).toEqual([{ Name: 'ApiId', Value: ref('HttpApi') }]);
  });

  it('fire on the POS error rate, as errors over calls', () => {
    const alarm = alarmOn('OrderMiddleware', 'PosCallFailed');
    expect(alarmOn('OrderMiddleware', 'PosCall')).toBe(alarm);
    const metrics = (alarm?.Metrics ?? []) as Json[];
    const expression = metrics.find((m) => m.ReturnData === true)?.Expression;
    expect(expression).toMatch(/errors\s*\/\s*calls/);
  });

  it('fire when orders end FAILED', () => {
    expect(alarmOn('OrderMiddleware', 'OrderFailed')).toMatchObject({ Threshold: 0 });
  });

  it('fire within two minutes of a store being paused by POS health, and say when it is back', () => {
    const alarm = alarmOn('OrderMiddleware', 'StoresPausedByPosHealth');
    expect(alarm).toMatchObject({
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 2,
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarm?.OKActions).toEqual([ref('AlarmTopic')]);
  });

  it('watch metrics the functions really emit, in the namespace they emit them to', () => {
    const emitted = emittedMetricNames();
    const [, anyFunction] = resourcesOfType(template, 'AWS::Lambda::Function')[0]!;
    const namespace = anyFunction.Properties?.Environment?.Variables?.POWERTOOLS_METRICS_NAMESPACE;
    const custom = alarms().flatMap((alarm) => [
      ...(alarm.Namespace && !String(alarm.Namespace).startsWith('AWS/') ? [alarm] : []),
      ...((alarm.Metrics as Json[] | undefined) ?? []).flatMap((m) =>
        m.MetricStat ? [m.MetricStat.Metric] : [],
      ),
    ]);
    expect(custom.length).toBeGreaterThanOrEqual(3);
    for (const metric of custom) {
      expect(metric.Namespace).toBe(namespace);
      expect(emitted).toContain(metric.MetricName);
      // The stage too: every stage of an account writes the same namespace.
      expect(metric.Dimensions).toEqual([
        { Name: 'service', Value: 'order-middleware' },
        { Name: 'stage', Value: stage },
      ]);
    }
  });
});

describe('dashboard and queries', () => {
  it('has one dashboard for the stage, with orders, POS, workflow and webhook widgets', () => {
    const dashboards = resourcesOfType(template, 'AWS::CloudWatch::Dashboard').map(
      ([, d]) => d.Properties ?? {},
    );
    expect(dashboards).toHaveLength(1);
    const dashboard = dashboards[0]!;
    expect(dashboard.DashboardName).toContain(stage);
    const body = JSON.parse(substitute(dashboard.DashboardBody['Fn::Sub'])) as { widgets: Json[] };
    const titles = body.widgets.map((w) => w.properties.title as string);
    expect(titles).toEqual(expect.arrayContaining(['Orders', 'Workflow executions', 'Webhooks']));
    expect(titles.some((title) => title.startsWith('POS'))).toBe(true);
    expect(JSON.stringify(body)).toContain('ref:OrderWorkflow');
  });

  it('saves two Logs Insights queries over log groups the stack really has', () => {
    const queries = resourcesOfType(template, 'AWS::Logs::QueryDefinition').map(
      ([, q]) => q.Properties ?? {},
    );
    expect(queries).toHaveLength(2);
    const groups = new Set(
      resourcesOfType(template, 'AWS::Logs::LogGroup').map(([, g]) => g.Properties?.LogGroupName as string),
    );
    for (const query of queries) {
      expect(query.Name).toContain(stage);
      expect(query.QueryString).toContain('correlation_id');
      for (const group of query.LogGroupNames as string[]) expect(groups).toContain(group);
    }
  });
});
