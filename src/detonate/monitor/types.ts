/**
 * The seam between a detonation session and its syscall monitor: what the session hands the monitor, what the
 * monitor asks of the runtime, and what it hands back (the run record's processes, file operations, connect
 * attempts and signals).
 */
import type { BehaviorTrace, ObservedFailedExec, ObservedFileOp, ObservedKill, ObservedProcess } from '../../model/index.js';
import type { RuntimeName } from '../runtime/runtime.js';

/** What a syscall monitor hands back (the report contract's process tree and file operations). */
export interface MonitorFindings {
  processes?: ObservedProcess[];
  files?: ObservedFileOp[];
  /** Connect attempts the tracer saw; the session adds those the sinkhole has no record of. */
  connections?: MonitorConnection[];
  kills?: ObservedKill[];
  /** Programs the sample tried to start and could not. */
  failedExecs?: ObservedFailedExec[];
  /**
   * Forks refused for a task limit (EAGAIN), when the trace holds the sandbox's tasks alone. Under a runtime whose
   * kernel enforces the sample's pids limit itself (gVisor), the only count of them: the host cgroup's counts only
   * the runtime's own threads.
   */
  refusedForks?: number;
  /** How complete the record is: what the bounded lists left out, and why. */
  trace?: BehaviorTrace;
  /** When the container's first process started, as the trace tells (epoch ms), for runs the runtime did not time. */
  firstExecEpochMs?: number;
}

export interface MonitorConnection {
  /** The process that made the (first) attempt. */
  pid?: number;
  proto: 'tcp' | 'udp';
  dst: string;
  port: number;
  /** false: the call failed (such attempts are not reported); undefined: its result was not seen. */
  ok?: boolean;
  /** Ms since the container's first process started. */
  atMs?: number;
}

export interface MonitorContext {
  /** The runtime's name: the syscall monitor finds its trace source through the registry by it. */
  runtime: RuntimeName;
  /** Container id, also the network and cgroup id. */
  id: string;
  /** Private dir for the runtime's logs and traces (runsc `--debug-log` writes here; runc its `runc.log`). */
  traceDir: string;
  bundleDir: string;
  /** `performance.now()` at the start of the run; the event times in the result are relative to it. */
  startedAt: number;
}

/** What a monitor asks of the runtime for its run. */
export interface MonitorRuntimeRequest {
  /** runsc global flags (`--strace`, `--strace-syscalls=…`, `--pod-init-config=…`). */
  runtimeFlags?: string[];
  /** Command prefix for the runtime process (`strace -f -o <traceDir>/strace.out --` around runc). */
  wrapper?: string[];
}

/**
 * The hook the syscall monitor plugs into: `prepare` before the run, `collect` after it, before teardown; `dispose`
 * in the teardown, whether or not `collect` ran (it lets go of whatever `prepare` opened).
 */
export interface DetonationMonitor {
  prepare?(context: MonitorContext): Promise<MonitorRuntimeRequest | void> | MonitorRuntimeRequest | void;
  collect?(context: MonitorContext): Promise<MonitorFindings | void> | MonitorFindings | void;
  dispose?(context: MonitorContext): Promise<void> | void;
}
