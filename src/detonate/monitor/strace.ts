/**
 * Reads `strace -f -tt -yy -s N --pidns-translation -o FILE` output (see `straceArgs`): one call per line,
 * prefixed by the pid, with `<unfinished ...>` / `<... x resumed>` halves when threads interleave.
 */
import type { ParseResult } from './events.js';
import type { ParseLimits } from './limits.js';
import type { ArgReader, Call, FdInfo, Sockaddr } from './calls.js';
import { parseLines, TraceLineParser, type EventSink } from './line-parser.js';
import { clockMs, firstQuoted, parseIntLoose, skipQuoted, splitTopLevel, unescape } from './text.js';

/** The FIFO (in the run's trace dir) strace's `-o` writes into when the monitor runs it around a runtime. */
export const STRACE_FIFO = 'strace.fifo';

const LINE = /^(?:\[pid\s+)?(\d+)\]?\s+(?:(\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s+)?(.*)$/s;
const NO_PID = /^(\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s+(.*)$/s;

interface Pending {
  name: string;
  text: string;
  tMs: number;
}

/** Where the argument list that starts at `from` ends (the index of its `)`), or -1. */
function argsEnd(s: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') {
      const end = skipQuoted(s, i);
      if (end < 0) return -1;
      i = end;
      continue;
    }
    if (c === '<' && i > from && /[\dT]$/.test(s.slice(i - 1, i))) {
      let j = i + 1;
      while (j < s.length && s[j] !== '>') j += s[j] === '\\' ? 2 : 1;
      i = j + 1;
      continue;
    }
    if (c === '/' && s.startsWith('/*', i)) {
      const end = s.indexOf('*/', i + 2);
      i = end < 0 ? s.length : end + 2;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth += 1;
    else if (c === ')' && depth === 0) return i;
    else if (c === ')' || c === ']' || c === '}') depth = Math.max(0, depth - 1);
    i += 1;
  }
  return -1;
}

const reader = (maxChars: number): ArgReader => ({
  path(arg) {
    const q = firstQuoted(arg, maxChars);
    return q ? q.value : null;
  },
  fd(arg): FdInfo {
    const m = /^(-?\d+|AT_FDCWD)(?:<(.*)>)?$/s.exec(arg.trim());
    if (!m) return { fd: null };
    const fd = m[1] === 'AT_FDCWD' ? null : parseIntLoose(m[1]!);
    if (m[2] === undefined) return { fd };
    // `-yy` labels device fds after the path (`/dev/null<char 1:3>`): the label is not part of the path
    return { fd, path: unescape(m[2].replace(/<(?:char|block) \d+:\d+>$/, ''), maxChars) };
  },
  pid(arg) {
    const m = /^(-?\d+)(?:\s*\/\*\s*(\d+) in strace's PID NS\s*\*\/)?/.exec(arg.trim());
    if (!m) return null;
    return Number(m[2] ?? m[1]);
  },
  sockaddr(arg): Sockaddr | null {
    const fam = /sa_family=(AF_[A-Z0-9]+)/.exec(arg)?.[1];
    if (!fam) return null;
    const port = /sin6?_port=htons\((\d+)\)/.exec(arg);
    if (fam === 'AF_INET') {
      const ip = /inet_addr\("([0-9.]+)"\)/.exec(arg);
      return ip ? { family: 'inet', address: ip[1]!, port: port ? Number(port[1]) : null } : null;
    }
    if (fam === 'AF_INET6') {
      const ip = /inet_pton\(AF_INET6,\s*"([0-9a-fA-F:.]+)"/.exec(arg);
      return ip ? { family: 'inet6', address: ip[1]!, port: port ? Number(port[1]) : null } : null;
    }
    if (fam === 'AF_UNIX') {
      const p = /sun_path=(@?)("(?:[^"\\]|\\.)*")/.exec(arg);
      const path = p ? (p[1] ?? '') + unescape(p[2]!.slice(1, -1), maxChars) : '';
      return { family: 'unix', address: path, port: null };
    }
    return { family: 'other', address: fam, port: null };
  },
});

export class StraceParser extends TraceLineParser {
  private readonly pending = new Map<number, Pending>();

  constructor(limits: Partial<ParseLimits> = {}, sink?: EventSink) {
    super(limits, reader, sink);
  }

  push(rawLine: string): void {
    const line = rawLine.length > this.limits.maxLineChars ? rawLine.slice(0, this.limits.maxLineChars) : rawLine;
    if (line.trim() === '') return;
    let pid = 0;
    let clock: string | undefined;
    let body: string;
    const m = LINE.exec(line);
    if (m) {
      pid = Number(m[1]);
      clock = m[2];
      body = m[3]!;
    } else {
      const n = NO_PID.exec(line);
      clock = n?.[1];
      body = n ? n[2]! : line;
    }
    const tMs = this.clock(clock ? clockMs(clock) : null);
    this.body(pid, tMs, body);
  }

  protected finish(): void {
    // Calls that never resumed (the task died or the trace was cut): keep what the entry half says.
    for (const [pid, p] of this.pending) this.call(pid, p.tMs, p.text, false);
    this.pending.clear();
  }

  private body(pid: number, tMs: number, body: string): void {
    const exit = /^\+\+\+ (?:exited with (\d+)|killed by (SIG[A-Z0-9]+)(?: \(core dumped\))?) \+\+\+$/.exec(body);
    if (exit) {
      this.emit([{ kind: 'exit', pid, tMs, code: exit[1] !== undefined ? Number(exit[1]) : null, ...(exit[2] ? { signal: exit[2] } : {}) }]);
      return;
    }
    if (body.startsWith('---') || body.startsWith('+++')) return;
    const resumed = /^<\.\.\. ([a-z0-9_]+) resumed>(.*)$/s.exec(body);
    if (resumed) {
      const p = this.pending.get(pid);
      this.pending.delete(pid);
      if (p && p.name === resumed[1]) this.call(pid, p.tMs, p.text + resumed[2], true);
      return;
    }
    const unfinished = /^(.*?)\s*<unfinished \.\.\.>\s*$/s.exec(body);
    if (unfinished) {
      const name = /^([a-z0-9_]+)\(/.exec(unfinished[1]!)?.[1];
      if (!name) {
        this.unparsed += 1;
        return;
      }
      const earlier = this.pending.get(pid);
      if (earlier) this.call(pid, earlier.tMs, earlier.text, false);
      if (this.pending.size >= this.limits.maxPending) {
        // the oldest is given up waiting for its result: what its entry half says is kept
        const [oldest, p] = this.pending.entries().next().value ?? [];
        if (oldest !== undefined && p) {
          this.pending.delete(oldest);
          this.call(oldest, p.tMs, p.text, false);
        }
      }
      this.pending.set(pid, { name, text: unfinished[1]! + ' ', tMs });
      return;
    }
    if (!this.call(pid, tMs, body, true)) this.unparsed += 1;
  }

  private call(pid: number, tMs: number, text: string, complete: boolean): boolean {
    const m = /^([a-z0-9_]+)\(/.exec(text);
    if (!m) return false;
    const open = m[0].length;
    const close = argsEnd(text, open);
    const argText = close < 0 ? text.slice(open) : text.slice(open, close);
    const result = close < 0 ? '' : text.slice(close + 1);
    const r = /^\s*=\s*(-?\d+|\?|0x[0-9a-f]+)(?:<(?:[^>\\]|\\.)*>)?(?:\s*\/\*\s*(\d+) in strace's PID NS\s*\*\/)?(?:\s+(E[A-Z0-9_]+)\b)?/.exec(result);
    const finished = complete && r !== null && close >= 0;
    const ret = r && r[1] !== '?' ? parseIntLoose(r[1]!) : null;
    const call: Call = {
      pid, tMs, name: m[1]!, args: splitTopLevel(argText), ret, finished,
      ...(r?.[2] ? { retPid: Number(r[2]) } : {}),
      ...(r?.[3] ? { errno: r[3] } : {}),
    };
    this.emitCall(call);
    return true;
  }

}

export function parseStrace(text: string, limits: Partial<ParseLimits> = {}): ParseResult {
  return parseLines(new StraceParser(limits), text);
}
