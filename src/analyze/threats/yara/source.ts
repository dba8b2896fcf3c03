/**
 * A small YARA source splitter: finds the top-level `import`/`include` statements and the rule blocks of a file,
 * with each rule's name, modifiers, tags, meta and the bare identifiers of its condition. It is not a YARA parser:
 * it only knows enough of the lexical grammar (comments, text strings, regular expressions, hex strings) to find
 * where each rule starts and ends, so that a rule the engine refuses can be cut out and the rest still compiled.
 */

export type MetaValue = string | number | boolean;

export interface IdentifierUse {
  name: string;
  offset: number;
  /** Followed by `.` (a module field such as `pe.exports`, or a module name). */
  member: boolean;
}

export interface RuleBlock {
  name: string;
  /** Offset of the name token in the source. */
  nameOffset: number;
  isPrivate: boolean;
  isGlobal: boolean;
  /** Offsets of the `global` keyword token, for rewriting global rules. */
  globalOffset?: number;
  tags: string[];
  meta: Record<string, MetaValue>;
  /** The block is `source.slice(start, end)`: from its first modifier to its closing brace, inclusive. */
  start: number;
  end: number;
  /** 1-based lines the block spans. */
  startLine: number;
  endLine: number;
  /** Offset just after the `:` of `condition:`; undefined when the rule has no condition section. */
  conditionStart?: number;
  /** Offset of the closing `}`. */
  closeBrace: number;
  /** Bare identifiers used in the condition (rule references, module names, external variables). */
  identifiers: IdentifierUse[];
}

export interface ParsedYaraSource {
  imports: { module: string; line: number }[];
  includes: { path: string; line: number }[];
  rules: RuleBlock[];
}

export class YaraSplitError extends Error {
  override readonly name = 'YaraSplitError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
  }
}

type TokenKind = 'ident' | 'string' | 'regex' | 'hex' | 'number' | 'punct' | 'var';

interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const SECTION_NAMES = new Set(['meta', 'strings', 'condition']);
/** Condition keywords and built-ins: never rule references, module names or variables. */
const CONDITION_KEYWORDS = new Set(
  (
    'and or not all any none of them for in at matches contains icontains startswith istartswith endswith iendswith iequals ' +
    'true false filesize entrypoint defined with int8 int16 int32 uint8 uint16 uint32 int8be int16be int32be uint8be uint16be uint32be'
  ).split(' '),
);

/** Splits `source` into imports, includes and rule blocks; throws `YaraSplitError` where it cannot. */
export function splitYaraSource(source: string): ParsedYaraSource {
  const lineStarts = [0];
  for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) lineStarts.push(i + 1);
  const lineOf = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const fail = (message: string, offset: number): never => {
    throw new YaraSplitError(message, lineOf(Math.min(offset, source.length)));
  };

  let pos = 0;
  let inBody = false;
  let prev: Token | undefined;

  const skipTrivia = (): void => {
    for (;;) {
      const ch = source[pos];
      if (ch === undefined) return;
      if (ch === ' ' || ch === '\t' || ch === '\n' || ch === '\r' || ch === '\f' || ch === '\v' || ch === '\ufeff') {
        pos++;
      } else if (ch === '/' && source[pos + 1] === '/') {
        const nl = source.indexOf('\n', pos);
        pos = nl < 0 ? source.length : nl + 1;
      } else if (ch === '/' && source[pos + 1] === '*') {
        const close = source.indexOf('*/', pos + 2);
        if (close < 0) fail('unterminated comment', pos);
        pos = close + 2;
      } else {
        return;
      }
    }
  };

  const readQuoted = (start: number): number => {
    let i = start + 1;
    for (;;) {
      const ch = source[i];
      if (ch === undefined || ch === '\n') fail('unterminated text string', start);
      if (ch === '\\') i += 2;
      else if (ch === '"') return i + 1;
      else i++;
    }
  };

  const readRegex = (start: number): number => {
    let i = start + 1;
    for (;;) {
      const ch = source[i];
      if (ch === undefined || ch === '\n') fail('unterminated regular expression', start);
      if (ch === '\\') i += 2;
      else if (ch === '/') break;
      else i++;
    }
    i++;
    while (i < source.length && /[a-z]/.test(source[i]!)) i++; // flags: i, s
    return i;
  };

  const readHex = (start: number): number => {
    let i = start + 1;
    for (;;) {
      const ch = source[i];
      if (ch === undefined) fail('unterminated hex string', start);
      if (ch === '}') return i + 1;
      if (ch === '/' && source[i + 1] === '/') {
        const nl = source.indexOf('\n', i);
        if (nl < 0) fail('unterminated hex string', start);
        i = nl + 1;
      } else if (ch === '/' && source[i + 1] === '*') {
        const close = source.indexOf('*/', i + 2);
        if (close < 0) fail('unterminated comment', i);
        i = close + 2;
      } else {
        i++;
      }
    }
  };

  const next = (): Token | undefined => {
    skipTrivia();
    const start = pos;
    const ch = source[pos];
    if (ch === undefined) return undefined;
    let kind: TokenKind;
    if (ch === '"') {
      kind = 'string';
      pos = readQuoted(start);
    } else if (ch === '/' && inBody) {
      // YARA divides with `\`: inside a rule a `/` that opens no comment always starts a regular expression.
      kind = 'regex';
      pos = readRegex(start);
    } else if (ch === '{' && inBody && prev?.text === '=') {
      kind = 'hex';
      pos = readHex(start);
    } else if (IDENT_START.test(ch)) {
      kind = 'ident';
      pos++;
      while (pos < source.length && IDENT_PART.test(source[pos]!)) pos++;
    } else if (ch === '$' || ch === '#' || ch === '@' || ch === '!') {
      if (ch === '!' && source[pos + 1] === '=') {
        kind = 'punct';
        pos += 2;
      } else {
        kind = 'var';
        pos++;
        while (pos < source.length && (IDENT_PART.test(source[pos]!) || source[pos] === '*')) pos++;
      }
    } else if (/[0-9]/.test(ch)) {
      kind = 'number';
      pos++;
      while (pos < source.length && /[0-9A-Za-z_.]/.test(source[pos]!)) {
        if (source[pos] === '.' && source[pos + 1] === '.') break; // range `(0..10)`
        pos++;
      }
    } else {
      kind = 'punct';
      const two = source.slice(pos, pos + 2);
      pos += ['==', '!=', '<=', '>=', '<<', '>>', '..'].includes(two) ? 2 : 1;
    }
    const token: Token = { kind, text: source.slice(start, pos), start, end: pos };
    prev = token;
    return token;
  };

  const imports: ParsedYaraSource['imports'] = [];
  const includes: ParsedYaraSource['includes'] = [];
  const rules: RuleBlock[] = [];

  for (;;) {
    const first = next();
    if (!first) break;
    if (first.kind === 'ident' && (first.text === 'import' || first.text === 'include')) {
      const arg = next();
      if (arg?.kind !== 'string') fail(`${first.text} needs a quoted name`, first.start);
      const value = unquote(arg!.text);
      if (first.text === 'import') imports.push({ module: value, line: lineOf(first.start) });
      else includes.push({ path: value, line: lineOf(first.start) });
      continue;
    }
    let token: Token | undefined = first;
    let isPrivate = false;
    let isGlobal = false;
    let globalOffset: number | undefined;
    while (token?.kind === 'ident' && (token.text === 'private' || token.text === 'global')) {
      if (token.text === 'private') isPrivate = true;
      else {
        isGlobal = true;
        globalOffset = token.start;
      }
      token = next();
    }
    if (token?.kind !== 'ident' || token.text !== 'rule') fail(`expected a rule, found "${token?.text ?? 'end of file'}"`, token?.start ?? source.length);
    const nameToken = next();
    if (nameToken?.kind !== 'ident') fail('expected a rule name', nameToken?.start ?? source.length);
    const tags: string[] = [];
    let t = next();
    if (t?.text === ':') {
      for (t = next(); t?.kind === 'ident'; t = next()) tags.push(t.text);
    }
    if (t?.text !== '{') fail(`expected "{" after rule ${nameToken!.text}`, t?.start ?? source.length);
    inBody = true;
    const meta: Record<string, MetaValue> = {};
    const identifiers: IdentifierUse[] = [];
    let section: string | undefined;
    let conditionStart: number | undefined;
    let closeBrace = -1;
    let depth = 0;
    const bodyTokens: Token[] = [];
    for (let b = next(); ; b = next()) {
      if (!b) fail(`rule ${nameToken!.text} is not closed`, first.start);
      if (b!.text === '}' && depth === 0) {
        closeBrace = b!.start;
        break;
      }
      if (b!.text === '(' || b!.text === '[') depth++;
      else if (b!.text === ')' || b!.text === ']') depth = Math.max(0, depth - 1);
      bodyTokens.push(b!);
    }
    inBody = false;
    for (let i = 0; i < bodyTokens.length; i++) {
      const b = bodyTokens[i]!;
      const after = bodyTokens[i + 1];
      if (b.kind === 'ident' && SECTION_NAMES.has(b.text) && after?.text === ':' && bodyTokens[i - 1]?.text !== '.') {
        section = b.text;
        if (section === 'condition') conditionStart = after.end;
        i++;
        continue;
      }
      if (section === 'meta' && b.kind === 'ident' && after?.text === '=') {
        const valueToken = bodyTokens[i + 2];
        const negative = valueToken?.text === '-';
        const value = negative ? bodyTokens[i + 3] : valueToken;
        if (value) {
          const parsed = metaValue(value, negative);
          if (parsed !== undefined) meta[b.text] = parsed; // the last of repeated keys wins, as the engines report it
        }
        i += negative ? 3 : 2;
        continue;
      }
      if (section === 'condition' && b.kind === 'ident' && bodyTokens[i - 1]?.text !== '.' && !CONDITION_KEYWORDS.has(b.text)) {
        identifiers.push({ name: b.text, offset: b.start, member: after?.text === '.' });
      }
    }
    const start = globalOffset !== undefined || isPrivate ? first.start : token!.start;
    rules.push({
      name: nameToken!.text,
      nameOffset: nameToken!.start,
      isPrivate,
      isGlobal,
      ...(globalOffset !== undefined ? { globalOffset } : {}),
      tags,
      meta,
      start,
      end: closeBrace + 1,
      startLine: lineOf(start),
      endLine: lineOf(closeBrace),
      ...(conditionStart !== undefined ? { conditionStart } : {}),
      closeBrace,
      identifiers,
    });
  }
  return { imports, includes, rules };
}

function metaValue(token: Token, negative: boolean): MetaValue | undefined {
  if (token.kind === 'string') return unquote(token.text);
  if (token.kind === 'number') {
    const n = Number(token.text);
    return Number.isFinite(n) ? (negative ? -n : n) : undefined;
  }
  if (token.kind === 'ident' && (token.text === 'true' || token.text === 'false')) return token.text === 'true';
  return undefined;
}

/** The value of a quoted YARA text string: `\"`, `\\`, `\n`, `\t`, `\r` and `\xNN` escapes. */
export function unquote(quoted: string): string {
  const body = quoted.slice(1, -1);
  return body.replace(/\\(x[0-9A-Fa-f]{2}|.)/g, (_, esc: string) => {
    if (esc[0] === 'x' && esc.length === 3) return String.fromCharCode(parseInt(esc.slice(1), 16));
    if (esc === 'n') return '\n';
    if (esc === 't') return '\t';
    if (esc === 'r') return '\r';
    return esc;
  });
}
