/**
 * The pieces of one order's page that are plain reading: which Express children the parent's
 * history names, the log group a machine logs to, the facts the order published, a function's log
 * line, and the order list's query and live changes.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import {
  busEventsOf,
  childRunsFromHistory,
  logGroupNameOf,
  logLineOf,
} from '../../../local/console/order-detail';
import { changedRows, listQuery } from '../../../local/console/order-feed';

const machine = (name: string) =>
  `arn:aws:states:us-east-1:000000000000:stateMachine:order-middleware-local-${name}`;
const machines = { prepare: machine('order-prepare'), finish: machine('order-finish') };
const child = (name: string, run: string) =>
  `arn:aws:states:us-east-1:000000000000:express:order-middleware-local-${name}:ord_abc:${run}`;

const event = (id: number, type: string, details: Record<string, unknown> = {}): HistoryEvent =>
  ({ id, type, timestamp: new Date(), ...details }) as HistoryEvent;

describe('the children named by the parent history', () => {
  it('reads each .sync:2 answer: ARN, status and dates; a retried task counts its newest run', () => {
    const history = [
      event(1, 'ExecutionStarted'),
      event(2, 'TaskFailed', {
        taskFailedEventDetails: {
          error: 'States.TaskFailed',
          cause: JSON.stringify({
            ExecutionArn: child('order-prepare', 'run-1'),
            Status: 'FAILED',
            StartDate: 1_000,
          }),
        },
      }),
      event(3, 'TaskSucceeded', {
        taskSucceededEventDetails: {
          output: JSON.stringify({
            ExecutionArn: child('order-prepare', 'run-2'),
            StateMachineArn: machines.prepare,
            Status: 'SUCCEEDED',
            StartDate: 1_764_504_000_000,
            StopDate: 1_764_504_000_500,
            Output: { orderId: 'ord_abc' },
          }),
        },
      }),
      event(4, 'TaskSucceeded', { taskSucceededEventDetails: { output: '{"Payload":{"released":true}}' } }),
      event(5, 'TaskSucceeded', {
        taskSucceededEventDetails: {
          output: JSON.stringify({ ExecutionArn: child('order-finish', 'run-3'), Status: 'SUCCEEDED' }),
        },
      }),
    ];

    expect(childRunsFromHistory(history, machines)).toEqual([
      {
        role: 'prepare',
        executionArn: child('order-prepare', 'run-2'),
        stateMachineArn: machines.prepare,
        status: 'SUCCEEDED',
        startDate: '2025-11-30T12:00:00.000Z',
        stopDate: '2025-11-30T12:00:00.500Z',
      },
      {
        role: 'finish',
        executionArn: child('order-finish', 'run-3'),
        stateMachineArn: machines.finish,
        status: 'SUCCEEDED',
      },
    ]);
  });

  it('names no child before a .sync:2 task has answered', () => {
    expect(childRunsFromHistory([event(1, 'ExecutionStarted'), event(2, 'TaskScheduled')], machines)).toEqual(
      [],
    );
  });
});

it('finds the log group name in a log group ARN, with or without the trailing :*', () => {
  expect(
    logGroupNameOf('arn:aws:logs:us-east-1:000000000000:log-group:/aws/vendedlogs/states/express:*'),
  ).toBe('/aws/vendedlogs/states/express');
  expect(logGroupNameOf('arn:aws:logs:us-east-1:000000000000:log-group:orders')).toBe('orders');
  expect(logGroupNameOf('arn:aws:sqs:us-east-1:000000000000:queue')).toBeUndefined();
});

it('the facts an order published, from its timeline', () => {
  const view = {
    orderId: 'ord_abc',
    partner: 'doordash',
    partnerOrderId: 'dd-1',
    storeId: 'store-001',
    timeline: [
      { at: '2026-11-30T12:00:00.000Z', event: 'received', detail: 'from doordash' },
      { at: '2026-11-30T12:00:01.000Z', event: 'held-in-pos', detail: 'pos-1' },
      { at: '2026-11-30T12:00:02.000Z', event: 'accepted', detail: 'POS pos-1' },
      { at: '2026-11-30T12:00:09.000Z', event: 'cancelled', detail: 'by operator: customer called' },
    ],
  };

  expect(busEventsOf(view)).toEqual([
    expect.objectContaining({ detailType: 'OrderReceived', time: '2026-11-30T12:00:00.000Z' }),
    expect.objectContaining({ detailType: 'OrderAccepted' }),
    {
      detailType: 'OrderCancelled',
      time: '2026-11-30T12:00:09.000Z',
      detail: {
        eventId: 'ord_abc/OrderCancelled',
        orderId: 'ord_abc',
        partner: 'doordash',
        partnerOrderId: 'dd-1',
        storeId: 'store-001',
        note: 'by operator: customer called',
      },
    },
  ]);
});

it('a function log line: Powertools JSON read for level, message and time; a plain line kept as it came', () => {
  const json = JSON.stringify({
    level: 'WARN',
    message: 'POS answered 503',
    timestamp: '2026-11-30T12:00:01.250Z',
    correlation_id: 'ord_abc',
  });

  expect(logLineOf('order-middleware-local-createPosOrder', { message: json, timestamp: 0 })).toEqual({
    timestamp: '2026-11-30T12:00:01.250Z',
    functionName: 'order-middleware-local-createPosOrder',
    level: 'WARN',
    message: 'POS answered 503',
  });
  expect(logLineOf('fn', { message: 'Task timed out ord_abc\n', timestamp: 1_764_504_000_000 })).toEqual({
    timestamp: '2025-11-30T12:00:00.000Z',
    functionName: 'fn',
    level: 'INFO',
    message: 'Task timed out ord_abc',
  });
});

describe('the order list', () => {
  it('passes the filters on in alphabetical order (as strict SigV4 wants), without empty ones', () => {
    const query = new URLSearchParams('status=ACCEPTED&storeId=store-001&limit=&cursor=abc');

    expect(listQuery(query)).toBe('?cursor=abc&status=ACCEPTED&storeId=store-001');
    expect(listQuery(query, { limit: '100', cursor: '' })).toBe(
      '?limit=100&status=ACCEPTED&storeId=store-001',
    );
    expect(listQuery(new URLSearchParams())).toBe('');
  });

  it('the live feed sends rows that are new or changed, not the ones it sent already', () => {
    const seen = new Map([
      ['ord_a', 'ACCEPTED 2026-11-30T12:00:00.000Z'],
      ['ord_b', 'RELEASED 2026-11-30T12:00:05.000Z'],
    ]);
    const rows = [
      { orderId: 'ord_a', status: 'RELEASED', updatedAt: '2026-11-30T12:00:09.000Z' },
      { orderId: 'ord_b', status: 'RELEASED', updatedAt: '2026-11-30T12:00:05.000Z' },
      { orderId: 'ord_c', status: 'RECEIVED', updatedAt: '2026-11-30T12:00:10.000Z' },
    ];

    expect(changedRows(seen, rows).map((row) => row.orderId)).toEqual(['ord_a', 'ord_c']);
  });
});
