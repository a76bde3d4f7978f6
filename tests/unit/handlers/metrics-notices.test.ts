/** What a function prints about its metrics: EMF when it recorded some, nothing when it recorded none. */
import { jest } from '@jest/globals';

process.env.POWERTOOLS_METRICS_NAMESPACE = 'OrderMiddleware';
process.env.POWERTOOLS_SERVICE_NAME = 'order-middleware';
process.env.STAGE = 'unit';
delete process.env.POWERTOOLS_METRICS_DISABLED;
delete process.env.POWERTOOLS_DEV;

const { metrics } = await import('../../../functions/lib/powertools');

function printedWhile(act: () => void): string[] {
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  const warn = jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    act();
  } finally {
    write.mockRestore();
    warn.mockRestore();
  }
  return lines;
}

test('an invocation that recorded no metric prints nothing at all', () => {
  const printed = printedWhile(() => metrics.publishStoredMetrics());

  expect(printed).toEqual([]);
});

test('an invocation that recorded a metric still publishes it as EMF', () => {
  const printed = printedWhile(() => {
    metrics.addMetric('OrderReceived', 'Count', 1);
    metrics.publishStoredMetrics();
  });

  expect(printed).toHaveLength(1);
  const emf = JSON.parse(printed[0] ?? '');
  expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({
    Namespace: 'OrderMiddleware',
    Metrics: [{ Name: 'OrderReceived', Unit: 'Count' }],
  });
  expect(emf).toMatchObject({ OrderReceived: 1, stage: 'unit' });
});

test('a metric Powertools cannot publish still warns', () => {
  const printed = printedWhile(() => metrics.addDimension('', 'store-001'));

  expect(printed.join('')).toContain("doesn't meet the requirements");
});
