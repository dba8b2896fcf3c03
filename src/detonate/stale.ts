/**
 * What a crashed run (node killed with SIGKILL, a power cut of the process) leaves behind, and its removal.
 * Each run writes a record (`/run/detonate/runs/<id>.json`: owner pid and start time, run dir, runtime state
 * root) before it makes anything; `cleanupStaleDetonations` takes the records whose owner is gone and removes,
 * in order: the runtime's container and state, the cgroup (every hierarchy), the mounts under the run dir, the run
 * dir, and last the network namespaces (and the processes still in them, e.g. the sinkhole). Only names carrying
 * our prefixes are touched: `detonate-` namespaces, `/detonate/<id>` cgroups, `<stateRoot>/<runtime state dir>/<id>`,
 * `detonate-<id>-*` run dirs. A run is found through its record, its run dir in `workDirs` or its runtime state
 * dir; never through its cgroup alone (cgroups are shared across mount namespaces, records are not). The runtimes'
 * state dirs are each registered runtime's own (`stateDir`), cleaned up by that runtime.
 */
import { processStartTime } from '../util/process.js';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { removeRunCgroup } from './cgroup.js';
import { cleanupStale, NETNS_DIR, NETNS_PREFIX } from './network/index.js';
import { createRuntimes, RUNTIME_NAMES } from './runtime/registry.js';
import { DEFAULT_RUNTIME_STATE_DIR, RUN_ID_PATTERN, type Runtime, type RuntimeName } from './runtime/runtime.js';
import { isMountPoint, unmount } from './writable.js';
import { TeardownSteps } from './teardown.js';
import { removeTree } from '../util/long-paths.js';
import { REMOVE_TREE_RETRIES } from './limits.js';

export const DEFAULT_RUN_RECORD_DIR = '/run/detonate/runs';

export interface RunClaim {
  id: string;
  pid: number;
  /** The owner's start time (field 22 of /proc/<pid>/stat): a reused pid is not the owner. */
  start: string;
  runDir: string;
  runtime: RuntimeName;
  stateRoot: string;
  created: number;
}


export async function writeRunClaim(record: Omit<RunClaim, 'pid' | 'start' | 'created'>, dir = DEFAULT_RUN_RECORD_DIR): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${record.id}.json`);
  const full: RunClaim = { ...record, pid: process.pid, start: (await processStartTime(process.pid)) ?? '', created: Date.now() };
  await writeFile(file, JSON.stringify(full), { mode: 0o600 });
  return file;
}

function parseRecord(text: string): RunClaim | undefined {
  try {
    const o = JSON.parse(text) as Partial<RunClaim>;
    if (
      typeof o.id === 'string' && RUN_ID_PATTERN.test(o.id) && typeof o.pid === 'number' && typeof o.start === 'string' &&
      typeof o.runDir === 'string' && typeof o.runtime === 'string' && RUNTIME_NAMES.includes(o.runtime) && typeof o.stateRoot === 'string'
    ) {
      return o as RunClaim;
    }
  } catch {
    /* garbage */
  }
  return undefined;
}

export interface CleanupStaleDetonationsOptions {
  /** Where the run records are; default /run/detonate/runs. */
  recordDir?: string;
  /** Work dirs to sweep for `detonate-*` run dirs no record names (e.g. the record dir was on a lost tmpfs). */
  workDirs?: string[];
  /** Runtime state roots to sweep besides the ones the records name; default /run/detonate/runtime. */
  stateRoots?: string[];
  /** Things without a live owner younger than this are left alone (a run being set up). Default 10 s. */
  graceSeconds?: number;
  /** The network's owner records (default /run/detonate/netns). */
  networkStateDir?: string;
}

export interface CleanupStaleDetonationsResult {
  /** Run ids whose leftovers were removed. */
  removed: string[];
  /** What could not be removed, with the reason. */
  failed: string[];
}

/** The id in a `detonate-<id>-XXXXXX` run dir name. */
function idOfRunDir(name: string): string | undefined {
  const m = /^detonate-([A-Za-z0-9][A-Za-z0-9-]{0,39})-[A-Za-z0-9]{6}$/.exec(name);
  return m ? m[1] : undefined;
}

async function ageMs(path: string): Promise<number> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return Infinity;
  }
}

/**
 * Removes what crashed runs left behind (see the module comment). Runs whose owner process is alive are never
 * touched. Safe to call at any time, also while other runs go on.
 */
export async function cleanupStaleDetonations(options: CleanupStaleDetonationsOptions = {}): Promise<CleanupStaleDetonationsResult> {
  const recordDir = options.recordDir ?? DEFAULT_RUN_RECORD_DIR;
  const graceMs = (options.graceSeconds ?? 10) * 1000;
  const result: CleanupStaleDetonationsResult = { removed: [], failed: [] };
  const live = new Set<string>();
  const stale = new Map<string, Partial<RunClaim> & { recordFile?: string }>();

  for (const file of await readdir(recordDir).catch(() => [] as string[])) {
    if (!file.endsWith('.json')) continue;
    const path = join(recordDir, file);
    const record = parseRecord(await readFile(path, 'utf8').catch(() => ''));
    if (!record) {
      if ((await ageMs(path)) > graceMs) await rm(path, { force: true });
      continue;
    }
    if ((await processStartTime(record.pid)) === record.start) live.add(record.id);
    else stale.set(record.id, { ...record, recordFile: path });
  }
  const consider = async (id: string, path: string, extra: Partial<RunClaim> = {}): Promise<void> => {
    if (live.has(id) || !RUN_ID_PATTERN.test(id)) return;
    const known = stale.get(id);
    if (known) {
      for (const [k, v] of Object.entries(extra)) (known as Record<string, unknown>)[k] ??= v;
      return;
    }
    // no record (or a live owner's record is missing): only when it is old enough not to be a run being set up
    if ((await ageMs(path)) > graceMs) stale.set(id, extra);
  };
  for (const dir of options.workDirs ?? []) {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const id = idOfRunDir(name);
      if (id) await consider(id, join(dir, name), { runDir: join(resolve(dir), name) });
    }
  }
  const stateRoots = new Set([...(options.stateRoots ?? [DEFAULT_RUNTIME_STATE_DIR]), ...[...stale.values()].flatMap((r) => (r.stateRoot ? [r.stateRoot] : []))]);
  // every registered runtime, once per state root: each knows its own state dir and how to clean it up
  const runtimesAt = new Map<string, Runtime[]>();
  for (const root of stateRoots) runtimesAt.set(root, await createRuntimes({ stateRoot: root }));
  for (const [root, runtimes] of runtimesAt) {
    for (const runtime of runtimes) {
      for (const id of await readdir(runtime.stateDir).catch(() => [] as string[])) await consider(id, join(runtime.stateDir, id), { stateRoot: root, runtime: runtime.name });
    }
  }
  // Cgroups are not evidence on their own: they are shared by every mount namespace, and a run in another one
  // (whose record this process cannot see) is alive. A crashed run's cgroup is found through its record.
  for (const name of await readdir(NETNS_DIR).catch(() => [] as string[])) {
    const m = /^detonate-(.+)-(sample|sink)$/.exec(name);
    if (m) await consider(m[1]!, join(NETNS_DIR, name));
  }

  for (const [id, r] of stale) {
    const teardown = new TeardownSteps();
    const problems = teardown.problems;
    const step = teardown.step.bind(teardown);
    const netnsPath = join(NETNS_DIR, `${NETNS_PREFIX}${id}-sample`);
    // the sandbox dies with its cgroup first: a runsc whose controller lost its parent can take longer to stop
    // over its control socket than `delete --force` waits (seen under load)
    await removeRunCgroup(id).catch(() => undefined);
    const retried = async (f: () => Promise<void>): Promise<void> => {
      try {
        await f();
      } catch {
        await new Promise((res) => setTimeout(res, 500));
        await f();
      }
    };
    for (const root of r.stateRoot ? [r.stateRoot] : [...stateRoots]) {
      for (const runtime of runtimesAt.get(root) ?? (await createRuntimes({ stateRoot: root }))) {
        if (existsSync(join(runtime.stateDir, id))) await step(`${basename(runtime.stateDir)} state`, () => retried(() => runtime.cleanup(id, { netnsPath })));
      }
    }
    await step('cgroup', () => removeRunCgroup(id));
    if (r.runDir) {
      const runDir = r.runDir;
      if (!idOfRunDir(basename(runDir)) || idOfRunDir(basename(runDir)) !== id) problems.push(`run dir ${runDir}: not one of ours`);
      else {
        await step('mounts', () => unmountUnder(runDir));
        if (mountsUnder(runDir).length === 0) await step('run dir', () => removeTree(runDir, { maxRetries: REMOVE_TREE_RETRIES }));
        else problems.push(`run dir ${runDir}: still has mounts`);
      }
    }
    if (problems.length === 0 && r.recordFile) await rm(r.recordFile, { force: true });
    if (problems.length > 0) result.failed.push(`${id}: ${problems.join('; ')}`);
    else result.removed.push(id);
  }
  // the namespaces last: processes still in them (the sinkhole, a runsc that lost its parent) are killed there
  const net = await cleanupStale(NETNS_PREFIX, { graceSeconds: options.graceSeconds ?? 10, ...(options.networkStateDir ? { stateDir: options.networkStateDir } : {}) });
  for (const f of net.failed) result.failed.push(f);
  for (const name of net.removed) {
    const m = /^detonate-(.+)-(sample|sink)$/.exec(name);
    if (m && !result.removed.includes(m[1]!) && !live.has(m[1]!)) result.removed.push(m[1]!);
  }
  return result;
}

/** Mount points at or below `dir`, deepest first. */
export function mountsUnder(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const base = resolve(dir);
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const raw = line.split(' ')[4];
    if (!raw) continue;
    const point = raw.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (point === base || point.startsWith(`${base}/`)) out.push(point);
  }
  return out.sort((a, b) => b.length - a.length);
}

async function unmountUnder(dir: string): Promise<void> {
  for (const point of mountsUnder(dir)) if (isMountPoint(point)) await unmount(point);
}
