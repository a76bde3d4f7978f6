/**
 * An execution drawn as the Step Functions console draws it: the states of its ASL definition as
 * boxes, the Next / Default / Choice / Catch transitions as edges, laid out top to bottom by dagre,
 * then marked with what the execution did (the path it took, the state it waits in, the state that
 * failed). Pure: no DOM, so it is unit-tested in Node and rendered as SVG by execution-graph.tsx.
 */
import { Graph, layout } from '@dagrejs/dagre';

export interface AslState {
  Type: string;
  Next?: string;
  End?: boolean;
  Default?: string;
  Choices?: { Next?: string }[];
  Catch?: { ErrorEquals?: string[]; Next?: string }[];
  Comment?: string;
}

export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
  Comment?: string;
}

/** How a state took part in the execution: never entered, entered, waiting now, or where it failed. */
export type StateMark = 'unvisited' | 'visited' | 'current' | 'failed';
export type EdgeKind = 'next' | 'choice' | 'default' | 'catch';

export interface GraphNode {
  id: string;
  label: string;
  /** The ASL `Type`, or `Start` / `End` for the two markers the console adds. */
  type: string;
  mark: StateMark;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GraphEdge {
  from: string;
  to: string;
  kind: EdgeKind;
  label?: string;
  /** The execution went this way: both ends are consecutive on its path. */
  taken: boolean;
  points: { x: number; y: number }[];
  labelAt?: { x: number; y: number };
}

export interface LaidOutGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  width: number;
  height: number;
}

export interface ExecutionMarks {
  /** The states entered, in order (a retried or looped state may repeat). */
  path: string[];
  currentState?: string | undefined;
  failedState?: string | undefined;
  /**
   * The execution's events, when known: a state that recorded an error left through its Catch, so
   * where a Next and a Catch join the same two states the Catch is the one drawn as taken.
   */
  events?: {
    type: string;
    stateName?: string | undefined;
    previousEventId?: number | undefined;
    id: number;
  }[];
}

export const START = '__start__';
export const END = '__end__';

const NODE_HEIGHT = 34;
const CHAR_WIDTH = 7.2;
const MARKER_SIZE = 18;

/** The transitions out of one state, each with its kind and (for Catch) the errors it catches. */
export function transitionsOf(state: AslState): { to: string; kind: EdgeKind; label?: string }[] {
  const out: { to: string; kind: EdgeKind; label?: string }[] = [];
  for (const choice of state.Choices ?? []) if (choice.Next) out.push({ to: choice.Next, kind: 'choice' });
  if (state.Default) out.push({ to: state.Default, kind: 'default', label: 'Default' });
  if (state.Next) out.push({ to: state.Next, kind: 'next' });
  for (const handler of state.Catch ?? []) {
    if (handler.Next)
      out.push({ to: handler.Next, kind: 'catch', label: shortErrors(handler.ErrorEquals ?? []) });
  }
  // Succeed and Fail end the execution without saying `End`.
  if (state.End || state.Type === 'Succeed' || state.Type === 'Fail') out.push({ to: END, kind: 'next' });
  return out;
}

/** `OrderCancelled, States.ALL` as a short label; long lists say how many more. */
function shortErrors(errors: string[]): string {
  const shown = errors.slice(0, 2).join(', ');
  return errors.length > 2 ? `${shown} +${errors.length - 2}` : shown;
}

/** Each consecutive pair on the path, `from→to`, with Start before the first state. */
function takenPairs(definition: AslDefinition, marks: ExecutionMarks): Set<string> {
  const pairs = new Set<string>();
  const path = marks.path;
  if (path.length > 0) pairs.add(`${START}→${path[0]}`);
  for (let i = 1; i < path.length; i++) pairs.add(`${path[i - 1]}→${path[i]}`);
  const last = path.at(-1);
  const ended = last !== undefined && last !== marks.currentState && last !== marks.failedState;
  if (ended && transitionsOf(definition.States[last] ?? { Type: 'Pass' }).some((t) => t.to === END))
    pairs.add(`${last}→${END}`);
  return pairs;
}

function markOf(name: string, marks: ExecutionMarks, visited: Set<string>): StateMark {
  if (name === marks.failedState) return 'failed';
  if (name === marks.currentState) return 'current';
  return visited.has(name) ? 'visited' : 'unvisited';
}

/** Lays the definition out and marks it with what the execution did. */
export function layoutExecution(definition: AslDefinition, marks: ExecutionMarks): LaidOutGraph {
  const graph = new Graph({ multigraph: true });
  graph.setGraph({ rankdir: 'TB', nodesep: 24, ranksep: 36, edgesep: 12, marginx: 8, marginy: 8 });
  graph.setDefaultEdgeLabel(() => ({}));

  const visited = new Set(marks.path);
  const stateNames = Object.keys(definition.States);
  graph.setNode(START, { width: MARKER_SIZE, height: MARKER_SIZE });
  graph.setNode(END, { width: MARKER_SIZE, height: MARKER_SIZE });
  for (const name of stateNames) {
    graph.setNode(name, { width: Math.max(80, name.length * CHAR_WIDTH + 24), height: NODE_HEIGHT });
  }

  const edges: Omit<GraphEdge, 'points' | 'taken'>[] = [
    { from: START, to: definition.StartAt, kind: 'next' },
  ];
  for (const name of stateNames) {
    for (const t of transitionsOf(definition.States[name]!)) {
      if (t.to !== END && !(t.to in definition.States)) continue; // an invalid target: nothing to draw to
      edges.push({ from: name, to: t.to, kind: t.kind, ...(t.label ? { label: t.label } : {}) });
    }
  }
  edges.forEach((edge, index) => {
    const labelWidth = edge.label ? edge.label.length * 6 + 6 : 0;
    graph.setEdge(
      edge.from,
      edge.to,
      edge.label ? { width: labelWidth, height: 14, labelpos: 'c' } : {},
      String(index),
    );
  });

  layout(graph);

  const taken = takenPairs(definition, marks);
  const erred = statesThatErred(marks);
  const nodes: GraphNode[] = [START, ...stateNames, END].map((id) => {
    const at = graph.node(id) as { x: number; y: number; width: number; height: number };
    const isMarker = id === START || id === END;
    return {
      id,
      label: id === START ? 'Start' : id === END ? 'End' : id,
      type: id === START ? 'Start' : id === END ? 'End' : definition.States[id]!.Type,
      mark: isMarker ? markerMark(id, taken) : markOf(id, marks, visited),
      x: at.x,
      y: at.y,
      width: at.width,
      height: at.height,
    };
  });
  const laidEdges: GraphEdge[] = edges.map((edge, index) => {
    const at = graph.edge({ v: edge.from, w: edge.to, name: String(index) }) as {
      points?: { x: number; y: number }[];
      x?: number;
      y?: number;
    };
    return {
      ...edge,
      taken: taken.has(`${edge.from}→${edge.to}`) && wentThisWay(edge, edges, erred),
      points: at.points ?? [],
      ...(edge.label && at.x !== undefined && at.y !== undefined ? { labelAt: { x: at.x, y: at.y } } : {}),
    };
  });
  const size = graph.graph() as { width?: number; height?: number };
  return { nodes, edges: laidEdges, width: size.width ?? 0, height: size.height ?? 0 };
}

/**
 * States whose last task outcome was an error (TaskFailed, TaskTimedOut, LambdaFunctionFailed…): a
 * failure that a Retry then got past ends in a success, so it does not count.
 */
function statesThatErred(marks: ExecutionMarks): Set<string> {
  const byId = new Map((marks.events ?? []).map((event) => [event.id, event]));
  const lastOutcome = new Map<string, 'ok' | 'error'>();
  for (const event of marks.events ?? []) {
    const outcome = /(Failed|TimedOut|Aborted)$/.test(event.type)
      ? 'error'
      : /Succeeded$/.test(event.type)
        ? 'ok'
        : undefined;
    if (!outcome || event.type.startsWith('Execution')) continue;
    // Task events may carry no state name: it is on the TaskStateEntered they follow.
    let at: typeof event | undefined = event;
    while (at && !at.stateName) at = at.previousEventId ? byId.get(at.previousEventId) : undefined;
    if (at?.stateName) lastOutcome.set(at.stateName, outcome);
  }
  return new Set([...lastOutcome].filter(([, outcome]) => outcome === 'error').map(([state]) => state));
}

/** Of a Next and a Catch between the same two states, the one the execution took. */
function wentThisWay(
  edge: Omit<GraphEdge, 'points' | 'taken'>,
  all: Omit<GraphEdge, 'points' | 'taken'>[],
  erred: Set<string>,
) {
  const twins = all.filter((other) => other.from === edge.from && other.to === edge.to && other !== edge);
  if (!twins.some((other) => (other.kind === 'catch') !== (edge.kind === 'catch'))) return true;
  return (edge.kind === 'catch') === erred.has(edge.from);
}

/** Start is reached once the execution entered its first state; End once an edge into it was taken. */
function markerMark(id: string, taken: Set<string>): StateMark {
  const edge = id === START ? `${START}→` : `→${END}`;
  for (const pair of taken) if (id === START ? pair.startsWith(edge) : pair.endsWith(edge)) return 'visited';
  return 'unvisited';
}
