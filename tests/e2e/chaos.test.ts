/**
 * The randomized fault run, small enough for `npm test`: seeded random POS and partner faults, a
 * restart of the whole local cloud mid-run, releases, cancels, races, redeliveries and timeouts.
 * Once the faults clear and the system settles, every ending agrees across our record, the POS and
 * the partner. `CHAOS_SEED=n npm test -- tests/e2e/chaos.test.ts` replays a seed; the big run is
 * `npm run load -- --chaos`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { auditEndings } from '../../local/tools/audit';
import { runChaos } from '../../local/tools/chaos';
import {
  givenALocalCloud,
  onlyInProcess,
  type TestCloud,
  theOrderRecord,
  whenTheReconcilerRuns,
} from '../steps/local-cloud';

const SEED = Number(process.env.CHAOS_SEED ?? 20261130);

let t: TestCloud;
beforeAll(async () => {
  t = await givenALocalCloud();
}, 120_000);
afterAll(async () => {
  await t?.stop();
});

onlyInProcess(
  'restarts the local cloud and both simulators mid-run',
  `seed ${SEED}: after random faults and a restart, every order's ending agrees everywhere`,
  async () => {
    const dynamo = () => new DynamoDBClient(t.aws);
    const ordersTable = t.resource('OrdersTable');
    const report = await runChaos(
      {
        partnerUrl: t.partnerUrl,
        posUrl: t.posUrl,
        restart: () => t.restart({ simulators: true }),
        reconcile: () => whenTheReconcilerRuns(t),
        async audit(orderIds) {
          const client = dynamo();
          try {
            return await auditEndings(
              { dynamo: client, ordersTable, posUrl: t.posUrl, partnerUrl: t.partnerUrl },
              orderIds,
            );
          } finally {
            client.destroy();
          }
        },
        statusOf: async (orderId) => (await theOrderRecord(t, orderId))?.status,
      },
      {
        seed: SEED,
        orders: 24,
        phases: 3,
        restarts: 1,
        concurrency: 8,
        settleMs: 90_000,
        ...(process.env.CHAOS_VERBOSE ? { say: (line: string) => process.stderr.write(`${line}\n`) } : {}),
      },
    );
    const summary = `seed ${report.seed} (replay: CHAOS_SEED=${report.seed} npm test -- tests/e2e/chaos.test.ts)\n${report.schedule.join('\n')}\noutcomes ${JSON.stringify(report.outcomes)}\n${report.audit.examples.join('\n')}`;
    expect({ passed: report.passed, summary }).toEqual({ passed: true, summary });
    // The run must have exercised something: orders taken and more than one kind of ending.
    expect(report.ordersTaken).toBeGreaterThanOrEqual(12);
    expect(Object.keys(report.outcomes).length).toBeGreaterThan(1);
  },
  240_000,
);
