/**
 * The three-way audit behind `npm run reconcile`, the load run and the chaos run: our order records,
 * the POS orders and what each partner shows, compared order by order against the rule every ending
 * must satisfy (README "The guarantee"; `endingDisagreements`). It reads the simulators' control APIs,
 * so it runs against the local cloud only; on AWS the scheduled reconciler repairs from the order
 * records and the POS lookups, and this comparison is what a test stage's e2e run does.
 */
import { type DynamoDBClient, paginateScan } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { LocalCloud } from '../cloud/index';
import { endingDisagreements, isTerminal } from './reconcile';
import { runScheduledFunctionIn } from './scheduled';

export interface AuditTargets {
  dynamo: DynamoDBClient;
  ordersTable: string;
  posUrl: string;
  partnerUrl: string;
}

export interface AuditReport {
  ordersChecked: number;
  notEnded: number;
  /** Ended orders still owing a void or a partner answer. */
  stillOwing: number;
  /** Ended orders whose POS order is held or fired when it should be voided (or RELEASED without one fired). */
  heldTicketsOfEndedOrders: number;
  /** Ended orders the partner shows otherwise than the ending says. */
  partnerDisagreements: number;
  /** Up to ten problems, in words, to start looking from. */
  examples: string[];
}

async function getJson(url: string): Promise<any> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.json();
}

/** Every order record of the table (a tool may scan; the middleware never does). */
async function allOrderRecords(dynamo: DynamoDBClient, table: string) {
  const records: Array<Record<string, any>> = [];
  for await (const page of paginateScan({ client: dynamo }, { TableName: table, ConsistentRead: true })) {
    for (const item of page.Items ?? []) records.push(unmarshall(item));
  }
  return records;
}

/** Audits `orderIds` (every order in the table when omitted). */
export async function auditEndings(
  targets: AuditTargets,
  orderIds?: readonly string[],
): Promise<AuditReport> {
  const records = await allOrderRecords(targets.dynamo, targets.ordersTable);
  const wanted = orderIds ? new Set(orderIds) : undefined;
  const chosen = records.filter((record) => !wanted || wanted.has(record.orderId));
  const posOrders: Array<{ reference: string; posOrderId: string; status: string }> = await getJson(
    `${targets.posUrl}/_control/orders`,
  );
  const report: AuditReport = {
    ordersChecked: chosen.length,
    notEnded: 0,
    stillOwing: 0,
    heldTicketsOfEndedOrders: 0,
    partnerDisagreements: 0,
    examples: [],
  };
  for (const record of chosen) {
    const tickets = posOrders.filter((order) => order.reference === record.orderId);
    const partner = await getJson(
      `${targets.partnerUrl}/_control/orders/${record.partner}/${encodeURIComponent(record.partnerOrderId)}`,
    ).catch(() => undefined);
    const problems = endingDisagreements({
      orderId: record.orderId,
      record: record as never,
      posOrders: tickets,
      partner,
    });
    if (!isTerminal(record.status)) report.notEnded += 1;
    else {
      if (problems.some((p) => p.includes('still owes'))) report.stillOwing += 1;
      if (problems.some((p) => p.includes('the POS has'))) report.heldTicketsOfEndedOrders += 1;
      if (problems.some((p) => p.includes('the partner shows'))) report.partnerDisagreements += 1;
    }
    for (const problem of problems) if (report.examples.length < 10) report.examples.push(problem);
  }
  return report;
}

export const agrees = (report: AuditReport): boolean =>
  report.notEnded === 0 &&
  report.stillOwing === 0 &&
  report.heldTicketsOfEndedOrders === 0 &&
  report.partnerDisagreements === 0;

export interface ReconcilerRun {
  checked: number;
  settled: number;
  stillOwed: number;
  /** Orders taken that no workflow had claimed, whose OrderReceived it published again. */
  restarted: number;
}

/**
 * The scheduled reconciler, run now over every owing order, in a local cloud this process started
 * (the tests, load and chaos runs): invoked as its schedule would, whatever its backoff says.
 */
export function runReconcilerIn(cloud: LocalCloud): Promise<ReconcilerRun> {
  return runScheduledFunctionIn<ReconcilerRun>(cloud, 'ReconcileOrdersLambdaFunction', { everything: true });
}

/** The same, through the Lambda API, against an `npm start` in another process (`npm run reconcile`). */
export async function runReconciler(lambda: LambdaClient, functionName: string) {
  const answer = await lambda.send(
    new InvokeCommand({
      FunctionName: functionName,
      Payload: Buffer.from(JSON.stringify({ everything: true })),
    }),
  );
  const body = answer.Payload ? JSON.parse(Buffer.from(answer.Payload).toString('utf8')) : undefined;
  if (answer.FunctionError) throw new Error(`the reconciler failed: ${JSON.stringify(body)}`);
  return body as ReconcilerRun;
}
