/** Turns a parsed condition into a closure, checking every name, the field's kind and the operator's type on the way. */
import { ALL_FIELDS, type KnownField } from './fields/index.js';
import { ConditionError, KEYWORDS, parseCondition, type ComparisonOp, type ConditionNode, type ValueToken } from './expression.js';
import { domainMatcher, globToRegExp, unsafeRegexReason } from './patterns.js';
import type { EventKind, EventView, FieldValue } from './types.js';
import { MAX_MATCH_CHARS } from './limits.js';

export type Predicate = (event: EventView, run: EventView) => boolean;

export interface MacroSource {
  condition: string;
  /** Where it was defined, for messages: `file:line`. */
  where: string;
}

export interface CompileEnv {
  lists: ReadonlyMap<string, readonly string[]>;
  macros: ReadonlyMap<string, MacroSource>;
  /** Collects the name of every field the condition reads (macros included). */
  fieldsUsed?: Set<string>;
}

/** A compile error; `pos` is in the text of `macro` when set (else in the rule's own condition). */
export class CompileError extends Error {
  constructor(
    message: string,
    readonly pos: number,
    readonly macro?: string,
  ) {
    super(message);
  }
}

const STRING_OPS = new Set<ComparisonOp>(['contains', 'icontains', 'startswith', 'endswith', 'glob', 'regex', 'domain_in']);
const ORDER_OPS = new Set<ComparisonOp>(['<', '<=', '>', '>=']);

const parsedMacros = new WeakMap<MacroSource, ConditionNode>();

function parseMacro(name: string, source: MacroSource): ConditionNode {
  let node = parsedMacros.get(source);
  if (!node) {
    try {
      node = parseCondition(source.condition);
    } catch (err) {
      if (err instanceof ConditionError) throw new CompileError(err.message, err.pos, name);
      throw err;
    }
    parsedMacros.set(source, node);
  }
  return node;
}

export function fieldFor(name: string, kind: EventKind): KnownField {
  const field = ALL_FIELDS.get(name);
  if (!field) throw new Error(`unknown field ${name}${suggest(name)}`);
  if (field.kind !== 'run' && field.kind !== kind) throw new Error(`field ${name} belongs to \`on: ${field.kind}\` rules; this rule is \`on: ${kind}\` (run.* fields are readable everywhere)`);
  return field;
}

function suggest(name: string): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of ALL_FIELDS.keys()) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best ? ` (did you mean ${best}?)` : '';
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return 99;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}

export function truthy(v: FieldValue): boolean {
  if (v === null) return false;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  return v.length > 0;
}

/** Compiles `condition` for rules `on: kind`. Throws CompileError (with the offset of the offending token). */
export function compileCondition(condition: string, kind: EventKind, env: CompileEnv): Predicate {
  let tree: ConditionNode;
  try {
    tree = parseCondition(condition);
  } catch (err) {
    if (err instanceof ConditionError) throw new CompileError(err.message, err.pos);
    throw err;
  }
  return compileNode(tree, kind, env, []);
}

function compileNode(node: ConditionNode, kind: EventKind, env: CompileEnv, macroStack: string[]): Predicate {
  const fail = (message: string, pos: number): never => {
    throw new CompileError(message, pos, macroStack.at(-1));
  };
  switch (node.type) {
    case 'and': {
      const l = compileNode(node.left, kind, env, macroStack);
      const r = compileNode(node.right, kind, env, macroStack);
      return (e, run) => l(e, run) && r(e, run);
    }
    case 'or': {
      const l = compileNode(node.left, kind, env, macroStack);
      const r = compileNode(node.right, kind, env, macroStack);
      return (e, run) => l(e, run) || r(e, run);
    }
    case 'not': {
      const inner = compileNode(node.expr, kind, env, macroStack);
      return (e, run) => !inner(e, run);
    }
    case 'name': {
      const macro = env.macros.get(node.name);
      if (macro) {
        if (macroStack.includes(node.name)) fail(`macro ${node.name} refers to itself (${[...macroStack, node.name].join(' → ')})`, node.pos);
        const tree = parseMacro(node.name, macro);
        return compileNode(tree, kind, env, [...macroStack, node.name]);
      }
      if (!node.name.includes('.')) {
        if (env.lists.has(node.name)) fail(`${node.name} is a list: use it in a comparison, e.g. \`proc.name in (${node.name})\``, node.pos);
        fail(`unknown macro ${node.name}`, node.pos);
      }
      const read = reader(node.name, kind, node.pos, fail);
      env.fieldsUsed?.add(node.name);
      return (e, run) => truthy(read(e, run));
    }
    case 'compare':
      return compileComparison(node, kind, env, fail);
  }
}

type Reader = (e: EventView, run: EventView) => FieldValue;

function reader(name: string, kind: EventKind, pos: number, fail: (m: string, p: number) => never): Reader {
  let field: KnownField;
  try {
    field = fieldFor(name, kind);
  } catch (err) {
    return fail((err as Error).message, pos);
  }
  if (field.kind === 'run' && kind !== 'run') return (_e, run) => run.values[name] ?? null;
  return (e) => e.values[name] ?? null;
}

function compileComparison(
  node: Extract<ConditionNode, { type: 'compare' }>,
  kind: EventKind,
  env: CompileEnv,
  fail: (m: string, p: number) => never,
): Predicate {
  const read = reader(node.field, kind, node.pos, fail);
  env.fieldsUsed?.add(node.field);
  const field = ALL_FIELDS.get(node.field)!;
  const { op } = node;
  if (ORDER_OPS.has(op) && field.type !== 'number') fail(`'${op}' compares numbers; ${node.field} is a ${field.type}`, node.pos);
  if (STRING_OPS.has(op) && (field.type === 'number' || field.type === 'bool')) fail(`'${op}' needs a string field; ${node.field} is a ${field.type}`, node.pos);
  if (op === 'in' && field.type === 'bool') fail(`'in' does not apply to the true/false field ${node.field}: compare it with = true or = false`, node.pos);
  if (node.parenthesised && (op === '=' || op === '!=' || ORDER_OPS.has(op))) fail(`'${op}' takes one value; use 'in (…)' for several`, node.values[0]?.pos ?? node.pos);

  // Values, with list names expanded.
  const texts: string[] = [];
  for (const v of node.values) texts.push(...expand(v, node.parenthesised, env, fail));

  if (field.type === 'number') {
    const numbers = texts.map((t, i) => {
      const n = Number(t);
      if (t.trim() === '' || !Number.isFinite(n)) fail(`${node.field} is a number; '${t}' is not`, node.values[Math.min(i, node.values.length - 1)]!.pos);
      return n;
    });
    const n0 = numbers[0]!;
    const test: (x: number) => boolean =
      op === '=' ? (x) => x === n0
      : op === '!=' ? (x) => x !== n0
      : op === '<' ? (x) => x < n0
      : op === '<=' ? (x) => x <= n0
      : op === '>' ? (x) => x > n0
      : op === '>=' ? (x) => x >= n0
      : ((set) => (x: number) => set.has(x))(new Set(numbers));
    return (e, run) => {
      const v = read(e, run);
      return typeof v === 'number' && test(v);
    };
  }

  if (field.type === 'bool') {
    const t = texts[0]!;
    if (t !== 'true' && t !== 'false') fail(`${node.field} is true or false; '${t}' is neither`, node.values[0]!.pos);
    const want = t === 'true';
    const equal = op === '=';
    return (e, run) => {
      const v = read(e, run);
      return typeof v === 'boolean' && (v === want) === equal;
    };
  }

  const match = stringMatcher(op, texts, node, fail);
  if (op === '!=') {
    // A list field is "!= x" when no element equals x.
    return (e, run) => {
      const v = read(e, run);
      if (v === null) return false;
      if (typeof v === 'string') return v !== texts[0];
      if (Array.isArray(v)) return !v.some((x) => x === texts[0]);
      return false;
    };
  }
  return (e, run) => {
    const v = read(e, run);
    if (typeof v === 'string') return match(v);
    if (Array.isArray(v)) return v.some((x: string) => match(x));
    return false;
  };
}

function expand(v: ValueToken, parenthesised: boolean, env: CompileEnv, fail: (m: string, p: number) => never): string[] {
  if (!v.quoted && !parenthesised && env.lists.has(v.text)) fail(`${v.text} is a list: write (${v.text}) to compare with its values, or quote it to mean the text`, v.pos);
  if (v.quoted || !parenthesised) return [v.text];
  const list = env.lists.get(v.text);
  if (list) return [...list];
  // A bare word with an underscore reads as a list name: a typo there must not turn into a literal silently.
  if (/^[a-z][a-z0-9]*_[a-z0-9_]*$/.test(v.text)) fail(`unknown list ${v.text} (quote the value if you meant the text "${v.text}")`, v.pos);
  if (KEYWORDS.has(v.text)) fail(`'${v.text}' is a keyword; quote it to use it as a value`, v.pos);
  return [v.text];
}

function stringMatcher(op: ComparisonOp, values: string[], node: { values: ValueToken[]; pos: number }, fail: (m: string, p: number) => never): (s: string) => boolean {
  switch (op) {
    case '=':
    case '!=': {
      const want = values[0]!;
      return (s) => s === want;
    }
    case 'in': {
      const set = new Set(values);
      return (s) => set.has(s);
    }
    case 'contains':
      return (s) => values.some((v) => s.includes(v));
    case 'icontains': {
      const lower = values.map((v) => v.toLowerCase());
      return (s) => {
        const l = s.toLowerCase();
        return lower.some((v) => l.includes(v));
      };
    }
    case 'startswith':
      return (s) => values.some((v) => s.startsWith(v));
    case 'endswith':
      return (s) => values.some((v) => s.endsWith(v));
    case 'glob': {
      const res = values.map(globToRegExp);
      return (s) => res.some((re) => re.test(s));
    }
    case 'regex': {
      const res = values.map((source, i) => {
        const pos = node.values[Math.min(i, node.values.length - 1)]!.pos;
        const why = unsafeRegexReason(source);
        if (why) fail(`regex ${JSON.stringify(source)} refused: ${why}`, pos);
        try {
          return new RegExp(source, 's');
        } catch (err) {
          return fail(`regex ${JSON.stringify(source)} does not compile: ${(err as Error).message}`, pos);
        }
      });
      return (s) => {
        const bounded = s.length > MAX_MATCH_CHARS ? s.slice(0, MAX_MATCH_CHARS) : s;
        return res.some((re) => re.test(bounded));
      };
    }
    case 'domain_in':
      return domainMatcher(values);
    default:
      return fail(`'${op}' does not apply to strings`, node.pos);
  }
}

/** Every macro parses and names only known fields, macros and lists (checked at load, also when no rule uses it). */
export function checkMacro(name: string, env: CompileEnv): void {
  const tree = parseMacro(name, env.macros.get(name)!);
  const walk = (n: ConditionNode, stack: string[]): void => {
    if (n.type === 'and' || n.type === 'or') {
      walk(n.left, stack);
      walk(n.right, stack);
    } else if (n.type === 'not') walk(n.expr, stack);
    else if (n.type === 'name') {
      const macro = env.macros.get(n.name);
      if (macro) {
        if (stack.includes(n.name)) throw new CompileError(`macro ${n.name} refers to itself (${[...stack, n.name].join(' → ')})`, n.pos, stack.at(-1));
        walk(parseMacro(n.name, macro), [...stack, n.name]);
      } else if (!n.name.includes('.')) throw new CompileError(`unknown macro ${n.name}`, n.pos, stack.at(-1));
      else if (!ALL_FIELDS.has(n.name)) throw new CompileError(`unknown field ${n.name}${suggest(n.name)}`, n.pos, stack.at(-1));
    } else if (n.type === 'compare') {
      const field = ALL_FIELDS.get(n.field);
      if (!field) throw new CompileError(`unknown field ${n.field}${suggest(n.field)}`, n.pos, stack.at(-1));
      // Type checks: compile against the field's own kind.
      compileComparison(n, field.kind, env, (m, p) => {
        throw new CompileError(m, p, stack.at(-1));
      });
    }
  };
  walk(tree, [name]);
}
