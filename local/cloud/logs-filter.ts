/**
 * CloudWatch Logs filter patterns, as FilterLogEvents reads them:
 *  - terms: `ERROR timeout` (every term), `"order accepted"` (a phrase), `?ERROR ?WARN` (any of
 *    these), `ERROR -retry` (not that term), `%regex%`; case-sensitive, matched anywhere in the message;
 *  - JSON: `{ $.level = "ERROR" }`, `{ $.execution_arn = "arn:…" && $.type = "TaskFailed" }`,
 *    `{ $.duration > 100 }`, with `&&`, `||`, parentheses, `*` wildcards in strings, `IS NULL`,
 *    `IS TRUE`/`IS FALSE`, `EXISTS`/`NOT EXISTS`; a message that is not JSON never matches.
 * Space-delimited patterns (`[ip, user, …]`) are refused by name rather than matched wrongly.
 */
import { AwsError } from './aws-error';

export type FilterPattern = (message: string) => boolean;

const invalid = (pattern: string, why: string) =>
  new AwsError('InvalidParameterException', `Invalid filter pattern ${JSON.stringify(pattern)}: ${why}`);

export function parseFilterPattern(pattern: string): FilterPattern {
  const text = pattern.trim();
  if (text === '') return () => true;
  if (text.startsWith('{')) return jsonPattern(text, pattern);
  if (text.startsWith('['))
    throw invalid(pattern, 'space-delimited patterns are not emulated by the local cloud');
  return termPattern(text, pattern);
}

// ── term patterns ────────────────────────────────────────────────────────────────────────────

function termPattern(text: string, pattern: string): FilterPattern {
  const all: Array<(m: string) => boolean> = [];
  const any: Array<(m: string) => boolean> = [];
  const none: Array<(m: string) => boolean> = [];
  for (const raw of text.match(/[?-]?("(?:[^"\\]|\\.)*"|%[^%]*%|\S+)/g) ?? []) {
    const prefix = raw[0] === '?' || raw[0] === '-' ? raw[0] : '';
    const body = raw.slice(prefix.length);
    const test = termTest(body, pattern);
    if (prefix === '?') any.push(test);
    else if (prefix === '-') none.push(test);
    else all.push(test);
  }
  return (message) =>
    all.every((t) => t(message)) &&
    (any.length === 0 || any.some((t) => t(message))) &&
    !none.some((t) => t(message));
}

function termTest(body: string, pattern: string): (message: string) => boolean {
  if (body.startsWith('"')) {
    const phrase = JSON.parse(body) as string;
    return (message) => message.includes(phrase);
  }
  if (body.length > 1 && body.startsWith('%') && body.endsWith('%')) {
    let regex: RegExp;
    try {
      regex = new RegExp(body.slice(1, -1));
    } catch {
      throw invalid(pattern, `bad regular expression ${body}`);
    }
    return (message) => regex.test(message);
  }
  return (message) => message.includes(body);
}

// ── JSON patterns ────────────────────────────────────────────────────────────────────────────

type Condition = (document: unknown) => boolean;

function jsonPattern(text: string, pattern: string): FilterPattern {
  if (!text.endsWith('}')) throw invalid(pattern, 'a JSON pattern ends with }');
  const tokens = tokenize(text.slice(1, -1), pattern);
  const parser = new Parser(tokens, pattern);
  const condition = parser.expression();
  parser.end();
  return (message) => {
    let document: unknown;
    try {
      document = JSON.parse(message);
    } catch {
      return false;
    }
    return typeof document === 'object' && document !== null && condition(document);
  };
}

type Token =
  | { kind: 'selector'; path: Array<string | number> }
  | { kind: 'op'; value: string }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'word'; value: string }
  | { kind: 'paren'; value: '(' | ')' }
  | { kind: 'logic'; value: '&&' | '||' };

function tokenize(source: string, pattern: string): Token[] {
  const tokens: Token[] = [];
  const re =
    /\s*(?:(\$(?:\.[A-Za-z_@][\w@-]*|\[\d+\])+)|(&&|\|\|)|(!=|<=|>=|=|<|>)|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![\w*])|([()])|([^\s()=!<>&|"]+))/y;
  let at = 0;
  while (at < source.length) {
    if (/^\s*$/.test(source.slice(at))) break;
    re.lastIndex = at;
    const match = re.exec(source);
    if (!match) throw invalid(pattern, `cannot read ${JSON.stringify(source.slice(at).trim())}`);
    at = re.lastIndex;
    const [, selector, logic, op, quoted, number, paren, word] = match;
    if (selector) tokens.push({ kind: 'selector', path: pathOf(selector) });
    else if (logic) tokens.push({ kind: 'logic', value: logic as '&&' | '||' });
    else if (op) tokens.push({ kind: 'op', value: op });
    else if (quoted) tokens.push({ kind: 'string', value: JSON.parse(quoted) as string });
    else if (number) tokens.push({ kind: 'number', value: Number(number) });
    else if (paren) tokens.push({ kind: 'paren', value: paren as '(' | ')' });
    else if (word) tokens.push({ kind: 'word', value: word });
  }
  return tokens;
}

function pathOf(selector: string): Array<string | number> {
  return [...selector.slice(1).matchAll(/\.([^.[]+)|\[(\d+)\]/g)].map((m) =>
    m[1] !== undefined ? m[1] : Number(m[2]),
  );
}

const MISSING = Symbol('missing');

function valueAt(document: unknown, path: Array<string | number>): unknown {
  let value: unknown = document;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !(key in (value as object))) return MISSING;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

/** `||` of `&&` of comparisons, with parentheses. */
class Parser {
  private at = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly pattern: string,
  ) {}

  expression(): Condition {
    const terms = [this.conjunction()];
    while (this.peekLogic() === '||') {
      this.at++;
      terms.push(this.conjunction());
    }
    return terms.length === 1 ? terms[0]! : (d) => terms.some((t) => t(d));
  }

  end(): void {
    if (this.at < this.tokens.length) throw invalid(this.pattern, 'unexpected text after the condition');
  }

  private conjunction(): Condition {
    const factors = [this.factor()];
    while (this.peekLogic() === '&&') {
      this.at++;
      factors.push(this.factor());
    }
    return factors.length === 1 ? factors[0]! : (d) => factors.every((f) => f(d));
  }

  private factor(): Condition {
    const token = this.next();
    if (token?.kind === 'paren' && token.value === '(') {
      const inner = this.expression();
      const close = this.next();
      if (close?.kind !== 'paren' || close.value !== ')') throw invalid(this.pattern, 'missing )');
      return inner;
    }
    if (token?.kind !== 'selector')
      throw invalid(this.pattern, 'a condition starts with a selector such as $.level');
    return this.comparison(token.path);
  }

  private comparison(path: Array<string | number>): Condition {
    const token = this.next();
    if (token?.kind === 'word') return this.keywordTest(path, token.value);
    if (token?.kind !== 'op') throw invalid(this.pattern, 'expected an operator (=, !=, <, >, <=, >=)');
    const operand = this.next();
    if (operand?.kind === 'number') return numberTest(path, token.value, operand.value);
    if (operand?.kind === 'string' || operand?.kind === 'word') {
      if (token.value !== '=' && token.value !== '!=')
        throw invalid(this.pattern, `strings compare with = or != only, not ${token.value}`);
      return stringTest(path, operand.value, token.value === '!=');
    }
    throw invalid(this.pattern, 'expected a value after the operator');
  }

  /** `IS NULL`, `IS TRUE`, `IS FALSE`, `EXISTS`, `NOT EXISTS`. */
  private keywordTest(path: Array<string | number>, first: string): Condition {
    const upper = first.toUpperCase();
    if (upper === 'EXISTS') return (d) => valueAt(d, path) !== MISSING;
    const second = this.next();
    const word = second?.kind === 'word' ? second.value.toUpperCase() : '';
    if (upper === 'NOT' && word === 'EXISTS') return (d) => valueAt(d, path) === MISSING;
    if (upper === 'IS' && word === 'NULL') return (d) => valueAt(d, path) === null;
    if (upper === 'IS' && word === 'TRUE') return (d) => valueAt(d, path) === true;
    if (upper === 'IS' && word === 'FALSE') return (d) => valueAt(d, path) === false;
    throw invalid(this.pattern, `unknown test ${first} ${word}`.trim());
  }

  private next(): Token | undefined {
    return this.tokens[this.at++];
  }

  private peekLogic(): string | undefined {
    const token = this.tokens[this.at];
    return token?.kind === 'logic' ? token.value : undefined;
  }
}

function numberTest(path: Array<string | number>, op: string, operand: number): Condition {
  return (document) => {
    const raw = valueAt(document, path);
    const value =
      typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN;
    if (Number.isNaN(value)) return false;
    switch (op) {
      case '=':
        return value === operand;
      case '!=':
        return value !== operand;
      case '<':
        return value < operand;
      case '>':
        return value > operand;
      case '<=':
        return value <= operand;
      default:
        return value >= operand;
    }
  };
}

/** `*` matches any run of characters; the value compares as text (numbers and booleans too). */
function stringTest(path: Array<string | number>, operand: string, negate: boolean): Condition {
  const regex = new RegExp(`^${operand.split('*').map(escapeRegex).join('.*')}$`, 's');
  return (document) => {
    const raw = valueAt(document, path);
    const matches = raw !== MISSING && raw !== null && typeof raw !== 'object' && regex.test(String(raw));
    return negate ? raw !== MISSING && !matches : matches;
  };
}

const escapeRegex = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
