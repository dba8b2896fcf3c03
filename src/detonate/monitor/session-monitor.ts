/**
 * The detonation session's default syscall monitor: gVisor's own `--strace` (JSON debug log, read back from the
 * sandbox's `*.boot*` log) or `strace -f` around runc, folded by `normalise` into the report's process tree and
 * file operations, plus the connect attempts the session merges with the sinkhole's records.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { findExecutable } from '../network/exec.js';
import type { BehaviorFile, BehaviorKill, BehaviorProcess, DetonationMonitor, MonitorConnection, MonitorContext, MonitorFindings } from '../session.js';
import { gvisorStraceFlags, straceArgs, type ParseLimits } from './events.js';
import { GvisorStraceParser } from './gvisor.js';
import { normalise, type Behaviour } from './normalise.js';
import { StraceParser } from './strace.js';

export interface SyscallMonitorOptions {
  /** The strace binary for runc runs; default `strace` on PATH. Without one, runc runs are not traced. */
  strace?: string;
  /** Bytes read of the trace logs (all of them together); the rest is ignored. Default 128 MiB. */
  maxTraceBytes?: number;
  parseLimits?: Partial<ParseLimits>;
}

const STRACE_FILE = 'strace.txt';
const DEFAULT_MAX_TRACE_BYTES = 128 * 1024 * 1024;

interface LineSink {
  push(line: string): void;
}

/** Feeds `file` line by line to `sink`, cutting long lines and stopping after `budget.bytes`. */
async function streamLines(file: string, sink: LineSink, budget: { bytes: number }, maxLineChars: number): Promise<void> {
  if (budget.bytes <= 0) return;
  const stream = createReadStream(file, { encoding: 'utf8', start: 0, end: budget.bytes - 1, highWaterMark: 256 * 1024 });
  let line = '';
  let cut = false;
  for await (const chunk of stream as AsyncIterable<string>) {
    budget.bytes -= Buffer.byteLength(chunk);
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf('\n', from);
      const part = nl < 0 ? chunk.slice(from) : chunk.slice(from, nl);
      if (!cut) {
        line += part;
        if (line.length > maxLineChars) {
          line = line.slice(0, maxLineChars);
          cut = true;
        }
      }
      if (nl < 0) break;
      sink.push(line);
      line = '';
      cut = false;
      from = nl + 1;
    }
  }
  if (line !== '') sink.push(line);
}

/** The runsc debug-log files of the sandbox process (`runsc.log.<time>.boot.txt`), oldest first. */
async function bootLogs(dir: string): Promise<string[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => /\.boot(\.|$)/.test(n)).sort();
  const files: string[] = [];
  for (const n of names) {
    const st = await stat(join(dir, n)).catch(() => undefined);
    if (st?.isFile()) files.push(join(dir, n));
  }
  return files;
}

function toFindings(b: Behaviour): MonitorFindings {
  const processes: BehaviorProcess[] = b.processes.map((p) => ({ pid: p.pid, ppid: p.ppid, exe: p.exe, argv: p.argv, startMs: p.startMs }));
  const files: BehaviorFile[] = [];
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
  const kills: BehaviorKill[] = b.kills.map((k) => ({ pid: k.pid, target: k.target, signal: k.signal, ...(k.targetExe !== undefined ? { targetExe: k.targetExe } : {}) }));
  return { processes, files, connections, kills };
}

export function syscallMonitor(options: SyscallMonitorOptions = {}): DetonationMonitor {
  const maxBytes = options.maxTraceBytes ?? DEFAULT_MAX_TRACE_BYTES;
  const limits = options.parseLimits ?? {};
  const maxLine = limits.maxLineChars ?? 64 * 1024;
  // the runtime of the run `prepare` set up for (runc without strace is not traced)
  const traced = new Set<string>();
  return {
    prepare(ctx: MonitorContext) {
      if (ctx.runtime === 'gvisor') {
        traced.add(ctx.id);
        // the runtime already points --debug-log at the trace dir
        return { runtimeFlags: gvisorStraceFlags(ctx.traceDir).filter((f) => !f.startsWith('--debug-log=')) };
      }
      const strace = options.strace ?? findExecutable('strace');
      if (!strace) return {};
      traced.add(ctx.id);
      return { wrapper: [strace, ...straceArgs(join(ctx.traceDir, STRACE_FILE)), '--'] };
    },
    async collect(ctx: MonitorContext) {
      if (!traced.delete(ctx.id)) return {};
      const budget = { bytes: maxBytes };
      if (ctx.runtime === 'gvisor') {
        const parser = new GvisorStraceParser(limits);
        for (const file of await bootLogs(ctx.traceDir)) await streamLines(file, parser, budget, maxLine);
        const parsed = parser.end();
        // the log holds the sandbox's tasks only: every refused fork is the sample's
        return { ...toFindings(normalise(parsed.events, { start: 'all' })), refusedForks: parsed.refusedForks };
      }
      const parser = new StraceParser(limits);
      await streamLines(join(ctx.traceDir, STRACE_FILE), parser, budget, maxLine).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
      return toFindings(normalise(parser.end().events, { start: 'runc' }));
    },
  };
}
