import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findExecutable, runBounded } from '../../src/detonate/network/exec.js';
import type { RunRecord, Report } from '../../src/model/index.js';
import { runCli } from '../support/cli.js';
import { findBusybox, netnsWall } from '../support/netns-wall.js';
import { repoRoot } from '../support/paths.js';
import { sampleProgram, writeBusyboxImage } from '../detonate/fixtures/samples/images.js';

/*
 * `detonate scan` as a user runs it: static analysis and detonation by default, the behaviour rules judging the run,
 * everything in one report. Runs in the wall (a fresh network and mount namespace), like every detonation test.
 */
const busybox = findBusybox();
const runtimes = (['gvisor', 'runc'] as const).filter((r) => findExecutable(r === 'gvisor' ? 'runsc' : 'runc'));

const wall = netnsWall({
  file: 'test/cli/detonate.test.ts',
  title: 'detonate scan (CLI)',
  expectPassed: runtimes.length + 3,
  requires: () => (!busybox ? 'busybox-static not installed (apt-get install busybox-static)' : runtimes.length === 0 ? 'neither runsc nor runc is installed' : undefined),
});

wall.describe(() => {
  let work: string;
  let miner: string;
  let benign: string;
  const env = (): NodeJS.ProcessEnv => ({ DETONATE_CACHE_DIR: join(work, 'cache'), DETONATE_WORK_DIR: join(work, 'runs') });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'detonate-cli-'));
    chmodSync(work, 0o711); // runc's sandbox user (uid 100000) must traverse to its bundle
    miner = join(work, 'miner.tar');
    benign = join(work, 'benign.tar');
    await writeBusyboxImage(miner, busybox!, sampleProgram('miner.sh'));
    await writeBusyboxImage(benign, busybox!, '#!/bin/sh\necho hello from a benign image\n');
  }, 60_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const sandbox of runtimes) {
    it(`scans and detonates a miner image under ${sandbox}: behaviour, dynamic findings and a malicious verdict in one report`, async () => {
      const r = await runCli(['scan', '--no-vulns', '--format', 'json', '--sandbox', sandbox, '--detonate-timeout', '8s', `oci-archive:${miner}`], env(), 120_000);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as Report;
      const behavior = report.behavior as RunRecord;
      expect(behavior.sandbox).toBe(sandbox);
      expect(behavior.dns).toContainEqual(expect.objectContaining({ name: 'pool.example.test' }));
      expect(behavior.connections).toContainEqual(expect.objectContaining({ protocol: 'stratum', port: 3333, host: 'pool.example.test' }));
      expect(behavior.connections.find((c) => c.protocol === 'stratum')?.details).toMatchObject({ wallet: expect.stringMatching(/^44AFFq5k/) });
      expect(behavior.processes.some((p) => p.argv.includes('3333'))).toBe(true);
      const stratum = report.findings.find((f) => f.source === 'dynamic' && f.category === 'cryptominer' && f.rule.includes('stratum'));
      expect(stratum, JSON.stringify(report.findings, null, 1)).toBeDefined();
      expect((stratum!.evidence as { events: unknown[] }).events.length).toBeGreaterThan(0);
      expect(report.verdict.malicious).toBe(true);
      expect(report.verdict.categories).toContain('cryptominer');
      expect(report.verdict.summary).toMatch(/^Malicious \(cryptominer\): .*pool\.example\.test:3333 over stratum/);
      expect(r.stderr).toMatch(new RegExp(`detonation: ${sandbox} sandbox`));
      expect(r.stderr).toMatch(/ran \d+\.\d s under/);
    }, 150_000);
  }

  it('a benign image gets behaviour but no malicious category; --fail-on backdoor does not trip', async () => {
    const r = await runCli(['scan', '--no-vulns', '--format', 'json', '--detonate-timeout', '5s', '--fail-on', 'backdoor,cryptominer', `oci-archive:${benign}`], env(), 120_000);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as Report;
    const behavior = report.behavior as RunRecord;
    expect(behavior.exitCode).toBe(0);
    expect(behavior.output.stdout).toContain('hello from a benign image');
    expect(report.findings.filter((f) => f.source === 'dynamic')).toEqual([]);
    expect(report.verdict.malicious).toBe(false);
  }, 150_000);

  it('--static-only leaves behavior null and needs no sandbox', async () => {
    const r = await runCli(['scan', '--no-vulns', '--static-only', '--format', 'json', `oci-archive:${miner}`], env(), 120_000);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Report).behavior).toBeNull();
  }, 150_000);

  it('without any sandbox runtime installed the scan fails (exit 2) and says how to install one', async () => {
    // The runtimes vanish only in this child's private mount namespace: an empty file over each binary.
    const empty = join(work, 'not-installed');
    writeFileSync(empty, '');
    const binds = ['/usr/bin/runsc', '/usr/sbin/runc', '/usr/bin/runc', '/usr/local/bin/runsc', '/usr/local/sbin/runc']
      .filter((p) => findExecutable(p.split('/').pop()!, [p.slice(0, p.lastIndexOf('/'))]))
      .map((p) => `mount --bind ${empty} ${p}`)
      .join(' && ');
    const script = `${binds || 'true'} && exec "$@"`;
    const r = await runBounded('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh',
      process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), 'scan', '--no-vulns', `oci-archive:${benign}`], {
      cwd: repoRoot, env: { ...process.env, ...env(), NO_COLOR: '1' }, timeoutMs: 60_000,
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/no sandbox runtime is usable/);
    expect(r.stderr).toMatch(/apt-get install runsc runc/);
    expect(r.stderr).toMatch(/--static-only/);
    expect(r.stdout).toBe('');
  }, 90_000);
});
