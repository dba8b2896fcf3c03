/**
 * The detonation session's default syscall monitor: gVisor's own `--strace` (the sandbox's JSON debug log) or
 * `strace -f` around runc, folded by `BehaviourFolder` into the report's process tree and file operations, plus
 * the connect attempts the session merges with the sinkhole's records.
 *
 * The trace never touches the disk: the tracer writes into a FIFO in the run's trace dir, and the monitor reads
 * and folds it while the sample runs (a tracer that writes faster than we read waits, and so does the sample).
 * However long the trace, memory stays bounded (the folder's lists and bookkeeping are), and so the last thing a
 * sample did is seen as well as the first. What the bounded lists leave out is counted in the result's `trace`.
 */
import { closeSync, constants as fsConstants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { findExecutable, runBounded } from '../network/exec.js';
import type { BehaviorTrace, ObservedFileOp, ObservedKill, ObservedProcess } from '../../model/index.js';
import type { DetonationMonitor, MonitorConnection, MonitorContext, MonitorFindings } from './types.js';
import { GVISOR_LOG_NAME, gvisorStraceFlags, straceArgs, type ParseLimits } from './events.js';
import { GvisorStraceParser } from './gvisor.js';
import type { TraceLineParser } from './line-parser.js';
import { BehaviourFolder, DEFAULT_NORMALISE_LIMITS, type FoldedTrace } from './normalise.js';
import { StraceParser } from './strace.js';

export interface SyscallMonitorOptions {
  /** The strace binary for runc runs; default `strace` on PATH. Without one (or `false`), runc runs are not traced. */
  strace?: string | false;
  parseLimits?: Partial<ParseLimits>;
  /** How long `collect` waits, once the run is over, for the tracer to close the trace. Default 10 s. */
  drainTimeoutMs?: number;
}

/** The FIFOs the tracers write into: strace's `-o`, and the sandbox's (`boot`) log of `gvisorStraceFlags`. */
export const STRACE_FIFO = 'strace.fifo';
export const GVISOR_BOOT_FIFO = GVISOR_LOG_NAME.replace('%COMMAND%', 'boot');
const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** Splits a stream of text into lines, cutting long ones, without holding more than one line. */
class LineSplitter {
  private line = '';
  private cut = false;
  constructor(
    private readonly sink: (line: string) => void,
    private readonly maxLineChars: number,
  ) {}

  push(chunk: string): void {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', from);
      if (!this.cut) {
        this.line += nl < 0 ? chunk.slice(from) : chunk.slice(from, nl);
        if (this.line.length > this.maxLineChars) {
          this.line = this.line.slice(0, this.maxLineChars);
          this.cut = true;
        }
      }
      if (nl < 0) return;
      this.sink(this.line);
      this.line = '';
      this.cut = false;
      from = nl + 1;
    }
  }

  end(): void {
    if (this.line !== '') this.sink(this.line);
    this.line = '';
  }
}

/**
 * A trace being read from a FIFO as it is written. Our own write end (`keepOpen`) stands in for the tracer until
 * it opens the FIFO, so that the reader does not see an end before the tracer has started; `finish` gives it up.
 */
class LiveTrace {
  bytes = 0;
  /** What the consumer threw, if it did: the rest of the trace is drained unread. */
  failure: Error | undefined;
  private ended = false;
  private readonly done: Promise<void>;
  private keepOpen: number | undefined;

  private constructor(
    private readonly socket: Socket,
    keepOpen: number,
    onText: (chunk: string) => void,
  ) {
    this.keepOpen = keepOpen;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.bytes += Buffer.byteLength(chunk);
      if (this.failure) return;
      try {
        onText(chunk);
      } catch (err) {
        this.failure = err instanceof Error ? err : new Error(String(err));
      }
    });
    this.done = new Promise((resolve) => {
      socket.once('end', () => {
        this.ended = true;
        resolve();
      });
      socket.once('close', () => resolve());
      socket.once('error', () => resolve());
    });
    // the session's run keeps the process alive; a trace left open must not
    socket.unref();
  }

  static async open(fifo: string, onText: (chunk: string) => void): Promise<LiveTrace> {
    const made = await runBounded(findExecutable('mkfifo') ?? 'mkfifo', ['-m', '600', fifo], { timeoutMs: 5000 });
    if (made.code !== 0) throw new Error(`cannot make the trace FIFO ${fifo}: ${(made.stderr || made.spawnError || '').trim()}`);
    const readEnd = openSync(fifo, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    let keepOpen: number;
    try {
      keepOpen = openSync(fifo, fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
    } catch (err) {
      closeSync(readEnd);
      throw err;
    }
    return new LiveTrace(new Socket({ fd: readEnd, readable: true, writable: false }), keepOpen, onText);
  }

  /** Waits (up to `timeoutMs`) for every writer to close the trace; false: it was cut off instead. */
  async finish(timeoutMs: number): Promise<boolean> {
    this.releaseWriteEnd();
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([this.done.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs)))]);
    clearTimeout(timer);
    this.close();
    return !late && this.ended;
  }

  close(): void {
    this.releaseWriteEnd();
    this.socket.destroy();
  }

  private releaseWriteEnd(): void {
    if (this.keepOpen === undefined) return;
    closeSync(this.keepOpen);
    this.keepOpen = undefined;
  }
}

/** A run being traced, or why it is not (runc without strace). */
type Run =
  | { runtime: 'gvisor' | 'runc'; live: LiveTrace; parser: TraceLineParser; lines: LineSplitter; folder: BehaviourFolder }
  | { untraced: string };

function toFindings(b: FoldedTrace): MonitorFindings {
  const processes: ObservedProcess[] = b.processes.map((p) => ({ pid: p.pid, ppid: p.ppid, exe: p.exe, argv: p.argv, startMs: p.startMs }));
  const files: ObservedFileOp[] = [];
  const seen = new Set<string>();
  for (const f of b.files) {
    const path = f.path;
    const key = `${f.op}\0${path}\0${f.to ?? ''}\0${f.error ?? ''}\0${f.mode ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    files.push({
      op: f.op, path, pid: f.pid,
      ...(f.to !== undefined ? { to: f.to } : {}),
      ...(f.mode !== undefined ? { mode: f.mode } : {}),
      ...(f.error !== undefined ? { error: f.error } : {}),
      ...(f.atMs !== undefined ? { atMs: f.atMs } : {}),
    });
  }
  const connections: MonitorConnection[] = [];
  for (const c of b.connections) {
    if (c.proto === 'unix' || c.port === null) continue;
    connections.push({ proto: c.proto, dst: c.dst, port: c.port, pid: c.pid, ...(c.ok !== undefined ? { ok: c.ok } : {}), ...(c.atMs !== undefined ? { atMs: c.atMs } : {}) });
  }
  const kills: ObservedKill[] = b.kills.map((k) => ({ pid: k.pid, target: k.target, signal: k.signal, ...(k.targetExe !== undefined ? { targetExe: k.targetExe } : {}) }));
  return { processes, files, connections, kills };
}

const count = (n: number): string => n.toLocaleString('en-US');

/** What the record leaves out, in numbers and in words. */
export function traceSummary(b: FoldedTrace, bytes: number, problems: readonly string[]): BehaviorTrace {
  const lim = DEFAULT_NORMALISE_LIMITS;
  const o = b.omitted;
  const notes = [...problems];
  if (o.processes > 0) {
    notes.push(`${count(o.processes)} of ${count(b.counts.processes)} processes are not listed (the list keeps ${lim.maxProcesses}: the first runs of every program, the latest of one run many times, and every program written during the run)`);
  }
  if (o.files > 0) {
    notes.push(`${count(o.files)} of ${count(b.counts.files)} file operations are not listed (the list keeps ${lim.maxFiles}, and ${lim.maxFailedFiles} failed attempts: the first in every directory, the latest in a crowded one, and the files later run as programs)`);
  }
  if (o.connections > 0) notes.push(`${count(o.connections)} of ${count(b.counts.connections)} connection attempts seen by the tracer are not listed (the list keeps ${lim.maxConnections}, the first to every address)`);
  if (o.kills > 0) notes.push(`${count(o.kills)} of ${count(b.counts.kills)} signals sent are not listed (the list keeps ${lim.maxKills}, the first of every signal)`);
  if (b.lostEvents > 0) notes.push(`${count(b.lostEvents)} calls of processes whose start the trace did not show could not be placed`);
  return {
    complete: notes.length === 0,
    traceBytes: bytes,
    omitted: { processes: o.processes, files: o.files, connections: o.connections, kills: o.kills, events: b.lostEvents },
    notes,
  };
}

const NOTHING_OMITTED = { processes: 0, files: 0, connections: 0, kills: 0, events: 0 };

export function syscallMonitor(options: SyscallMonitorOptions = {}): DetonationMonitor {
  const limits = options.parseLimits ?? {};
  const maxLine = limits.maxLineChars ?? 64 * 1024;
  const drainMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
  const runs = new Map<string, Run>();
  const strace = (): string | undefined => (options.strace === false ? undefined : (options.strace ?? findExecutable('strace')));

  const dispose = (id: string): void => {
    const run = runs.get(id);
    if (run && 'live' in run) run.live.close();
    runs.delete(id);
  };

  return {
    async prepare(ctx: MonitorContext) {
      dispose(ctx.id);
      const straceBin = strace();
      if (ctx.runtime === 'runc' && !straceBin) {
        runs.set(ctx.id, { untraced: 'strace is not installed, so what the sample did under runc was not traced (apt-get install strace)' });
        return {};
      }
      const folder = new BehaviourFolder({ start: ctx.runtime === 'gvisor' ? 'all' : 'runc' });
      const sink = (e: Parameters<BehaviourFolder['push']>[0]): void => folder.push(e);
      const parser = ctx.runtime === 'gvisor' ? new GvisorStraceParser(limits, sink) : new StraceParser(limits, sink);
      const lines = new LineSplitter((line) => parser.push(line), maxLine);
      const fifo = join(ctx.traceDir, ctx.runtime === 'gvisor' ? GVISOR_BOOT_FIFO : STRACE_FIFO);
      const live = await LiveTrace.open(fifo, (chunk) => lines.push(chunk));
      runs.set(ctx.id, { runtime: ctx.runtime, live, parser, lines, folder });
      if (ctx.runtime === 'gvisor') return { runtimeFlags: gvisorStraceFlags(ctx.traceDir) };
      return { wrapper: [straceBin!, ...straceArgs(fifo), '--'] };
    },

    async collect(ctx: MonitorContext) {
      const run = runs.get(ctx.id);
      runs.delete(ctx.id);
      if (!run) return {};
      if ('untraced' in run) return { trace: { complete: false, traceBytes: 0, omitted: { ...NOTHING_OMITTED }, notes: [run.untraced] } };
      const { live, parser, lines, folder } = run;
      const closed = await live.finish(drainMs);
      lines.end();
      const parsed = parser.end();
      const problems: string[] = [];
      if (!closed) problems.push(`the tracer had not closed the trace ${Math.round(drainMs / 1000)} s after the run: what it wrote after that is not included`);
      if (live.bytes === 0) problems.push(run.runtime === 'gvisor' ? 'the sandbox wrote no syscall trace' : 'strace wrote no trace');
      if (live.failure) problems.push(`reading the trace failed (${live.failure.message.slice(0, 200)}): what came after is not included`);
      const behaviour = folder.end();
      const findings = toFindings(behaviour);
      const firstExecMs = parser instanceof GvisorStraceParser ? parser.firstExecMs : undefined;
      return {
        ...findings,
        trace: traceSummary(behaviour, live.bytes, problems),
        ...(firstExecMs !== undefined ? { firstExecEpochMs: firstExecMs } : {}),
        // gVisor's log holds the sandbox's tasks only: every refused fork is the sample's
        ...(run.runtime === 'gvisor' ? { refusedForks: parsed.refusedForks } : {}),
      };
    },

    dispose(ctx: MonitorContext) {
      dispose(ctx.id);
    },
  };
}
