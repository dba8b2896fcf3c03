import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRunCgroups } from '../../src/detonate/cgroup.js';
import { cleanupStaleDetonations } from '../../src/detonate/index.js';
import { runBounded } from '../../src/detonate/network/exec.js';
import { GvisorRuntime } from '../../src/detonate/runtime/gvisor/index.js';
import type { Runtime } from '../../src/detonate/runtime/index.js';
import { RuncRuntime } from '../../src/detonate/runtime/runc/index.js';
import { mountsUnder } from '../../src/detonate/stale.js';
import { writeOciArchive, type EntrySpec } from '../support/image-builder.js';
import { findBusybox, netnsWall } from '../support/netns-wall.js';
import { repoRoot } from '../support/paths.js';
import { processesMentioning } from '../support/leftovers.js';

/*
 * A crashed run (the detonating node process SIGKILLed mid-run) and `cleanupStaleDetonations` after it. Like
 * session.test.ts, the runs happen only in the wall (test/support/netns-wall.ts).
 */
const busybox = findBusybox();
const wall = netnsWall({
  file: 'test/detonate/cleanup.test.ts',
  title: 'stale cleanup',
  expectPassed: 1,
  requires: () => (!busybox ? 'busybox-static not installed (apt-get install busybox-static)' : undefined),
  timeoutMs: 180_000,
});

describe('stale cleanup: pure parts', () => {
  it('finds the mount points under a run dir, deepest first, and nothing beside it', () => {
    const info = [
      '40 30 0:50 / /work/runs/detonate-a-XyZ123/layer rw - tmpfs tmpfs rw',
      '41 30 0:51 / /work/runs/detonate-a-XyZ123/bundle/rootfs rw - overlay overlay rw,lowerdir=rootfs,upperdir=layer/diff,workdir=layer/work',
      '42 30 0:52 / /work/runs/detonate-a-XyZ1234 rw - tmpfs other rw',
      '43 30 0:53 / /work/runs/with\\040space rw - tmpfs other rw',
    ].join('\n');
    expect(mountsUnder('/work/runs/detonate-a-XyZ123', info)).toEqual(['/work/runs/detonate-a-XyZ123/bundle/rootfs', '/work/runs/detonate-a-XyZ123/layer']);
    expect(mountsUnder('/work/runs/with space', info)).toEqual(['/work/runs/with space']);
  });

  it('leaves a run alone while its owner lives, and never touches dirs without our naming', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'detonate-cleanup-'));
    try {
      const records = join(dir, 'records');
      const runs = join(dir, 'runs');
      mkdirSync(records);
      mkdirSync(runs);
      const own = readFileSync('/proc/self/stat', 'utf8');
      const start = own.slice(own.lastIndexOf(')') + 2).split(' ')[19]!;
      const liveRun = join(runs, 'detonate-live1-AbC123');
      mkdirSync(liveRun);
      writeFileSync(join(records, 'live1.json'), JSON.stringify({ id: 'live1', pid: process.pid, start, runDir: liveRun, runtime: 'runc', stateRoot: join(dir, 'state'), created: Date.now() }));
      mkdirSync(join(runs, 'not-ours'));
      mkdirSync(join(runs, 'detonate-bad..name-AbC123'));
      writeFileSync(join(records, 'garbage.json'), '{not json');
      const r = await cleanupStaleDetonations({ recordDir: records, workDirs: [runs], stateRoots: [join(dir, 'state')], graceSeconds: 3600, networkStateDir: join(dir, 'netns') });
      expect(r.removed).toEqual([]);
      expect(readdirSync(runs).sort()).toEqual(['detonate-bad..name-AbC123', 'detonate-live1-AbC123', 'not-ours']);
      expect(existsSync(join(records, 'live1.json'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

wall.describe(() => {
  let work: string;
  let stateRoot: string;
  const runtimes: Runtime[] = [];

  beforeAll(async () => {
    await runBounded('ip', ['link', 'set', 'lo', 'up']);
    work = mkdtempSync(join(tmpdir(), 'detonate-cleanup-'));
    chmodSync(work, 0o711);
    stateRoot = join('/run', `detonate-test-${process.pid}`);
    const applets = (await runBounded(busybox!, ['--list'])).stdout.split('\n').map((a) => a.trim()).filter((a) => a && a !== 'busybox' && /^[a-z0-9_.[-]+$/.test(a));
    const entries: EntrySpec[] = [
      ...['bin/', 'etc/', 'tmp/', 'proc/', 'sys/', 'dev/'].map((name) => ({ name, type: 'directory' as const, mode: name === 'tmp/' ? 0o1777 : 0o755 })),
      { name: 'bin/busybox', content: readFileSync(busybox!), mode: 0o755 },
      ...applets.map((a) => ({ name: `bin/${a}`, type: 'symlink' as const, linkname: 'busybox' })),
      { name: 'etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\n' },
      { name: 'etc/group', content: 'root:x:0:\n' },
    ];
    await writeOciArchive(join(work, 'sleeper.tar'), {
      layers: [{ entries }],
      config: { Cmd: ['/bin/sh', '-c', 'echo dropped > /tmp/left; echo sleeping; sleep 600'], Env: ['PATH=/bin'], WorkingDir: '/' },
    });
    for (const r of [new GvisorRuntime({ stateRoot }), new RuncRuntime({ stateRoot })]) {
      const a = await r.available();
      if (a.ok) runtimes.push(r);
      else console.log(`[skip] ${r.name}: ${a.reason}`);
    }
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('removes what a SIGKILLed run left behind: namespaces, cgroups, mounts, runtime state, processes, run dir', async () => {
    expect(runtimes.length).toBeGreaterThan(0);
    const script = join(repoRoot, 'test/detonate/fixtures/detonate-child.ts');
    const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    const runs = join(work, 'runs');
    for (const runtime of runtimes) {
      const id = `c${process.pid}-${runtime.name}`;
      const child = spawn(process.execPath, ['--import', loader, script, join(work, 'sleeper.tar'), runtime.name, work, stateRoot, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise((r) => child.once('exit', r));
      // the sample has started once its dropped file is in the writable layer
      const started = (): boolean => {
        const dirs = existsSync(runs) ? readdirSync(runs).filter((d) => d.startsWith(`detonate-${id}-`)) : [];
        return dirs.some((d) => existsSync(join(runs, d, 'layer', 'binds', 'tmp', 'left')));
      };
      for (let i = 0; i < 300 && !started(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(started(), `${runtime.name}: ${out}`).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGKILL');
      await exited;
      // the crash left things behind
      expect((await runBounded('ip', ['netns', 'list'])).stdout, runtime.name).toContain(`detonate-${id}-sample`);
      expect((await listRunCgroups()).filter((p) => p.endsWith(`/${id}`)).length, runtime.name).toBeGreaterThan(0);
      expect(mountsUnder(runs).length, runtime.name).toBeGreaterThan(0);

      const t0 = performance.now();
      const r = await cleanupStaleDetonations({ workDirs: [runs], stateRoots: [stateRoot], graceSeconds: 0 });
      console.log(`[timing] ${runtime.name}: stale cleanup ${Math.round(performance.now() - t0)} ms: ${JSON.stringify(r)}`);
      expect(r.failed, runtime.name).toEqual([]);
      expect(r.removed, runtime.name).toContain(id);
      expect((await runBounded('ip', ['netns', 'list'])).stdout, runtime.name).not.toContain(id);
      expect((await listRunCgroups()).filter((p) => p.includes(id)), runtime.name).toEqual([]);
      expect(mountsUnder(runs), runtime.name).toEqual([]);
      expect(mountsUnder(work), runtime.name).toEqual([]);
      for (const dir of ['runsc', 'runc']) {
        const p = join(stateRoot, dir);
        expect(existsSync(p) ? readdirSync(p) : [], runtime.name).toEqual([]);
      }
      expect(readdirSync(runs).filter((d) => d.includes(id)), runtime.name).toEqual([]);
      expect(existsSync('/run/detonate/runs') ? readdirSync('/run/detonate/runs') : [], runtime.name).toEqual([]);
      expect(processesMentioning([runs, join(stateRoot, 'runsc', id), join(stateRoot, 'runc', id), id]), runtime.name).toEqual([]);
      // a second call finds nothing
      expect((await cleanupStaleDetonations({ workDirs: [runs], stateRoots: [stateRoot], graceSeconds: 0 })).removed).toEqual([]);
    }
  }, 120_000);
});
