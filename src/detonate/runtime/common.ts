/** What the runtime drivers share: bounded commands, the deadline, the runtime's binary. Internal to runtime/. */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { findExecutable, runBounded, type RunResult } from '../network/exec.js';
import { MANAGEMENT_TIMEOUT_MS, MAX_MANAGEMENT_OUTPUT_BYTES, QUICK_MANAGEMENT_TIMEOUT_MS, STATE_DIR_REMOVE_RETRIES } from './limits.js';
import { DEFAULT_RUNTIME_STATE_DIR, INSTALL_HINT, RUN_ID_PATTERN, RuntimeError, type RuntimeAvailability, type RuntimeRunOptions } from './runtime.js';

/** The environment every runtime command gets: nothing of the caller's (proxies, tokens) leaks into it. */
export const RUNTIME_ENV: NodeJS.ProcessEnv = Object.freeze({ PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' });

export function checkRunId(id: string): void {
  if (!RUN_ID_PATTERN.test(id)) throw new RuntimeError('invalid', `container id must match ${RUN_ID_PATTERN.source}, got ${JSON.stringify(id).slice(0, 60)}`);
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function manage(cmd: string, args: readonly string[], timeoutMs = MANAGEMENT_TIMEOUT_MS): Promise<RunResult> {
  return runBounded(cmd, args, { timeoutMs, env: RUNTIME_ENV, maxOutputBytes: MAX_MANAGEMENT_OUTPUT_BYTES });
}

export async function removeStateDir(dir: string): Promise<void> {
  if (existsSync(dir)) await rm(dir, { recursive: true, force: true, maxRetries: STATE_DIR_REMOVE_RETRIES });
}

/** Wires the sample's output to the callbacks (never buffering it) and resolves when the child has exited. */
export function pipeOutput(child: ChildProcess, options: Pick<RuntimeRunOptions, 'onStdout' | 'onStderr'>): void {
  child.stdout?.on('data', (c: Buffer) => safeCall(options.onStdout, c));
  child.stderr?.on('data', (c: Buffer) => safeCall(options.onStderr, c));
}

function safeCall(f: ((c: Buffer) => void) | undefined, c: Buffer): void {
  if (!f) return;
  try {
    f(c);
  } catch {
    /* a consumer's bug must not stop the run */
  }
}

export function waitExit(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


/** How the run ended, from the cgroup's counters when the deadline did not end it. */
export async function classifyKill(options: RuntimeRunOptions, timedOut: boolean, exitCode: number | null): Promise<'deadline' | 'memory' | 'pids' | undefined> {
  if (timedOut) return 'deadline';
  if (!options.cgroup || exitCode === 0) return undefined;
  const stats = await options.cgroup.sample().catch(() => undefined);
  if (!stats) return undefined;
  if (stats.oomKills > 0) return 'memory';
  // Under gVisor the sentry, not the sample, holds the sample's memory, and a sample SIGKILLed at the limit can leave
  // the OOM count at 0 (seen on a loaded machine): a SIGKILL at the limit is the limit's doing.
  if (exitCode === 128 + 9 && stats.memoryLimitReached) return 'memory';
  if (stats.pidsLimitHits > 0) return 'pids';
  return undefined;
}

/** The runtime binary: the one configured, else `name` on PATH or in the sbin directories. */
export function runtimeBinary(name: RuntimeProgram, configured?: string): string | undefined {
  return configured ?? findExecutable(name);
}

export type RuntimeProgram = 'runsc' | 'runc';

/**
 * What every runtime driver has besides its own run: its program (found on PATH unless configured), the state dir
 * `<stateRoot>/<program>` that holds each run's own `--root`, and the first checks of `available()`.
 */
export abstract class RuntimeDriver {
  readonly stateRoot: string;
  /** `<stateRoot>/<program>`: the `--root` of each run is `<stateDir>/<id>`. */
  readonly stateDir: string;

  protected constructor(
    private readonly program: RuntimeProgram,
    private readonly configuredBinary: string | undefined,
    stateRoot: string | undefined,
  ) {
    this.stateRoot = stateRoot ?? DEFAULT_RUNTIME_STATE_DIR;
    this.stateDir = join(this.stateRoot, program);
  }

  protected binary(): string | undefined {
    return runtimeBinary(this.program, this.configuredBinary);
  }

  protected root(id: string): string {
    return join(this.stateDir, id);
  }

  /** The program when it is installed and this process is root; else why the runtime cannot run (`label`: its name for people). */
  protected installedAsRoot(label: string, whyRoot: string): { bin: string } | { ok: false; reason: string } {
    const bin = this.binary();
    if (!bin) return { ok: false, reason: `${label} is not installed; ${INSTALL_HINT}` };
    if (!isRoot()) return { ok: false, reason: whyRoot };
    return { bin };
  }
}

/** `<bin> --version` → available with the version `<name> version X` names (or its first line), else why not. */
export async function probeVersion(bin: string, name: RuntimeProgram): Promise<RuntimeAvailability> {
  const v = await manage(bin, ['--version'], QUICK_MANAGEMENT_TIMEOUT_MS);
  if (v.code !== 0) return { ok: false, reason: `\`${bin} --version\` failed: ${(v.stderr || v.spawnError || '').trim().slice(0, 200)}` };
  return { ok: true, version: new RegExp(`${name} version (\\S+)`).exec(v.stdout)?.[1] ?? v.stdout.trim().split('\n')[0] };
}
