/**
 * One detonation, start to finish: a private work dir, the rootfs, the cgroup, the two network namespaces with
 * the sinkhole in the sink's, the bundle, the run under the deadline, and a teardown that always runs (also after
 * an error, and on SIGINT/SIGTERM during the run). Runs are independent (own id, namespaces, cgroup, state dirs),
 * so several can go at once.
 */
import { randomBytes } from 'node:crypto';
import { type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolveLimits, type Limits } from '../config/limits.js';
import type { ResolvedImage } from '../image/types.js';
import { silentProgress, type Progress } from '../progress/progress.js';
import type { ObservedConnection, ObservedDnsQuery, ObservedProcess, RunRecord, ScanNotice } from '../model/index.js';
import { createBundle, sandboxPidsLimit } from './bundle.js';
import { createRunCgroup, type CgroupSample, type RunCgroup } from './cgroup.js';
import { createSandboxNetwork, type SandboxNetwork } from './network/index.js';
import { materialiseRootfs, readRootfsFile, resolveInRoot, type RootfsOwnership } from './rootfs.js';
import { DEFAULT_RUNTIME_STATE_DIR, type Runtime, type RuntimeName } from './runtime/runtime.js';
import type { ConnectionEvent, SinkholeEvent, SinkholeStats } from './sinkhole/events.js';
import { syscallMonitor } from './monitor/session-monitor.js';
import type { SinkholeProcessConfig } from './sinkhole/serve.js';
import { DEFAULT_RUN_RECORD_DIR, mountsUnder, writeRunClaim } from './stale.js';
import { TeardownSteps } from './teardown.js';
import { WritableLayer, WritableLayerError } from './writable.js';
import { removeTree } from '../util/long-paths.js';
import {
  DEFAULT_DETONATE_TIMEOUT_MS,
  DEFAULT_DETONATION_LIMITS,
  DEFAULT_SAMPLE_OUTPUT_BYTES,
  MAX_SINKHOLE_EVENTS_KEPT,
  MAX_SINKHOLE_LINE_CHARS,
  MAX_SINKHOLE_STDERR_CHARS,
  REMOVE_TREE_RETRIES,
  SINKHOLE_READY_TIMEOUT_MS,
  SINKHOLE_STOP_TIMEOUT_MS,
  type DetonationLimits,
} from './limits.js';

import { within } from '../util/timing.js';
import { DetonationError, DetonationInterrupted } from './errors.js';
import type { DetonationMonitor, MonitorConnection, MonitorContext } from './monitor/types.js';

export { DetonationError, DetonationInterrupted } from './errors.js';

export type { DetonationMonitor, MonitorConnection, MonitorContext, MonitorFindings, MonitorRuntimeRequest } from './monitor/types.js';

export interface DetonateOptions {
  runtime: Runtime;
  /** Wall time of the run in the sandbox (from its start to the kill). Default 60 s. */
  timeoutMs?: number;
  limits?: Partial<DetonationLimits>;
  /** Parent of the run's private work dir (which is removed at the end). */
  workDir: string;
  progress?: Progress;
  /** Replaces the image's Cmd, as `docker run IMAGE ARGS…`. */
  command?: string[];
  /** The layer walker's limits for materialising the rootfs. Default `resolveLimits()`. */
  imageLimits?: Limits;
  /** Default: the syscall monitor (`syscallMonitor()`), which fills `processes` and `files`; `false`: none. */
  monitor?: DetonationMonitor | false;
  /** Run id; default random. Letters, digits, `-`; at most 40 characters. */
  id?: string;
  /** Bytes kept of the sample's stdout and of its stderr (the start of each). Default 64 KiB. */
  maxOutputBytes?: number;
  /**
   * Called after the run and before teardown with the files the sample created or changed that are still there
   * (read from the sandbox's writable layer; bounded in count and bytes). The static detectors run on them here.
   */
  inspectDropped?: (files: DroppedFile[]) => Promise<void>;
  /** How the sinkhole process is started (default: this install's `sinkhole/process` entry under node). */
  sinkholeCommand?: { command: string; args: string[] };
  /** Where the run's record for `cleanupStaleDetonations` goes; default /run/detonate/runs. */
  runRecordDir?: string;
  /**
   * Ends the run early when aborted (the teardown follows) and makes it throw `DetonationInterrupted`. Without it,
   * SIGINT and SIGTERM do that and are raised again after the teardown; with it, the caller owns the signals (a
   * worker that lets running jobs finish when it is told to stop).
   */
  signal?: AbortSignal;
}

/** A file the sample wrote, read back from the sandbox's writable layer before teardown. */
export interface DroppedFile {
  /** Path inside the container. */
  path: string;
  /** Where it can be read on the host; valid only until the session's teardown. */
  hostPath: string;
  size: number;
  /** Permission bits as left by the sample. */
  mode: number;
}

/**
 * What one detonation gives back: the run record (the report's `behavior`, as the rules read it) plus what only the
 * session has: the sinkhole's raw records, the run's addresses, the runtime's complaints and notices. `dropped` is
 * bounded (256 files, 64 MiB read, executables and scripts first) and absent when the run failed before it could
 * be listed; `output` keeps the first `maxOutputBytes` of each stream.
 */
export interface DetonationResult extends RunRecord {
  sandbox: RuntimeName;
  /** Cgroup samples, one a second. */
  series: CgroupSample[];
  /** The sinkhole's own records (every DNS query and connection as it saw them, and the bounds it hit). */
  sinkhole: { events: SinkholeEvent[]; stats: SinkholeStats | null };
  /** The run's two addresses (the sink answered every name with `sinkAddress`). */
  network: { sinkAddress: string; sampleAddress: string };
  /** The runtime's complaints, when it said something (bounded). */
  runtimeLog?: string;
  /** Entries of the image left out of the sandbox's filesystem because Linux cannot hold them (a name over 255 bytes). */
  notices?: ScanNotice[];
}



const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,39}$/;

/** How to start the sinkhole entry from wherever this module was loaded: src under tsx, tsc's dist, or the bundle. */
export function defaultSinkholeCommand(): { command: string; args: string[] } {
  const here = dirname(fileURLToPath(import.meta.url));
  const js = [join(here, 'sinkhole', 'process.js'), resolve(here, '..', 'src', 'detonate', 'sinkhole', 'process.js')];
  for (const file of js) if (existsSync(file)) return { command: process.execPath, args: [file] };
  const ts = join(here, 'sinkhole', 'process.ts');
  if (existsSync(ts)) {
    const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    return { command: process.execPath, args: ['--import', loader, ts] };
  }
  throw new DetonationError(`cannot find the sinkhole entry next to ${here}`, 'reinstall detonate (dist/src/detonate/sinkhole/process.js is missing)');
}

class SinkholeProcess {
  readonly events: SinkholeEvent[] = [];
  stats: SinkholeStats | null = null;
  private readonly done: Promise<void>;
  private ready!: (v: { ok: boolean; message?: string }) => void;
  readonly readyPromise: Promise<{ ok: boolean; message?: string }>;
  private stderr = '';

  constructor(private readonly child: ChildProcess) {
    this.readyPromise = new Promise((r) => (this.ready = r));
    const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    lines.on('line', (line) => this.line(line));
    child.stderr?.on('data', (c: Buffer) => {
      if (this.stderr.length < MAX_SINKHOLE_STDERR_CHARS) this.stderr += c.toString('utf8');
    });
    this.done = new Promise((r) => {
      child.once('exit', () => r());
      child.once('error', (e) => {
        this.ready({ ok: false, message: e.message });
        r();
      });
    });
    void this.done.then(() => this.ready({ ok: false, message: `the sinkhole exited before it was ready: ${this.stderr.trim().slice(-500)}` }));
  }

  private line(line: string): void {
    if (line.length > MAX_SINKHOLE_LINE_CHARS) return;
    let o: { kind?: string; message?: string; stats?: SinkholeStats };
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      return;
    }
    if (o.kind === 'ready') this.ready({ ok: true });
    else if (o.kind === 'error') this.ready({ ok: false, message: o.message ?? 'unknown error' });
    else if (o.kind === 'stopped') this.stats = o.stats ?? null;
    else if (o.kind === 'dns' || o.kind === 'connection' || o.kind === 'dns-malformed' || o.kind === 'limit') {
      if (this.events.length < MAX_SINKHOLE_EVENTS_KEPT) this.events.push(o as SinkholeEvent);
    }
  }

  /** SIGTERM (the sinkhole records its open connections and says "stopped"), SIGKILL if it takes too long. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const late = await within(this.done.then(() => false), SINKHOLE_STOP_TIMEOUT_MS, true);
    if (late) {
      this.child.kill('SIGKILL');
      await this.done;
    }
  }
}

function connectionHost(c: ConnectionEvent, dnsBefore: { name: string; at: number }[], sinkAddress: string): string | undefined {
  if (c.protocol === 'http') {
    const h = c.details.requests.find((r) => r.host)?.host;
    if (h) return h.replace(/:\d+$/, '');
  }
  if (c.protocol === 'tls' && c.details.sni) return c.details.sni;
  // Every name resolves to the sink, so a flow to the sink's address is most likely to the last name looked up.
  if (c.originalDst?.address === sinkAddress) {
    const last = dnsBefore.filter((d) => d.at <= c.at).at(-1);
    if (last) return last.name;
  }
  return undefined;
}

/** The report contract's `dns` and `connections` from the sinkhole's events. */
export function behaviorFromSinkhole(
  events: SinkholeEvent[],
  sinkAddress: string,
  /** Epoch ms when the container's first process started: the records' `atMs` count from it. */
  originEpochMs?: number,
): { dns: ObservedDnsQuery[]; connections: ObservedConnection[] } {
  const atMs = (at: number): { atMs?: number } => (originEpochMs === undefined || !Number.isFinite(at) ? {} : { atMs: Math.max(0, Math.round(at - originEpochMs)) });
  const dns: ObservedDnsQuery[] = [];
  const seen = new Set<string>();
  const lookups: { name: string; at: number }[] = [];
  for (const e of events) {
    if (e.kind !== 'dns') continue;
    if (e.type === 'A' || e.type === 'AAAA') lookups.push({ name: e.name, at: e.at });
    const key = `${e.name}\u0000${e.type}`;
    if (seen.has(key)) continue;
    seen.add(key);
    dns.push({ name: e.name, type: e.type, pid: null, ...atMs(e.at) });
  }
  const connections: ObservedConnection[] = [];
  for (const e of events) {
    if (e.kind !== 'connection') continue;
    const dst = e.originalDst ?? { address: sinkAddress, port: e.localPort };
    const host = connectionHost(e, lookups, sinkAddress);
    connections.push({
      proto: e.proto, dst: dst.address, port: dst.port, ...(host ? { host } : {}), firstBytes: e.firstBytes.text, protocol: e.protocol, ...atMs(e.at),
      details: e.details as unknown as Record<string, unknown>,
    });
  }
  return { dns, connections };
}

/**
 * The sinkhole's connections plus the monitor's connect attempts to a dst:port the sinkhole has no record of
 * (the sinkhole's records are authoritative). Failed connects are left out (the contract has no field for them),
 * and so are lookups sent to the sink's resolver: `dns` has those.
 */
export function mergeConnections(sinkhole: ObservedConnection[], monitor: readonly MonitorConnection[], sinkAddress: string): ObservedConnection[] {
  // the process behind a sinkhole record: the monitor's connect to the same destination (a successful one first)
  const pids = new Map<string, number>();
  for (const c of monitor) {
    const key = `${c.proto}\u0000${c.dst}\u0000${c.port}`;
    if (c.pid !== undefined && c.pid > 0 && (!pids.has(key) || c.ok === true)) pids.set(key, c.pid);
  }
  const withPid = (c: ObservedConnection): ObservedConnection => {
    const pid = c.pid ?? pids.get(`${c.proto}\u0000${c.dst}\u0000${c.port}`);
    return pid === undefined ? c : { pid, ...c };
  };
  const merged = sinkhole.map(withPid);
  const seen = new Set(sinkhole.map((c) => `${c.dst}\u0000${c.port}`));
  for (const c of monitor) {
    const key = `${c.dst}\u0000${c.port}`;
    if (c.ok === false || seen.has(key) || (c.dst === sinkAddress && c.port === 53)) continue;
    seen.add(key);
    merged.push({
      ...(c.pid !== undefined && c.pid > 0 ? { pid: c.pid } : {}),
      proto: c.proto, dst: c.dst, port: c.port, firstBytes: '', protocol: 'unknown',
      ...(c.atMs !== undefined ? { atMs: c.atMs } : {}),
    });
  }
  return merged;
}

class OutputCapture {
  private text = '';
  private bytes = 0;
  truncated = false;
  constructor(private readonly max: number) {}
  push = (c: Buffer): void => {
    const room = this.max - this.bytes;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const part = c.length > room ? c.subarray(0, room) : c;
    if (c.length > room) this.truncated = true;
    this.bytes += part.length;
    this.text += part.toString('utf8');
  };
  value(): string {
    return this.text;
  }
}

/**
 * Each process's `exe` as the kernel would name it: the image's symlinks resolved inside the rootfs, so an applet
 * of a multi-call binary (`/bin/sh` → `/bin/busybox`, re-executed through /proc/self/exe) shows the program that
 * really ran, and the verdict names it by its argv[0]. A process that carries a script's path but runs something
 * else (an applet its shell re-executed) gets the script's interpreter. Programs made at run time stay as they are.
 */
export async function resolveExecutables(processes: ObservedProcess[], rootfsDir: string): Promise<ObservedProcess[]> {
  const real = async (path: string): Promise<string | undefined> => {
    const parts = await resolveInRoot(rootfsDir, path).catch(() => null);
    if (!parts || parts.length === 0) return undefined;
    const st = await lstat(join(rootfsDir, ...parts)).catch(() => undefined);
    return st?.isFile() ? `/${parts.join('/')}` : undefined;
  };
  const resolved = new Map<string, string>();
  const interpreters = new Map<string, string>();
  for (const exe of new Set(processes.map((p) => p.exe))) {
    if (!exe.startsWith('/')) continue;
    const target = await real(exe);
    if (!target) continue;
    if (target !== exe) resolved.set(exe, target);
    const head = await readRootfsFile(rootfsDir, target, 256).catch(() => null);
    const shebang = head && head[0] === 0x23 && head[1] === 0x21 ? /^#!\s*(\/\S+)/.exec(head.toString('latin1')) : null;
    const interpreter = shebang?.[1] && !shebang[1].endsWith('/env') ? await real(shebang[1]) : undefined;
    if (interpreter) interpreters.set(exe, interpreter);
  }
  if (resolved.size === 0 && interpreters.size === 0) return processes;
  const base = (path: string): string => path.slice(path.lastIndexOf('/') + 1);
  return processes.map((p) => {
    const interpreter = interpreters.get(p.exe);
    if (interpreter && base(p.argv[0] ?? '') !== base(p.exe)) return { ...p, exe: interpreter };
    const target = resolved.get(p.exe);
    return target ? { ...p, exe: target } : p;
  });
}

/** A user namespace's init (runc's) runs as an unprivileged host uid: every directory above the bundle must let it pass. */
async function checkTraversable(dir: string, uid: number): Promise<void> {
  let current = resolve(dir);
  for (;;) {
    const st = await stat(current);
    const passes = (st.mode & 0o001) !== 0 || (st.uid === uid && (st.mode & 0o100) !== 0);
    if (!passes) {
      throw new DetonationError(
        `the sandbox's user (host uid ${uid}) cannot reach its root filesystem: ${current} is mode ${(st.mode & 0o777).toString(8)}`,
        'give a work directory whose parents all allow others to traverse them (o+x), e.g. /var/lib/detonate or /tmp',
      );
    }
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

interface Interruption {
  uninstall(): void;
  /** What interrupted the run, once something did. */
  received(): string | undefined;
  reRaise(): void;
}

/** The caller's abort interrupts the run; nothing is re-raised. */
function abortInterruption(signal: AbortSignal, onAbort: () => void): Interruption {
  let received: string | undefined;
  const handler = (): void => {
    if (received) return;
    received = 'the caller (aborted)';
    onAbort();
  };
  if (signal.aborted) handler();
  else signal.addEventListener('abort', handler, { once: true });
  return {
    uninstall: () => signal.removeEventListener('abort', handler),
    received: () => received,
    reRaise: () => {},
  };
}

/** Signals that interrupt a run: the handler ends the run (the teardown follows), then the signal is re-raised. */
function interruptHandlers(onSignal: (signal: NodeJS.Signals) => void): Interruption {
  let received: NodeJS.Signals | undefined;
  let othersListening = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (received) return;
    received = signal;
    othersListening = process.listenerCount(signal) > 1;
    onSignal(signal);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    uninstall() {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
    received: () => received,
    reRaise() {
      // with nobody else listening, the default action (exit) is what the user asked for
      if (received && !othersListening) process.kill(process.pid, received);
    },
  };
}

/**
 * Detonates `image` with `options.runtime`. Throws `DetonationError` (or the failing step's error) when the run
 * could not be done; the teardown has run by then either way. A teardown that leaves something behind throws.
 */
export async function detonateImage(image: ResolvedImage, options: DetonateOptions): Promise<DetonationResult> {
  const runtime = options.runtime;
  const sandbox = runtime.sandbox;
  const mapping = sandbox.userNamespace;
  const limits: DetonationLimits = { ...DEFAULT_DETONATION_LIMITS, ...options.limits };
  const timeoutMs = options.timeoutMs ?? DEFAULT_DETONATE_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new DetonationError(`the detonation timeout must be positive (got ${timeoutMs})`);
  const id = options.id ?? `d${randomBytes(5).toString('hex')}`;
  if (!ID_PATTERN.test(id)) throw new DetonationError(`detonation id must match ${ID_PATTERN.source}`);
  const progress = options.progress ?? silentProgress;
  const sinkholeCommand = options.sinkholeCommand ?? defaultSinkholeCommand();
  const monitor = options.monitor === false ? undefined : (options.monitor ?? syscallMonitor());

  const setupStarted = performance.now();
  let runDir: string | undefined;
  let recordFile: string | undefined;
  let layer: WritableLayer | undefined;
  let cgroup: RunCgroup | undefined;
  let net: SandboxNetwork | undefined;
  let sinkhole: SinkholeProcess | undefined;
  let runtimeStarted = false;
  let monitorContext: MonitorContext | undefined;
  let interrupted = false;
  const interrupt = (): void => {
    interrupted = true;
    progress.log('detonation interrupted: stopping the sandbox and cleaning up');
    if (runtimeStarted) void runtime.cleanup(id, net ? { netnsPath: net.samplePath } : {}).catch(() => undefined);
  };
  const signals = options.signal ? abortInterruption(options.signal, interrupt) : interruptHandlers(interrupt);
  const checkInterrupted = (): void => {
    if (interrupted) throw new DetonationInterrupted(`detonation interrupted by ${signals.received() ?? 'a signal'}`);
  };

  let result: DetonationResult | undefined;
  let failure: unknown;
  try {
    const task = progress.task('detonation: setup');
    await mkdir(options.workDir, { recursive: true, mode: 0o755 });
    runDir = await mkdtemp(join(resolve(options.workDir), `detonate-${id}-`));
    // a user namespace's init runs as the mapped root (uid 100000) and must traverse to its bundle; it may not list it
    await chmod(runDir, 0o711);
    recordFile = await writeRunClaim(
      { id, runDir, runtime: runtime.name, stateRoot: runtime.stateRoot ?? DEFAULT_RUNTIME_STATE_DIR },
      options.runRecordDir ?? DEFAULT_RUN_RECORD_DIR,
    );
    if (mapping) await checkTraversable(runDir, mapping.uid);
    const bundleDir = join(runDir, 'bundle');
    // the image as materialised (read-only to the run); an overlay root is mounted over it on `bundle/rootfs`
    const rootfsDir = join(runDir, 'rootfs');
    const traceDir = join(runDir, 'trace');
    await mkdir(bundleDir, { mode: 0o700 });
    await mkdir(rootfsDir, { mode: 0o755 });
    await mkdir(join(bundleDir, 'rootfs'), { mode: 0o755 });
    await mkdir(traceDir, { mode: 0o700 });

    const ownership: RootfsOwnership = mapping ? { ...mapping } : { uid: 0, gid: 0, size: 2 ** 32 - 1 };
    const rootfs = await materialiseRootfs(image, rootfsDir, {
      limits: options.imageLimits ?? resolveLimits(),
      diskBudgetBytes: limits.diskBytes,
      ownership,
      progress,
    });
    checkInterrupted();
    try {
      layer = await WritableLayer.create({
        runDir,
        root: sandbox.writableRoot,
        sizeBytes: limits.writableBytes,
        lowerDir: rootfsDir,
        mountPoint: join(bundleDir, 'rootfs'),
        owner: mapping ? { uid: mapping.uid, gid: mapping.gid } : { uid: 0, gid: 0 },
      });
    } catch (err) {
      if (err instanceof WritableLayerError) throw new DetonationError(`writable layer: ${err.message}`, err.hint);
      throw err;
    }
    checkInterrupted();
    cgroup = await createRunCgroup(id, { ...limits, pids: sandboxPidsLimit(sandbox, limits.pids) });
    net = await createSandboxNetwork({ id });
    checkInterrupted();

    const config: SinkholeProcessConfig = {
      host: net.sinkAddress,
      dnsPort: net.ports.dns,
      tcpPort: net.ports.tcp,
      udpPort: net.ports.udp,
      sinkAddress: net.sinkAddress,
      conntrackPath: '/proc/net/nf_conntrack',
    };
    const child = net.spawnInSink(sinkholeCommand.command, [...sinkholeCommand.args, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_OPTIONS: '' },
    });
    sinkhole = new SinkholeProcess(child);
    let readyTimer: NodeJS.Timeout | undefined;
    const ready = await Promise.race([
      sinkhole.readyPromise,
      new Promise<{ ok: boolean; message: string }>((r) => (readyTimer = setTimeout(() => r({ ok: false, message: 'the sinkhole did not start in time' }), SINKHOLE_READY_TIMEOUT_MS))),
    ]);
    clearTimeout(readyTimer);
    if (!ready.ok) throw new DetonationError(`sinkhole: ${ready.message ?? 'failed'}`);

    await createBundle(image.config, rootfsDir, bundleDir, {
      sandbox,
      limits,
      networkNamespacePath: net.samplePath,
      resolvConf: net.sinkAddress,
      cgroupsPath: cgroup.path,
      rootPath: layer.rootPath,
      writableRoot: true,
      writableDirs: layer.binds,
      filesDir: layer.filesDir,
      ...(options.command ? { command: options.command } : {}),
    });
    const setupMs = performance.now() - setupStarted;
    task.finish();
    checkInterrupted();

    const seconds = Math.max(1, Math.round(timeoutMs / 1000));
    const runTask = progress.task(`detonation: running under ${runtime.name} (up to ${seconds} s)`, seconds);
    const context: MonitorContext = { runtime: runtime.name, id, traceDir, bundleDir, startedAt: performance.now() };
    monitorContext = context;
    const request = (await monitor?.prepare?.(context)) ?? {};
    const stdout = new OutputCapture(options.maxOutputBytes ?? DEFAULT_SAMPLE_OUTPUT_BYTES);
    const stderr = new OutputCapture(options.maxOutputBytes ?? DEFAULT_SAMPLE_OUTPUT_BYTES);
    cgroup.startSampling(1000);
    context.startedAt = performance.now();
    const startedEpochMs = Date.now();
    runtimeStarted = true;
    // The countdown: seconds of the budget used, and what is left.
    const countdown = setInterval(() => {
      const used = Math.min(seconds, Math.round((performance.now() - context.startedAt) / 1000));
      runTask.update(used, `${seconds - used} s left`);
    }, 1000);
    countdown.unref();
    let run: Awaited<ReturnType<Runtime['run']>>;
    try {
      run = await runtime.run(bundleDir, {
        id,
        netnsPath: net.samplePath,
        deadlineMs: timeoutMs,
        limits,
        cgroup,
        onStdout: stdout.push,
        onStderr: stderr.push,
        traceDir,
        ...(request.runtimeFlags ? { runtimeFlags: request.runtimeFlags } : {}),
        ...(request.wrapper ? { wrapper: request.wrapper } : {}),
      });
    } finally {
      clearInterval(countdown);
    }
    const stats = await cgroup.sample();
    runTask.finish(run.timedOut ? 'deadline reached' : `exit ${run.exitCode ?? '?'}`);
    checkInterrupted();
    await sinkhole.stop();
    const found = (await monitor?.collect?.(context)) ?? {};
    const firstExecMs = run.firstExecMs ?? (found.firstExecEpochMs !== undefined ? Math.max(0, found.firstExecEpochMs - startedEpochMs) : undefined);
    // the sinkhole's clock is the wall clock; the monitor's counts from the sample's first exec
    const fromSinkhole = behaviorFromSinkhole(sinkhole.events, net.sinkAddress, startedEpochMs + (firstExecMs ?? 0));
    const dns = fromSinkhole.dns;
    const connections = mergeConnections(fromSinkhole.connections, found.connections ?? [], net.sinkAddress);
    const { files: droppedFiles, incomplete: droppedIncomplete } = await layer.collectDropped();
    const notices: ScanNotice[] = [...rootfs.skipped, ...(droppedIncomplete ? [{ level: 'warning' as const, message: droppedIncomplete }] : [])];
    if (options.inspectDropped && droppedFiles.length > 0) {
      await options.inspectDropped(droppedFiles.map((f) => ({ path: f.path, hostPath: f.hostPath, size: f.size, mode: f.mode })));
    }
    const files = found.files ?? [];
    // forks refused by a runtime's own kernel (RLIMIT_NPROC) are not in the cgroup's count: the trace's count is theirs
    const pidsLimitHits = stats.pidsLimitHits + (sandbox.pidsLimit.enforcedBy === 'rlimit' ? (found.refusedForks ?? 0) : 0);
    // what `classifyKill` says of a run whose forks the cgroup refused, for the forks the runtime's kernel refused
    const killedBy = run.killedBy ?? (pidsLimitHits > 0 && run.exitCode !== 0 ? 'pids' : undefined);
    const diskFull = (await layer.full()) || files.some((f) => f.error === 'ENOSPC' || f.error === 'EDQUOT');
    result = {
      sandbox: runtime.name,
      durationMs: Math.round(run.durationMs),
      exitCode: run.exitCode,
      timedOut: run.timedOut,
      ...(killedBy ? { killedBy } : {}),
      processes: await resolveExecutables(found.processes ?? [], rootfsDir),
      files,
      kills: found.kills ?? [],
      failedExecs: found.failedExecs ?? [],
      dropped: droppedFiles.map((f) => ({ path: f.path, size: f.size, mode: f.mode, sha256: f.sha256 })),
      ...(found.trace ? { trace: found.trace } : {}),
      dns,
      connections,
      cpu: stats.cpu,
      memory: stats.memory,
      pids: stats.pids,
      limitsHit: { oomKills: stats.oomKills, pidsLimitHits, ...(diskFull ? { diskFull: true } : {}) },
      series: stats.series,
      output: { stdout: stdout.value(), stderr: stderr.value(), truncated: stdout.truncated || stderr.truncated },
      sinkhole: { events: sinkhole.events, stats: sinkhole.stats },
      network: { sinkAddress: net.sinkAddress, sampleAddress: net.sampleAddress },
      timings: { setupMs: Math.round(setupMs), ...(firstExecMs !== undefined ? { firstExecMs: Math.round(firstExecMs) } : {}), teardownMs: 0 },
      ...(run.runtimeLog ? { runtimeLog: run.runtimeLog.slice(-4000) } : {}),
      ...(notices.length > 0 ? { notices } : {}),
    };
  } catch (err) {
    failure = err;
  }

  const teardownStarted = performance.now();
  const teardown = new TeardownSteps();
  const problems = teardown.problems;
  const step = teardown.step.bind(teardown);
  await step('runtime', () => runtime.cleanup(id, net ? { netnsPath: net.samplePath } : {}));
  if (monitorContext && monitor?.dispose) {
    const context = monitorContext;
    await step('monitor', async () => monitor.dispose?.(context));
  }
  if (sinkhole) await step('sinkhole', () => sinkhole.stop());
  if (cgroup) await step('cgroup', () => cgroup.remove());
  if (net) await step('network', () => net.destroy());
  if (layer) await step('writable layer', () => layer.destroy());
  if (runDir) {
    const dir = runDir;
    // never recurse into a mount that is still there (the overlay would turn the rm into whiteouts over the image)
    const left = mountsUnder(dir);
    if (left.length > 0) problems.push(`work dir: ${dir} still has mounts (${left.join(', ')}); not removed`);
    // the rootfs may be deeper than one syscall takes, which fs.rm cannot remove
    else await step('work dir', () => removeTree(dir, { maxRetries: REMOVE_TREE_RETRIES }));
  }
  if (recordFile && problems.length === 0) await step('run record', () => rm(recordFile, { force: true }));
  signals.uninstall();
  const teardownMs = performance.now() - teardownStarted;
  if (signals.received()) signals.reRaise();

  if (failure !== undefined) {
    if (problems.length > 0 && failure instanceof Error) failure.message += ` (and the teardown failed: ${problems.join('; ')})`;
    throw failure;
  }
  if (problems.length > 0) throw new DetonationError(`detonation teardown left things behind: ${problems.join('; ')}`);
  result!.timings.teardownMs = Math.round(teardownMs);
  return result!;
}
