/**
 * `npm run reconcile [-- --json] [--audit-only]`: against a running `npm start` (the LOCAL_* ports),
 * runs the scheduled reconciler now over every order that still owes work (POS voids, partner
 * answers), then compares every order record with the POS and the partner simulator and reports what
 * still disagrees. Exit 0 when every ended order agrees everywhere and nothing is owed.
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { REGION } from './cloud/index';
import { agrees, auditEndings, runReconciler } from './tools/audit';

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    'audit-only': { type: 'boolean', default: false },
    stage: { type: 'string', default: 'local' },
  },
});

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const awsUrl = `http://127.0.0.1:${port('LOCAL_AWS_PORT', 4566)}`;
const clientConfig = {
  endpoint: awsUrl,
  region: REGION,
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
};
const service = `order-middleware-${args.stage}`;

async function run(): Promise<boolean> {
  const lambda = new LambdaClient(clientConfig);
  const dynamo = new DynamoDBClient(clientConfig);
  try {
    const repaired = args['audit-only']
      ? undefined
      : await runReconciler(lambda, `${service}-reconcileOrders`);
    const audit = await auditEndings({
      dynamo,
      ordersTable: `${service}-orders`,
      posUrl: `http://127.0.0.1:${port('LOCAL_POS_PORT', 4020)}`,
      partnerUrl: `http://127.0.0.1:${port('LOCAL_PARTNER_PORT', 4010)}`,
    });
    const report = { repaired, ...audit, agrees: agrees(audit) };
    if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
    else {
      const lines = [
        repaired
          ? `Reconciler: ${repaired.checked} owing orders checked, ${repaired.settled} settled, ${repaired.stillOwed} still owe work after failures; ${repaired.restarted} never-started orders sent to their workflow again`
          : 'Reconciler not run (--audit-only)',
        `Audit of ${audit.ordersChecked} orders: not ended ${audit.notEnded}, still owing ${audit.stillOwing}, held tickets of ended orders ${audit.heldTicketsOfEndedOrders}, partner disagreements ${audit.partnerDisagreements}`,
        ...audit.examples.map((example) => `  ${example}`),
        report.agrees ? 'Every ending agrees everywhere.' : 'Some endings disagree (above).',
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    }
    return report.agrees;
  } finally {
    lambda.destroy();
    dynamo.destroy();
  }
}

run().then(
  (ok) => process.exit(ok ? 0 : 1),
  (error) => {
    console.error(`npm run reconcile: ${(error as Error).message} (is npm start running?)`);
    process.exit(2);
  },
);
