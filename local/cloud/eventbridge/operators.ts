/**
 * The value conditions of an event pattern: what may stand inside a field's array
 * (`"state": ["running", {"prefix": "init"}, {"numeric": [">", 0]}]`), compiled once into tests
 * on the event's leaf values. Semantics and error texts follow AWS Event Ruler, which EventBridge runs.
 */
import { BlockList, isIP } from 'node:net';
import { AwsError } from '../aws-error';

/** A JSON leaf of the event: what exact values, prefixes, ranges… are compared with. */
export type Leaf = string | number | boolean | null;

/** One entry of a field's array: a test on leaf values, or an `exists` check on the field as a whole. */
export type Condition =
  | { kind: 'value'; test: (leaf: Leaf) => boolean }
  | { kind: 'exists'; present: boolean };

/** Numeric matching is limited to ±5.0e9 (EventBridge's documented range). */
const NUMERIC_LIMIT = 5e9;

export function invalidPattern(reason: string, at: readonly string[]): never {
  const where = at.length > 0 ? ` (at ${at.join('.')})` : '';
  throw new AwsError('InvalidEventPatternException', `Event pattern is not valid. Reason: ${reason}${where}`);
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function compileCondition(entry: unknown, at: readonly string[]): Condition {
  if (isPlainObject(entry)) return compileOperator(entry, at);
  if (entry === null || ['string', 'number', 'boolean'].includes(typeof entry)) {
    return { kind: 'value', test: exactTest(entry as Leaf) };
  }
  return invalidPattern('Match value must be String, number, true, false, or null', at);
}

function compileOperator(expression: Record<string, unknown>, at: readonly string[]): Condition {
  const names = Object.keys(expression);
  if (names.length !== 1) invalidPattern('Only one key allowed in match expression', at);
  const name = names[0]!;
  const argument = expression[name];
  const where = [...at, name];
  switch (name) {
    case 'exists':
      if (typeof argument !== 'boolean')
        invalidPattern('exists match pattern must be either true or false.', where);
      return { kind: 'exists', present: argument };
    case 'prefix':
      return value(affixTest(argument, 'prefix', where));
    case 'suffix':
      return value(affixTest(argument, 'suffix', where));
    case 'equals-ignore-case':
      return value(ignoreCaseTest(stringArgument(argument, name, where)));
    case 'wildcard':
      return value(wildcardTest(stringArgument(argument, name, where), where));
    case 'anything-but':
      return value(anythingButTest(argument, where));
    case 'numeric':
      return value(numericTest(argument, where));
    case 'cidr':
      return value(cidrTest(stringArgument(argument, name, where), where));
    default:
      return invalidPattern(`Unrecognized match type ${name}`, at);
  }
}

const value = (test: (leaf: Leaf) => boolean): Condition => ({ kind: 'value', test });

function stringArgument(argument: unknown, operator: string, at: readonly string[]): string {
  if (typeof argument !== 'string') invalidPattern(`${operator} match pattern must be a string`, at);
  return argument;
}

/** Exact match; numbers compare as numbers (300 equals 3.0e2), IP addresses as addresses. */
function exactTest(expected: Leaf): (leaf: Leaf) => boolean {
  if (typeof expected === 'string' && isIP(expected) !== 0) {
    const address = ipAddressTest(expected);
    return (leaf) => leaf === expected || (typeof leaf === 'string' && address(leaf));
  }
  return (leaf) => leaf === expected;
}

function affixTest(argument: unknown, kind: 'prefix' | 'suffix', at: readonly string[]) {
  const ignoreCase = isPlainObject(argument);
  if (ignoreCase) {
    const keys = Object.keys(argument);
    if (keys.length !== 1 || keys[0] !== 'equals-ignore-case') {
      invalidPattern(`${kind} match pattern must be a string or {"equals-ignore-case": string}`, at);
    }
  }
  const affix = stringArgument(ignoreCase ? argument['equals-ignore-case'] : argument, kind, at);
  const wanted = ignoreCase ? foldCase(affix) : affix;
  return (leaf: Leaf) => {
    if (typeof leaf !== 'string') return false;
    const text = ignoreCase ? foldCase(leaf) : leaf;
    return kind === 'prefix' ? text.startsWith(wanted) : text.endsWith(wanted);
  };
}

function foldCase(text: string): string {
  return text.toUpperCase().toLowerCase();
}

function ignoreCaseTest(expected: string): (leaf: Leaf) => boolean {
  const folded = foldCase(expected);
  return (leaf) => typeof leaf === 'string' && foldCase(leaf) === folded;
}

/**
 * `*` matches any run of characters; `\*` is a literal star and `\\` a literal backslash.
 * Consecutive stars and other escapes are refused, as EventBridge refuses them.
 */
export function wildcardTest(source: string, at: readonly string[]): (leaf: Leaf) => boolean {
  let regex = '';
  for (let i = 0; i < source.length; i++) {
    const char = source[i]!;
    if (char === '\\') {
      const escaped = source[i + 1];
      if (escaped !== '*' && escaped !== '\\') {
        invalidPattern('Backslash in a wildcard may only escape * or \\', at);
      }
      regex += escapeRegex(escaped);
      i++;
    } else if (char === '*') {
      if (source[i + 1] === '*') invalidPattern('Consecutive wildcard characters are not allowed', at);
      regex += '.*';
    } else {
      regex += escapeRegex(char);
    }
  }
  const compiled = new RegExp(`^${regex}$`, 's');
  return (leaf) => typeof leaf === 'string' && compiled.test(leaf);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** `anything-but`: a value or list (all strings or all numbers), or {prefix|suffix|equals-ignore-case|wildcard}. */
function anythingButTest(argument: unknown, at: readonly string[]): (leaf: Leaf) => boolean {
  if (isPlainObject(argument)) return negate(anythingButOperator(argument, at));
  const values = Array.isArray(argument) ? argument : [argument];
  const allStrings = values.every((v) => typeof v === 'string');
  const allNumbers = values.every((v) => typeof v === 'number');
  if (values.length === 0 || !(allStrings || allNumbers)) {
    invalidPattern(
      Array.isArray(argument)
        ? 'Inside anything but list, either all values are number or string, mixed type is not supported'
        : 'Value of anything-but must be an array or single string/number value.',
      at,
    );
  }
  const excluded = new Set<unknown>(values);
  return (leaf) => !excluded.has(leaf);
}

function anythingButOperator(argument: Record<string, unknown>, at: readonly string[]) {
  const names = Object.keys(argument);
  if (names.length !== 1) invalidPattern('Only one key allowed in match expression', at);
  const name = names[0]!;
  if (!['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(name)) {
    invalidPattern(`Unsupported anything-but pattern: ${name}`, at);
  }
  const where = [...at, name];
  const operands = anythingButOperands(argument[name], name, where);
  const tests = operands.map((operand): ((leaf: Leaf) => boolean) => {
    switch (name) {
      case 'prefix':
        return (leaf) => typeof leaf === 'string' && leaf.startsWith(operand);
      case 'suffix':
        return (leaf) => typeof leaf === 'string' && leaf.endsWith(operand);
      case 'equals-ignore-case':
        return ignoreCaseTest(operand);
      default:
        return wildcardTest(operand, where);
    }
  });
  return (leaf: Leaf) => tests.some((test) => test(leaf));
}

function anythingButOperands(argument: unknown, name: string, at: readonly string[]): string[] {
  const operands = Array.isArray(argument) ? argument : [argument];
  if (operands.length === 0 || !operands.every((operand) => typeof operand === 'string')) {
    invalidPattern(`anything-but ${name} must be a string or a list of strings`, at);
  }
  if ((name === 'prefix' || name === 'suffix') && operands.some((operand) => operand === '')) {
    invalidPattern('Null prefix/suffix not allowed', at);
  }
  return operands as string[];
}

function negate(test: (leaf: Leaf) => boolean): (leaf: Leaf) => boolean {
  return (leaf) => !test(leaf);
}

type Bound = { value: number; inclusive: boolean };

/** `numeric`: ["=", n] | [">"|">=", n] | ["<"|"<=", n] | [">"|">=", low, "<"|"<=", high]. */
function numericTest(argument: unknown, at: readonly string[]): (leaf: Leaf) => boolean {
  if (!Array.isArray(argument)) invalidPattern('Value of numeric must be an array.', at);
  const [operator, operand, upperOperator, upperOperand, ...rest] = argument as unknown[];
  const first = numericOperand(operator, operand, at);
  if (operator === '=' || operator === '<' || operator === '<=') {
    if (argument.length > 2) invalidPattern('Too many elements in numeric expression', at);
    if (operator === '=') return (leaf) => leaf === first;
    return rangeTest(undefined, { value: first, inclusive: operator === '<=' });
  }
  const lower = { value: first, inclusive: operator === '>=' };
  if (argument.length === 2) return rangeTest(lower, undefined);
  if (rest.length > 0) invalidPattern('Too many terms in numeric range expression', at);
  if (upperOperator !== '<' && upperOperator !== '<=') {
    invalidPattern(`Bad numeric range operator: ${String(upperOperator)}`, at);
  }
  const upper = { value: numericOperand(upperOperator, upperOperand, at), inclusive: upperOperator === '<=' };
  if (lower.value >= upper.value) invalidPattern('Bottom must be less than top', at);
  return rangeTest(lower, upper);
}

function numericOperand(operator: unknown, operand: unknown, at: readonly string[]): number {
  if (typeof operator !== 'string' || !['=', '<', '<=', '>', '>='].includes(operator)) {
    invalidPattern(`Unrecognized numeric range operator: ${String(operator)}`, at);
  }
  if (typeof operand !== 'number') invalidPattern(`Value of ${operator} must be numeric`, at);
  if (Math.abs(operand) > NUMERIC_LIMIT) {
    invalidPattern(`Value of ${operator} must be between -5.0e9 and +5.0e9 inclusive`, at);
  }
  return operand;
}

function rangeTest(lower: Bound | undefined, upper: Bound | undefined): (leaf: Leaf) => boolean {
  return (leaf) => {
    if (typeof leaf !== 'number') return false;
    const aboveLower = !lower || (lower.inclusive ? leaf >= lower.value : leaf > lower.value);
    const belowUpper = !upper || (upper.inclusive ? leaf <= upper.value : leaf < upper.value);
    return aboveLower && belowUpper;
  };
}

/** `cidr`: IPv4 or IPv6 block; matches string leaves that are addresses inside it. */
function cidrTest(block: string, at: readonly string[]): (leaf: Leaf) => boolean {
  const [address = '', prefixText, ...rest] = block.split('/');
  const family = isIP(address);
  const prefix = Number(prefixText);
  const maxPrefix = family === 6 ? 128 : 32;
  if (family === 0 || rest.length > 0 || !/^\d+$/.test(prefixText ?? '') || prefix > maxPrefix) {
    invalidPattern(`Malformed CIDR, one '/' required: ${block}`, at);
  }
  const list = new BlockList();
  const type = family === 6 ? 'ipv6' : 'ipv4';
  list.addSubnet(address, prefix, type);
  return (leaf) => typeof leaf === 'string' && isIP(leaf) === family && list.check(leaf, type);
}

function ipAddressTest(expected: string): (candidate: string) => boolean {
  const family = isIP(expected);
  const type = family === 6 ? 'ipv6' : 'ipv4';
  const list = new BlockList();
  list.addAddress(expected, type);
  return (candidate) => isIP(candidate) === family && list.check(candidate, type);
}
