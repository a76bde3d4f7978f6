/**
 * The console's execution graph, laid out from the project's own state machine definitions: every
 * state a box where dagre put it, the transitions the ASL names as edges, and the execution's path,
 * waiting state and failed state marked as the Step Functions console marks them.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import {
  type AslDefinition,
  END,
  type LaidOutGraph,
  layoutExecution,
  START,
} from '../../../local/console/ui/asl-graph';

/** A state machine file as the console receives it: CloudFormation's tags resolved to anything. */
function definitionOf(name: string): AslDefinition {
  const text = readFileSync(`statemachines/${name}.asl.yml`, 'utf8');
  return parse(text, {
    customTags: (tags) => [
      ...tags,
      ...['!Ref', '!GetAtt', '!Sub'].map((tag) => ({ tag, resolve: (v: string) => v })),
    ],
  }) as AslDefinition;
}

const markOf = (graph: LaidOutGraph, id: string) => graph.nodes.find((node) => node.id === id)?.mark;
const edgesFrom = (graph: LaidOutGraph, from: string) => graph.edges.filter((edge) => edge.from === from);

test('an order waiting for its courier: Prepare taken, WaitForCourier current, Finish not reached', () => {
  const graph = layoutExecution(definitionOf('order-workflow'), {
    path: ['Prepare', 'WaitForCourier'],
    currentState: 'WaitForCourier',
  });

  expect(markOf(graph, START)).toBe('visited');
  expect(markOf(graph, 'Prepare')).toBe('visited');
  expect(markOf(graph, 'WaitForCourier')).toBe('current');
  expect(markOf(graph, 'Finish')).toBe('unvisited');
  expect(markOf(graph, END)).toBe('unvisited');
  const taken = graph.edges.filter((edge) => edge.taken).map((edge) => `${edge.from}→${edge.to}`);
  expect(new Set(taken)).toEqual(new Set([`${START}→Prepare`, 'Prepare→WaitForCourier']));
});

test('Catch transitions are edges labelled with the errors they catch', () => {
  const graph = layoutExecution(definitionOf('order-workflow'), { path: [] });

  const fromWait = edgesFrom(graph, 'WaitForCourier');
  expect(fromWait).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ to: 'Finish', kind: 'next' }),
      expect.objectContaining({ to: 'Finish', kind: 'catch', label: 'States.Timeout' }),
      expect.objectContaining({ to: 'VoidCancelledOrder', kind: 'catch', label: 'OrderCancelled' }),
    ]),
  );
  // Two edges between the same pair of states (Next and a Catch) are both laid out.
  for (const edge of fromWait) expect(edge.points.length).toBeGreaterThanOrEqual(2);
});

test('every state is a box inside the drawing, and no two boxes overlap', () => {
  const definition = definitionOf('order-prepare');
  const graph = layoutExecution(definition, { path: [] });

  expect(graph.nodes.map((node) => node.id).sort()).toEqual(
    [START, END, ...Object.keys(definition.States)].sort(),
  );
  for (const node of graph.nodes) {
    expect(node.x - node.width / 2).toBeGreaterThanOrEqual(0);
    expect(node.y - node.height / 2).toBeGreaterThanOrEqual(0);
    expect(node.x + node.width / 2).toBeLessThanOrEqual(graph.width);
    expect(node.y + node.height / 2).toBeLessThanOrEqual(graph.height);
  }
  for (const a of graph.nodes)
    for (const b of graph.nodes) {
      if (a === b) continue;
      const apart =
        Math.abs(a.x - b.x) >= (a.width + b.width) / 2 || Math.abs(a.y - b.y) >= (a.height + b.height) / 2;
      expect({ a: a.id, b: b.id, apart }).toEqual({ a: a.id, b: b.id, apart: true });
    }
});

test('a Choice state draws each choice and its Default', () => {
  const graph = layoutExecution(definitionOf('order-prepare'), { path: [] });

  expect(edgesFrom(graph, 'EndingPaid').map((edge) => [edge.to, edge.kind])).toEqual(
    expect.arrayContaining([
      ['OutcomeOwed', 'choice'],
      ['Ended', 'default'],
    ]),
  );
});

test('a failed execution marks the state it failed in, and the path that led there', () => {
  const graph = layoutExecution(definitionOf('order-finish'), {
    path: ['ReleaseToKitchen', 'FailOrder', 'PublishFailed', 'EndingPaid', 'OutcomeOwed'],
    failedState: 'OutcomeOwed',
  });

  expect(markOf(graph, 'OutcomeOwed')).toBe('failed');
  expect(markOf(graph, 'FailOrder')).toBe('visited');
  expect(markOf(graph, 'Released')).toBe('unvisited');
  // It failed: the execution never reached End.
  expect(markOf(graph, END)).toBe('unvisited');
  expect(graph.edges.find((e) => e.from === 'ReleaseToKitchen' && e.to === 'FailOrder')?.taken).toBe(true);
});

test('an execution that succeeded ends at End', () => {
  const graph = layoutExecution(definitionOf('order-finish'), {
    path: ['ReleaseToKitchen', 'PublishReleased', 'PartnerToldReleased', 'Released'],
  });

  expect(markOf(graph, 'Released')).toBe('visited');
  expect(markOf(graph, END)).toBe('visited');
  expect(graph.edges.find((e) => e.from === 'Released' && e.to === END)?.taken).toBe(true);
});

test('where a Next and a Catch join the same states, the one the events show is drawn as taken', () => {
  const definition = definitionOf('order-workflow');
  const entered = (id: number, stateName: string) => ({ id, type: 'TaskStateEntered', stateName });
  const path = ['Prepare', 'WaitForCourier', 'Finish'];
  const timedOut = layoutExecution(definition, {
    path,
    currentState: 'Finish',
    events: [
      entered(1, 'Prepare'),
      entered(2, 'WaitForCourier'),
      { id: 3, previousEventId: 2, type: 'TaskTimedOut' },
    ],
  });
  const released = layoutExecution(definition, {
    path,
    currentState: 'Finish',
    events: [
      entered(1, 'Prepare'),
      entered(2, 'WaitForCourier'),
      { id: 3, previousEventId: 2, type: 'TaskFailed' }, // retried…
      { id: 4, previousEventId: 3, type: 'TaskSucceeded' }, // …and then released
    ],
  });

  const waitToFinish = (graph: LaidOutGraph) =>
    graph.edges.filter((e) => e.from === 'WaitForCourier' && e.to === 'Finish').map((e) => [e.kind, e.taken]);
  expect(waitToFinish(timedOut)).toEqual(
    expect.arrayContaining([
      ['catch', true],
      ['next', false],
    ]),
  );
  expect(waitToFinish(released)).toEqual(
    expect.arrayContaining([
      ['catch', false],
      ['next', true],
    ]),
  );
});
