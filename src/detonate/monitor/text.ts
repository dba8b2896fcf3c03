/** Small lexing helpers shared by the strace and gVisor strace parsers. Everything is bounded by the caller. */
import { MAX_SIGNAL_TEXT_CHARS } from './limits.js';

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 7, b: 8, t: 9, n: 10, v: 11, f: 12, r: 13, '"': 34, "'": 39, '\\': 92, '?': 63, '<': 60, '>': 62,
};

/**
 * Decodes the body of a C-style (strace) or Go %q (gVisor) quoted string: \n, \", \\, \xHH, \NNN octal, and
 * Go's \uHHHH / \UHHHHHHHH. Bytes are read as UTF-8 (invalid sequences become U+FFFD).
 */
export function unescape(body: string, maxChars: number): string {
  if (!body.includes('\\')) return body.length > maxChars ? body.slice(0, maxChars) : body;
  const bytes: number[] = [];
  const limit = maxChars * 4;
  let i = 0;
  while (i < body.length && bytes.length < limit) {
    const c = body[i]!;
    if (c !== '\\' || i + 1 >= body.length) {
      pushUtf8(bytes, body.codePointAt(i)!);
      i += body.codePointAt(i)! > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[i + 1]!;
    if (e in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[e]!);
      i += 2;
    } else if (e === 'x' && /^[0-9a-fA-F]{1,2}/.test(body.slice(i + 2, i + 4))) {
      const hex = /^[0-9a-fA-F]{1,2}/.exec(body.slice(i + 2, i + 4))![0];
      bytes.push(parseInt(hex, 16));
      i += 2 + hex.length;
    } else if (/[0-7]/.test(e)) {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i + 1, i + 4))![0];
      bytes.push(parseInt(oct, 8) & 0xff);
      i += 1 + oct.length;
    } else if ((e === 'u' || e === 'U') && /^[0-9a-fA-F]+$/.test(body.slice(i + 2, i + (e === 'u' ? 6 : 10)))) {
      const n = e === 'u' ? 4 : 8;
      const cp = parseInt(body.slice(i + 2, i + 2 + n), 16);
      pushUtf8(bytes, cp <= 0x10ffff ? cp : 0xfffd);
      i += 2 + n;
    } else {
      bytes.push(92);
      i += 1;
    }
  }
  const s = Buffer.from(bytes).toString('utf8');
  return s.length > maxChars ? s.slice(0, maxChars) : s;
}

function pushUtf8(out: number[], cp: number): void {
  for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out.push(b);
}

/** Index just past the closing quote of the string opening at `start` (a `"`), or -1 when it never closes. */
export function skipQuoted(s: string, start: number): number {
  let i = start + 1;
  while (i < s.length) {
    const c = s[i];
    if (c === '\\') i += 2;
    else if (c === '"') return i + 1;
    else i += 1;
  }
  return -1;
}

/**
 * Splits `a, b, [c, d], {e, f}, "g, h"` at top-level commas. Quotes and brackets are honoured; an unclosed quote
 * or bracket swallows the rest (the caller gets fewer arguments and skips the call).
 */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') {
      const end = skipQuoted(s, i);
      if (end < 0) break;
      i = end;
      continue;
    }
    if (c === '<' && depth === 0 && i > start) {
      // strace -y annotation: `3</path>`; its body escapes `>` and `\`.
      let j = i + 1;
      while (j < s.length && s[j] !== '>') j += s[j] === '\\' ? 2 : 1;
      i = j + 1;
      continue;
    }
    if (c === '[' || c === '{' || c === '(') depth += 1;
    else if ((c === ']' || c === '}' || c === ')') && depth > 0) depth -= 1;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
    i += 1;
  }
  out.push(s.slice(start).trim());
  return out;
}

/** Parses `["a", "b"...]`-style lists of quoted strings (strace and gVisor alike). */
export function parseStringList(
  s: string,
  maxItems: number,
  maxChars: number,
): { items: string[]; truncated: boolean } | null {
  const open = s.indexOf('[');
  if (open < 0) return null;
  const items: string[] = [];
  let truncated = false;
  let i = open + 1;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') {
      const end = skipQuoted(s, i);
      if (end < 0) {
        truncated = true;
        break;
      }
      if (items.length < maxItems) {
        const body = s.slice(i + 1, end - 1);
        items.push(unescape(body, maxChars));
        if (body.length > maxChars) truncated = true;
      } else truncated = true;
      i = end;
      if (s.startsWith('...', i)) {
        truncated = true;
        i += 3;
      }
    } else if (c === ']') {
      return { items, truncated };
    } else if (s.startsWith('...', i)) {
      truncated = true;
      i += 3;
    } else i += 1;
  }
  return { items, truncated: true };
}

export function firstQuoted(s: string, maxChars: number): { value: string; truncated: boolean } | null {
  const q = s.indexOf('"');
  if (q < 0) return null;
  const end = skipQuoted(s, q);
  if (end < 0) return null;
  return { value: unescape(s.slice(q + 1, end - 1), maxChars), truncated: s.startsWith('...', end) };
}

const SIGNALS = [
  'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV',
  'SIGUSR2', 'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN',
  'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ', 'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS',
];

/** `SIGKILL`, `9`, `0x9` → `SIGKILL`; `0` → `0` (the existence probe). */
export function signalName(raw: string): string {
  const t = raw.trim();
  if (/^SIG[A-Z0-9+]+$/.test(t)) return t;
  const n = parseIntLoose(t);
  if (n !== null && n >= 1 && n <= SIGNALS.length) return SIGNALS[n - 1]!;
  return n === null ? t.slice(0, MAX_SIGNAL_TEXT_CHARS) : String(n);
}

/** Decimal, 0x hex, 0 / 0o octal. */
export function parseIntLoose(raw: string): number | null {
  const t = raw.trim();
  let n: number;
  if (/^-?0x[0-9a-f]+$/i.test(t)) n = parseInt(t.replace(/0x/i, ''), 16) * (t.startsWith('-') ? -1 : 1);
  else if (/^0o[0-7]+$/.test(t)) n = parseInt(t.slice(2), 8);
  else if (/^0[0-7]+$/.test(t)) n = parseInt(t, 8);
  else if (/^-?\d+$/.test(t)) n = parseInt(t, 10);
  else return null;
  return Number.isSafeInteger(n) ? n : null;
}

/** Mode from `0100755`, `0755`, `0o755`, `S_IFREG|0o755`, `S_IFREG|0755`: the permission bits (07777). */
export function parseMode(raw: string): number | null {
  const m = /(?:^|\|)\s*(0o[0-7]+|0[0-7]*|\d+)\s*$/.exec(raw.trim());
  if (!m) return null;
  const n = parseIntLoose(m[1]!);
  return n === null ? null : n & 0o7777;
}

/** Clock `HH:MM:SS.ffffff` → ms of the day. */
export function clockMs(hms: string): number | null {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(hms);
  if (!m) return null;
  const frac = m[4] ? Number(`0.${m[4]}`) : 0;
  return ((Number(m[1]) * 60 + Number(m[2])) * 60 + Number(m[3]) + frac) * 1000;
}

export function resolvePath(dir: string | undefined, path: string): string {
  if (path.startsWith('/') || !dir || !dir.startsWith('/')) return path;
  return dir.endsWith('/') ? dir + path : `${dir}/${path}`;
}
