/**
 * What several kinds of field need from one run record, computed once per evaluation: the process tree (parents,
 * ancestors, names), which processes connected, how each executed file came to be, and the most telling of what
 * the sinkhole drew out per endpoint. Everything here is bounded: the record is hostile data.
 */
import type { ConnectionEvent } from '../detonate/sinkhole/events.js';
import type { Finding, ObservedConnection, ObservedFileOp, ObservedProcess, RunRecord } from '../model/index.js';
import { MAX_ANCESTRY_DEPTH, MAX_MATCHED_ARGV, MAX_MATCH_CHARS } from './limits.js';

/** What the sinkhole drew out of a connection, typed by the protocol it recognised. */
export type SinkholeConversation = { [P in ConnectionEvent['protocol']]: Pick<Extract<ConnectionEvent, { protocol: P }>, 'protocol' | 'details'> }[ConnectionEvent['protocol']];

/** Multi-call binaries: the program they run is named by argv[0] (or argv[1] when called by their own name). */
const MULTI_CALL = new Set(['busybox', 'busybox.static', 'busybox-static', 'toybox']);

export interface ProcessNode {
  record: ObservedProcess;
  name: string;
  argv: string[];
  parent: ProcessNode | undefined;
}

export interface ExeOrigin {
  dropped: boolean;
  chmodded: boolean;
  /** `host:port` or `dst:port` of the connection behind the download; undefined when not downloaded. */
  downloadFrom: string | undefined;
  /** Names of the writer of the file and of its ancestors. */
  writtenBy: string[];
}

export interface BehaviorContext {
  result: RunRecord;
  /** False when the image was not run (static-only, or the run failed): every run.* field is then unknown. */
  detonated: boolean;
  /** The report's findings, for `on: finding` rules (empty while the behaviour rules judge a run). */
  findings: readonly Finding[];
  nodes: ProcessNode[];
  /** Every record of a pid (a pid that exec'd several times has several), in start order. */
  byPid: Map<number, ProcessNode[]>;
  /** Connections other than lookups sent to the sink's resolver, by the pid that made them. */
  connectionsByPid: Map<number, ObservedConnection[]>;
  /** Connections other than lookups sent to the sink's resolver. */
  connections: ObservedConnection[];
  /**
   * The most telling connection to `c`'s endpoint (one whose protocol the sinkhole recognised beats a silent one):
   * what a rule reads of HTTP, TLS and stratum.
   */
  telling(c: ObservedConnection): SinkholeConversation | undefined;
  exeOrigin(exe: string): ExeOrigin;
  /** A path as a process named it, made absolute when some file operation of the run ends with it (`./x.sh`). */
  resolveWritten(path: string): string;
  ancestors(node: ProcessNode): ProcessNode[];
  /** The record of `pid` most likely current at `atMs` (the last one started by then, else the first). */
  nodeOf(pid: number, atMs?: number): ProcessNode | undefined;
}

export function cap(s: string): string {
  return s.length > MAX_MATCH_CHARS ? s.slice(0, MAX_MATCH_CHARS) : s;
}

export function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  const i = trimmed.lastIndexOf('/');
  return i >= 0 ? trimmed.slice(i + 1) : trimmed;
}

export function dirName(path: string): string {
  const i = path.lastIndexOf('/');
  if (i < 0) return '';
  return i === 0 ? '/' : path.slice(0, i);
}

export function processName(exe: string, argv: readonly string[]): string {
  const base = baseName(exe) || baseName(argv[0] ?? '');
  if (!MULTI_CALL.has(base)) return base;
  const arg0 = baseName(argv[0] ?? '');
  if (arg0 && !MULTI_CALL.has(arg0)) return arg0;
  const arg1 = argv[1];
  if (arg1 && !arg1.startsWith('-')) return baseName(arg1);
  return base;
}

const INTERPRETER = /^(sh|bash|dash|ash|zsh|ksh|mksh|rbash|python[0-9.]*|perl[0-9.]*|ruby[0-9.]*|node|nodejs|php[0-9.]*|lua[0-9.]*|tclsh[0-9.]*)$/;
/** Options after which an interpreter's next argument is code or a module, not a script file. */
const INLINE_CODE = /^(-[a-zA-Z]*[ceEmr]|--eval|--command|--print)$/;

/** The script file a shell or interpreter runs (`sh /tmp/x.sh`, `python3 -u /a.py`); "" when none (`sh -c …`). */
export function scriptOf(name: string, argv: readonly string[]): string {
  if (!INTERPRETER.test(name)) return '';
  for (const arg of argv.slice(1)) {
    if (INLINE_CODE.test(arg)) return '';
    if (!arg.startsWith('-')) return arg;
  }
  return '';
}

/** wget or curl writing what it fetched to standard output (so whoever holds the redirect writes the file). */
function fetchesToStdout(node: ProcessNode): boolean {
  const args = node.argv.slice(1);
  if (node.name === 'wget') {
    return args.some((a, i) => /^-[a-zA-Z]*O-$/.test(a) || a === '--output-document=-' || ((a === '-O' || a === '--output-document') && args[i + 1] === '-'));
  }
  if (node.name === 'curl') {
    return !args.some((a) => /^-[a-zA-Z]*[oO]$/.test(a) || a === '--output' || a.startsWith('--output=') || a === '--remote-name' || a === '--remote-name-all');
  }
  return false;
}

export function endpoint(c: ObservedConnection): string {
  return `${c.host ?? c.dst}:${c.port}`;
}

function isSinkLookup(c: ObservedConnection, sinkAddress: string): boolean {
  return c.dst === sinkAddress && c.port === 53;
}

export function buildContext(result: RunRecord, extra: { detonated?: boolean; findings?: readonly Finding[] } = {}): BehaviorContext {
  const sinkAddress = result.sinkAddress ?? '';
  const nodes: ProcessNode[] = (result.processes ?? []).map((record) => {
    const argv = (Array.isArray(record.argv) ? record.argv : []).slice(0, MAX_MATCHED_ARGV).map((a) => cap(String(a)));
    return { record, argv, name: cap(processName(String(record.exe ?? ''), argv)), parent: undefined };
  });
  const byPid = new Map<number, ProcessNode[]>();
  for (const n of nodes) {
    const list = byPid.get(n.record.pid);
    if (list) list.push(n);
    else byPid.set(n.record.pid, [n]);
  }
  for (const list of byPid.values()) list.sort((a, b) => a.record.startMs - b.record.startMs);
  const nodeOf = (pid: number, atMs?: number): ProcessNode | undefined => {
    const list = byPid.get(pid);
    if (!list) return undefined;
    if (atMs === undefined) return list.at(-1);
    let found: ProcessNode | undefined;
    for (const n of list) if (n.record.startMs <= atMs) found = n;
    return found ?? list[0];
  };
  for (const n of nodes) {
    if (n.record.ppid === n.record.pid) continue;
    n.parent = nodeOf(n.record.ppid, n.record.startMs);
  }
  const ancestors = (node: ProcessNode): ProcessNode[] => {
    const out: ProcessNode[] = [];
    const seen = new Set<ProcessNode>([node]);
    for (let p = node.parent; p && !seen.has(p) && out.length < MAX_ANCESTRY_DEPTH; p = p.parent) {
      seen.add(p);
      out.push(p);
    }
    return out;
  };

  const connections = (result.connections ?? []).filter((c) => !isSinkLookup(c, sinkAddress));
  const connectionsByPid = new Map<number, ObservedConnection[]>();
  for (const c of connections) {
    if (typeof c.pid !== 'number') continue;
    const list = connectionsByPid.get(c.pid);
    if (list) list.push(c);
    else connectionsByPid.set(c.pid, [c]);
  }

  const byEndpoint = new Map<string, ObservedConnection>();
  for (const c of result.connections ?? []) {
    if (!c.details) continue;
    const key = `${c.proto}\0${c.dst}\0${c.port}`;
    const seen = byEndpoint.get(key);
    if (!seen || (seen.protocol === 'unknown' && c.protocol !== 'unknown')) byEndpoint.set(key, c);
  }

  const files: ObservedFileOp[] = result.files ?? [];
  const origins = new Map<string, ExeOrigin>();
  const connectedFrom = (node: ProcessNode | undefined): ObservedConnection | undefined => {
    if (!node) return undefined;
    const own = connectionsByPid.get(node.record.pid)?.[0];
    if (own) return own;
    for (const a of ancestors(node)) {
      const c = connectionsByPid.get(a.record.pid)?.[0];
      if (c) return c;
    }
    // `wget -O- URL > file`: the shell wrote the file, its child fetched it to standard output.
    for (const child of nodes) {
      if (child.parent === node && fetchesToStdout(child)) {
        const c = connectionsByPid.get(child.record.pid)?.[0];
        if (c) return c;
      }
    }
    return undefined;
  };
  const exeOrigin = (exe: string): ExeOrigin => {
    let origin = origins.get(exe);
    if (origin) return origin;
    // The names this file had: the exe, and (transitively) whatever was renamed to it.
    const names = new Set<string>([exe]);
    for (let grew = true, rounds = 0; grew && rounds < 16; rounds++) {
      grew = false;
      for (const f of files) {
        if (f.op === 'rename' && !f.error && f.to !== undefined && names.has(f.to) && !names.has(f.path)) {
          names.add(f.path);
          grew = true;
        }
      }
    }
    let dropped = false;
    let chmodded = false;
    let downloadFrom: string | undefined;
    let writtenBy: string[] = [];
    for (const f of files) {
      if (f.error) continue;
      if ((f.op === 'create' || f.op === 'write') && names.has(f.path)) {
        dropped = true;
        const writer = nodeOf(f.pid);
        if (writer && writtenBy.length === 0) writtenBy = [writer.name, ...ancestors(writer).map((a) => a.name)];
        const from = connectedFrom(writer);
        if (from && downloadFrom === undefined) downloadFrom = endpoint(from);
      } else if (f.op === 'rename' && f.to === exe) dropped = true;
      else if (f.op === 'chmod' && names.has(f.path) && (f.mode === undefined || (f.mode & 0o111) !== 0)) chmodded = true;
    }
    origin = { dropped, chmodded, downloadFrom, writtenBy };
    origins.set(exe, origin);
    return origin;
  };

  const resolveWritten = (path: string): string => {
    if (path.startsWith('/') || path === '') return path;
    const rel = path.replace(/^(\.\/)+/, '');
    for (const f of files) {
      for (const p of [f.path, f.to]) if (p && p.endsWith(`/${rel}`)) return p;
    }
    return path;
  };

  return {
    result,
    detonated: extra.detonated ?? true,
    findings: extra.findings ?? [],
    nodes,
    resolveWritten,
    byPid,
    connectionsByPid,
    connections,
    telling: (c) => {
      const best = byEndpoint.get(`${c.proto}\0${c.dst}\0${c.port}`);
      // `details` of a run record are the sinkhole's record for its `protocol` (behaviorFromSinkhole in the session)
      return best?.details ? ({ protocol: best.protocol, details: best.details } as unknown as SinkholeConversation) : undefined;
    },
    exeOrigin,
    ancestors,
    nodeOf,
  };
}
