/**
 * The detonation session's default syscall monitor: the trace the runtime names (its `trace`: gVisor's own
 * `--strace` in the sandbox's JSON debug log, `strace -f` around runc), folded by `BehaviourFolder` into the
 * report's process tree and file operations, plus the connect attempts the session merges with the sinkhole's
 * records.
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
import type { BehaviorTrace, ObservedFailedExec, ObservedFileOp, ObservedKill, ObservedProcess } from '../../model/index.js';
import { createRuntime } from '../runtime/registry.js';
import type { DetonationMonitor, MonitorConnection, MonitorContext, MonitorFindings, MonitorRuntimeRequest } from './types.js';
import { straceArgs } from './events.js';
import type { EventSink, TraceLineParser } from './line-parser.js';
import { BehaviourFolder, type FoldedTrace } from './normalise.js';
import { DEFAULT_NORMALISE_LIMITS, DEFAULT_PARSE_LIMITS, DEFAULT_TRACE_DRAIN_TIMEOUT_MS, TRACE_FIFO_TIMEOUT_MS, type ParseLimits } from './limits.js';
import { STRACE_FIFO, StraceParser } from './strace.js';
import type { TraceSource } from './trace-source.js';
import { within } from '../../util/timing.js';

export interface SyscallMonitorOptions {
  /**
   * The strace binary for runtimes traced from outside (runc); default `strace` on PATH. Without one (or `false`),
   * their runs are not traced.
   */
  strace?: string | false;
  parseLimits?: Partial<ParseLimits>;
  /** How long `collect` waits, once the run is over, for the tracer to close the trace. Default 10 s. */
  drainTimeoutMs?: number;
}

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
    const made = await runBounded(findExecutable('mkfifo') ?? 'mkfifo', ['-m', '600', fifo], { timeoutMs: TRACE_FIFO_TIMEOUT_MS });
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
    const late = await within(this.done.then(() => false), timeoutMs, true);
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

/** A run being traced, or why it is not (strace missing for a runtime traced from outside). */
type Run =
  | { live: LiveTrace; parser: TraceLineParser; lines: LineSplitter; folder: BehaviourFolder; empty: string; sampleOnly: boolean }
  | { untraced: string };

/** How one run is traced: what the runtime is asked for, where the trace comes in, who reads it. */
interface Tracing {
  request: MonitorRuntimeRequest;
  fifo: string;
  parser(sink: EventSink): TraceLineParser;
  /** What the result says when the tracer wrote nothing. */
  empty: string;
}

function tracing(source: TraceSource, ctx: MonitorContext, limits: Partial<ParseLimits>, strace: string): Tracing {
  if (source.kind === 'runtime') {
    return {
      request: { runtimeFlags: source.flags(ctx.traceDir) },
      fifo: join(ctx.traceDir, source.file),
      parser: (sink) => source.parser(limits, sink),
      empty: 'the sandbox wrote no syscall trace',
    };
  }
  const fifo = join(ctx.traceDir, STRACE_FIFO);
  return { request: { wrapper: [strace, ...straceArgs(fifo), '--'] }, fifo, parser: (sink) => new StraceParser(limits, sink), empty: 'strace wrote no trace' };
}

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
  const failedExecs: ObservedFailedExec[] = b.failedExecs.map((x) => ({ pid: x.pid, exe: x.exe, argv: x.argv, error: x.error, atMs: x.atMs }));
  return { processes, files, connections, kills, failedExecs };
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
  const maxLine = limits.maxLineChars ?? DEFAULT_PARSE_LIMITS.maxLineChars;
  const drainMs = options.drainTimeoutMs ?? DEFAULT_TRACE_DRAIN_TIMEOUT_MS;
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
      const source = (await createRuntime(ctx.runtime))?.trace;
      if (!source) {
        runs.set(ctx.id, { untraced: `the ${ctx.runtime} sandbox offers no syscall trace, so what the sample did was not traced` });
        return {};
      }
      const straceBin = strace();
      if (source.kind === 'strace' && !straceBin) {
        runs.set(ctx.id, { untraced: `strace is not installed, so what the sample did under ${ctx.runtime} was not traced (apt-get install strace)` });
        return {};
      }
      const how = tracing(source, ctx, limits, straceBin ?? 'strace');
      const folder = new BehaviourFolder({ start: source.start });
      const parser = how.parser((e) => folder.push(e));
      const lines = new LineSplitter((line) => parser.push(line), maxLine);
      const live = await LiveTrace.open(how.fifo, (chunk) => lines.push(chunk));
      // a trace of the sandbox's tasks alone: every refused fork in it is the sample's
      runs.set(ctx.id, { live, parser, lines, folder, empty: how.empty, sampleOnly: source.start === 'all' });
      return how.request;
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
      if (live.bytes === 0) problems.push(run.empty);
      if (live.failure) problems.push(`reading the trace failed (${live.failure.message.slice(0, 200)}): what came after is not included`);
      const behaviour = folder.end();
      const findings = toFindings(behaviour);
      const firstExecEpochMs = parser.firstExecEpochMs();
      return {
        ...findings,
        trace: traceSummary(behaviour, live.bytes, problems),
        ...(firstExecEpochMs !== undefined ? { firstExecEpochMs } : {}),
        ...(run.sampleOnly ? { refusedForks: parsed.refusedForks } : {}),
      };
    },

    dispose(ctx: MonitorContext) {
      dispose(ctx.id);
    },
  };
}
