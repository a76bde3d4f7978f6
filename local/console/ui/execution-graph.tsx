/**
 * One execution as the Step Functions console shows it: its graph (SVG of the dagre layout, states
 * marked by what the execution did, with a legend) beside its events table.
 */
import type { Execution } from './api';
import { END, type GraphEdge, type GraphNode, type LaidOutGraph, layoutExecution, START } from './asl-graph';
import { StatusBadge, Table, Time } from './components';

const LEGEND: { mark: string; text: string }[] = [
  { mark: 'visited', text: 'Path taken' },
  { mark: 'current', text: 'Waiting / in progress' },
  { mark: 'failed', text: 'Failed' },
  { mark: 'unvisited', text: 'Not entered' },
];

function edgePath(points: { x: number; y: number }[]): string {
  return points
    .map((point, i) => `${i === 0 ? 'M' : 'L'}${point.x.toFixed(1)},${point.y.toFixed(1)}`)
    .join(' ');
}

function StateBox({ node }: { node: GraphNode }) {
  const left = node.x - node.width / 2;
  const top = node.y - node.height / 2;
  if (node.id === START || node.id === END) {
    return (
      <g class={`state marker mark-${node.mark}`} data-testid={`state-${node.label}`} data-mark={node.mark}>
        <circle cx={node.x} cy={node.y} r={node.width / 2} />
        <title>{node.label}</title>
      </g>
    );
  }
  return (
    <g
      class={`state type-${node.type.toLowerCase()} mark-${node.mark}`}
      data-testid={`state-${node.id}`}
      data-mark={node.mark}
    >
      <title>{`${node.id} (${node.type}): ${node.mark}`}</title>
      <rect x={left} y={top} width={node.width} height={node.height} rx={node.type === 'Choice' ? 14 : 4} />
      <text x={node.x} y={node.y + 4} text-anchor="middle">
        {node.label}
      </text>
    </g>
  );
}

function Transition({ edge }: { edge: GraphEdge }) {
  return (
    <g class={`edge kind-${edge.kind}${edge.taken ? ' taken' : ''}`}>
      <path d={edgePath(edge.points)} marker-end={`url(#arrow${edge.taken ? '-taken' : ''})`} />
      {edge.label && edge.labelAt && (
        <text x={edge.labelAt.x} y={edge.labelAt.y + 3} text-anchor="middle" class="edge-label">
          {edge.label}
        </text>
      )}
    </g>
  );
}

export function ExecutionGraph({ execution, graph }: { execution: Execution; graph: LaidOutGraph }) {
  return (
    <figure class="graph">
      <svg
        role="img"
        aria-label={`State machine graph of the ${execution.role} execution`}
        width={graph.width}
        height={graph.height}
        viewBox={`0 0 ${graph.width} ${graph.height}`}
        data-testid={`graph-${execution.role}`}
      >
        <title>{`${execution.role} execution graph`}</title>
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="arrow" />
          </marker>
          <marker
            id="arrow-taken"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="arrow taken" />
          </marker>
        </defs>
        {graph.edges.map((edge) => (
          <Transition key={`${edge.from}-${edge.to}-${edge.kind}-${edge.label ?? ''}`} edge={edge} />
        ))}
        {graph.nodes.map((node) => (
          <StateBox key={node.id} node={node} />
        ))}
      </svg>
      <figcaption class="legend">
        {LEGEND.map((entry) => (
          <span key={entry.mark}>
            <i class={`swatch mark-${entry.mark}`} /> {entry.text}
          </span>
        ))}
        <span>
          <i class="swatch-line kind-catch" /> Catch
        </span>
      </figcaption>
    </figure>
  );
}

function EventsTable({ execution }: { execution: Execution }) {
  return (
    <Table
      empty={execution.eventsUnavailable ?? 'No events yet.'}
      testId={`events-${execution.role}`}
      caption={
        execution.source === 'history' ? 'Events (GetExecutionHistory)' : 'Events (from its log group)'
      }
      rows={execution.events}
      rowKey={(event) => String(event.id)}
      columns={[
        { title: 'ID', cell: (event) => event.id },
        {
          // The error under its event, not in a column of its own: the table sits beside the graph.
          title: 'Type',
          cell: (event) => (
            <>
              {event.type}
              {event.error && (
                <div class="event-error" title={event.cause}>
                  <strong>{event.error}</strong> {event.cause && <small>{event.cause.slice(0, 160)}</small>}
                </div>
              )}
            </>
          ),
        },
        { title: 'Step', cell: (event) => event.stateName ?? '' },
        { title: 'Time', cell: (event) => <Time at={event.timestamp} precise /> },
      ]}
    />
  );
}

const WIDE_GRAPH = 640;

const ROLE_TITLE: Record<Execution['role'], string> = {
  workflow: 'Order workflow (Standard)',
  prepare: 'Prepare (Express)',
  finish: 'Finish (Express)',
};

/** One execution: heading, graph and events side by side. */
export function ExecutionView({ execution }: { execution: Execution }) {
  const name = execution.executionArn.split(':').at(-1);
  const graph = layoutExecution(execution.definition, execution);
  return (
    <article data-testid={`execution-${execution.role}`} class="execution">
      <header>
        <strong>{ROLE_TITLE[execution.role] ?? execution.role}</strong>{' '}
        <StatusBadge status={execution.status} testId={`execution-status-${execution.role}`} />{' '}
        {execution.currentState && (
          <span data-testid={`current-state-${execution.role}`}>
            waiting in <code>{execution.currentState}</code>
          </span>
        )}
        {execution.failedState && (
          <span data-testid={`failed-state-${execution.role}`}>
            failed in <code>{execution.failedState}</code>
          </span>
        )}
        <br />
        <small class="muted">
          {name} · started <Time at={execution.startDate} />
          {execution.stopDate && (
            <>
              {' '}
              · stopped <Time at={execution.stopDate} />
            </>
          )}
        </small>
      </header>
      {/* A wide graph (many Catch routes) gets the whole width, its events below it. */}
      <div class={graph.width > WIDE_GRAPH ? 'execution-body stacked' : 'execution-body'}>
        <ExecutionGraph execution={execution} graph={graph} />
        <EventsTable execution={execution} />
      </div>
    </article>
  );
}
