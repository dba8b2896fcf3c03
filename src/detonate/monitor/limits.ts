/**
 * Bounds of the syscall monitor (listed in `LIMIT_MODULES`, src/config/limits.ts): how much of a trace is parsed
 * and kept, and what the folder that turns it into processes, files, connections and signals remembers. The sample
 * decides how long its trace is and what its strings hold: these bounds keep parsing and folding a trace of any
 * length in bounded memory, and the lists the report shows short. Constants and their types only.
 */

// --- Parsing a trace (events.ts, line-parser.ts, calls.ts, text.ts) ---

export interface ParseLimits {
  /** Longest line (after joining continuation lines) we look at; the rest is cut. */
  maxLineChars: number;
  /** Longest decoded string (path, argv element). */
  maxStringChars: number;
  maxArgv: number;
  /** Events beyond this are counted in `dropped`, not kept (when the parser keeps them; a sink gets them all). */
  maxEvents: number;
  /** Calls left `<unfinished ...>` at once (threads); beyond this the oldest is forgotten. */
  maxPending: number;
}

/** Lines and strings far longer than real calls print (a path past PATH_MAX says no more); events of a busy run. */
export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxLineChars: 64 * 1024,
  maxStringChars: 4096,
  maxArgv: 256,
  maxEvents: 200_000,
  maxPending: 4096,
});
/** open(2) flags kept of one call (Linux has about twenty; a hostile tracer line may list more). */
export const MAX_OPEN_FLAGS = 32;
/** Characters kept of a signal the tracer printed neither as a name nor as a number. */
export const MAX_SIGNAL_TEXT_CHARS = 32;

// --- Folding the events into the run record (normalise.ts) ---

/** The lists' bounds; `NormaliseOptions` says what each is. The report shows each list whole: they stay short. */
export const DEFAULT_NORMALISE_LIMITS = Object.freeze({ maxProcesses: 256, maxFiles: 512, maxConnections: 256, maxKills: 128, maxFailedFiles: 64, maxFailedExecs: 32, keepFirstPerGroup: 4 });
/** Pids the folder keeps records of at once (programs, sockets, thread groups, exits), whatever the trace's length. */
export const MAX_TRACKED_PIDS = 65_536;
/**
 * Calls of a pid not known yet wait for the fork that makes it known (strace may print a child's first calls before
 * its parent's clone returns), up to this many per pid and in all, and for this many events; then they are handled
 * as they are.
 */
export const MAX_WAITING_PER_PID = 256;
export const MAX_WAITING_EVENTS = 16_384;
export const WAIT_WINDOW_EVENTS = 4096;
/** Distinct records remembered for deduplication (as hashes); past this, repeats of left-out records count again. */
export const MAX_SEEN_KEYS = 262_144;

// --- Reading the trace during a run (session-monitor.ts) ---

/** How long `collect` waits, once the run is over, for the tracer to close the trace, by default. */
export const DEFAULT_TRACE_DRAIN_TIMEOUT_MS = 10_000;
/** `mkfifo` of the trace FIFO: a local command that answers at once. */
export const TRACE_FIFO_TIMEOUT_MS = 5000;

/** Failed execs one pid may have waiting to be listed (a shell's PATH lookup fails once per directory before it finds a program). */
export const MAX_PENDING_FAILED_EXECS = 16;
