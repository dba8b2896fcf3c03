/**
 * The run record: what a sample did in the sandbox, one type per kind of event. The monitor and the sinkhole
 * produce these, the behaviour rules read them, and the report's `behavior` holds them as they are.
 */

/** One process the sample ran (`behavior.processes`). */
export interface ObservedProcess {
  pid: number;
  ppid: number;
  exe: string;
  argv: string[];
  /** Ms since the container's first process started. */
  startMs: number;
}

/** A signal sent by a process of the sample. */
export interface ObservedKill {
  pid: number;
  target: number;
  signal: string;
  /** The target's program, when it was a process of the sample's tree. */
  targetExe?: string;
}

/**
 * A program the sample tried to start and the kernel refused (`behavior.failedExecs`): a download that never
 * arrived, a missing interpreter, a file left without its exec bit. Its argv still shows what it meant to run.
 */
export interface ObservedFailedExec {
  pid: number;
  exe: string;
  argv: string[];
  /** The errno name (`ENOENT`, `EACCES` …). */
  error: string;
  atMs: number;
}

/** A file the sample left behind, read back before teardown. */
export interface ObservedDroppedFile {
  /** Path inside the container. */
  path: string;
  size: number;
  /** Permission bits as left by the sample. */
  mode: number;
  sha256: string;
}

/** A file operation of the sample (`behavior.files`). `error` set: the attempt failed (it still shows intent). */
export interface ObservedFileOp {
  op: 'write' | 'create' | 'delete' | 'chmod' | 'rename';
  path: string;
  pid: number;
  /** rename: the new name. */
  to?: string;
  /** chmod: the new permission bits. */
  mode?: number;
  /** The errno name (EROFS, EACCES, ENOSPC …) of an attempt that failed. */
  error?: string;
  /** When it first happened: ms since the container's first process started (the clock of `startMs`). */
  atMs?: number;
}

export interface ObservedDnsQuery {
  name: string;
  type: string;
  pid: number | null;
  /** When it was first asked: ms since the container's first process started. */
  atMs?: number;
}

/**
 * A connection of the sample. `details` is what the sinkhole drew out of it (HTTP requests, TLS SNI and ALPN,
 * stratum login with wallet and agent, banners: the shapes of src/detonate/sinkhole/events.ts per `protocol`),
 * absent for a connect the monitor saw and the sinkhole has no record of.
 */
export interface ObservedConnection {
  proto: 'tcp' | 'udp';
  dst: string;
  port: number;
  /** The name it was resolved from, or the HTTP Host / TLS SNI the sample sent. */
  host?: string;
  /** The first bytes the sample sent, as readable text (escapes for the rest). */
  firstBytes: string;
  protocol: 'stratum' | 'http' | 'tls' | 'ssh' | 'irc' | 'smtp' | 'unknown';
  pid?: number;
  /** When it was opened: ms since the container's first process started. */
  atMs?: number;
  details?: Record<string, unknown>;
}

/**
 * How complete the syscall record behind `processes`, `files`, `kills` (and the connect attempts in
 * `connections`) is. The lists are bounded; a sample that floods one kind of record cannot push the rest out, but
 * what they leave out is counted here, so a reader knows the record is not the whole story.
 */
export interface BehaviorTrace {
  /** false when something below was left out or lost, or no syscall trace was taken. */
  complete: boolean;
  /** Bytes of syscall trace read (streamed through a pipe while the sample ran; never stored). */
  traceBytes: number;
  /** Records seen but not listed, per list; `events`: calls the monitor could not place. */
  omitted: { processes: number; files: number; connections: number; kills: number; events: number };
  /** Why the record is incomplete, a sentence each. */
  notes: string[];
}

/**
 * The run record, `behavior` of the report contract: what the image did when run in the sandbox. The detonation
 * stage returns it, the behaviour and correlation rules read it, the report holds it as it is. Beyond DESIGN §3 (extensions):
 * `killedBy`, `kills`, `dropped`, `pids`, `limitsHit`, `series`, `output`, `timings`, `trace`, `sinkAddress`, the `rename` op,
 * failed attempts (`error`), and the ssh/irc/smtp protocols.
 */
export interface RunRecord {
  /** The name of the runtime that ran the sample (`gvisor`, `runc`: src/detonate/runtime/registry.ts). */
  sandbox: string;
  durationMs: number;
  exitCode: number | null;
  timedOut: boolean;
  /** What ended the run when a limit did: the deadline, the memory limit, the pids limit. */
  killedBy?: 'deadline' | 'memory' | 'pids';
  processes: ObservedProcess[];
  files: ObservedFileOp[];
  dns: ObservedDnsQuery[];
  connections: ObservedConnection[];
  /** Signals sent by the sample's processes. */
  kills: ObservedKill[];
  /** Programs the sample tried to start and could not (absent in records made before issue 16). */
  failedExecs?: ObservedFailedExec[];
  /** Files the sample left in its writable layer, as read back before teardown (the static detectors ran on them). */
  dropped?: ObservedDroppedFile[];
  /** How complete the syscall record is; absent when no syscall monitor ran. */
  trace?: BehaviorTrace;
  cpu: { seconds: number; peakCores: number };
  memory: { peakBytes: number };
  pids: { peak: number };
  limitsHit: { oomKills: number; pidsLimitHits: number; diskFull?: boolean };
  /** Cgroup samples over the run, one a second: `t` ms since start. */
  series: { t: number; cpuSeconds: number; memoryBytes: number; pids: number }[];
  /** The start of the sample's stdout and stderr. */
  output: { stdout: string; stderr: string; truncated: boolean };
  timings: { setupMs: number; firstExecMs?: number; teardownMs: number };
  /** The sink's address: every name the sample looked up was answered with it, and its resolver is there. */
  sinkAddress?: string;
}

/** `behavior` when the image could not be run: why. */
export interface RunFailure {
  error: string;
}
