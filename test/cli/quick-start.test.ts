/**
 * The README's first command (issue 15): the install script makes examples/demo-miner.oci.tar from the machine's
 * Debian busybox-static and examples/demo-miner/miner.sh, byte for byte the same each time, and `detonate scan` of
 * it shows what Detonate is for: a detonation with a process tree, a DNS lookup and a stratum login caught by the
 * sinkhole at 192.0.2.10 (TEST-NET-1), and a malicious verdict with its evidence. In the wall, like every detonation.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findExecutable } from '../../src/detonate/network/exec.js';
import type { Report, RunRecord } from '../../src/model/index.js';
import { runCli } from '../support/cli.js';
import { findBusybox, netnsWall } from '../support/netns-wall.js';
import { repoRoot } from '../support/paths.js';

const busybox = findBusybox();
const sandbox = (['gvisor', 'runc'] as const).find((r) => findExecutable(r === 'gvisor' ? 'runsc' : 'runc'));

const wall = netnsWall({
  file: 'test/cli/quick-start.test.ts',
  title: 'the quick start',
  expectPassed: 2,
  requires: () => (!busybox ? 'busybox-static not installed (apt-get install busybox-static)' : !sandbox ? 'neither runsc nor runc is installed' : undefined),
});

wall.describe(() => {
  let work: string;
  let demo: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'detonate-quick-start-'));
    chmodSync(work, 0o711); // runc's sandbox user (uid 100000) must traverse to its bundle
    demo = join(work, 'demo-miner.oci.tar');
  });
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const make = (out: string) => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'scripts', 'make-demo-image.ts'), out], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  };

  it('the demo image is made from the machine\'s Debian packages, the same bytes every time', () => {
    make(demo);
    make(join(work, 'again.tar'));
    expect(readFileSync(join(work, 'again.tar')).equals(readFileSync(demo))).toBe(true);
  }, 60_000);

  it('scanning it shows a detonation: processes, a DNS lookup, a stratum login caught at 192.0.2.10, and a verdict with evidence', async () => {
    const r = await runCli(['scan', '--format', 'json', '--detonate-timeout', '8s', `oci-archive:${demo}`], { DETONATE_CACHE_DIR: join(work, 'cache'), DETONATE_WORK_DIR: join(work, 'runs') }, 120_000);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    expect(report.packages.map((p) => p.name)).toContain('busybox-static');
    const run = report.behavior as RunRecord;
    expect(run.sandbox).toBe(sandbox);
    const programs = run.processes.map((p) => p.argv[0]);
    expect(programs).toEqual(expect.arrayContaining(['/bin/sh', 'nslookup', 'nc']));
    expect(run.dns).toContainEqual(expect.objectContaining({ name: 'pool.example.test' }));
    expect(run.connections).toContainEqual(expect.objectContaining({ dst: '192.0.2.10', port: 3333, protocol: 'stratum' }));
    expect(report.verdict.malicious).toBe(true);
    expect(report.verdict.categories).toContain('cryptominer');
    expect(report.verdict.evidence?.map((e) => e.rule)).toEqual(expect.arrayContaining(['behavior.cryptominer.stratum']));
    expect(report.verdict.summary).toMatch(/192\.0\.2\.10:3333 over stratum/);
  }, 120_000);
});
