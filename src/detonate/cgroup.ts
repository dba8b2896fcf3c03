/**
 * One cgroup per detonation: the limits (memory, pids, CPU quota), the accounting sampled each second, the
 * kill of the whole tree at the deadline, and its removal at teardown.
 *
 * Layouts: cgroup v1 (controllers mounted one per hierarchy or co-mounted, e.g. `cpu,cpuacct`, with or without a
 * cgroup2 "unified" mount beside them: the hybrid layout of the lab machine) and pure cgroup v2. Controllers are
 * found through /proc/self/mountinfo, not assumed. The runtime is given `path` as the bundle's `cgroupsPath`, so
 * runc and runsc put the sandbox in the cgroup made here (runc also makes it in every other hierarchy, and in the
 * unified one: `remove()` takes all of them away).
 */
import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_CGROUP_SAMPLES, MEMORY_LIMIT_SLACK_BYTES, type BundleLimits } from './limits.js';

export interface CgroupSample {
  /** Milliseconds since the cgroup was made. */
  t: number;
  cpuSeconds: number;
  memoryBytes: number;
  pids: number;
}

export interface CgroupStats {
  cpu: { seconds: number; peakCores: number };
  memory: { peakBytes: number };
  /** The sample's processes and threads at once (the task counter's count when one is set). */
  pids: { peak: number };
  /** Processes the kernel's OOM killer killed in the cgroup. */
  oomKills: number;
  /**
   * Whether usage reached the memory limit: the kernel's count of charges that hit it (v1 `memory.failcnt`, v2
   * `memory.events` max), or a peak within `MEMORY_LIMIT_SLACK_BYTES` of it where those are not kept (gVisor's cgroupfs).
   */
  memoryLimitReached: boolean;
  /** Forks refused because the pids limit was reached. */
  pidsLimitHits: number;
  /** One sample per interval (bounded: the last `MAX_CGROUP_SAMPLES`). */
  series: CgroupSample[];
}

export interface RunCgroup {
  /** The cgroup's path below each hierarchy's root, e.g. `/detonate/run-1`: the bundle's `cgroupsPath`. */
  readonly path: string;
  readonly layout: 'v1' | 'v2';
  /** Starts sampling every `intervalMs` (default 1000); idempotent. */
  startSampling(intervalMs?: number): void;
  /**
   * Counts the sample's tasks with `counter` instead of the cgroup's pids.current, for a runtime whose own threads
   * share the cgroup (gVisor: its kernel's count of the container's tasks). The counter answers null when it cannot
   * tell; the last count then stands. `undefined` goes back to the cgroup's count.
   */
  countTasksWith(counter: (() => Promise<number | null>) | undefined): void;
  /** Takes one more sample now (also the final one) and returns the totals so far. */
  sample(): Promise<CgroupStats>;
  stats(): CgroupStats;
  /** Pids of every process in the cgroup (in any hierarchy this module knows). */
  pids(): Promise<number[]>;
  /** SIGKILLs everything in the cgroup until it is empty (about 3 s at most); returns the pids that survived. */
  killAll(): Promise<number[]>;
  /** Stops sampling, kills what is left and removes the cgroup from every hierarchy. Idempotent. */
  remove(): Promise<void>;
}

export class CgroupError extends Error {
  override name = 'CgroupError';
}

interface Layout {
  /** controller → mount point of its v1 hierarchy */
  v1: Map<string, string>;
  /** every v1 hierarchy mount point (named ones too, e.g. name=systemd) */
  v1Mounts: string[];
  unified: string | null;
}

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$/;
export const DEFAULT_CGROUP_PARENT = 'detonate';

/** Parses /proc/self/mountinfo for cgroup mounts. */
export function parseCgroupMounts(mountinfo: string): Layout {
  const v1 = new Map<string, string>();
  const v1Mounts: string[] = [];
  let unified: string | null = null;
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const left = line.slice(0, sep).split(' ');
    const right = line.slice(sep + 3).split(' ');
    const mountPoint = (left[4] ?? '').replace(/\\040/g, ' ');
    const fstype = right[0];
    if (!mountPoint) continue;
    if (fstype === 'cgroup2') {
      unified ??= mountPoint;
    } else if (fstype === 'cgroup') {
      v1Mounts.push(mountPoint);
      for (const opt of (right[2] ?? '').split(',')) {
        if (['cpu', 'cpuacct', 'memory', 'pids', 'cpuset', 'freezer', 'devices', 'blkio'].includes(opt) && !v1.has(opt)) v1.set(opt, mountPoint);
      }
    }
  }
  return { v1, v1Mounts, unified };
}

function detectLayout(): Layout {
  return parseCgroupMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
}

async function readNumber(file: string): Promise<number | null> {
  try {
    const n = Number((await fs.readFile(file, 'utf8')).trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

async function readKeyed(file: string, key: string): Promise<number | null> {
  try {
    const text = await fs.readFile(file, 'utf8');
    const m = new RegExp(`^${key}\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

async function write(file: string, value: string, optional = false): Promise<void> {
  try {
    await fs.writeFile(file, value);
  } catch (err) {
    if (!optional) throw new CgroupError(`cannot write ${value} to ${file}: ${(err as Error).message}`);
  }
}

async function readPids(file: string): Promise<number[]> {
  try {
    return (await fs.readFile(file, 'utf8'))
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((p) => Number.isInteger(p) && p > 1 && p !== process.pid);
  } catch {
    return [];
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Cgroup implements RunCgroup {
  readonly layout: 'v1' | 'v2';
  private readonly started = performance.now();
  private readonly series: CgroupSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastCpu = 0;
  private lastT = 0;
  private peakCores = 0;
  private totalCpu = 0;
  private peakMemory = 0;
  private peakPids = 0;
  private oomKills = 0;
  private memoryLimitHits = 0;
  private memoryLimitBytes = Infinity;
  private pidsLimitHits = 0;
  private removed = false;
  private sampling: Promise<CgroupStats> | undefined;
  /** The read that starts once the one in flight ends (shared by everyone who asked meanwhile). */
  private queued: Promise<CgroupStats> | undefined;
  private taskCounter: (() => Promise<number | null>) | undefined;
  private lastTasks = 0;

  constructor(
    readonly path: string,
    private readonly l: Layout,
  ) {
    this.layout = l.v1.has('memory') ? 'v1' : 'v2';
  }

  private v1(controller: string, file: string): string | null {
    const m = this.l.v1.get(controller);
    return m ? join(m, this.path, file) : null;
  }
  private v2(file: string): string | null {
    return this.l.unified ? join(this.l.unified, this.path, file) : null;
  }

  /** Every directory this cgroup may have, in any hierarchy. */
  private dirs(): string[] {
    const all = [...this.l.v1Mounts, ...(this.l.unified ? [this.l.unified] : [])];
    return all.map((m) => join(m, this.path));
  }

  async create(limits: BundleLimits): Promise<void> {
    this.memoryLimitBytes = Math.floor(limits.memoryBytes);
    const quota = Math.max(1000, Math.round(limits.cpus * 100_000));
    if (this.layout === 'v1') {
      for (const c of ['memory', 'pids', 'cpu', 'cpuacct']) {
        const m = this.l.v1.get(c);
        if (!m) throw new CgroupError(`the cgroup v1 controller "${c}" is not mounted`);
        await fs.mkdir(join(m, this.path), { recursive: true });
      }
      await write(this.v1('memory', 'memory.limit_in_bytes')!, String(Math.floor(limits.memoryBytes)));
      // absent when swap accounting is off; then there is no swap to account either
      await write(this.v1('memory', 'memory.memsw.limit_in_bytes')!, String(Math.floor(limits.memoryBytes)), true);
      await write(this.v1('pids', 'pids.max')!, String(Math.floor(limits.pids)));
      await write(this.v1('cpu', 'cpu.cfs_period_us')!, '100000');
      await write(this.v1('cpu', 'cpu.cfs_quota_us')!, String(quota));
    } else {
      if (!this.l.unified) throw new CgroupError('no cgroup hierarchy with a memory controller is mounted');
      const parent = join(this.l.unified, this.path, '..');
      await fs.mkdir(parent, { recursive: true });
      await write(join(parent, 'cgroup.subtree_control'), '+memory +pids +cpu', true);
      await fs.mkdir(join(this.l.unified, this.path), { recursive: true });
      await write(this.v2('memory.max')!, String(Math.floor(limits.memoryBytes)));
      await write(this.v2('memory.swap.max')!, '0', true);
      await write(this.v2('pids.max')!, String(Math.floor(limits.pids)));
      await write(this.v2('cpu.max')!, `${quota} 100000`);
    }
  }

  countTasksWith(counter: (() => Promise<number | null>) | undefined): void {
    this.taskCounter = counter;
  }

  startSampling(intervalMs = 1000): void {
    if (this.timer || this.removed) return;
    this.timer = setInterval(() => void this.sample(), intervalMs);
    this.timer.unref();
  }

  sample(): Promise<CgroupStats> {
    // One read at a time, so that slow reads do not pile up; but every caller gets a read that began after it asked.
    // A read already in flight may predate what the caller means to count: the final sample taken as the run ends
    // once got the periodic read from before the OOM kill (peak below the limit, no kill counted).
    if (this.sampling) {
      this.queued ??= this.sampling.catch(() => undefined).then(() => {
        this.queued = undefined;
        return this.sample();
      });
      return this.queued;
    }
    this.sampling = this.read().finally(() => (this.sampling = undefined));
    return this.sampling;
  }

  private async read(): Promise<CgroupStats> {
    if (this.removed) return this.stats();
    let cpuNs: number | null;
    let mem: number | null;
    let peak: number | null;
    let pids: number | null;
    let pidsPeak: number | null;
    if (this.layout === 'v1') {
      cpuNs = await readNumber(this.v1('cpuacct', 'cpuacct.usage')!);
      mem = await readNumber(this.v1('memory', 'memory.usage_in_bytes')!);
      peak = await readNumber(this.v1('memory', 'memory.max_usage_in_bytes')!);
      pids = await readNumber(this.v1('pids', 'pids.current')!);
      pidsPeak = await readNumber(this.v1('pids', 'pids.peak')!);
      this.oomKills = Math.max(this.oomKills, (await readKeyed(this.v1('memory', 'memory.oom_control')!, 'oom_kill')) ?? 0);
      this.memoryLimitHits = Math.max(this.memoryLimitHits, (await readNumber(this.v1('memory', 'memory.failcnt')!)) ?? 0);
      this.pidsLimitHits = Math.max(this.pidsLimitHits, (await readKeyed(this.v1('pids', 'pids.events')!, 'max')) ?? 0);
    } else {
      const usec = await readKeyed(this.v2('cpu.stat')!, 'usage_usec');
      cpuNs = usec === null ? null : usec * 1000;
      mem = await readNumber(this.v2('memory.current')!);
      peak = await readNumber(this.v2('memory.peak')!);
      pids = await readNumber(this.v2('pids.current')!);
      pidsPeak = await readNumber(this.v2('pids.peak')!);
      this.oomKills = Math.max(this.oomKills, (await readKeyed(this.v2('memory.events')!, 'oom_kill')) ?? 0);
      this.memoryLimitHits = Math.max(this.memoryLimitHits, (await readKeyed(this.v2('memory.events')!, 'max')) ?? 0);
      this.pidsLimitHits = Math.max(this.pidsLimitHits, (await readKeyed(this.v2('pids.events')!, 'max')) ?? 0);
    }
    if (cpuNs === null && mem === null && pids === null) return this.stats(); // gone (removed by the runtime)
    if (this.taskCounter) {
      // the cgroup's own counts include the runtime's threads: the counter's is the sample's
      this.lastTasks = (await this.taskCounter().catch(() => null)) ?? this.lastTasks;
      pids = this.lastTasks;
      pidsPeak = null;
    }
    const t = performance.now() - this.started;
    const cpu = (cpuNs ?? this.lastCpu * 1e9) / 1e9;
    const dt = (t - this.lastT) / 1000;
    // short intervals (the final sample right after the last tick) say little about a rate
    if (dt >= 0.5) this.peakCores = Math.max(this.peakCores, Math.max(0, cpu - this.lastCpu) / dt);
    if (dt >= 0.5 || this.series.length === 0) {
      this.lastCpu = cpu;
      this.lastT = t;
    }
    this.peakMemory = Math.max(this.peakMemory, peak ?? 0, mem ?? 0);
    // pids.peak (kernels since 6.1) catches a peak between two samples, e.g. a fork bomb's
    this.peakPids = Math.max(this.peakPids, pids ?? 0, pidsPeak ?? 0);
    this.series.push({ t: Math.round(t), cpuSeconds: cpu, memoryBytes: mem ?? 0, pids: pids ?? 0 });
    if (this.series.length > MAX_CGROUP_SAMPLES) this.series.shift();
    this.totalCpu = Math.max(this.totalCpu, cpu);
    return this.stats();
  }

  stats(): CgroupStats {
    return {
      cpu: { seconds: Math.round(this.totalCpu * 1000) / 1000, peakCores: Math.round(this.peakCores * 100) / 100 },
      memory: { peakBytes: this.peakMemory },
      pids: { peak: this.peakPids },
      oomKills: this.oomKills,
      memoryLimitReached: this.memoryLimitHits > 0 || this.peakMemory >= this.memoryLimitBytes - MEMORY_LIMIT_SLACK_BYTES,
      pidsLimitHits: this.pidsLimitHits,
      series: [...this.series],
    };
  }

  async pids(): Promise<number[]> {
    const files = this.dirs().map((d) => join(d, 'cgroup.procs'));
    const all = new Set<number>();
    for (const f of files) for (const p of await readPids(f)) all.add(p);
    return [...all];
  }

  async killAll(): Promise<number[]> {
    const kill2 = this.v2('cgroup.kill');
    if (kill2) await write(kill2, '1', true);
    let left: number[] = [];
    for (let round = 0; round < 30; round++) {
      left = await this.pids();
      if (left.length === 0) return [];
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone already */
        }
      }
      await sleep(100);
    }
    return left;
  }

  async remove(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.removed) return;
    await this.sample().catch(() => undefined);
    const left = await this.killAll();
    const problems: string[] = [];
    for (const dir of this.dirs()) {
      for (let attempt = 0; ; attempt++) {
        try {
          await fs.rmdir(dir);
          break;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code === 'EBUSY' && attempt < 20) {
            await sleep(50);
            continue;
          }
          problems.push(`${dir}: ${code ?? String(err)}`);
          break;
        }
      }
      // the shared parent goes when the last run leaves it; another run's cgroup keeps it (ENOTEMPTY/EBUSY)
      await fs.rmdir(join(dir, '..')).catch(() => undefined);
    }
    if (problems.length > 0) {
      throw new CgroupError(`cgroup ${this.path} not fully removed${left.length ? ` (pids ${left.join(', ')} survived)` : ''}: ${problems.join('; ')}`);
    }
    this.removed = true;
  }
}

export interface CgroupOptions {
  /** Parent below each hierarchy's root; default `detonate`. */
  parent?: string;
}

/** Makes `/<parent>/<id>` with the limits set; throws `CgroupError` (after removing what it made) when it cannot. */
export async function createRunCgroup(id: string, limits: BundleLimits, options: CgroupOptions = {}): Promise<RunCgroup> {
  if (!ID_PATTERN.test(id)) throw new CgroupError(`cgroup id must match ${ID_PATTERN.source}`);
  const parent = options.parent ?? DEFAULT_CGROUP_PARENT;
  if (!ID_PATTERN.test(parent)) throw new CgroupError(`cgroup parent must match ${ID_PATTERN.source}`);
  const cg = new Cgroup(`/${parent}/${id}`, detectLayout());
  try {
    await cg.create(limits);
  } catch (err) {
    await cg.remove().catch(() => undefined);
    throw err instanceof CgroupError ? err : new CgroupError(`cannot create cgroup ${cg.path}: ${(err as Error).message}`);
  }
  return cg;
}

/** Paths of cgroups named `/<parent>/*` in any hierarchy (for leak checks and stale cleanup). */
export async function listRunCgroups(parent = DEFAULT_CGROUP_PARENT): Promise<string[]> {
  const l = detectLayout();
  const out: string[] = [];
  for (const m of [...l.v1Mounts, ...(l.unified ? [l.unified] : [])]) {
    const entries = await fs.readdir(join(m, parent), { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory()) out.push(join(m, parent, e.name));
  }
  return out;
}

/** Kills everything in `/<parent>/<id>` and removes it from every hierarchy (stale cleanup of a crashed run). */
export async function removeRunCgroup(id: string, parent = DEFAULT_CGROUP_PARENT): Promise<void> {
  if (!ID_PATTERN.test(id) || !ID_PATTERN.test(parent)) throw new CgroupError(`cgroup id must match ${ID_PATTERN.source}`);
  await new Cgroup(`/${parent}/${id}`, detectLayout()).remove();
}
