/**
 * `npm run bench` (detonation part): the sandbox's own overhead per runtime, median of 10 runs of a busybox image
 * that exits at once: start of the run to the sample's first exec, and teardown. Target (issue 5): under 1 s each.
 *
 * Like the detonation tests, it runs inside a fresh network and mount namespace as a second wall: the script
 * re-executes itself under `unshare --net --mount` with a tmpfs over /run. Needs root and runsc/runc installed
 * (scripts/install.sh --test); otherwise it says what is missing and exits 0.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobCache } from '../src/image/cache.js';
import { openImageSource } from '../src/image/open.js';
import { resolveLimits } from '../src/config/limits.js';
import { findExecutable } from '../src/detonate/network/exec.js';
import { GvisorRuntime } from '../src/detonate/runtime/gvisor/index.js';
import type { Runtime } from '../src/detonate/runtime/index.js';
import { RuncRuntime } from '../src/detonate/runtime/runc/index.js';
import { detonateImage } from '../src/detonate/session.js';
import { writeOciArchive, type EntrySpec } from '../test/support/image-builder.js';

const RUNS = Number(process.env.BENCH_DETONATE_RUNS ?? 10);
const TARGET_MS = 1000;
const WALL_ENV = 'DETONATE_BENCH_WALL';
const self = fileURLToPath(import.meta.url);

function ownNetns(): string {
  return readlinkSync('/proc/self/ns/net');
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function busyboxImage(archive: string, busybox: string): Promise<void> {
  const list = spawnSync(busybox, ['--list'], { encoding: 'utf8' }).stdout;
  const applets = list.split('\n').map((a) => a.trim()).filter((a) => a && a !== 'busybox' && /^[a-z0-9_.[-]+$/.test(a));
  const entries: EntrySpec[] = [
    ...['bin/', 'etc/', 'tmp/', 'proc/', 'sys/', 'dev/', 'root/'].map((name) => ({ name, type: 'directory' as const, mode: name === 'tmp/' ? 0o1777 : 0o755 })),
    { name: 'bin/busybox', content: readFileSync(busybox), mode: 0o755 },
    ...applets.map((a) => ({ name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox' })),
    { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
    { name: 'etc/group', content: 'root:x:0:\n' },
  ];
  await writeOciArchive(archive, { layers: [{ entries }], config: { Cmd: ['/bin/true'], Env: ['PATH=/bin'], WorkingDir: '/' } });
}

async function insideWall(): Promise<number> {
  if (process.env[WALL_ENV] === ownNetns()) throw new Error('refusing to detonate in the host network namespace');
  spawnSync('ip', ['link', 'set', 'lo', 'up']);
  const busybox = findExecutable('busybox') ?? '/bin/busybox';
  const work = mkdtempSync(join(tmpdir(), 'detonate-bench-'));
  chmodSync(work, 0o711); // runc's sandbox user must traverse to its bundle
  let missed = false;
  try {
    const archive = join(work, 'true.tar');
    await busyboxImage(archive, busybox);
    const source = await openImageSource(`oci-archive:${archive}`, { limits: resolveLimits(), cache: new BlobCache(join(work, 'cache')), insecureRegistries: [], platformExplicit: false });
    const [image] = await source.resolve({ os: 'linux', architecture: 'amd64' });
    const stateRoot = join('/run', `detonate-bench-${process.pid}`);
    const runtimes: Runtime[] = [new GvisorRuntime({ stateRoot }), new RuncRuntime({ stateRoot })];
    for (const runtime of runtimes) {
      const available = await runtime.available();
      if (!available.ok) {
        console.log(`SKIP  ${runtime.name}: ${available.reason}`);
        continue;
      }
      const firstExec: number[] = [];
      const teardown: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const result = await detonateImage(image!, { runtime, workDir: work, timeoutMs: 20_000 });
        if (result.timings.firstExecMs !== undefined) firstExec.push(result.timings.firstExecMs);
        teardown.push(result.timings.teardownMs);
      }
      const start = median(firstExec);
      const down = median(teardown);
      console.log(`${runtime.name}: start of run to first exec ${start} ms, teardown ${down} ms (median of ${RUNS})`);
      for (const [what, ms] of [['start to first exec', start], ['teardown', down]] as const) {
        const ok = ms < TARGET_MS;
        missed ||= !ok;
        console.log(`${ok ? 'PASS' : 'MISS'}  ${runtime.name} ${what}: ${ms} ms (target < ${TARGET_MS} ms)`);
      }
    }
    await source.close();
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return missed ? 1 : 0;
}

if (process.env[WALL_ENV] !== undefined) {
  process.exitCode = await insideWall();
} else if (process.getuid?.() !== 0) {
  console.log('SKIP  detonation overhead: needs root (namespaces, cgroups)');
} else {
  const unshare = findExecutable('unshare');
  if (!unshare) {
    console.log('SKIP  detonation overhead: `unshare` not found (install util-linux)');
  } else {
    console.log(`detonation overhead, ${RUNS} runs per runtime, inside a fresh network namespace …`);
    const r = spawnSync(
      unshare,
      ['--net', '--mount', '--propagation', 'private', '--', 'sh', '-c', 'mount -t tmpfs -o mode=0755 detonate-bench /run && exec "$@"', 'sh', process.execPath, '--import', 'tsx', self],
      { stdio: 'inherit', env: { ...process.env, [WALL_ENV]: ownNetns() } },
    );
    process.exitCode = r.status ?? 1;
  }
}
