/**
 * Where a syscall monitor gets a run's trace, as each runtime tells it (its `trace`, src/detonate/runtime/<name>/).
 * The monitor (session-monitor.ts) reads the trace from a FIFO as it is written and folds it (normalise.ts).
 */
import type { ExecEvent } from './events.js';
import type { ParseLimits } from './limits.js';
import type { EventSink, TraceLineParser } from './line-parser.js';

/**
 * Where the sample's events start in a trace. `all`: every event is the sample's (the trace holds the sandbox's
 * tasks only). `afterInit`: the trace shows the runtime's own setup too (a tracer around the runtime's process); the
 * sample starts at the first successful exec after the runtime's init exec, which `afterInit` recognises, and only
 * that exec's process tree is the sample's.
 */
export type TraceStart = 'all' | { afterInit(exec: ExecEvent): boolean };

export type TraceSource =
  /** `strace -f` around the runtime's process: the monitor runs it (when installed) and reads it (strace.ts). */
  | { kind: 'strace'; start: TraceStart }
  /** The runtime writes the trace itself into a file of the run's trace dir, which the monitor makes a FIFO. */
  | {
      kind: 'runtime';
      /** The runtime's flags for the run that make it write the trace to `<traceDir>/<file>`. */
      flags(traceDir: string): string[];
      /** The trace's file name in the trace dir. */
      file: string;
      /** Reads the trace's lines, handing each call's events to `sink`. */
      parser(limits: Partial<ParseLimits>, sink: EventSink): TraceLineParser;
      start: TraceStart;
    };
