/**
 * What the trace parsers (strace's text, a runtime's own log) share: the limits, where the events go (a sink
 * that folds them as the trace streams in, or a bounded list), a clock that survives midnight in time-of-day
 * timestamps, and the end of the parse.
 */
import { callToEvents, type ArgReader, type Call } from './calls.js';
import type { ParseResult, TraceEvent } from './events.js';
import { DEFAULT_PARSE_LIMITS, type ParseLimits } from './limits.js';

const FORKS = new Set(['clone', 'clone3', 'fork', 'vfork']);
/** The kernel's restart codes (strace names them; gVisor prints their numbers, named in its strace-log.ts). */
const RESTARTED: ReadonlySet<string> = new Set(['ERESTARTSYS', 'ERESTARTNOINTR', 'ERESTARTNOHAND', 'ERESTART_RESTARTBLOCK']);

export type EventSink = (event: TraceEvent) => void;

export abstract class TraceLineParser {
  protected readonly limits: ParseLimits;
  protected readonly args: ArgReader;
  protected unparsed = 0;
  /** The last time seen, in ms; lines without a time of their own get it. */
  protected lastMs = 0;
  private readonly events: TraceEvent[] = [];
  private dropped = 0;
  private refusedForks = 0;
  private dayOffset = 0;

  /** Without a `sink` the events are kept (up to `maxEvents`) and returned by `end()`. */
  constructor(limits: Partial<ParseLimits>, reader: (maxChars: number) => ArgReader, private readonly sink?: EventSink) {
    this.limits = { ...DEFAULT_PARSE_LIMITS, ...limits };
    this.args = reader(this.limits.maxStringChars);
  }

  /** Feeds one line of the trace. */
  abstract push(rawLine: string): void;

  /** Emits what is still pending (calls that never resumed, a record without its end). */
  protected abstract finish(): void;

  /** When the container's first process started (epoch ms), if the trace tells: a runtime's log may, strace's does not. */
  firstExecEpochMs(): number | undefined {
    return undefined;
  }

  end(): ParseResult {
    this.finish();
    return { events: this.events, dropped: this.dropped, unparsed: this.unparsed, refusedForks: this.refusedForks };
  }

  /** A time of day in ms (or null: none on this line) as a monotonic clock: a jump back of over 12 h is the next day. */
  protected clock(ms: number | null): number {
    if (ms === null) return this.lastMs;
    if (ms + this.dayOffset < this.lastMs - 12 * 3600_000) this.dayOffset += 24 * 3600_000;
    this.lastMs = ms + this.dayOffset;
    return this.lastMs;
  }

  protected emit(events: readonly TraceEvent[]): void {
    for (const e of events) {
      if (this.sink) this.sink(e);
      else if (this.events.length < this.limits.maxEvents) this.events.push(e);
      else this.dropped += 1;
    }
  }

  protected emitCall(call: Call): void {
    // A call a signal interrupted: the kernel restarts it (the restarted call is traced on its own) or the program
    // sees EINTR and may retry. Either way it decided nothing about its file or address: not a failed attempt.
    if (call.errno !== undefined && RESTARTED.has(call.errno)) return;
    // counted, not listed: a program that retries a refused fork in a loop would fill the event list
    if (call.errno === 'EAGAIN' && FORKS.has(call.name)) this.refusedForks += 1;
    this.emit(callToEvents(call, this.args, this.limits));
  }
}

/** Parses a whole trace held in memory. */
export function parseLines(parser: TraceLineParser, text: string): ParseResult {
  for (const line of text.split('\n')) parser.push(line);
  return parser.end();
}
