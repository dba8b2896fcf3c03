/**
 * Folds a TraceEvent stream into the report's `behavior` lists: the process tree with argv, file changes,
 * connection attempts and kills. Under `strace -f` around runc, everything before the container
 * entrypoint's execve (runc's own setup, `runc init`) and every process outside the entrypoint's tree is
 * dropped. Lists are deduplicated and bounded; `counts` keeps the real totals (a fork bomb stays visible).
 */
import type { TraceEvent } from './events.js';

export interface ProcessRecord {
  pid: number;
  ppid: number;
  exe: string;
  argv: string[];
  /** Ms since the container's first process started. */
  startMs: number;
  argvTruncated?: boolean;
  exitCode?: number | null;
  signal?: string;
}

export interface FileRecord {
  op: 'write' | 'create' | 'delete' | 'chmod' | 'rename';
  path: string;
  pid: number;
  /** chmod: the new permission bits. */
  mode?: number;
  /** rename: the new name. */
  to?: string;
  /** The attempt failed with this errno (`EROFS`, `EACCES`, `ENOSPC`…): it still shows what the sample tried. */
  error?: string;
  /** Ms since the container's first process started, at the first such operation. */
  atMs?: number;
}

export interface ConnectionRecord {
  proto: 'tcp' | 'udp' | 'unix';
  dst: string;
  port: number | null;
  pid: number;
  ok?: boolean;
  /** Ms since the container's first process started, at the first connect. */
  atMs?: number;
}

export interface KillRecord {
  pid: number;
  target: number;
  signal: string;
  /** The target's program, when it is a process of the tree. */
  targetExe?: string;
  ok?: boolean;
}

export interface Behaviour {
  processes: ProcessRecord[];
  files: FileRecord[];
  connections: ConnectionRecord[];
  kills: KillRecord[];
  /** Totals before the list bounds (deduplicated). */
  counts: { processes: number; files: number; connections: number; kills: number };
}

export interface NormaliseOptions {
  /**
   * Where the container starts: `runc` drops everything before the first execve that follows runc's
   * `runc init` (and every process outside that one's tree); `all` keeps every event (gVisor: the log holds
   * only the sandbox's processes). Default: `runc` when a `runc init` exec is present, else `all`.
   */
  start?: 'runc' | 'all';
  maxProcesses?: number;
  maxFiles?: number;
  maxConnections?: number;
  maxKills?: number;
  /** Failed file attempts kept (deduplicated by operation, path and errno); they count in `maxFiles` too. */
  maxFailedFiles?: number;
}

const DEFAULTS = { maxProcesses: 256, maxFiles: 512, maxConnections: 256, maxKills: 128, maxFailedFiles: 64 };

/** Failures that say nothing about intent: a missing path (probing, `rm -f`), an O_EXCL race, a retry. */
const UNINTERESTING_ERRNOS = new Set(['ENOENT', 'EEXIST', 'ENOTDIR', 'EISDIR', 'ELOOP', 'EINTR', 'EAGAIN', 'EBADF', 'EPIPE', 'ENXIO']);

/** argv[0] of a shell, as busybox ash and glibc's execvp name it when they run a file as a script. */
const SHELL = /^(.*\/)?-?(sh|ash|bash|dash|ksh|mksh|zsh)$/;

/** Calls of one child kept while they wait for the fork that made it (strace's ordering across processes). */
const MAX_EARLY_EVENTS = 64;

/** The magic links to the calling process's own program. */
const SELF_EXE = /^\/proc\/(self|thread-self)\/exe$/;

function isRuncInit(e: TraceEvent): boolean {
  // runc re-executes itself by whatever path it was started with (`/usr/sbin/runc init`)
  return e.kind === 'exec' && /(^|\/)runc$/.test(e.argv[0] ?? '') && e.argv[1] === 'init';
}

/** Writes that say nothing about the sample: terminals, the null device, pipes and sockets. */
function boringWrite(path: string): boolean {
  return !path.startsWith('/') || /^\/dev\/(null|zero|tty\S*|pts\/\d+|std(in|out|err)|console|full)$/.test(path) ||
    /^\/proc\/self\/fd\/\d+$/.test(path);
}

export function normalise(events: readonly TraceEvent[], options: NormaliseOptions = {}): Behaviour {
  const lim = { ...DEFAULTS, ...options };
  const runc = (options.start ?? (events.some(isRuncInit) ? 'runc' : 'all')) === 'runc';

  let from = 0;
  let root: number | undefined;
  if (runc) {
    const init = events.findIndex(isRuncInit);
    const entry = events.findIndex((e, i) => i > init && e.kind === 'exec' && e.ok !== false && !isRuncInit(e));
    if (init < 0 || entry < 0) return empty();
    from = entry;
    root = events[entry]!.pid;
  }

  // pid → the process record currently running in it; tid → its process (threads share the record).
  const current = new Map<number, ProcessRecord>();
  const tgid = new Map<number, number>();
  /** Records of forks that have not exec'd (yet). */
  const forkedOnly = new WeakSet<ProcessRecord>();
  /** pid → the file its last execve refused with ENOEXEC (not a program, no #! line). */
  const refusedExec = new Map<number, string>();
  const processes: ProcessRecord[] = [];
  let processCount = 0;
  const files = new Map<string, FileRecord>();
  const connections = new Map<string, ConnectionRecord>();
  const kills = new Map<string, KillRecord>();
  const sockets = new Map<string, 'tcp' | 'udp' | 'raw' | 'other'>();
  let t0: number | undefined;

  const owner = (pid: number): number => tgid.get(pid) ?? pid;
  const inTree = (pid: number): boolean => !runc || current.has(owner(pid)) || owner(pid) === root;
  const addProcess = (p: ProcessRecord): void => {
    processCount += 1;
    current.set(p.pid, p);
    if (processes.length < lim.maxProcesses) processes.push(p);
  };
  let failedFiles = 0;
  /** The time of the event being handled, for the records it makes. */
  let now = 0;
  const addFile = (f: FileRecord): void => {
    const key = `${f.op}\0${f.path}\0${f.to ?? ''}\0${f.mode ?? ''}`;
    if (!files.has(key)) files.set(key, { ...f, atMs: now });
  };
  /** A failed attempt (ok false), kept when its errno says something and its path is not boring. */
  const addFailed = (e: { ok?: boolean; errno?: string }, f: FileRecord): void => {
    if (!e.errno || UNINTERESTING_ERRNOS.has(e.errno) || boringWrite(f.path)) return;
    const key = `!${f.op}\0${f.path}\0${f.to ?? ''}\0${e.errno}`;
    if (files.has(key) || failedFiles >= lim.maxFailedFiles) return;
    failedFiles += 1;
    files.set(key, { ...f, error: e.errno, atMs: now });
  };

  const handle = (e: TraceEvent): void => {
    if (!inTree(e.pid)) return;
    const pid = owner(e.pid);
    t0 ??= e.tMs;
    const rel = Math.max(0, Math.round(e.tMs - t0));
    now = rel;
    switch (e.kind) {
      case 'exec': {
        if (e.ok === false) {
          if (e.errno === 'ENOEXEC') refusedExec.set(pid, e.exe);
          else refusedExec.delete(pid);
          break;
        }
        const refused = refusedExec.get(pid);
        refusedExec.delete(pid);
        const existing = current.get(pid);
        // A shell whose execve of a file without a #! line failed with ENOEXEC runs the file itself
        // (`ash FILE`, `/bin/sh FILE`): as for a #! script, the program is the file. busybox and other
        // multi-call programs re-execute themselves through /proc/self/exe: the program is the caller's.
        const exe = refused !== undefined && e.argv[1] === refused && SHELL.test(e.argv[0] ?? '') ? refused : SELF_EXE.test(e.exe) && existing?.exe ? existing.exe : e.exe;
        const rec: ProcessRecord = {
          pid, ppid: existing?.ppid ?? 0, exe, argv: e.argv, startMs: rel,
          ...(e.argvTruncated ? { argvTruncated: true } : {}),
        };
        // A fork that had not exec'd yet is the same process: it gets its program now.
        if (existing && forkedOnly.has(existing)) {
          forkedOnly.delete(existing);
          Object.assign(existing, rec);
        } else {
          if (existing) existing.exitCode = undefined;
          addProcess(rec);
        }
        break;
      }
      case 'fork': {
        if (e.thread) {
          tgid.set(e.child, pid);
          break;
        }
        const parent = current.get(pid);
        tgid.delete(e.child);
        // until it execs, the child runs its parent's program
        const child: ProcessRecord = { pid: e.child, ppid: pid, exe: parent?.exe ?? '', argv: parent?.argv ?? [], startMs: rel };
        forkedOnly.add(child);
        addProcess(child);
        break;
      }
      case 'exit': {
        if (e.pid !== pid) break;
        const p = current.get(pid);
        if (p && p.exitCode === undefined) {
          p.exitCode = e.code;
          if (e.signal) p.signal = e.signal;
        }
        break;
      }
      case 'open': {
        const creates = e.flags.includes('O_CREAT') || e.flags.includes('O_TMPFILE');
        const writes = creates || e.flags.some((f) => f === 'O_WRONLY' || f === 'O_RDWR' || f === 'O_TRUNC' || f === 'O_APPEND');
        if (!writes) break;
        const rec: FileRecord = { op: creates ? 'create' : 'write', path: e.path, pid };
        if (e.ok === false) addFailed(e, rec);
        else if (!boringWrite(e.path)) addFile(rec);
        break;
      }
      case 'write': {
        if (e.ok === false) {
          addFailed(e, { op: 'write', path: e.path, pid });
          break;
        }
        if (boringWrite(e.path)) break;
        if (files.has(`create\0${e.path}\0\0`)) break;
        addFile({ op: 'write', path: e.path, pid });
        break;
      }
      case 'unlink': {
        const rec: FileRecord = { op: 'delete', path: e.path, pid };
        if (e.ok === false) addFailed(e, rec);
        else addFile(rec);
        break;
      }
      case 'rename': {
        const rec: FileRecord = { op: 'rename', path: e.from, to: e.to, pid };
        if (e.ok === false) addFailed(e, rec);
        else addFile(rec);
        break;
      }
      case 'chmod': {
        const rec: FileRecord = { op: 'chmod', path: e.path, pid, mode: e.mode };
        if (e.ok === false) addFailed(e, rec);
        else addFile(rec);
        break;
      }
      case 'socket':
        sockets.set(`${pid}:${e.fd}`, e.proto);
        break;
      case 'connect': {
        if (e.family !== 'inet' && e.family !== 'inet6' && e.family !== 'unix') break;
        const known = e.proto ?? sockets.get(`${pid}:${e.fd}`);
        const proto = e.family === 'unix' ? 'unix' : known === 'udp' || (known === undefined && e.via === 'sendto') ? 'udp' : 'tcp';
        const key = `${proto}\0${e.address}\0${e.port ?? ''}`;
        const seen = connections.get(key);
        if (!seen) connections.set(key, { proto, dst: e.address, port: e.port, pid, atMs: rel, ...(e.ok === undefined ? {} : { ok: e.ok }) });
        else if (e.ok === true) seen.ok = true;
        break;
      }
      case 'kill': {
        const target = current.get(e.target);
        const key = `${pid}\0${e.target}\0${e.signal}`;
        if (kills.has(key)) break;
        kills.set(key, {
          pid, target: e.target, signal: e.signal,
          ...(target?.exe ? { targetExe: target.exe } : {}),
          ...(e.ok === undefined ? {} : { ok: e.ok }),
        });
        break;
      }
    }
  };

  // strace -f may print a new child's first calls (even its execve) before the parent's clone() returns: those
  // calls wait until the fork that makes the child part of the tree has been seen.
  const forkIndex = new Map<number, number>();
  for (let i = from; i < events.length; i += 1) {
    const e = events[i]!;
    if (e.kind === 'fork' && !forkIndex.has(e.child)) forkIndex.set(e.child, i);
  }
  const early = new Map<number, TraceEvent[]>();
  for (let i = from; i < events.length; i += 1) {
    const e = events[i]!;
    const forkedAt = forkIndex.get(e.pid);
    if (forkedAt !== undefined && forkedAt > i) {
      const waiting = early.get(e.pid) ?? [];
      if (waiting.length < MAX_EARLY_EVENTS) waiting.push(e);
      early.set(e.pid, waiting);
      continue;
    }
    handle(e);
    if (e.kind === 'fork') {
      const waiting = early.get(e.child);
      early.delete(e.child);
      for (const w of waiting ?? []) handle(w);
    }
  }

  return {
    processes,
    files: [...files.values()].slice(0, lim.maxFiles),
    connections: [...connections.values()].slice(0, lim.maxConnections),
    kills: [...kills.values()].slice(0, lim.maxKills),
    counts: { processes: processCount, files: files.size, connections: connections.size, kills: kills.size },
  };
}

function empty(): Behaviour {
  return { processes: [], files: [], connections: [], kills: [], counts: { processes: 0, files: 0, connections: 0, kills: 0 } };
}
