import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalLambda } from '../../../local/cloud/lambda';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'lambda');
const name = 'order-middleware-local-logEvent';

let lambda: LocalLambda | undefined;
afterEach(async () => {
  await lambda?.close();
  lambda = undefined;
});

test('each invocation writes START, the function’s lines, END and REPORT to its sandbox’s stream', async () => {
  const lines: Array<{ line: string; stream?: string }> = [];
  lambda = new LocalLambda({
    region: 'us-east-1',
    accountId: '000000000000',
    log: (_functionName, line, stream) => lines.push({ line, stream }),
    functions: [
      {
        name,
        arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
        bundlePath: join(fixtures, 'log-event.mjs'),
        handlerExport: 'handler',
        environment: {},
        memorySize: 256,
        timeout: 10,
        concurrency: 1,
      },
    ],
  });

  const cold = await lambda.invoke(name, { orderId: 'o-1' });
  const warm = await lambda.invoke(name, { orderId: 'o-2' });
  // The function's own line arrives through the worker's stdout, on its own schedule.
  const until = Date.now() + 2000;
  while (!lines.some(({ line }) => line.includes('o-2')) && Date.now() < until)
    await new Promise((resolve) => setTimeout(resolve, 10));

  const streams = new Set(lines.map(({ stream }) => stream));
  expect(streams.size).toBe(1); // one sandbox, one stream
  expect([...streams][0]).toMatch(/^\d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32}$/);
  const text = lines.map(({ line }) => line);
  expect(text).toContain(`START RequestId: ${cold.requestId} Version: $LATEST`);
  expect(text).toContain(`END RequestId: ${warm.requestId}`);
  expect(text).toContain('{"orderId":"o-1"}');
  const reports = text.filter((line) => line.startsWith('REPORT'));
  expect(reports[0]).toMatch(
    new RegExp(
      `^REPORT RequestId: ${cold.requestId}\\tDuration: \\d+\\.\\d\\d ms\\tBilled Duration: \\d+ ms\\tMemory Size: 256 MB\\tMax Memory Used: [1-9]\\d* MB\\tInit Duration: \\d+\\.\\d\\d ms$`,
    ),
  );
  expect(reports[1]).not.toContain('Init Duration'); // warm
  const coldReport = text.findIndex((line) => line.startsWith(`REPORT RequestId: ${cold.requestId}`));
  expect(text.indexOf(`START RequestId: ${warm.requestId} Version: $LATEST`)).toBeGreaterThan(coldReport);
});
