import { readFileSync, statfsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecutable } from '../../src/detonate/network/exec.js';
import type { Runtime } from '../../src/detonate/runtime/index.js';
import { DEFAULT_DETONATION_LIMITS } from '../../src/detonate/limits.js';
import type { DetonationResult } from '../../src/detonate/session.js';
import type { ResolvedImage } from '../../src/image/types.js';
import { findBusybox, netnsWall } from '../support/netns-wall.js';
import {
  buildSample,
  closeHarness,
  createHarness,
  detonateSample,
  leftovers,
  RUNTIME_BINARIES,
  sampleProgram,
  shows,
  type Harness,
  usableRuntime,
} from './fixtures/samples/images.js';

/*
 * Containment, under gVisor and under runc, in the wall (test/support/netns-wall.ts): the sample reaches neither
 * the host's loopback nor any address but the sink, a fork bomb is stopped by the pids limit (the same documented
 * limit under both runtimes, which a sample with 240 processes stays under) and a disk filler by the writable
 * layer's size (ENOSPC, `limitsHit.diskFull`), not by the memory limit; and what a sample reads to tell a sandbox
 * from a host (mountinfo, df, meminfo, uname) names neither Detonate, nor the host's paths, nor its disks.
 * Covered elsewhere, not repeated here: the memory bomb stopped by the memory limit and the process that ignores
 * SIGTERM killed at the deadline (session.test.ts, "reports a memory bomb …" and "kills a process that ignores
 * SIGTERM …").
 */
const busybox = findBusybox();
const installed = RUNTIME_BINARIES.filter((r) => findExecutable(r.binary) !== undefined);
const CASES_PER_RUNTIME = 5;
const PIDS_LIMIT = DEFAULT_DETONATION_LIMITS.pids;
// gVisor's memory for a sample process is about 1 MiB (runc's 0.15): 256 of them need the default budget
const { memoryBytes: MEMORY } = DEFAULT_DETONATION_LIMITS;
const WRITABLE_BYTES = 32 * 1024 * 1024;
const FILLER_MEMORY = 96 * 1024 * 1024;

const wall = netnsWall({
  file: 'test/detonate/containment.test.ts',
  title: 'containment',
  expectPassed: CASES_PER_RUNTIME * installed.length + 1,
  timeoutMs: 480_000,
  requires: () => (!busybox ? 'busybox-static not installed (apt-get install busybox-static)' : installed.length === 0 ? 'neither runsc nor runc is installed' : undefined),
});

/** The host's block devices with a mounted filesystem (`/dev/vda`, `/dev/nvme0n1p1`, …), from its mount table. */
function hostDevices(): string[] {
  const devices = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const source = line.split(' - ')[1]?.split(' ')[1];
    if (source?.startsWith('/dev/') && !/^\/dev\/(pts|shm|mqueue|hugepages)/.test(source)) devices.add(source);
  }
  return [...devices];
}

wall.describe(() => {
  let h: Harness;
  const images = {} as Record<'escape' | 'forkbomb' | 'diskfill' | 'crowd' | 'hostinfo', ResolvedImage>;
  // the wall's own namespace plays the host: a loopback service the sample must never reach
  let loopback: Server;
  let loopbackHits = 0;

  beforeAll(async () => {
    loopback = createServer((s) => {
      loopbackHits++;
      s.destroy();
    });
    await new Promise<void>((r) => loopback.listen(0, '127.0.0.1', r));
    const port = (loopback.address() as { port: number }).port;
    h = await createHarness('containment');
    for (const u of h.unusable) console.log(`[skip] ${u}`);
    images.escape = await buildSample(h, busybox!, 'escape', sampleProgram('escape.sh').replaceAll('__LOOPBACK_PORT__', String(port)));
    images.forkbomb = await buildSample(h, busybox!, 'forkbomb', sampleProgram('forkbomb.sh'));
    images.diskfill = await buildSample(h, busybox!, 'diskfill', sampleProgram('diskfill.sh'));
    images.crowd = await buildSample(h, busybox!, 'crowd', sampleProgram('crowd.sh'));
    images.hostinfo = await buildSample(h, busybox!, 'hostinfo', sampleProgram('hostinfo.sh'));
  });

  afterAll(async () => {
    loopback?.close();
    if (h) await closeHarness(h);
  });

  const why = (r: DetonationResult): string =>
    JSON.stringify({ exit: r.exitCode, killedBy: r.killedBy, out: r.output, log: r.runtimeLog, limits: r.limitsHit, pids: r.pids, connections: r.connections }).slice(0, 5000);

  for (const { name } of installed) {
    describe(`under ${name}`, () => {
      const runtime = (): Runtime => usableRuntime(h, name);

      it("cannot reach the host's loopback; any other address ends at the sinkhole", async () => {
        const r = await detonateSample(h, runtime(), images.escape, { timeoutMs: 8000 });
        shows(`${name} escape`, r);
        expect(r.output.stdout, why(r)).toContain('loopback-refused');
        expect(loopbackHits, why(r)).toBe(0);
        expect(r.connections.filter((c) => c.dst.startsWith('127.')), why(r)).toEqual([]);
        // 198.51.100.1 is not there: the sinkhole answered in its place and recorded where the sample meant to go
        expect(r.output.stdout, why(r)).toMatch(/reply: HTTP\/1\.[01] 200/);
        expect(r.connections, why(r)).toContainEqual(expect.objectContaining({ proto: 'tcp', dst: '198.51.100.1', port: 80, protocol: 'http', host: 'elsewhere.example.com' }));
        const event = r.sinkhole.events.find((e) => e.kind === 'connection' && e.originalDst?.address === '198.51.100.1');
        expect(event, why(r)).toMatchObject({ originalDst: { address: '198.51.100.1', port: 80 }, remote: { address: r.network.sampleAddress } });
        // every flow the sinkhole saw came from the sample's address, to the sink
        for (const e of r.sinkhole.events) {
          if (e.kind === 'connection') expect(e.remote.address, why(r)).toBe(r.network.sampleAddress);
          if (e.kind === 'dns') expect(e.from.address, why(r)).toBe(r.network.sampleAddress);
        }
      }, 40_000);

      it('stops a fork bomb at the pids limit and reports it', async () => {
        // the deadline only bounds a run whose limit did not bite: strace -f around runc makes 256 forks slow
        const r = await detonateSample(h, runtime(), images.forkbomb, { timeoutMs: 40_000, limits: { pids: PIDS_LIMIT, memoryBytes: MEMORY } });
        shows(`${name} forkbomb`, r);
        expect(r.output.stdout, why(r)).toContain('forking');
        expect(r.limitsHit.pidsLimitHits, why(r)).toBeGreaterThan(0);
        expect(r.killedBy, why(r)).toBe('pids');
        expect(r.pids.peak, why(r)).toBeLessThanOrEqual(PIDS_LIMIT);
        expect(r.timedOut, why(r)).toBe(false);
        // busybox sh gives up at the first fork the kernel refuses
        expect(r.output.stderr, why(r)).toMatch(/can't fork: Resource temporarily unavailable/);
      }, 90_000);

      it('lets a sample keep 240 processes at the default limit of 256 until the deadline', async () => {
        const r = await detonateSample(h, runtime(), images.crowd, { timeoutMs: 30_000, limits: { pids: PIDS_LIMIT, memoryBytes: MEMORY } });
        shows(`${name} crowd`, r);
        expect(r.output.stdout, why(r)).toContain('started 240');
        // it went on working after its processes were up, and was stopped by the deadline, not by the limit
        expect(r.output.stdout, why(r)).toMatch(/tick [3-9]/);
        expect(r.timedOut, why(r)).toBe(true);
        expect(r.killedBy, why(r)).toBe('deadline');
        expect(r.limitsHit.pidsLimitHits, why(r)).toBe(0);
        // the sample's processes, not the runtime's own threads (gVisor's are several per sample process)
        expect(r.pids.peak, why(r)).toBeGreaterThanOrEqual(241);
        expect(r.pids.peak, why(r)).toBeLessThanOrEqual(PIDS_LIMIT);
        expect(r.dropped?.find((d) => d.path === '/tmp/ticks'), why(r)).toBeDefined();
      }, 90_000);

      it('shows the sample neither Detonate, nor host paths, nor host disks', async () => {
        const memoryBytes = 256 * 1024 * 1024;
        const r = await detonateSample(h, runtime(), images.hostinfo, { timeoutMs: 8000, limits: { memoryBytes } });
        shows(`${name} hostinfo`, r);
        const out = r.output.stdout;
        console.log(`[hostinfo] ${name}:\n${out}${r.output.stderr}`);
        expect(out, why(r)).toContain('== end');
        expect(out, why(r)).toMatch(/== mountinfo\n\d+ \d+ /);
        const report = JSON.stringify(r);
        // the size of the disk the work dir is on, as df prints it (1K blocks)
        const disk = statfsSync(h.work);
        const hostDiskKb = String(Math.floor((disk.blocks * disk.bsize) / 1024));
        for (const text of [out, r.output.stderr, report]) {
          expect(text, why(r)).not.toMatch(new RegExp(`\\b${hostDiskKb}\\b`));
          expect(text.toLowerCase(), why(r)).not.toContain('detonate');
          expect(text, why(r)).not.toContain(h.work);
          for (const device of hostDevices()) expect(text, `${device}: ${why(r)}`).not.toMatch(new RegExp(`(^|[^\\w/])${device.replace(/^\/dev\//, '(/dev/)?')}\\b`));
        }
        // the root is an overlay as Docker's is, its layers named relative to nothing of the host's
        if (name === 'runc') expect(out, why(r)).toMatch(/^\d+ \d+ \S+ \/ \/ \S+ .*- overlay overlay /m);
        // gVisor's kernel shows the memory limit as the machine's memory
        if (name === 'gvisor') expect(out, why(r)).toMatch(new RegExp(`^MemTotal: +${memoryBytes / 1024} kB$`, 'm'));
      }, 40_000);

      it('stops a disk filler at the writable layer\'s limit, before the memory limit, and reports it', async () => {
        const r = await detonateSample(h, runtime(), images.diskfill, { timeoutMs: 8000, limits: { writableBytes: WRITABLE_BYTES, memoryBytes: FILLER_MEMORY } });
        shows(`${name} diskfill`, r);
        expect(r.timedOut, why(r)).toBe(false);
        expect(r.files, why(r)).toContainEqual(expect.objectContaining({ op: 'create', path: '/tmp/fill' }));
        // dd gets ENOSPC at the disk budget: it fails, nothing is OOM-killed, and the result says the disk was full
        expect(r.output.stderr, why(r)).toMatch(/No space left on device/);
        expect(r.output.stdout, why(r)).toMatch(/dd-rc=[1-9]/);
        const size = Number(/size=(\d+)/.exec(r.output.stdout)?.[1]);
        expect(size, why(r)).toBeGreaterThan(WRITABLE_BYTES / 2);
        expect(size, why(r)).toBeLessThanOrEqual(WRITABLE_BYTES);
        expect(r.limitsHit.diskFull, why(r)).toBe(true);
        expect(r.limitsHit.oomKills, why(r)).toBe(0);
        expect(r.killedBy, why(r)).toBeUndefined();
        // (dd's failed write is not in the files: write() is not traced, a flood of it would bury the rest)
        // what the filler left is listed (bounded), for the static detectors
        expect(r.dropped?.find((d) => d.path === '/tmp/fill')?.size, why(r)).toBe(size);
      }, 40_000);
    });
  }

  it('leaves nothing behind: no namespace, cgroup, mount, runtime state or process', async () => {
    expect(h.ids.length).toBeGreaterThan(0);
    expect(await leftovers(h)).toEqual([]);
  });
});
