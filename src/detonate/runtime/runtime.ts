/**
 * The Runtime seam (DESIGN §6): one interface over the sandbox runtimes, each in its own folder here (gvisor/,
 * runc/) and named in the registry (registry.ts). The session prepares the bundle (bundle.ts), the network and the
 * cgroup; a runtime only starts the bundle, enforces the deadline and cleans up its own state. Nothing outside this
 * folder asks which runtime it has: what differs is data the runtime hands over. The verdict never learns which
 * one ran.
 */
import { constants } from 'node:os';
import type { SandboxProfile } from '../bundle.js';
import type { BundleLimits } from '../limits.js';
import { RUNTIME_STDERR_TAIL_BYTES } from './limits.js';
import type { RunCgroup } from '../cgroup.js';
import type { TraceSource } from '../monitor/trace-source.js';

/** A runtime's name in the registry (`--sandbox <name>`, the run record's `sandbox`). */
export type RuntimeName = string;

/** What every runtime can be made with (the registry makes them so; a runtime may take more). */
export interface RuntimeOptions {
  /** Parent of the runtimes' per-run state dirs; default /run/detonate/runtime. */
  stateRoot?: string;
}

export interface RuntimeAvailability {
  ok: boolean;
  /** Why it cannot be used (missing binary, not root, a probe that failed). */
  reason?: string;
  version?: string;
}

export interface RuntimeRunOptions {
  /** Container id: letters, digits, `_`, `-`; unique per run. */
  id: string;
  /** The sample's network namespace (`/run/netns/…`), already written into the bundle for runc. */
  netnsPath: string;
  /** Wall-clock budget from the start of the run; the whole tree is killed when it passes. */
  deadlineMs: number;
  limits: BundleLimits;
  /** The run's cgroup (also the bundle's `cgroupsPath`): the last-resort kill and the "killed by" verdict. */
  cgroup?: RunCgroup;
  /** Raw chunks of the sample's stdout/stderr. The runtime keeps nothing of them. */
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Where the runtime writes its own logs and traces for the monitor (runsc `--debug-log`). */
  traceDir?: string;
  /** A monitor's global runtime flags for this run (runsc: `--strace`, `--pod-init-config=…`; runc: none exist). */
  runtimeFlags?: string[];
  /** A monitor's command prefix for the runtime process, e.g. `['strace', '-f', '-o', file, '--']` around runc. */
  wrapper?: string[];
}

export interface RuntimeRunResult {
  /** The sample's exit code; 128+N when it died of signal N; null when unknown. */
  exitCode: number | null;
  timedOut: boolean;
  killedBy?: 'deadline' | 'memory' | 'pids';
  /** From the start of `run` until the sample was gone. */
  durationMs: number;
  /** From the start of `run` until the sample's first program was executed, as far as the runtime tells. */
  firstExecMs?: number;
  /** The runtime's own complaints (bounded), for error messages. */
  runtimeLog?: string;
}

export interface Runtime {
  readonly name: RuntimeName;
  /** Parent of the runtime's per-run state dirs, recorded for `cleanupStaleDetonations`. */
  readonly stateRoot?: string;
  /**
   * The dir under `stateRoot` that holds this runtime's per-run state dirs, each named by the run id: what a crashed
   * run left there is found and cleaned up through it (stale.ts).
   */
  readonly stateDir: string;
  /** What the runtime needs of its sandbox: the bundle, the rootfs's owner, the writable layer and the cgroup follow from it. */
  readonly sandbox: SandboxProfile;
  /** How the syscall monitor traces a run under it; absent: it offers no trace. */
  readonly trace?: TraceSource;
  available(): Promise<RuntimeAvailability>;
  run(bundleDir: string, options: RuntimeRunOptions): Promise<RuntimeRunResult>;
  /** Kills whatever is left of container `id`, deletes it and removes the runtime's state for it. Idempotent. */
  cleanup(id: string, options?: { netnsPath?: string }): Promise<void>;
}

/**
 * Why a runtime could not do what it was asked, as data: what callers branch on. The wording of a runtime's own
 * complaints is read in that runtime's folder only, which turns it into one of these.
 */
export type RuntimeFailure =
  /** The runtime cannot be used here: not installed, not usable by this user, none usable, an unknown name. */
  | { kind: 'unavailable' }
  /** A request the runtime does not take (a malformed run id or flag, a registry entry that is not what it says). */
  | { kind: 'invalid' }
  /** The image's entrypoint names a program the image does not have: a property of the image, not a failure of ours. */
  | { kind: 'entrypoint-missing'; /** The program as the runtime named it. */ program: string }
  /** The runtime could not start the sample for another reason (the message says which). */
  | { kind: 'start-failed' }
  /** What is left of a run could not be removed. */
  | { kind: 'cleanup-failed' };

export type RuntimeFailureKind = RuntimeFailure['kind'];

export class RuntimeError extends Error {
  override name = 'RuntimeError';
  readonly failure: RuntimeFailure;
  constructor(
    failure: RuntimeFailure | Exclude<RuntimeFailureKind, 'entrypoint-missing'>,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.failure = typeof failure === 'string' ? { kind: failure } : failure;
  }

  get kind(): RuntimeFailureKind {
    return this.failure.kind;
  }
}

/**
 * The runtime's failure behind `err`: a RuntimeError's own, or that of one another error carries as its `cause`
 * (a wrapper such as the session's DetonationError), at any depth.
 */
export function runtimeFailureOf(err: unknown): RuntimeFailure | undefined {
  let e = err;
  for (let depth = 0; e instanceof Error && depth < 8; depth++, e = e.cause) {
    if (e instanceof RuntimeError) return e.failure;
  }
  return undefined;
}

export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/;
/** Default parent of the runtimes' state dirs (`--root`), one per runtime and run id. */
export const DEFAULT_RUNTIME_STATE_DIR = '/run/detonate/runtime';
export const INSTALL_HINT = 'install gVisor and runc: `apt-get install runsc runc` (Debian/Ubuntu), or run scripts/install.sh';

/** Keeps the last `max` bytes written to it (runtime stderr can be flooded by the sample under runc). */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly max = RUNTIME_STDERR_TAIL_BYTES) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.max && this.chunks.length > 1) this.size -= this.chunks.shift()!.length;
  }
  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.max)).toString('utf8');
  }
}

/** Exit status of a child as a shell reports it. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number | null {
  if (code !== null) return code;
  if (signal) {
    const n = (constants.signals as Record<string, number | undefined>)[signal];
    return n === undefined ? null : 128 + n;
  }
  return null;
}
