/**
 * The condition language of behaviour rules: `and`, `or`, `not`, parentheses, `FIELD OP VALUE` comparisons and bare
 * names (a field's truth test, or a macro). This module only parses; `compile.ts` checks names and types.
 */
import { MAX_CONDITION_CHARS, MAX_CONDITION_NESTING } from './limits.js';

export const COMPARISON_OPS = ['=', '!=', '<', '<=', '>', '>=', 'in', 'contains', 'icontains', 'startswith', 'endswith', 'glob', 'regex', 'domain_in'] as const;
export type ComparisonOp = (typeof COMPARISON_OPS)[number];
const WORD_OPS = new Set<string>(['in', 'contains', 'icontains', 'startswith', 'endswith', 'glob', 'regex', 'domain_in']);
export const KEYWORDS = new Set<string>(['and', 'or', 'not', ...WORD_OPS]);

export interface ValueToken {
  text: string;
  /** Quoted values are always literals; a bare word inside `( … )` may name a list. */
  quoted: boolean;
  pos: number;
}

export type ConditionNode =
  | { type: 'and' | 'or'; left: ConditionNode; right: ConditionNode }
  | { type: 'not'; expr: ConditionNode }
  /** A bare name: a field (truth test) or a macro. */
  | { type: 'name'; name: string; pos: number }
  /** `values` from a parenthesised list when `parenthesised`. */
  | { type: 'compare'; field: string; pos: number; op: ComparisonOp; values: ValueToken[]; parenthesised: boolean };

/** A parse error: `pos` is the offset in the condition text. */
export class ConditionError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

type Token =
  | { t: 'word'; text: string; pos: number }
  | { t: 'string'; text: string; pos: number }
  | { t: 'punct'; text: '(' | ')' | ','; pos: number }
  | { t: 'op'; text: ComparisonOp; pos: number }
  | { t: 'end'; pos: number };

const WORD_END = /[\s(),"'=<>!]/;

function tokenize(text: string): Token[] {
  if (text.length > MAX_CONDITION_CHARS) throw new ConditionError(`condition is longer than ${MAX_CONDITION_CHARS} characters`, 0);
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ t: 'punct', text: c, pos: i++ });
    } else if (c === '!' || c === '<' || c === '>' || c === '=') {
      const two = text.slice(i, i + 2);
      if (two === '!=' || two === '<=' || two === '>=') {
        tokens.push({ t: 'op', text: two, pos: i });
        i += 2;
      } else if (c === '!') {
        throw new ConditionError("unexpected '!' (write `not`, or `!=`)", i);
      } else {
        tokens.push({ t: 'op', text: c as ComparisonOp, pos: i++ });
      }
    } else if (c === '"' || c === "'") {
      const start = i++;
      let value = '';
      for (;;) {
        if (i >= text.length) throw new ConditionError(`unterminated ${c}string${c}`, start);
        const d = text[i]!;
        if (d === '\\' && text[i + 1] === c) {
          value += c;
          i += 2;
        } else if (d === '\\' && i + 1 < text.length) {
          // Kept as written, so regexes read as they would anywhere else (`\d`, `\\`).
          value += d + text[i + 1];
          i += 2;
        } else if (d === c) {
          i++;
          break;
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ t: 'string', text: value, pos: start });
    } else {
      const start = i;
      while (i < text.length && !WORD_END.test(text[i]!)) i++;
      const word = text.slice(start, i);
      tokens.push(WORD_OPS.has(word) ? { t: 'op', text: word as ComparisonOp, pos: start } : { t: 'word', text: word, pos: start });
    }
  }
  tokens.push({ t: 'end', pos: text.length });
  return tokens;
}

function describe(t: Token): string {
  return t.t === 'end' ? 'the end of the condition' : `'${t.text}'`;
}

export function parseCondition(text: string): ConditionNode {
  const tokens = tokenize(text);
  let k = 0;
  let depth = 0;
  const peek = (): Token => tokens[k]!;
  const next = (): Token => tokens[k++]!;
  const isWord = (t: Token, w: string): boolean => t.t === 'word' && t.text === w;

  const value = (): ValueToken => {
    const t = next();
    if (t.t === 'word' && !KEYWORDS.has(t.text)) return { text: t.text, quoted: false, pos: t.pos };
    if (t.t === 'string') return { text: t.text, quoted: true, pos: t.pos };
    throw new ConditionError(`expected a value, found ${describe(t)}`, t.pos);
  };

  const primary = (): ConditionNode => {
    if (++depth > MAX_CONDITION_NESTING) throw new ConditionError('condition is nested too deeply', peek().pos);
    try {
      const t = next();
      if (t.t === 'punct' && t.text === '(') {
        const inner = or();
        const close = next();
        if (close.t !== 'punct' || close.text !== ')') throw new ConditionError(`expected ')', found ${describe(close)}`, close.pos);
        return inner;
      }
      if (t.t !== 'word' || KEYWORDS.has(t.text)) throw new ConditionError(`expected a field, a macro or '(', found ${describe(t)}`, t.pos);
      const opToken = peek();
      if (opToken.t !== 'op') return { type: 'name', name: t.text, pos: t.pos };
      k++;
      const op = opToken.text;
      const open = peek();
      if (open.t === 'punct' && open.text === '(') {
        k++;
        const values: ValueToken[] = [value()];
        for (;;) {
          const sep = next();
          if (sep.t === 'punct' && sep.text === ')') break;
          if (sep.t !== 'punct' || sep.text !== ',') throw new ConditionError(`expected ',' or ')' in the list of values, found ${describe(sep)}`, sep.pos);
          values.push(value());
        }
        return { type: 'compare', field: t.text, pos: t.pos, op, values, parenthesised: true };
      }
      if (op === 'in' || op === 'domain_in') throw new ConditionError(`'${op}' takes a parenthesised list: ${op} (a, b, list_name)`, open.pos);
      return { type: 'compare', field: t.text, pos: t.pos, op, values: [value()], parenthesised: false };
    } finally {
      depth--;
    }
  };

  const unary = (): ConditionNode => {
    if (isWord(peek(), 'not')) {
      k++;
      if (++depth > MAX_CONDITION_NESTING) throw new ConditionError('condition is nested too deeply', peek().pos);
      try {
        return { type: 'not', expr: unary() };
      } finally {
        depth--;
      }
    }
    return primary();
  };
  const and = (): ConditionNode => {
    let left = unary();
    while (isWord(peek(), 'and')) {
      k++;
      left = { type: 'and', left, right: unary() };
    }
    return left;
  };
  const or = (): ConditionNode => {
    let left = and();
    while (isWord(peek(), 'or')) {
      k++;
      left = { type: 'or', left, right: and() };
    }
    return left;
  };

  if (peek().t === 'end') throw new ConditionError('empty condition', 0);
  const tree = or();
  const rest = peek();
  if (rest.t !== 'end') throw new ConditionError(`unexpected ${describe(rest)} (missing 'and'/'or'?)`, rest.pos);
  return tree;
}
