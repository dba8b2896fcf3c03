/**
 * gVisor `runsc`, as it works with the 2022 Debian build (lab report §3a):
 *  - `--platform=ptrace` (kvm hangs on nested virtualisation);
 *  - `--network=host` inside *our* sample namespace: this runsc's own network stack refuses to start on kernels
 *    where every namespace has /proc/sys/net/core/rmem_default. The sample then uses the host kernel's TCP/IP, but
 *    only in that namespace, whose one route leads to the sinkhole;
 *  - `--overlay2=none`: the root is the run's own overlay mount (writable.ts), upper layer on the run's tmpfs, which
 *    the gofer writes: the materialised rootfs stays pristine and every file the sample drops is read back after the
 *    run (this build's `root:<dir>` medium keeps the upper layer in a filestore only the sandbox can read);
 *  - every runsc command under `nsenter --net=<sample ns>`: the control socket is an abstract unix socket, which
 *    lives per network namespace (`ip netns exec` would remount /sys and break the cgroup setup).
 * The run is `runsc run` in the foreground: `runsc wait` cannot give a root container's exit status once its
 * sandbox is gone, only the process that made the sandbox can.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findExecutable, type RunResult } from '../../network/exec.js';
import {
  checkRunId,
  classifyKill,
  manage,
  probeVersion,
  RuntimeDriver,
  pipeOutput,
  removeStateDir,
  RUNTIME_ENV,
  sleep,
  waitExit,
} from '../common.js';
import { within } from '../../../util/timing.js';
import { KILL_GRACE_MS, MAX_GVISOR_BOOT_LOG_SCAN_BYTES, MAX_RUNTIME_LOG_CHARS, QUICK_MANAGEMENT_TIMEOUT_MS } from '../limits.js';
import {
  exitStatus,
  INSTALL_HINT,
  RuntimeError,
  TailBuffer,
  type Runtime,
  type RuntimeAvailability,
  type RuntimeOptions,
  type RuntimeRunOptions,
  type RuntimeRunResult,
} from '../runtime.js';
import { startFailure } from './failure.js';
import { GVISOR_SANDBOX } from './sandbox.js';
import { GVISOR_TRACE } from './trace.js';

export interface GvisorOptions extends RuntimeOptions {
  binary?: string;
  nsenter?: string;
  /** Flags added before the subcommand (a monitor's `--strace`, `--pod-init-config=…`). */
  extraFlags?: string[];
}

export class GvisorRuntime extends RuntimeDriver implements Runtime {
  readonly name = 'gvisor';
  readonly sandbox = GVISOR_SANDBOX;
  readonly trace = GVISOR_TRACE;

  constructor(private readonly options: GvisorOptions = {}) {
    super('runsc', options.binary, options.stateRoot);
  }

  async available(): Promise<RuntimeAvailability> {
    const installed = this.installedAsRoot('gVisor (runsc)', 'gVisor detonation needs root (runsc in our own network namespace and cgroup)');
    if (!('bin' in installed)) return installed;
    if (!findExecutable('nsenter')) return { ok: false, reason: 'nsenter is not installed (apt-get install util-linux)' };
    return probeVersion(installed.bin, 'runsc');
  }

  /** `nsenter --net=<ns> -- runsc --root … <global flags> <args>` (no nsenter when the namespace is gone). */
  private command(id: string, netnsPath: string | undefined, args: string[], extra: string[] = []): [string, string[]] {
    const bin = this.binary();
    if (!bin) throw new RuntimeError('unavailable', 'gVisor (runsc) is not installed', INSTALL_HINT);
    const runsc = [bin, '--root', this.root(id), '--platform=ptrace', '--network=host', '--overlay2=none', ...extra, ...args];
    if (netnsPath && existsSync(netnsPath)) {
      return [this.options.nsenter ?? findExecutable('nsenter') ?? 'nsenter', [`--net=${netnsPath}`, '--', ...runsc]];
    }
    return [runsc[0]!, runsc.slice(1)];
  }

  private manage(id: string, netnsPath: string | undefined, args: string[], timeoutMs?: number): Promise<RunResult> {
    const [cmd, argv] = this.command(id, netnsPath, args);
    return manage(cmd, argv, timeoutMs);
  }

  async run(bundleDir: string, options: RuntimeRunOptions): Promise<RuntimeRunResult> {
    checkRunId(options.id);
    if (!existsSync(options.netnsPath)) throw new RuntimeError('start-failed', `network namespace ${options.netnsPath} does not exist`);
    const root = this.root(options.id);
    if (existsSync(root)) throw new RuntimeError('start-failed', `runsc state for ${options.id} already exists (${root}); clean it up first`);
    await mkdir(root, { recursive: true, mode: 0o700 });
    const monitorLog = options.runtimeFlags?.some((f) => f.startsWith('--debug-log=')) ?? false;
    const extra = [
      '--cpu-num-from-quota',
      ...(options.traceDir && !monitorLog ? [`--debug-log=${options.traceDir.replace(/\/+$/, '')}/`] : []),
      ...(this.options.extraFlags ?? []),
      ...(options.runtimeFlags ?? []),
    ];
    for (const flag of extra) if (!flag.startsWith('--')) throw new RuntimeError('invalid', `runsc flag ${JSON.stringify(flag).slice(0, 80)} does not start with --`);
    const errors = new TailBuffer();
    const started = performance.now();
    const startedWall = Date.now();
    const [runCmd, runArgv] = this.command(options.id, options.netnsPath, ['run', '--bundle', bundleDir, options.id], extra);
    const [cmd, argv] = options.wrapper?.length ? [options.wrapper[0]!, [...options.wrapper.slice(1), runCmd, ...runArgv]] : [runCmd, runArgv];
    // `run` in the foreground: only the process that made the sandbox can learn the root container's exit status.
    const child = spawn(cmd, argv, { cwd: bundleDir, env: RUNTIME_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    pipeOutput(child, {
      ...(options.onStdout ? { onStdout: options.onStdout } : {}),
      onStderr: (c) => {
        errors.push(c);
        options.onStderr?.(c);
      },
    });
    const exited = waitExit(child);
    // the run's cgroup also holds the sentry's, the gofer's and the ptrace stubs' threads: the sample's tasks are
    // what gVisor's kernel counts (the sample is gone once runsc has exited)
    const running = (): boolean => child.exitCode === null && child.signalCode === null;
    options.cgroup?.countTasksWith(async () => (running() ? this.countTasks(options.id, options.netnsPath) : 0));

    // runsc writes the container's state file once `start` has started the sample's first process
    let firstExecMs: number | undefined;
    void (async () => {
      while (firstExecMs === undefined && child.exitCode === null && child.signalCode === null) {
        if (await isRunning(root)) firstExecMs = performance.now() - started;
        else await sleep(5);
      }
    })();

    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      void (async () => {
        await this.manage(options.id, options.netnsPath, ['kill', '--all', options.id, 'KILL'], QUICK_MANAGEMENT_TIMEOUT_MS);
        if ((await within(exited, KILL_GRACE_MS, 'late')) === 'late') {
          await options.cgroup?.killAll();
          child.kill('SIGKILL');
        }
      })();
    }, Math.max(0, options.deadlineMs));
    const result = await exited;
    clearTimeout(deadline);
    const durationMs = performance.now() - started;
    // A sample done between two polls (or on a loaded machine) is never seen running: the sandbox's log says when it started.
    if (firstExecMs === undefined && options.traceDir) firstExecMs = await firstExecFromLog(options.traceDir, startedWall);
    if (result.error) throw new RuntimeError('start-failed', `cannot start runsc: ${result.error.message}`, INSTALL_HINT);
    // runsc reports a sample killed by signal N as 128+N itself
    const exitCode = exitStatus(result.code, result.signal);
    const runtimeLog = errors.text().trim();
    // runsc's own fatal errors exit 128 (a sample may too, but then its start was seen)
    if (firstExecMs === undefined && !timedOut && exitCode === 128) {
      const said = runtimeLog.slice(-1000);
      throw new RuntimeError(startFailure(said), `runsc could not start the sample (exit ${exitCode ?? '?'}): ${said}`);
    }
    const killedBy = await classifyKill(options, timedOut, exitCode);
    return {
      exitCode,
      timedOut,
      ...(killedBy ? { killedBy } : {}),
      durationMs,
      ...(firstExecMs !== undefined ? { firstExecMs } : {}),
      ...(runtimeLog ? { runtimeLog: runtimeLog.slice(-MAX_RUNTIME_LOG_CHARS) } : {}),
    };
  }

  /** The container's tasks (processes and threads) as gVisor's kernel counts them (`runsc events --stats`); null if unknown. */
  private async countTasks(id: string, netnsPath: string): Promise<number | null> {
    const r = await this.manage(id, netnsPath, ['events', '--stats', id], QUICK_MANAGEMENT_TIMEOUT_MS);
    if (r.code !== 0) return null;
    try {
      const current = (JSON.parse(r.stdout) as { data?: { pids?: { current?: unknown } } }).data?.pids?.current;
      return typeof current === 'number' && Number.isInteger(current) && current >= 0 ? current : null;
    } catch {
      return null;
    }
  }

  async cleanup(id: string, options: { netnsPath?: string } = {}): Promise<void> {
    checkRunId(id);
    const root = this.root(id);
    if (this.binary() && existsSync(root)) {
      await this.manage(id, options.netnsPath, ['kill', '--all', id, 'KILL']);
      const del = await this.manage(id, options.netnsPath, ['delete', '--force', id]);
      if (del.code !== 0 && !/does not exist|not found|no such/i.test(del.stderr)) {
        throw new RuntimeError('cleanup-failed', `runsc delete ${id} failed: ${del.stderr.trim().slice(0, 300)}`);
      }
    }
    await removeStateDir(root);
  }
}

/** Whether a container state file in `root` says the sample was started (it may be half written: then not yet). */
/** Ms from `startedWall` to the first `EXEC:` line of the sandbox's JSON debug log (`--debug-log-format=json`), if any. */
export async function firstExecFromLog(traceDir: string, startedWall: number): Promise<number | undefined> {
  const names = (await readdir(traceDir).catch(() => [] as string[])).filter((n) => /\.boot(\.|$)/.test(n)).sort();
  for (const name of names) {
    // a monitor may have made the log a FIFO it reads itself: only regular files are read here
    const st = await lstat(join(traceDir, name)).catch(() => undefined);
    if (!st?.isFile()) continue;
    const handle = await open(join(traceDir, name), 'r').catch(() => undefined);
    if (!handle) continue;
    try {
      const buffer = Buffer.alloc(MAX_GVISOR_BOOT_LOG_SCAN_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      const m = /"msg":"EXEC: [^\n]*?"time":"([^"]+)"/.exec(buffer.subarray(0, bytesRead).toString('utf8'));
      const at = m ? Date.parse(m[1]!) : NaN;
      if (Number.isFinite(at)) return Math.max(0, at - startedWall);
    } finally {
      await handle.close();
    }
  }
  return undefined;
}

async function isRunning(root: string): Promise<boolean> {
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.endsWith('.state')) continue;
    const text = await readFile(join(root, name), 'utf8').catch(() => '');
    try {
      // a sample done within a poll interval is seen `stopped` only; `created` comes before the start
      const status = (JSON.parse(text) as { status?: unknown }).status;
      if (status === 'running' || status === 'stopped') return true;
    } catch {
      /* being written */
    }
  }
  return false;
}
