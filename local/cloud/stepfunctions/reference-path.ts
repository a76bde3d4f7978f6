import { StatesRuntimeFailure } from './errors';

const SEGMENT = /\.([^.[\]]+)|\['([^']*)'\]|\[(\d+)\]/y;

/**
 * Reads an ASL reference path (`$.a.b`, `$['a'][0]`) — the only kind TimeoutSecondsPath and
 * HeartbeatSecondsPath allow — from a state's input. Undefined when the path selects nothing.
 */
export function readReferencePath(path: string, value: unknown): unknown {
  if (!path.startsWith('$')) throw new StatesRuntimeFailure(`Invalid reference path ${path}`);
  let current = value;
  SEGMENT.lastIndex = 1;
  while (SEGMENT.lastIndex < path.length) {
    const match = SEGMENT.exec(path);
    if (!match) throw new StatesRuntimeFailure(`Invalid reference path ${path}`);
    const key = match[1] ?? match[2] ?? Number(match[3]);
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

/** A positive integer of seconds from a `*SecondsPath`, as AWS requires; otherwise States.Runtime. */
export function secondsAt(path: string, input: unknown, field: string): number {
  const seconds = readReferencePath(path, input);
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 1) {
    throw new StatesRuntimeFailure(
      `${field} ${path} must select a positive integer, got ${JSON.stringify(seconds)}`,
    );
  }
  return seconds;
}
