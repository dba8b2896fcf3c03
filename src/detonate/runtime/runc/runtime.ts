/**
 * Hardened runc: the bundle (bundle.ts, with `RUNC_SANDBOX`) carries the user namespace, seccomp profile, no
 * capabilities, the overlay root, the sample's network namespace and the cgroup path; this driver runs it in the
 * foreground (`runc run`: runc stays the parent, so its exit status is the sample's) with a state dir of our own.
 * `--keep` leaves the stopped container, and so its cgroup, for the final accounting; `cleanup` deletes it.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkRunId,
  classifyKill,
  manage,
  probeVersion,
  RuntimeDriver,
  pipeOutput,
  removeStateDir,
  RUNTIME_ENV,
  waitExit,
} from '../common.js';
import { within } from '../../../util/timing.js';
import { KILL_GRACE_MS, MAX_RUNC_LOG_LINES, MAX_RUNTIME_LOG_CHARS, QUICK_MANAGEMENT_TIMEOUT_MS } from '../limits.js';
import {
  exitStatus,
  INSTALL_HINT,
  RuntimeError,
  type Runtime,
  type RuntimeAvailability,
  type RuntimeOptions,
  type RuntimeRunOptions,
  type RuntimeRunResult,
} from '../runtime.js';
import { startFailure } from './failure.js';
import { RUNC_SANDBOX } from './sandbox.js';
import { RUNC_TRACE } from './trace.js';

export interface RuncOptions extends RuntimeOptions {
  /** Default: `runc` on PATH or in the sbin directories. */
  binary?: string;
}

export class RuncRuntime extends RuntimeDriver implements Runtime {
  readonly name = 'runc';
  readonly sandbox = RUNC_SANDBOX;
  readonly trace = RUNC_TRACE;

  constructor(options: RuncOptions = {}) {
    super('runc', options.binary, options.stateRoot);
  }

  async available(): Promise<RuntimeAvailability> {
    const installed = this.installedAsRoot('runc', 'runc detonation needs root (it makes namespaces, cgroups and a user namespace mapping)');
    if (!('bin' in installed)) return installed;
    const maxUserNs = await readFile('/proc/sys/user/max_user_namespaces', 'utf8').catch(() => '1');
    if (Number(maxUserNs.trim()) === 0) return { ok: false, reason: 'user namespaces are disabled (user.max_user_namespaces=0); hardened runc needs them' };
    return probeVersion(installed.bin, 'runc');
  }

  async run(bundleDir: string, options: RuntimeRunOptions): Promise<RuntimeRunResult> {
    checkRunId(options.id);
    const bin = this.binary();
    if (!bin) throw new RuntimeError('unavailable', 'runc is not installed', INSTALL_HINT);
    const root = this.root(options.id);
    if (existsSync(root)) throw new RuntimeError('start-failed', `runc state for ${options.id} already exists (${root}); clean it up first`);
    await mkdir(root, { recursive: true, mode: 0o700 });
    const pidFile = join(root, 'init.pid');
    const logFile = join(options.traceDir ?? root, 'runc.log');
    const started = performance.now();
    const runcArgs = ['--root', root, '--log', logFile, '--log-format', 'json', 'run', '--keep', '--bundle', bundleDir, '--pid-file', pidFile, '--no-new-keyring', options.id];
    const [cmd, argv] = options.wrapper?.length ? [options.wrapper[0]!, [...options.wrapper.slice(1), bin, ...runcArgs]] : [bin, runcArgs];
    const child = spawn(cmd, argv, {
      cwd: bundleDir,
      env: RUNTIME_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pipeOutput(child, options);
    const exited = waitExit(child);

    // runc writes the pid file once it has released the container's init to exec the sample's program; its
    // mtime is read after the run, so a sample that is gone within milliseconds is timed too
    const startedWall = Date.now();
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      void (async () => {
        await manage(bin, ['--root', root, 'kill', '--all', options.id, 'KILL'], QUICK_MANAGEMENT_TIMEOUT_MS);
        await options.cgroup?.killAll();
        if ((await within(exited, KILL_GRACE_MS, 'late')) === 'late') child.kill('SIGKILL');
      })();
    }, Math.max(0, options.deadlineMs));
    const result = await exited;
    clearTimeout(deadline);
    const durationMs = performance.now() - started;
    if (result.error) throw new RuntimeError('start-failed', `cannot start runc: ${result.error.message}`, INSTALL_HINT);
    const exitCode = exitStatus(result.code, result.signal);
    const pidStat = await stat(pidFile).catch(() => undefined);
    const firstExecMs = pidStat ? Math.max(0, pidStat.mtimeMs - startedWall) : undefined;
    const runtimeLog = await runcErrors(logFile);
    if (firstExecMs === undefined && !timedOut) {
      // no pid file: runc never released the container's init, the sample did not run
      throw new RuntimeError(startFailure(runtimeLog), `runc could not start the sample (exit ${exitCode ?? '?'}): ${runtimeLog || 'no error logged'}`);
    }
    const killedBy = await classifyKill(options, timedOut, exitCode);
    return {
      exitCode,
      timedOut,
      ...(killedBy ? { killedBy } : {}),
      durationMs,
      ...(firstExecMs !== undefined ? { firstExecMs } : {}),
      ...(runtimeLog ? { runtimeLog } : {}),
    };
  }

  async cleanup(id: string): Promise<void> {
    checkRunId(id);
    const bin = this.binary();
    const root = this.root(id);
    if (bin && existsSync(root)) {
      await manage(bin, ['--root', root, 'kill', '--all', id, 'KILL']);
      const del = await manage(bin, ['--root', root, 'delete', '--force', id]);
      if (del.code !== 0 && existsSync(join(root, id)) && !/does not exist|not exist/.test(del.stderr)) {
        throw new RuntimeError('cleanup-failed', `runc delete ${id} failed: ${del.stderr.trim().slice(0, 300)}`);
      }
    }
    await removeStateDir(root);
  }
}

/** The error lines of runc's JSON log (bounded). */
async function runcErrors(file: string): Promise<string> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const lines: string[] = [];
  for (const line of text.split('\n').slice(-MAX_RUNC_LOG_LINES)) {
    try {
      const o = JSON.parse(line) as { level?: string; msg?: string };
      if ((o.level === 'error' || o.level === 'fatal') && o.msg) lines.push(o.msg);
    } catch {
      /* not JSON */
    }
  }
  return lines.join('\n').slice(-MAX_RUNTIME_LOG_CHARS);
}
