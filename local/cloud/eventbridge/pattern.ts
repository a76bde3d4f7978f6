/**
 * EventBridge event patterns: structure (nested objects, `$or`, arrays as OR) and matching.
 * A pattern is compiled once (which validates it) and then tested against many events.
 *
 * Matching is array-consistent, like EventBridge: when the event holds an array of objects,
 * the fields of one nested pattern object must all match inside the same array element.
 */
import { type Condition, compileCondition, invalidPattern, isPlainObject, type Leaf } from './operators';

export type EventMatcher = (event: unknown) => boolean;

interface ObjectMatcher {
  fields: FieldMatcher[];
  /** Each `$or` found at this level: at least one of its branches must match. */
  alternatives: ObjectMatcher[][];
}

type FieldMatcher = { key: string; nested: ObjectMatcher } | { key: string; conditions: Condition[] };

/** Operator names that may not be used as field names inside `$or` (they would be ambiguous). */
const RESERVED_IN_OR = new Set([
  'exactly',
  'equals-ignore-case',
  'prefix',
  'suffix',
  'anything-but',
  'exists',
  'wildcard',
  'numeric',
  'cidr',
  '=',
  '<',
  '<=',
  '>',
  '>=',
]);

/** Validates the pattern and returns a fast matcher; throws InvalidEventPatternException when malformed. */
export function compilePattern(pattern: unknown): EventMatcher {
  if (!isPlainObject(pattern)) invalidPattern('Filter is not an object', []);
  const matcher = compileObject(pattern, [], false);
  return (event) => matchesObject(matcher, event);
}

export function validatePattern(pattern: unknown): void {
  compilePattern(pattern);
}

export function matchesPattern(pattern: unknown, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

function compileObject(pattern: Record<string, unknown>, at: string[], insideOr: boolean): ObjectMatcher {
  const matcher: ObjectMatcher = { fields: [], alternatives: [] };
  const keys = Object.keys(pattern);
  if (keys.length === 0) invalidPattern('Empty objects are not allowed', at);
  for (const key of keys) {
    const value = pattern[key];
    if (key === '$or') {
      matcher.alternatives.push(compileOr(value, at));
      continue;
    }
    if (insideOr && RESERVED_IN_OR.has(key)) {
      invalidPattern(`${key} is Ruler reserved fieldName which cannot be used inside $or.`, at);
    }
    matcher.fields.push(compileField(key, value, [...at, key], insideOr));
  }
  return matcher;
}

function compileOr(branches: unknown, at: string[]): ObjectMatcher[] {
  if (!Array.isArray(branches)) invalidPattern('It must be an Array followed with $or.', at);
  if (!branches.every(isPlainObject)) {
    invalidPattern('Only JSON object is allowed in array of $or relationship.', at);
  }
  if (branches.length < 2) invalidPattern('There must have at least 2 Objects in $or relationship.', at);
  return branches.map((branch) => compileObject(branch, at, true));
}

function compileField(key: string, value: unknown, at: string[], insideOr: boolean): FieldMatcher {
  if (isPlainObject(value)) return { key, nested: compileObject(value, at, insideOr) };
  if (!Array.isArray(value)) return invalidPattern(`"${key}" must be an object or an array`, at);
  if (value.length === 0) invalidPattern('Empty arrays are not allowed', at);
  return { key, conditions: value.map((entry) => compileCondition(entry, at)) };
}

function matchesObject(matcher: ObjectMatcher, value: unknown): boolean {
  const candidates = objectsIn(value);
  // A missing or non-object value still gets checked, as an empty object: `exists: false` can match it.
  if (candidates.length === 0) return matchesFields(matcher, {});
  return candidates.some((candidate) => matchesFields(matcher, candidate));
}

function matchesFields(matcher: ObjectMatcher, object: Record<string, unknown>): boolean {
  return (
    matcher.fields.every((field) => matchesField(field, ownValue(object, field.key))) &&
    matcher.alternatives.every((branches) => branches.some((branch) => matchesFields(branch, object)))
  );
}

function matchesField(field: FieldMatcher, value: unknown): boolean {
  if ('nested' in field) return matchesObject(field.nested, value);
  const leaves = leavesOf(value);
  return field.conditions.some((condition) =>
    condition.kind === 'exists' ? leaves.length > 0 === condition.present : leaves.some(condition.test),
  );
}

function ownValue(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/** Objects a nested pattern applies to: the value itself, or every object inside an (event) array. */
function objectsIn(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.flatMap(objectsIn);
  return isPlainObject(value) ? [value] : [];
}

/** Leaf values of a field: an object is not a leaf (so `exists` is false for it), arrays are flattened. */
function leavesOf(value: unknown): Leaf[] {
  if (Array.isArray(value)) return value.flatMap(leavesOf);
  if (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  ) {
    return [value];
  }
  return [];
}
