/**
 * Reads the sandbox's (`boot`) log gVisor writes with `--debug --strace` (see `gvisorStraceFlags`, trace.ts), glog text
 * or `--debug-log-format=json`. A call shows as an entry line (`E`) and an exit line (`X`, with the result):
 *   [   8:   8] nc X connect(0x3 socket:[1], 0x5ed714 {Family: AF_INET, Addr: 203.0.113.7, Port: 4444}, 0x10) = 0 (0x0) errno=113 (no route to host) (21.83µs)
 * Paths are printed raw, so in the text format a path with a newline continues on the next line and can even
 * fake a new log line; the JSON format escapes the message and is what `gvisorStraceFlags` asks for. Commas in a
 * path are resolved by the number of arguments each call has.
 */
import { constants as osConstants } from 'node:os';
import type { ParseResult } from '../../monitor/events.js';
import type { ParseLimits } from '../../monitor/limits.js';
import type { ArgReader, Call, FdInfo, Sockaddr } from '../../monitor/calls.js';
import { parseLines, TraceLineParser, type EventSink } from '../../monitor/line-parser.js';
import { bounded } from '../../monitor/events.js';
import { clockMs, parseIntLoose, skipQuoted, unescape } from '../../monitor/text.js';

const GLOG = /^[IWDEF]\d{4} (\d{2}:\d{2}:\d{2}\.\d+)\s+(\d+) ([\w.-]+:\d+)\] (.*)$/s;
const STRACE = /^\[\s*(\d+):\s*(\d+)\] (.{0,15}) ([EX]) ([a-z0-9_]+)\((.*)$/s;
const RESULT = /\) = (-?\d+) \(0x[0-9a-f]+\)(?: errno=(\d+) \(([^()]*)\))?(?: \([0-9.]+[a-zµ]*s\))?$/;
const ERRNO_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(osConstants.errno)) if (!ERRNO_NAMES.has(n)) ERRNO_NAMES.set(n, name);
/** gVisor prints `errno=30 (read-only file system)`; the events carry the name strace prints (`EROFS`). */
/** The kernel's internal restart codes, which no errno table has (a call a signal interrupted). */
const RESTART_NAMES: ReadonlyMap<number, string> = new Map([[512, 'ERESTARTSYS'], [513, 'ERESTARTNOINTR'], [514, 'ERESTARTNOHAND'], [516, 'ERESTART_RESTARTBLOCK']]);
function errnoName(n: number): string {
  return ERRNO_NAMES.get(n) ?? RESTART_NAMES.get(n) ?? `errno ${n}`;
}
/** Index of the argument that holds the path, for calls whose raw path may contain `, `. */
const PATH_ARG: Record<string, number> = {
  open: 0, creat: 0, unlink: 0, chmod: 0, rename: 0, execve: 0, write: 0, fchmod: 0,
  openat: 1, unlinkat: 1, fchmodat: 1, renameat: 1, renameat2: 1, execveat: 1,
};
const ARG_COUNT: Record<string, number> = {
  open: 3, openat: 4, creat: 2, unlink: 1, unlinkat: 3, rename: 2, renameat: 4, renameat2: 5, chmod: 2, fchmod: 2,
  fchmodat: 3, execve: 3, execveat: 5, write: 3, connect: 3, sendto: 6, kill: 2, tgkill: 3, clone: 5, exit_group: 1,
  socket: 3, fork: 0, vfork: 0,
};
/** Calls that do not return when they succeed: gVisor logs their entry only. */
const NO_RETURN = new Set(['exit_group', 'exit']);
const TOKEN_START = /^(?:0x[0-9a-f]+|AT_|O_|S_|0o|SIG|CLONE_|SOCK_|AF_|MSG_|IPPROTO|RENAME_|\[|\{|"|-?\d|\.\.\.|\(null\))/;

function skipStructured(s: string, i: number): number {
  const open = s[i]!;
  if (open === '"') {
    const end = skipQuoted(s, i);
    return end < 0 ? s.length : s.startsWith('...', end) ? end + 3 : end;
  }
  let depth = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') {
      const end = skipQuoted(s, i);
      if (end < 0) return s.length;
      i = end;
      continue;
    }
    if (c === '[' || c === '{') depth += 1;
    else if (c === ']' || c === '}') {
      depth -= 1;
      if (depth === 0) return i + 1;
    }
    i += 1;
  }
  return s.length;
}

/** Splits gVisor's argument text; raw paths are not quoted, so only `, ` before a known token start splits. */
export function splitGvisorArgs(name: string, s: string): string[] {
  const tokens: string[] = [];
  let start = 0;
  let i = 0;
  while (i <= s.length) {
    if (i === start) {
      const addr = /^0x[0-9a-f]+ (?=[[{"])/.exec(s.slice(i, i + 24));
      const j = i + (addr ? addr[0].length : 0);
      if (s[j] === '[' || s[j] === '{' || s[j] === '"') {
        i = skipStructured(s, j);
        continue;
      }
    }
    if (i === s.length || (s.startsWith(', ', i) && TOKEN_START.test(s.slice(i + 2, i + 14)))) {
      tokens.push(s.slice(start, i));
      if (i === s.length) break;
      i += 2;
      start = i;
      continue;
    }
    i += 1;
  }
  const want = ARG_COUNT[name];
  const at = PATH_ARG[name];
  if (want !== undefined && at !== undefined && tokens.length > want) {
    const extra = tokens.length - want;
    tokens.splice(at, extra + 1, tokens.slice(at, at + extra + 1).join(', '));
  }
  return tokens;
}

const reader = (maxChars: number): ArgReader => {
  const addrThen = (arg: string): string | null => {
    if (/^0x0 \(null\)$/.test(arg) || arg === '0x0') return null;
    const m = /^0x[0-9a-f]+ ([\s\S]*)$/.exec(arg);
    return bounded(m ? m[1]! : arg, maxChars);
  };
  return {
    path: addrThen,
    fd(arg): FdInfo {
      const m = /^(AT_FDCWD|0x[0-9a-f]+|-?\d+)(?: ([\s\S]*))?$/.exec(arg);
      if (!m) return { fd: null };
      const fd = m[1] === 'AT_FDCWD' ? null : parseIntLoose(m[1]!);
      return m[2] === undefined ? { fd } : { fd, path: bounded(m[2], maxChars) };
    },
    pid(arg) {
      return parseIntLoose(arg);
    },
    sockaddr(arg): Sockaddr | null {
      const fam = /\{Family: (AF_[A-Z0-9]+)/.exec(arg)?.[1];
      if (!fam) return null;
      const port = /Port: (\d+)/.exec(arg);
      if (fam === 'AF_INET' || fam === 'AF_INET6') {
        const ip = /Addr: ([0-9a-fA-F:.]+)/.exec(arg);
        if (!ip) return null;
        return { family: fam === 'AF_INET' ? 'inet' : 'inet6', address: ip[1]!, port: port ? Number(port[1]) : null };
      }
      if (fam === 'AF_UNIX') {
        const p = /Addr: "((?:[^"\\]|\\.)*)"/.exec(arg);
        return { family: 'unix', address: p ? unescape(p[1]!, maxChars) : '', port: null };
      }
      return { family: 'other', address: fam, port: null };
    },
  };
};

interface Entry {
  call: Call;
}

export class GvisorStraceParser extends TraceLineParser {
  private readonly pending = new Map<number, Entry>();
  private sentryPid: string | undefined;
  private record: { tMs: number; msg: string } | undefined;
  private sawInit = false;

  /** The time of the sandbox's `EXEC:` line: its first process started (epoch ms with the JSON log). */
  firstExecMs: number | undefined;

  constructor(limits: Partial<ParseLimits> = {}, sink?: EventSink) {
    super(limits, reader, sink);
  }

  /** `firstExecMs`, on the epoch clock of the JSON log `gvisorStraceFlags` asks for. */
  override firstExecEpochMs(): number | undefined {
    return this.firstExecMs;
  }

  push(rawLine: string): void {
    const line = rawLine.length > this.limits.maxLineChars ? rawLine.slice(0, this.limits.maxLineChars) : rawLine;
    if (line.startsWith('{')) {
      this.flush();
      this.json(line);
      return;
    }
    const g = GLOG.exec(line);
    // A forged header inside a raw path would carry a guessed sentry pid; a different one is a continuation.
    if (g && (this.sentryPid === undefined || g[2] === this.sentryPid)) {
      this.flush();
      this.sentryPid ??= g[2];
      this.record = { tMs: this.clock(clockMs(g[1]!)), msg: g[4]! };
      return;
    }
    if (this.record && this.record.msg.length < this.limits.maxLineChars) {
      this.record.msg = bounded(`${this.record.msg}\n${line}`, this.limits.maxLineChars);
    } else if (!this.record && line.trim() !== '') this.unparsed += 1;
  }

  protected finish(): void {
    this.flush();
    for (const e of this.pending.values()) this.emitCall(e.call);
    this.pending.clear();
  }

  private json(line: string): void {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      this.unparsed += 1;
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    const { msg, time } = v as { msg?: unknown; time?: unknown };
    if (typeof msg !== 'string') return;
    const t = typeof time === 'string' ? Date.parse(time) : NaN;
    this.message(Number.isNaN(t) ? this.lastMs : (this.lastMs = t), bounded(msg, this.limits.maxLineChars));
  }

  private flush(): void {
    if (this.record) this.message(this.record.tMs, this.record.msg);
    this.record = undefined;
  }

  private message(tMs: number, msg: string): void {
    if (!this.sawInit && msg.startsWith('EXEC: [')) {
      // The container's first process is started by the sentry, not by an execve the strace sees.
      this.sawInit = true;
      this.firstExecMs = tMs;
      const argv = msg.slice(7, msg.endsWith(']') ? -1 : undefined).split(' ').filter((a) => a !== '');
      const list = argv.slice(0, this.limits.maxArgv).map((a) => bounded(a, this.limits.maxStringChars));
      this.emit([{ kind: 'exec', pid: 1, tMs, ok: true, exe: list[0] ?? '', argv: list, argvTruncated: argv.length > list.length }]);
      return;
    }
    const m = STRACE.exec(msg);
    if (!m) return;
    const pid = Number(m[1]);
    const tid = Number(m[2]);
    const name = m[5]!;
    let rest = m[6]!;
    const exit = m[4] === 'X';
    let ret: number | null = null;
    let errno: string | undefined;
    if (exit) {
      const r = RESULT.exec(rest);
      if (!r) {
        this.unparsed += 1;
        return;
      }
      rest = rest.slice(0, r.index);
      ret = Number(r[1]);
      if (r[2] !== undefined) errno = errnoName(Number(r[2]));
    } else if (rest.endsWith(')')) rest = rest.slice(0, -1);
    const call: Call = {
      pid, tMs, name, args: splitGvisorArgs(name, rest), ret, finished: exit, ...(errno ? { errno } : {}),
    };
    const earlier = this.pending.get(tid);
    this.pending.delete(tid);
    if (!exit && NO_RETURN.has(name)) {
      // no exit line follows: waiting for one would keep every exited process pending until the end
      if (earlier) this.emitCall(earlier.call);
      this.emitCall(call);
      return;
    }
    if (!exit) {
      if (earlier) this.emitCall(earlier.call);
      if (this.pending.size >= this.limits.maxPending) {
        const oldest = this.pending.keys().next().value;
        if (oldest !== undefined) this.pending.delete(oldest);
      }
      this.pending.set(tid, { call });
      return;
    }
    // The exit line repeats the arguments, but write's buffer and execve's lists may be elided there.
    if (earlier && earlier.call.name === name) {
      call.tMs = earlier.call.tMs;
      if (name === 'execve' || name === 'execveat') call.args = earlier.call.args;
    }
    this.emitCall(call);
  }

}

export function parseGvisorStrace(text: string, limits: Partial<ParseLimits> = {}): ParseResult {
  return parseLines(new GvisorStraceParser(limits), text);
}
