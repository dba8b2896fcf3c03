/**
 * A small TOML reader for the lock files Python tools write (poetry.lock, uv.lock, pdm.lock): tables, arrays of
 * tables, dotted and quoted keys, strings of all four kinds, arrays and inline tables spanning lines, booleans and
 * numbers. Dates and other bare values are kept as their text. Not a validator: duplicate keys overwrite.
 * Bounded: nesting of arrays/inline tables is capped, and every loop advances through the text.
 */
import { MAX_TOML_NESTING } from '../../limits.js';

export type TomlValue = string | number | boolean | TomlValue[] | TomlTable;
export interface TomlTable {
  [key: string]: TomlValue;
}

export class TomlError extends Error {
  constructor(message: string, line: number) {
    super(`${message} (line ${line})`);
    this.name = 'TomlError';
  }
}

function newTable(): TomlTable {
  // No prototype: keys such as `__proto__` in hostile files stay plain keys.
  return Object.create(null) as TomlTable;
}

function isTable(v: TomlValue | undefined): v is TomlTable {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseToml(text: string): TomlTable {
  return new Reader(text).document();
}

const BARE_KEY = /[A-Za-z0-9_-]/;
/** The longest run of characters that need no handling inside a single-line basic string. */
const PLAIN_RUN = /[^"\\\n]+/y;
const ESCAPES: Record<string, string> = { b: '\b', t: '\t', n: '\n', f: '\f', r: '\r', '"': '"', '\\': '\\', e: '\x1b' };

class Reader {
  private pos = 0;
  private line = 1;
  private readonly root = newTable();

  constructor(private readonly text: string) {}

  private fail(message: string): never {
    throw new TomlError(message, this.line);
  }

  private peek(offset = 0): string {
    return this.text.charAt(this.pos + offset);
  }

  private startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  private advance(n = 1): void {
    for (let i = 0; i < n && this.pos < this.text.length; i++) {
      if (this.text.charCodeAt(this.pos) === 10) this.line++;
      this.pos++;
    }
  }

  /** Spaces and tabs only. */
  private skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  private skipComment(): void {
    if (this.peek() !== '#') return;
    const end = this.text.indexOf('\n', this.pos);
    this.pos = end < 0 ? this.text.length : end;
  }

  /** Whitespace, newlines and comments (between array items, between statements). */
  private skipBlank(): void {
    while (this.pos < this.text.length) {
      const c = this.peek();
      if (c === ' ' || c === '\t' || c === '\r') this.pos++;
      else if (c === '\n') this.advance();
      else if (c === '#') this.skipComment();
      else break;
    }
  }

  /** After a statement: optional spaces and comment, then a newline or the end. */
  private endOfLine(): void {
    this.skipSpaces();
    this.skipComment();
    if (this.peek() === '\r') this.pos++;
    if (this.pos >= this.text.length) return;
    if (this.peek() !== '\n') this.fail(`unexpected ${JSON.stringify(this.peek())} after value`);
    this.advance();
  }

  document(): TomlTable {
    let current = this.root;
    while (true) {
      this.skipBlank();
      if (this.pos >= this.text.length) return this.root;
      if (this.peek() === '[') {
        const arrayOfTables = this.peek(1) === '[';
        this.advance(arrayOfTables ? 2 : 1);
        this.skipSpaces();
        const path = this.key();
        this.skipSpaces();
        if (!this.startsWith(arrayOfTables ? ']]' : ']')) this.fail('unclosed table header');
        this.advance(arrayOfTables ? 2 : 1);
        this.endOfLine();
        current = arrayOfTables ? this.appendTable(path) : this.openTable(path);
      } else {
        this.keyValue(current);
        this.endOfLine();
      }
    }
  }

  /** `[a.b]`: the table at that path, created as needed (through the last element of arrays of tables). */
  private openTable(path: string[]): TomlTable {
    let table = this.root;
    for (const k of path) table = this.child(table, k);
    return table;
  }

  /** `[[a.b]]`: a new table appended to the array at that path. */
  private appendTable(path: string[]): TomlTable {
    let table = this.root;
    for (const k of path.slice(0, -1)) table = this.child(table, k);
    const last = path[path.length - 1]!;
    let list = table[last];
    if (list === undefined) table[last] = list = [];
    if (!Array.isArray(list)) this.fail(`${last} is not an array of tables`);
    const fresh = newTable();
    list.push(fresh);
    return fresh;
  }

  private child(table: TomlTable, key: string): TomlTable {
    const existing = table[key];
    if (existing === undefined) {
      const fresh = newTable();
      table[key] = fresh;
      return fresh;
    }
    if (isTable(existing)) return existing;
    if (Array.isArray(existing)) {
      const last = existing[existing.length - 1];
      if (isTable(last)) return last;
    }
    return this.fail(`${key} is not a table`);
  }

  /** `key = value`, the key possibly dotted (`a.b = 1` sets b inside table a). */
  private keyValue(table: TomlTable, depth = 0): void {
    const path = this.key();
    this.skipSpaces();
    if (this.peek() !== '=') this.fail('expected = after key');
    this.advance();
    this.skipSpaces();
    const value = this.value(depth);
    let target = table;
    for (const k of path.slice(0, -1)) target = this.child(target, k);
    target[path[path.length - 1]!] = value;
  }

  private key(): string[] {
    const parts: string[] = [];
    while (true) {
      this.skipSpaces();
      const c = this.peek();
      if (c === '"') parts.push(this.basicString());
      else if (c === "'") parts.push(this.literalString());
      else {
        const start = this.pos;
        while (this.pos < this.text.length && BARE_KEY.test(this.peek())) this.pos++;
        if (this.pos === start) this.fail('expected a key');
        parts.push(this.text.slice(start, this.pos));
      }
      this.skipSpaces();
      if (this.peek() !== '.') return parts;
      this.advance();
    }
  }

  private value(depth: number): TomlValue {
    if (depth > MAX_TOML_NESTING) this.fail('nested too deeply');
    const c = this.peek();
    if (this.startsWith('"""')) return this.multilineBasicString();
    if (this.startsWith("'''")) return this.multilineLiteralString();
    if (c === '"') return this.basicString();
    if (c === "'") return this.literalString();
    if (c === '[') return this.array(depth + 1);
    if (c === '{') return this.inlineTable(depth + 1);
    return this.bareValue();
  }

  private array(depth: number): TomlValue[] {
    this.advance(); // [
    const items: TomlValue[] = [];
    while (true) {
      this.skipBlank();
      if (this.pos >= this.text.length) this.fail('unclosed array');
      if (this.peek() === ']') {
        this.advance();
        return items;
      }
      items.push(this.value(depth));
      this.skipBlank();
      if (this.pos >= this.text.length) this.fail('unclosed array');
      if (this.peek() === ',') this.advance();
      else if (this.peek() !== ']') this.fail('expected , or ] in array');
    }
  }

  private inlineTable(depth: number): TomlTable {
    this.advance(); // {
    const table = newTable();
    while (true) {
      this.skipBlank();
      if (this.pos >= this.text.length) this.fail('unclosed inline table');
      if (this.peek() === '}') {
        this.advance();
        return table;
      }
      this.keyValue(table, depth);
      this.skipBlank();
      if (this.pos >= this.text.length) this.fail('unclosed inline table');
      if (this.peek() === ',') this.advance();
      else if (this.peek() !== '}') this.fail('expected , or } in inline table');
    }
  }

  private basicString(): string {
    this.advance(); // "
    let out = '';
    while (true) {
      if (this.pos >= this.text.length) this.fail('unclosed string');
      const c = this.peek();
      if (c === '"') {
        this.advance();
        return out;
      }
      if (c === '\n') this.fail('newline in a single-line string');
      if (c === '\\') {
        out += this.escape();
        continue;
      }
      PLAIN_RUN.lastIndex = this.pos;
      const run = PLAIN_RUN.exec(this.text)![0];
      out += run;
      this.pos += run.length;
    }
  }

  private escape(): string {
    const e = this.peek(1);
    if (e === 'u' || e === 'U') {
      const len = e === 'u' ? 4 : 8;
      const hex = this.text.slice(this.pos + 2, this.pos + 2 + len);
      if (!/^[0-9A-Fa-f]+$/.test(hex) || hex.length !== len) this.fail('bad unicode escape');
      this.pos += 2 + len;
      const code = Number.parseInt(hex, 16);
      return code <= 0x10ffff ? String.fromCodePoint(code) : '\ufffd';
    }
    const mapped = ESCAPES[e];
    if (mapped === undefined) this.fail(`bad escape \\${e}`);
    this.pos += 2;
    return mapped;
  }

  private literalString(): string {
    const start = this.pos + 1;
    const end = this.text.indexOf("'", start);
    const newline = this.text.indexOf('\n', start);
    if (end < 0 || (newline >= 0 && newline < end)) this.fail('unclosed string');
    this.pos = end + 1;
    return this.text.slice(start, end);
  }

  private multilineBasicString(): string {
    this.advance(3);
    if (this.peek() === '\r') this.pos++;
    if (this.peek() === '\n') this.advance();
    let out = '';
    while (true) {
      if (this.pos >= this.text.length) this.fail('unclosed string');
      if (this.startsWith('"""')) {
        // Up to two quotes may directly precede the closing delimiter.
        let extra = 0;
        while (extra < 2 && this.text.charAt(this.pos + 3 + extra) === '"') extra++;
        out += '"'.repeat(extra);
        this.advance(3 + extra);
        return out;
      }
      const c = this.peek();
      if (c === '\\') {
        const next = this.peek(1);
        if (next === '\n' || next === ' ' || next === '\t' || next === '\r') {
          // Line-ending backslash: drop it and all whitespace that follows.
          this.advance();
          while (/[ \t\r\n]/.test(this.peek()) && this.pos < this.text.length) this.advance();
          continue;
        }
        out += this.escape();
        continue;
      }
      out += c;
      this.advance();
    }
  }

  private multilineLiteralString(): string {
    this.advance(3);
    if (this.peek() === '\r') this.pos++;
    if (this.peek() === '\n') this.advance();
    const start = this.pos;
    const end = this.text.indexOf("'''", start);
    if (end < 0) this.fail('unclosed string');
    let close = end;
    while (close - end < 2 && this.text.charAt(close + 3) === "'") close++;
    const value = this.text.slice(start, close);
    this.advance(close + 3 - this.pos);
    return value;
  }

  /** true/false, numbers, dates: one token (a date-time may hold one space). Dates and odd numbers stay text. */
  private bareValue(): TomlValue {
    const start = this.pos;
    const tokenEnd = () => {
      while (this.pos < this.text.length && !/[\s,\]}#]/.test(this.peek())) this.pos++;
    };
    tokenEnd();
    if (/^\d{4}-\d{2}-\d{2}$/.test(this.text.slice(start, this.pos)) && /^ \d{2}:/.test(this.text.slice(this.pos, this.pos + 4))) {
      this.pos++;
      tokenEnd();
    }
    const raw = this.text.slice(start, this.pos);
    if (!raw) this.fail('expected a value');
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    if (/^[+-]?\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?$/.test(raw)) {
      const n = Number(raw.replace(/_/g, ''));
      if (Number.isFinite(n)) return n;
    }
    return raw;
  }
}
