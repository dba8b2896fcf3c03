/**
 * Folds a TraceEvent stream into the report's `behavior` lists: the process tree with argv, file changes,
 * connection attempts and kills. In a trace that shows the runtime's own setup (`strace -f` around runc),
 * everything before the container entrypoint's execve (the runtime's init) and every process outside the
 * entrypoint's tree is dropped (`TraceStart`). The fold works one event at a time in bounded memory, so a trace of any length can be folded as it is
 * read. Lists are deduplicated and bounded so that a flood of one kind cannot push the rest out (BoundedList);
 * `counts` keeps the real totals and `omitted` what the lists left out (a fork bomb stays visible).
 */
import { randomBytes } from 'node:crypto';
import { BoundedList } from './bounded-list.js';
import type { ObservedFailedExec, ObservedFileOp, ObservedKill, ObservedProcess } from '../../model/index.js';
import type { TraceEvent } from './events.js';
import type { TraceStart } from './trace-source.js';
import { DEFAULT_NORMALISE_LIMITS, MAX_PENDING_FAILED_EXECS, MAX_SEEN_KEYS, MAX_TRACKED_PIDS, MAX_WAITING_EVENTS, MAX_WAITING_PER_PID, WAIT_WINDOW_EVENTS } from './limits.js';

/** A process as the fold tracks it: the run record's process plus what the fold needs while it reads the trace. */
export interface TracedProcess extends ObservedProcess {
  argvTruncated?: boolean;
  exitCode?: number | null;
  signal?: string;
}

/** A connect call as the trace shows it (unix sockets and failed calls included; the session keeps what it can place). */
export interface TracedConnect {
  proto: 'tcp' | 'udp' | 'unix';
  dst: string;
  port: number | null;
  pid: number;
  ok?: boolean;
  /** Ms since the container's first process started, at the first connect. */
  atMs?: number;
}

/** A signal as the fold tracks it: `ok` false when the kill call failed. */
export interface TracedKill extends ObservedKill {
  ok?: boolean;
}

export interface FoldedTrace {
  processes: TracedProcess[];
  files: ObservedFileOp[];
  connections: TracedConnect[];
  kills: TracedKill[];
  /** Programs the sample tried to start and could not (not the PATH lookups of a shell that then found them). */
  failedExecs: ObservedFailedExec[];
  /** Totals before the list bounds (deduplicated). */
  counts: { processes: number; files: number; connections: number; kills: number };
  /** Records of each kind the bounded lists left out (`counts` minus what is listed). */
  omitted: { processes: number; files: number; connections: number; kills: number };
  /** After a runtime's init: calls of processes never seen to start, in the sample's tree or the runtime's: whose they were is unknown. */
  lostEvents: number;
}

export interface NormaliseOptions {
  /** Where the sample's events start (the runtime's `trace.start`). Default `all`: every event is the sample's. */
  start?: TraceStart;
  maxProcesses?: number;
  /** Successful file operations listed (deduplicated by operation, path, new name and mode). */
  maxFiles?: number;
  maxConnections?: number;
  maxKills?: number;
  /** Failed execs listed (deduplicated by pid and argv). */
  maxFailedExecs?: number;
  /** Failed file attempts listed besides `maxFiles` (deduplicated by operation, path and errno). */
  maxFailedFiles?: number;
  /**
   * When a list is full, a newcomer takes the place of a record from the most crowded group (same program, same
   * directory, same destination, same signal), never of one of the first `keepFirstPerGroup` records of a group.
   */
  keepFirstPerGroup?: number;
}

/** Failures that say nothing about intent: a missing path (probing, `rm -f`), an O_EXCL race, a retry. */
const UNINTERESTING_ERRNOS = new Set(['ENOENT', 'EEXIST', 'ENOTDIR', 'EISDIR', 'ELOOP', 'EINTR', 'EAGAIN', 'EBADF', 'EPIPE', 'ENXIO']);

/** argv[0] of a shell, as busybox ash and glibc's execvp name it when they run a file as a script. */
const SHELL = /^(.*\/)?-?(sh|ash|bash|dash|ksh|mksh|zsh)$/;


/** The magic links to the calling process's own program. */
const SELF_EXE = /^\/proc\/(self|thread-self)\/exe$/;

/** Writes that say nothing about the sample: terminals, the null device, pipes and sockets. */
function boringWrite(path: string): boolean {
  return !path.startsWith('/') || /^\/dev\/(null|zero|tty\S*|pts\/\d+|std(in|out|err)|console|full)$/.test(path) ||
    /^\/proc\/self\/fd\/\d+$/.test(path);
}

/**
 * The keys of the records seen so far, as 64-bit hashes in a fixed open-addressing table (no allocation per key),
 * up to `max` keys; past that nothing new is remembered, and a left-out record seen again counts again. The hash
 * seeds are random per run: a sample cannot make a path it wants hidden collide with one it wrote before.
 */
class SeenKeys {
  private readonly lo: Int32Array;
  private readonly hi: Int32Array;
  private readonly mask: number;
  private size = 0;
  private readonly seed1: number;
  private readonly seed2: number;
  /** The hash of the key `find` last looked for. */
  private h1 = 0;
  private h2 = 0;

  constructor(private readonly max: number) {
    let slots = 1024;
    while (slots < max * 2) slots *= 2;
    this.lo = new Int32Array(slots);
    this.hi = new Int32Array(slots);
    this.mask = slots - 1;
    const seeds = randomBytes(8);
    this.seed1 = seeds.readInt32LE(0);
    this.seed2 = seeds.readInt32LE(4);
  }

  has(key: string): boolean {
    return this.find(key) < 0;
  }

  /** true when `key` is new. */
  add(key: string): boolean {
    const slot = this.find(key);
    if (slot < 0) return false;
    if (this.size < this.max) {
      this.lo[slot - 1] = this.h1;
      this.hi[slot - 1] = this.h2;
      this.size += 1;
    }
    return true;
  }

  /** -1 when `key` is there, else 1 + the free slot it would take. Leaves the key's hash in h1/h2. */
  private find(key: string): number {
    let h1 = 0xdeadbeef ^ this.seed1;
    let h2 = 0x41c6ce57 ^ this.seed2;
    for (let i = 0; i < key.length; i += 1) {
      const c = key.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 2654435761);
      h2 = Math.imul(h2 ^ c, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    // 0 in both halves marks a free slot
    if (h1 === 0 && h2 === 0) h2 = 1;
    this.h1 = h1;
    this.h2 = h2;
    for (let slot = h1 & this.mask; ; slot = (slot + 1) & this.mask) {
      const a = this.lo[slot]!;
      const b = this.hi[slot]!;
      if (a === 0 && b === 0) return slot + 1;
      if (a === h1 && b === h2) return -1;
    }
  }
}

/** A Map that forgets its oldest entries past `max`. */
function setBounded<K, V>(map: Map<K, V>, key: K, value: V, max: number): void {
  if (!map.has(key) && map.size >= max) {
    const oldest = map.keys().next();
    if (!oldest.done) map.delete(oldest.value);
  }
  map.set(key, value);
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

/**
 * Folds TraceEvents one at a time, as the trace is read, in bounded memory: however long the trace, the lists hold
 * at most their bounds (a flood of one kind gives up its own slots first, see BoundedList) and the bookkeeping is
 * bounded too. `end()` gives the FoldedTrace.
 */
export class BehaviourFolder {
  private readonly lim: Required<Omit<NormaliseOptions, 'start'>>;
  /** The runtime's init, when the trace starts with the runtime's own setup. */
  private readonly isInit: ((e: TraceEvent) => boolean) | undefined;
  /** After an init: waiting for it, then for the entrypoint's exec; then (and for `all` at once) folding. */
  private phase: 'init' | 'entry' | 'folding';
  private root: number | undefined;
  private t0: number | undefined;
  /** The time of the event being handled, for the records it makes. */
  private now = 0;
  private pushed = 0;
  private lost = 0;

  // pid → the process record currently running in it; tid → its process (threads share the record).
  private readonly current = new Map<number, TracedProcess>();
  private readonly tgid = new Map<number, number>();
  /** Processes whose exit was seen: their pid's next calls belong to a new process, once its fork is seen. */
  private readonly exited = new Set<number>();
  /** Records of forks that have not exec'd (yet). */
  private readonly forkedOnly = new WeakSet<TracedProcess>();
  /** pid → the file its last execve refused with ENOEXEC (not a program, no #! line). */
  private readonly refusedExec = new Map<number, string>();
  private readonly sockets = new Map<string, 'tcp' | 'udp' | 'raw' | 'other'>();
  /** Names files were renamed to (a file written during the run may be run under one). */
  private readonly renamedTo = new SeenKeys(MAX_SEEN_KEYS / 4);
  private processCount = 0;

  private readonly processes: BoundedList<TracedProcess>;
  private readonly files: BoundedList<ObservedFileOp>;
  private readonly failedFiles: BoundedList<ObservedFileOp>;
  private readonly connections: BoundedList<TracedConnect>;
  private readonly kills: BoundedList<TracedKill>;
  private readonly failedExecs: BoundedList<ObservedFailedExec>;
  /**
   * pid → execs it failed, not listed yet: a shell looking a command up in PATH fails once per directory before
   * the one that holds it, so a pid's failures count only if it does not then run the same argv.
   */
  private readonly pendingFailedExecs = new Map<number, ObservedFailedExec[]>();
  private readonly seen = { files: new SeenKeys(MAX_SEEN_KEYS), connections: new SeenKeys(MAX_SEEN_KEYS / 4), kills: new SeenKeys(MAX_SEEN_KEYS / 4) };
  private readonly distinct = { files: 0, connections: 0, kills: 0 };
  /** Listed connections by key, to mark a later successful attempt. */
  private readonly connectionByKey = new Map<string, TracedConnect>();

  /** Calls of pids not known yet, waiting for their fork. */
  private readonly waiting = new Map<number, { since: number; events: TraceEvent[] }>();
  private waitingEvents = 0;
  /** After an init: the runtime's own processes (seen before the entrypoint, or made by them), whose calls are not the sample's. */
  private readonly outside = new Set<number>();

  constructor(options: NormaliseOptions) {
    const { start = 'all', ...limits } = options;
    this.lim = { ...DEFAULT_NORMALISE_LIMITS, ...definedOnly(limits) };
    this.isInit = start === 'all' ? undefined : (e) => e.kind === 'exec' && start.afterInit(e);
    this.phase = this.isInit ? 'init' : 'folding';
    const keepFirst = this.lim.keepFirstPerGroup;
    this.processes = new BoundedList({ capacity: this.lim.maxProcesses, keepFirst, group: (p) => p.exe });
    this.files = new BoundedList({ capacity: this.lim.maxFiles, keepFirst, group: (f) => dirOf(f.path) });
    this.failedFiles = new BoundedList({ capacity: this.lim.maxFailedFiles, keepFirst, group: (f) => dirOf(f.path) });
    this.connections = new BoundedList({ capacity: this.lim.maxConnections, keepFirst, group: (c) => c.dst });
    this.kills = new BoundedList({ capacity: this.lim.maxKills, keepFirst, group: (k) => k.signal });
    this.failedExecs = new BoundedList({ capacity: this.lim.maxFailedExecs, keepFirst, group: (x) => x.argv[0] ?? x.exe });
  }

  /** A failed exec waits until the pid runs something else, exits, or the trace ends. */
  private failedExec(pid: number, e: Extract<TraceEvent, { kind: 'exec' }>): void {
    const pending = this.pendingFailedExecs.get(pid) ?? [];
    if (pending.length >= MAX_PENDING_FAILED_EXECS || pending.some((x) => sameArgv(x.argv, e.argv))) return;
    pending.push({ pid, exe: e.exe, argv: e.argv, error: e.errno ?? 'unknown', atMs: this.now });
    setBounded(this.pendingFailedExecs, pid, pending, MAX_TRACKED_PIDS);
  }

  /** The pid ran `argv` (or exited, `argv` undefined): its other failures stand. */
  private settleFailedExecs(pid: number, argv?: readonly string[]): void {
    const pending = this.pendingFailedExecs.get(pid);
    if (!pending) return;
    this.pendingFailedExecs.delete(pid);
    for (const x of pending) if (!argv || !sameArgv(x.argv, argv)) this.failedExecs.offer(x);
  }

  push(e: TraceEvent): void {
    this.pushed += 1;
    if (this.phase !== 'folding') {
      if (this.phase === 'init' && this.isInit!(e)) this.phase = 'entry';
      else if (this.phase === 'entry' && e.kind === 'exec' && e.ok !== false && !this.isInit!(e)) {
        this.phase = 'folding';
        this.root = e.pid;
        this.outside.delete(e.pid);
      }
      if (this.phase !== 'folding') {
        this.markOutside(e);
        return;
      }
    }
    this.root ??= e.pid;
    if (this.outside.has(e.pid)) this.markOutside(e);
    else if (this.known(e.pid)) this.handleWithWaiting(e);
    else this.wait(e);
    this.releaseStale();
  }

  private markOutside(e: TraceEvent): void {
    if (this.outside.size >= MAX_TRACKED_PIDS) return;
    this.outside.add(e.pid);
    if (e.kind === 'fork') this.outside.add(e.child);
  }

  end(): FoldedTrace {
    // calls whose fork never came: handled as they are, in order
    for (const pid of [...this.waiting.keys()]) this.release(pid, false);
    for (const pid of [...this.pendingFailedExecs.keys()]) this.settleFailedExecs(pid);
    const files = [...this.files.values(), ...this.failedFiles.values()].sort((a, b) => (a.atMs ?? 0) - (b.atMs ?? 0));
    const processes = this.processes.values();
    const connections = this.connections.values();
    const kills = this.kills.values();
    const counts = {
      processes: this.processCount,
      files: Math.max(this.distinct.files, files.length),
      connections: Math.max(this.distinct.connections, connections.length),
      kills: Math.max(this.distinct.kills, kills.length),
    };
    return {
      processes,
      files,
      connections,
      kills,
      failedExecs: this.failedExecs.values().sort((a, b) => a.atMs - b.atMs),
      counts,
      omitted: {
        processes: counts.processes - processes.length,
        files: counts.files - files.length,
        connections: counts.connections - connections.length,
        kills: counts.kills - kills.length,
      },
      lostEvents: this.lost,
    };
  }

  private owner(pid: number): number {
    return this.tgid.get(pid) ?? pid;
  }

  private known(pid: number): boolean {
    if (pid === this.root || this.tgid.has(pid)) return true;
    return this.current.has(pid) && !this.exited.has(pid);
  }

  private inTree(pid: number): boolean {
    return !this.isInit || this.current.has(this.owner(pid)) || this.owner(pid) === this.root;
  }

  private wait(e: TraceEvent): void {
    let w = this.waiting.get(e.pid);
    if (!w) {
      w = { since: this.pushed, events: [] };
      this.waiting.set(e.pid, w);
    }
    w.events.push(e);
    this.waitingEvents += 1;
    if (w.events.length >= MAX_WAITING_PER_PID) this.release(e.pid, false);
    while (this.waitingEvents > MAX_WAITING_EVENTS) {
      const oldest = this.waiting.keys().next();
      if (oldest.done) break;
      this.release(oldest.value, false);
    }
  }

  /** Handles the calls of `pid` that waited for its fork: now seen (`forked`), or not coming. */
  private release(pid: number, forked: boolean): void {
    const w = this.waiting.get(pid);
    if (!w) return;
    this.waiting.delete(pid);
    this.waitingEvents -= w.events.length;
    for (const e of w.events) {
      // after an init: calls of a process never seen to start in the tree, nor known to be the runtime's: whose they were is unknown
      if (!forked && !this.inTree(e.pid)) this.lost += 1;
      this.handleWithWaiting(e);
    }
  }

  private releaseStale(): void {
    for (;;) {
      const first = this.waiting.entries().next();
      if (first.done || this.pushed - first.value[1].since <= WAIT_WINDOW_EVENTS) return;
      this.release(first.value[0], false);
    }
  }

  private handleWithWaiting(e: TraceEvent): void {
    this.handle(e);
    if (e.kind === 'fork' && this.waiting.has(e.child)) this.release(e.child, true);
  }

  private addProcess(p: TracedProcess, pin: boolean): void {
    this.processCount += 1;
    setBounded(this.current, p.pid, p, MAX_TRACKED_PIDS);
    this.processes.offer(p, pin);
  }

  /** Whether `path` was written during the run: running it is what droppers do, so such records are pinned. */
  private written(path: string): boolean {
    return this.seen.files.has(`create\0${path}\0\0`) || this.seen.files.has(`write\0${path}\0\0`) || this.renamedTo.has(path);
  }

  /** A dropped file run as a program: the process and the file's records stay listed. */
  private pinDropped(exe: string): void {
    for (const f of this.files.values()) {
      if (f.path === exe || f.to === exe) this.files.pin(f);
    }
  }

  private addFile(f: ObservedFileOp): void {
    const key = `${f.op}\0${f.path}\0${f.to ?? ''}\0${f.mode ?? ''}`;
    if (f.op === 'rename' && f.to !== undefined) this.renamedTo.add(f.to);
    if (!this.seen.files.add(key)) return;
    this.distinct.files += 1;
    this.files.offer({ ...f, atMs: this.now });
  }

  /** A failed attempt (ok false), kept when its errno says something and its path is not boring. */
  private addFailed(e: { ok?: boolean; errno?: string }, f: ObservedFileOp): void {
    if (!e.errno || UNINTERESTING_ERRNOS.has(e.errno) || boringWrite(f.path)) return;
    const key = `!${f.op}\0${f.path}\0${f.to ?? ''}\0${e.errno}`;
    if (!this.seen.files.add(key)) return;
    this.distinct.files += 1;
    this.failedFiles.offer({ ...f, error: e.errno, atMs: this.now });
  }

  private handle(e: TraceEvent): void {
    if (!this.inTree(e.pid)) return;
    const pid = this.owner(e.pid);
    this.t0 ??= e.tMs;
    const rel = Math.max(0, Math.round(e.tMs - this.t0));
    this.now = rel;
    switch (e.kind) {
      case 'exec': {
        if (e.ok === false) {
          if (e.errno === 'ENOEXEC') setBounded(this.refusedExec, pid, e.exe, MAX_TRACKED_PIDS);
          else {
            this.refusedExec.delete(pid);
            this.failedExec(pid, e);
          }
          break;
        }
        this.settleFailedExecs(pid, e.argv);
        const refused = this.refusedExec.get(pid);
        this.refusedExec.delete(pid);
        const existing = this.current.get(pid);
        // A shell whose execve of a file without a #! line failed with ENOEXEC runs the file itself
        // (`ash FILE`, `/bin/sh FILE`): as for a #! script, the program is the file. busybox and other
        // multi-call programs re-execute themselves through /proc/self/exe: the program is the caller's.
        const exe = refused !== undefined && e.argv[1] === refused && SHELL.test(e.argv[0] ?? '') ? refused : SELF_EXE.test(e.exe) && existing?.exe ? existing.exe : e.exe;
        const rec: TracedProcess = {
          pid, ppid: existing?.ppid ?? 0, exe, argv: e.argv, startMs: rel,
          ...(e.argvTruncated ? { argvTruncated: true } : {}),
        };
        const dropped = this.written(exe);
        if (dropped) this.pinDropped(exe);
        // A fork that had not exec'd yet is the same process: it gets its program now.
        if (existing && this.forkedOnly.has(existing)) {
          this.forkedOnly.delete(existing);
          Object.assign(existing, rec);
          if (this.processes.has(existing)) {
            this.processes.regroup(existing);
            if (dropped) this.processes.pin(existing);
          } else this.processes.offer(existing, dropped);
        } else {
          if (existing) existing.exitCode = undefined;
          this.exited.delete(pid);
          this.addProcess(rec, dropped);
        }
        break;
      }
      case 'fork': {
        if (e.thread) {
          this.outside.delete(e.child);
          setBounded(this.tgid, e.child, pid, MAX_TRACKED_PIDS);
          break;
        }
        const parent = this.current.get(pid);
        this.tgid.delete(e.child);
        this.outside.delete(e.child);
        this.exited.delete(e.child);
        // until it execs, the child runs its parent's program
        const child: TracedProcess = { pid: e.child, ppid: pid, exe: parent?.exe ?? '', argv: parent?.argv ?? [], startMs: rel };
        this.forkedOnly.add(child);
        this.addProcess(child, false);
        break;
      }
      case 'exit': {
        if (e.pid !== pid) break;
        this.settleFailedExecs(pid);
        const p = this.current.get(pid);
        if (p && p.exitCode === undefined) {
          p.exitCode = e.code;
          if (e.signal) p.signal = e.signal;
        }
        if (this.exited.size >= MAX_TRACKED_PIDS) this.exited.clear();
        this.exited.add(pid);
        break;
      }
      case 'open': {
        const creates = e.flags.includes('O_CREAT') || e.flags.includes('O_TMPFILE');
        const writes = creates || e.flags.some((f) => f === 'O_WRONLY' || f === 'O_RDWR' || f === 'O_TRUNC' || f === 'O_APPEND');
        if (!writes) break;
        const rec: ObservedFileOp = { op: creates ? 'create' : 'write', path: e.path, pid };
        if (e.ok === false) this.addFailed(e, rec);
        else if (!boringWrite(e.path)) this.addFile(rec);
        break;
      }
      case 'write': {
        if (e.ok === false) {
          this.addFailed(e, { op: 'write', path: e.path, pid });
          break;
        }
        if (boringWrite(e.path)) break;
        if (this.seen.files.has(`create\0${e.path}\0\0`)) break;
        this.addFile({ op: 'write', path: e.path, pid });
        break;
      }
      case 'unlink': {
        const rec: ObservedFileOp = { op: 'delete', path: e.path, pid };
        if (e.ok === false) this.addFailed(e, rec);
        else this.addFile(rec);
        break;
      }
      case 'rename': {
        const rec: ObservedFileOp = { op: 'rename', path: e.from, to: e.to, pid };
        if (e.ok === false) this.addFailed(e, rec);
        else this.addFile(rec);
        break;
      }
      case 'chmod': {
        const rec: ObservedFileOp = { op: 'chmod', path: e.path, pid, mode: e.mode };
        if (e.ok === false) this.addFailed(e, rec);
        else this.addFile(rec);
        break;
      }
      case 'socket':
        setBounded(this.sockets, `${pid}:${e.fd}`, e.proto, MAX_TRACKED_PIDS);
        break;
      case 'connect': {
        if (e.family !== 'inet' && e.family !== 'inet6' && e.family !== 'unix') break;
        const known = e.proto ?? this.sockets.get(`${pid}:${e.fd}`);
        const proto = e.family === 'unix' ? 'unix' : known === 'udp' || (known === undefined && e.via === 'sendto') ? 'udp' : 'tcp';
        const key = `${proto}\0${e.address}\0${e.port ?? ''}`;
        if (!this.seen.connections.add(key)) {
          const listed = this.connectionByKey.get(key);
          if (listed && e.ok === true) listed.ok = true;
          break;
        }
        this.distinct.connections += 1;
        const rec: TracedConnect = { proto, dst: e.address, port: e.port, pid, atMs: rel, ...(e.ok === undefined ? {} : { ok: e.ok }) };
        if (this.connections.offer(rec)) {
          if (this.connectionByKey.size >= this.lim.maxConnections * 2) {
            for (const [k, c] of this.connectionByKey) if (!this.connections.has(c)) this.connectionByKey.delete(k);
          }
          this.connectionByKey.set(key, rec);
        }
        break;
      }
      case 'kill': {
        const target = this.current.get(e.target);
        if (!this.seen.kills.add(`${pid}\0${e.target}\0${e.signal}`)) break;
        this.distinct.kills += 1;
        this.kills.offer({
          pid, target: e.target, signal: e.signal,
          ...(target?.exe ? { targetExe: target.exe } : {}),
          ...(e.ok === undefined ? {} : { ok: e.ok }),
        });
        break;
      }
    }
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Folds a whole event list (a trace read into memory). */
export function normalise(events: readonly TraceEvent[], options: NormaliseOptions = {}): FoldedTrace {
  const folder = new BehaviourFolder(options);
  for (const e of events) folder.push(e);
  return folder.end();
}

function sameArgv(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
