/**
 * The runtime-neutral syscall events the trace parsers (strace's text here, a runtime's own in its folder) produce.
 * Times are milliseconds on the log's own clock (time of day for strace and glog text, epoch for gVisor JSON
 * logs); only differences matter. `errno` is set when the call failed; `ok` is false then, true when the call
 * returned success, and undefined when the trace ended (or the task died) before the result was printed.
 */
export interface EventBase {
  pid: number;
  tMs: number;
  ok?: boolean;
  errno?: string;
}

export interface ExecEvent extends EventBase {
  kind: 'exec';
  exe: string;
  argv: string[];
  /** The argv list or one of its strings was cut by the tracer (`...`) or by our own bounds. */
  argvTruncated: boolean;
}

export interface ForkEvent extends EventBase {
  kind: 'fork';
  child: number;
  /** CLONE_THREAD: a new thread of `pid`, not a new process. */
  thread: boolean;
}

export interface ExitEvent extends EventBase {
  kind: 'exit';
  code: number | null;
  signal?: string;
}

export interface OpenEvent extends EventBase {
  kind: 'open';
  path: string;
  flags: string[];
  mode?: number;
}

export interface WriteEvent extends EventBase {
  kind: 'write';
  path: string;
}

export interface UnlinkEvent extends EventBase {
  kind: 'unlink';
  path: string;
  directory: boolean;
}

export interface RenameEvent extends EventBase {
  kind: 'rename';
  from: string;
  to: string;
}

export interface ChmodEvent extends EventBase {
  kind: 'chmod';
  path: string;
  mode: number;
}

export interface SocketEvent extends EventBase {
  kind: 'socket';
  fd: number;
  proto: 'tcp' | 'udp' | 'raw' | 'other';
}

export interface ConnectEvent extends EventBase {
  kind: 'connect';
  /** `sendto` carries an address only for datagram sockets. */
  via: 'connect' | 'sendto';
  fd: number;
  family: 'inet' | 'inet6' | 'unix' | 'other';
  address: string;
  port: number | null;
  /** Known when the tracer annotated the socket (`strace -yy`) or a `socket()` call was seen. */
  proto?: 'tcp' | 'udp';
}

export interface KillEvent extends EventBase {
  kind: 'kill';
  target: number;
  signal: string;
}

export type TraceEvent =
  | ExecEvent
  | ForkEvent
  | ExitEvent
  | OpenEvent
  | WriteEvent
  | UnlinkEvent
  | RenameEvent
  | ChmodEvent
  | SocketEvent
  | ConnectEvent
  | KillEvent;

export interface ParseResult {
  events: TraceEvent[];
  /** Events not kept because of `maxEvents` (only when the parser keeps them, not when it streams them to a sink). */
  dropped: number;
  /** Lines that looked like neither a syscall nor something we knowingly skip. */
  unparsed: number;
  /** clone, clone3, fork and vfork calls refused with EAGAIN (a task limit: the pids controller, RLIMIT_NPROC). */
  refusedForks: number;
}

/**
 * The syscalls every tracer watches (strace's `-e trace=`, `runsc --strace-syscalls=`): what `callToEvents` turns
 * into events, nothing more. `write` is not among them: a file opened for writing is recorded at its open, and a
 * sample's flood of writes would otherwise bury everything after it.
 */
export const TRACED_SYSCALLS = [
  'execve', 'execveat', 'clone', 'fork', 'vfork', 'exit_group', 'openat', 'open', 'creat', 'unlink', 'unlinkat',
  'rename', 'renameat', 'renameat2', 'chmod', 'fchmod', 'fchmodat', 'socket', 'connect', 'sendto', 'kill', 'tgkill',
] as const;

/**
 * `strace` arguments (before the traced command) that produce what `parseStrace` reads best. `--seccomp-bpf`
 * stops the tracees only at the traced calls, so the others (reads, writes, a flood of them) run at full speed.
 */
export function straceArgs(outputFile: string): string[] {
  return [
    '-f', '--seccomp-bpf', '-tt', '-yy', '-s', '256', '--pidns-translation',
    '-e', `trace=${[...TRACED_SYSCALLS, 'clone3'].join(',')}`,
    '-e', 'signal=none',
    '-o', outputFile,
  ];
}

export function bounded(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s;
}
