import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syscallMonitor } from '../../src/detonate/monitor/session-monitor.js';
import { findExecutable } from '../../src/detonate/network/exec.js';
import type { Runtime } from '../../src/detonate/runtime/index.js';
import { detonateImage, type DetonationMonitor, type DetonationResult } from '../../src/detonate/session.js';
import type { ResolvedImage } from '../../src/image/types.js';
import type { Finding } from '../../src/model/index.js';
import { runRecordOf } from '../../src/scan/detonation.js';
import { loadVerdictRules } from '../../src/verdict/index.js';
import { expectValidReport } from '../support/report-schema.js';
import { emptyReport } from '../report/sample-reports.js';
import { findBusybox, netnsWall } from '../support/netns-wall.js';
import { buildSample, closeHarness, createHarness, leftovers, RUNTIME_BINARIES, sampleProgram, shows, type Harness, usableRuntime } from './fixtures/samples/images.js';

/*
 * A sample that tries to erase its own behaviour record (issue 11, item 3): 300,000 writes, 1,000 files and 300
 * programs of noise first, then an SSH key, a preload and a dropped miner. What it did last must be in the result
 * and the report under both runtimes, the report must say which records the bounds left out, and the trace may not
 * fill the host's disk. In the wall (test/support/netns-wall.ts).
 */
const busybox = findBusybox();
const installed = RUNTIME_BINARIES.filter((r) => findExecutable(r.binary) !== undefined);
/** What the run's trace dir may hold at the end of the run (the trace itself goes through a pipe). */
const TRACE_DIR_CAP = 16 * 1024 * 1024;

const wall = netnsWall({
  file: 'test/detonate/trace-flood.test.ts',
  title: 'trace flood',
  expectPassed: installed.length + 1,
  timeoutMs: 400_000,
  requires: () => (!busybox ? 'busybox-static not installed (apt-get install busybox-static)' : installed.length === 0 ? 'neither runsc nor runc is installed' : undefined),
});

async function dirBytes(dir: string): Promise<{ bytes: number; files: string[] }> {
  let bytes = 0;
  const files: string[] = [];
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const st = await lstat(join(dir, name));
    if (st.isDirectory()) {
      const sub = await dirBytes(join(dir, name));
      bytes += sub.bytes;
      files.push(...sub.files);
    } else {
      bytes += st.size;
      files.push(`${name} ${st.isFIFO() ? 'fifo' : st.size}`);
    }
  }
  return { bytes, files };
}

/** The session's own syscall monitor, and what its trace dir holds once the run is over (before the teardown). */
function measuredMonitor(seen: { bytes: number; files: string[] }): DetonationMonitor {
  const inner = syscallMonitor();
  return {
    prepare: (ctx) => inner.prepare?.(ctx),
    async collect(ctx) {
      Object.assign(seen, await dirBytes(ctx.traceDir));
      const started = performance.now();
      const found = await inner.collect?.(ctx);
      console.log(`[timing] collect (read and fold the trace) ${ctx.runtime}: ${Math.round(performance.now() - started)} ms; trace dir ${JSON.stringify(seen)}`);
      return found;
    },
    dispose: (ctx) => inner.dispose?.(ctx),
  };
}

wall.describe(() => {
  let h: Harness;
  let image: ResolvedImage;

  beforeAll(async () => {
    h = await createHarness('flood');
    for (const u of h.unusable) console.log(`[skip] ${u}`);
    image = await buildSample(h, busybox!, 'flood', sampleProgram('flood.sh'));
  });

  afterAll(async () => {
    if (h) await closeHarness(h);
  });

  const why = (r: DetonationResult): string =>
    JSON.stringify({
      exit: r.exitCode, timedOut: r.timedOut, out: r.output, log: r.runtimeLog, trace: r.trace,
      processes: r.processes.filter((p) => !p.argv.includes('true')).slice(-40), processCount: r.processes.length,
      files: r.files.filter((f) => !f.path.startsWith('/tmp/junk/')), fileCount: r.files.length,
    }).slice(0, 8000);

  for (const { name } of installed) {
    describe(`under ${name}`, () => {
      const runtime = (): Runtime => usableRuntime(h, name);

      it('keeps what the sample did after 300,000 writes, 1,000 files and 300 programs, says what it left out, and keeps the trace off the disk', async () => {
        const traceDir = { bytes: 0, files: [] as string[] };
        const id = `f${process.pid}-${h.ids.length}`;
        h.ids.push(id);
        const started = performance.now();
        const r = await detonateImage(image, {
          runtime: runtime(),
          timeoutMs: 150_000,
          workDir: join(h.work, 'runs'),
          id,
          limits: { memoryBytes: 256 * 1024 * 1024, pids: 128, cpus: 1, tmpfsBytes: 32 * 1024 * 1024 },
          monitor: measuredMonitor(traceDir),
        });
        h.sinkAddresses.push(r.network.sinkAddress);
        console.log(`[timing] flood under ${name}: ${Math.round(performance.now() - started)} ms (run ${r.durationMs} ms)`);
        shows(`${name} flood`, { ...r, processes: r.processes.slice(-20), files: r.files.slice(-20) });
        expect(r.output.stdout, why(r)).toContain('flood-done');
        expect(r.timedOut, why(r)).toBe(false);

        // the last things it did are there, written or attempted
        for (const path of ['/root/.ssh/authorized_keys', '/etc/ld.so.preload']) {
          expect(r.files.some((f) => f.path === path && (f.op === 'create' || f.op === 'write')), `${path}: ${why(r)}`).toBe(true);
        }
        const miner = r.processes.find((p) => p.exe === '/tmp/kdevtmpfsi');
        expect(miner?.argv, why(r)).toEqual(['/tmp/kdevtmpfsi', '--donate-level=1', '-o', 'stratum+tcp://pool.example.test:3333']);
        // and so are the first: the noise itself, as far as the lists go
        expect(r.processes[0]?.argv, why(r)).toEqual(['/bin/sh', '/sample.sh']);
        expect(r.processes.some((p) => p.argv.join(' ') === '/bin/true'), why(r)).toBe(true);
        expect(r.files.some((f) => f.path === '/tmp/junk/f0'), why(r)).toBe(true);

        // the verdict sees them
        const findings: Finding[] = (await loadVerdictRules()).evaluateBehavior(r);
        const rules = findings.map((f) => f.rule);
        for (const rule of ['behavior.backdoor.authorized-keys', 'behavior.backdoor.ld-so-preload', 'behavior.cryptominer.miner-process', 'behavior.dropper.exec-dropped']) {
          expect(rules, `${rule}: ${why(r)}`).toContain(rule);
        }

        // the report says the lists are incomplete, and by how much
        const behavior = runRecordOf(r);
        expectValidReport({ ...emptyReport(), behavior });
        expect(behavior.trace?.complete, why(r)).toBe(false);
        expect(behavior.trace?.omitted.files, why(r)).toBeGreaterThanOrEqual(1000 + 2 - 512);
        expect(behavior.trace?.omitted.processes, why(r)).toBeGreaterThan(0);
        expect(behavior.files.length + behavior.trace!.omitted.files, why(r)).toBeGreaterThanOrEqual(1002);

        // the trace went through a pipe: what is left in the trace dir is the runtime's own small logs
        expect(traceDir.bytes, JSON.stringify(traceDir)).toBeLessThan(TRACE_DIR_CAP);
      }, 240_000);
    });
  }

  it('leaves nothing behind: no namespace, cgroup, mount, runtime state or process', async () => {
    expect(h.ids.length).toBeGreaterThan(0);
    expect(await leftovers(h)).toEqual([]);
  });
});
