/**
 * Shared pieces of every page: client-side links, a table, a status badge, a labelled form field,
 * how a call's answer is shown, money and times. Pico styles the plain elements; console.css adds
 * the badge colours and the graph.
 */
import type { ComponentChildren, TargetedSubmitEvent } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { type Answer, errorText } from './api';

/** Moves to another page of the console without reloading it. */
export function navigate(path: string): void {
  if (path === location.pathname + location.search) return;
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

export function Link(props: {
  href: string;
  children: ComponentChildren;
  testId?: string;
  current?: boolean;
}) {
  const follow = (event: MouseEvent) => {
    if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return; // new tab etc.
    event.preventDefault();
    navigate(props.href);
  };
  return (
    <a
      href={props.href}
      onClick={follow}
      data-testid={props.testId}
      aria-current={props.current ? 'page' : undefined}
    >
      {props.children}
    </a>
  );
}

export interface Column<Row> {
  title: string;
  cell: (row: Row) => ComponentChildren;
  /** data-testid of the column's cells, so tests read a row's status or count. */
  testId?: string;
}

export function Table<Row>(props: {
  columns: Column<Row>[];
  rows: Row[];
  rowKey: (row: Row) => string;
  rowTestId?: (row: Row) => string;
  empty?: string;
  testId?: string;
  caption?: string;
}) {
  return (
    <div class="overflow-auto">
      <table class="striped" data-testid={props.testId}>
        {props.caption && <caption>{props.caption}</caption>}
        <thead>
          <tr>
            {props.columns.map((column) => (
              <th key={column.title} scope="col">
                {column.title}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 ? (
            <tr>
              <td colSpan={props.columns.length} class="muted">
                {props.empty ?? 'Nothing yet.'}
              </td>
            </tr>
          ) : (
            props.rows.map((row) => (
              <tr key={props.rowKey(row)} data-testid={props.rowTestId?.(row)}>
                {props.columns.map((column) => (
                  <td key={column.title} data-testid={column.testId}>
                    {column.cell(row)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

/** An order, execution or store status as a coloured badge (the colours say good, waiting, bad). */
export function StatusBadge(props: { status: string; testId?: string }) {
  return (
    <span class={`badge badge-${props.status.toLowerCase()}`} data-testid={props.testId}>
      {props.status}
    </span>
  );
}

/** A label above its control: the label names the control for screen readers and for the tests. */
export function Field(props: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    // biome-ignore lint/a11y/noLabelWithoutControl: the control is the child it wraps
    <label>
      {props.label}
      {props.children}
      {props.hint && <small>{props.hint}</small>}
    </label>
  );
}

/**
 * What a call answered: the status and, for an error, its code and message; else the body (folded
 * away with `folded`, where the page shows the result anyway, as a store after a change).
 */
export function AnswerView(props: {
  answer: Answer | undefined;
  testId: string;
  what?: string;
  folded?: boolean;
}) {
  const { answer } = props;
  if (!answer) return null;
  return (
    <output data-testid={props.testId} class={answer.ok ? 'answer ok' : 'answer failed'}>
      <strong>
        {props.what ? `${props.what}: ` : ''}
        {answer.status === 0 ? 'no answer' : `HTTP ${answer.status}`}
      </strong>{' '}
      {answer.ok ? (
        answer.body !== undefined &&
        (props.folded ? (
          <details>
            <summary>body</summary>
            <pre>{JSON.stringify(answer.body, null, 2)}</pre>
          </details>
        ) : (
          <pre>{JSON.stringify(answer.body, null, 2)}</pre>
        ))
      ) : (
        <span>{errorText(answer)}</span>
      )}
    </output>
  );
}

export function Money(props: { cents: number | undefined }) {
  if (props.cents === undefined) return <span class="muted">—</span>;
  return <span>${(props.cents / 100).toFixed(2)}</span>;
}

/**
 * A time as the local clock shows it, the full ISO time on hover; `precise`: the time of day to the
 * millisecond, as execution events are read (their order within a second matters).
 */
export function Time(props: { at: string | undefined; precise?: boolean }) {
  if (!props.at) return <span class="muted">—</span>;
  const date = new Date(props.at);
  const text = props.precise
    ? `${date.toLocaleTimeString(undefined, { hour12: false })}.${String(date.getMilliseconds()).padStart(3, '0')}`
    : date.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
  return (
    <time dateTime={props.at} title={props.at}>
      {text}
    </time>
  );
}

/** Loads once, and again whenever `reload` is called or the dependencies change. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const reload = useCallback(async () => {
    try {
      setValue(await load());
      setError(undefined);
    } catch (caught) {
      setError(caught instanceof Error ? caught.message : String(caught));
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { value, error, reload };
}

export function ErrorNote(props: { error: string | undefined }) {
  return props.error ? (
    <p role="alert" class="error-note">
      {props.error}
    </p>
  ) : null;
}

/** A form's submit handler that never reloads the page. */
export function onSubmit(handler: () => void | Promise<void>) {
  return (event: TargetedSubmitEvent<HTMLFormElement>) => {
    event.preventDefault();
    void handler();
  };
}
