import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findExecutable } from '../../src/detonate/network/exec.js';
import type { Report } from '../../src/model/index.js';
import { runCli } from '../support/cli.js';
import { expectValidReport } from '../support/report-schema.js';
import { debianPackageDir } from '../support/debian-packages.js';
import type { EntrySpec } from '../support/image-builder.js';
import { findBusybox, netnsWall } from '../support/netns-wall.js';
import { sampleProgram, writeBusyboxImage } from '../detonate/fixtures/samples/images.js';

/*
 * Golden verdicts through the real CLI: each sample image scanned and detonated as a user runs it
 * (`scan --no-vulns --format json`, sandbox auto), with the verdict a person reads: categories, `malicious`, the exact
 * summary sentence and the strongest evidence. Runs in the wall (test/support/netns-wall.ts).
 */
const busybox = findBusybox();
const haveRuntime = findExecutable('runsc') !== undefined || findExecutable('runc') !== undefined;
const SAMPLES = ['miner', 'reverse-shell', 'dropper', 'persistence', 'attack-tool', 'webserver'] as const;
type Sample = (typeof SAMPLES)[number];

const wall = netnsWall({
  file: 'test/cli/golden-verdicts.test.ts',
  title: 'golden verdicts (CLI)',
  expectPassed: SAMPLES.length + 2,
  timeoutMs: 600_000,
  requires: () => (!busybox ? 'busybox-static not installed (apt-get install busybox-static)' : !haveRuntime ? 'neither runsc nor runc is installed' : undefined),
});
// The wall has no network: fetch Debian's nmap (kept in .cache/debs) before the suite re-runs inside it.
if (!wall.inWall && wall.skipReason === undefined) debianPackageDir('nmap');

const dir = (name: string, mode = 0o755): EntrySpec => ({ name, type: 'directory', mode });

function imageOf(name: Sample): { script: string; extra: EntrySpec[] } {
  switch (name) {
    case 'attack-tool':
      // Debian's nmap shipped in the image; the entrypoint never runs it
      return {
        script: '#!/bin/sh\nsleep 1\n',
        extra: [dir('usr/'), dir('usr/bin/'), { name: 'usr/bin/nmap', content: readFileSync(join(debianPackageDir('nmap'), 'usr/bin/nmap')), mode: 0o755 }],
      };
    case 'webserver':
      return { script: sampleProgram('webserver.sh'), extra: [dir('www/'), { name: 'www/index.html', content: '<h1>hello from a benign sample</h1>\n' }] };
    case 'persistence':
      // as in a real base image, the directories exist
      return { script: sampleProgram('persistence.sh'), extra: ['var/spool/cron/', 'var/spool/cron/crontabs/', 'root/.ssh/'].map((d) => dir(d, 0o700)) };
    default:
      return { script: sampleProgram(`${name}.sh`), extra: [] };
  }
}

/** What a person reads of each sample's verdict. */
interface Golden {
  malicious: boolean;
  categories: string[];
  /** The exact sentence, or (where the lead has a fix pending, see the comment) a pattern. */
  summary: string | RegExp;
  evidence: string;
}

const GOLDEN: Record<Sample, Golden> = {
  miner: {
    malicious: true,
    categories: ['cryptominer', 'misconfiguration'],
    summary: 'Malicious (cryptominer): runs sample.sh and contacts pool.example.test:3333 over stratum.',
    evidence: 'verdict.cryptominer.runs-shipped-miner',
  },
  'reverse-shell': {
    malicious: true,
    categories: ['backdoor', 'misconfiguration'],
    summary: 'Malicious (backdoor): runs the reverse shell in sample.sh and connects to 192.0.2.10:4444.',
    evidence: 'verdict.backdoor.runs-shipped-reverse-shell',
  },
  dropper: {
    malicious: false,
    categories: ['misconfiguration', 'suspicious'],
    summary: 'Suspicious: downloads /tmp/x from dl.invalid:80, makes it executable and runs it; runs as root.',
    evidence: 'behavior.dropper.download-chmod-exec',
  },
  persistence: {
    malicious: true,
    categories: ['backdoor', 'misconfiguration', 'suspicious'],
    summary: 'Malicious (backdoor): writes SSH keys to /root/.ssh/authorized_keys.',
    evidence: 'behavior.backdoor.authorized-keys',
  },
  'attack-tool': {
    malicious: false,
    categories: ['hacking-tool', 'misconfiguration'],
    summary: 'Suspicious (hacking-tool): Nmap network scanner (usr/bin/nmap); runs as root.',
    evidence: 'yara/HackTool_Nmap',
  },
  webserver: {
    malicious: false,
    categories: ['misconfiguration'],
    summary: 'No malicious behaviour seen; runs as root.',
    evidence: 'misconfiguration/root-user',
  },
};

const STRATUM_RULE = 'behavior.cryptominer.stratum';

wall.describe(() => {
  let work: string;
  const archive = (name: Sample): string => join(work, `${name}.tar`);
  const env = (): NodeJS.ProcessEnv => ({ DETONATE_CACHE_DIR: join(work, 'cache'), DETONATE_WORK_DIR: join(work, 'runs') });
  const scan = (name: Sample, format: string[]): ReturnType<typeof runCli> =>
    runCli(['scan', '--no-vulns', ...format, '--detonate-timeout', '8s', `oci-archive:${archive(name)}`], env(), 120_000);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'detonate-golden-'));
    chmodSync(work, 0o711); // runc's sandbox user (uid 100000) must traverse to its bundle
    for (const name of SAMPLES) {
      const { script, extra } = imageOf(name);
      await writeBusyboxImage(archive(name), busybox!, script, extra);
    }
  }, 60_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const name of SAMPLES) {
    const golden = GOLDEN[name];
    it(`${name}: ${golden.malicious ? 'malicious' : 'not malicious'}, ${golden.categories.join(' + ')}, the summary names ${golden.evidence}`, async () => {
      const r = await scan(name, ['--format', 'json']);
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as Report;
      const { verdict } = report;
      const seen = JSON.stringify({ verdict, findings: report.findings.map((f) => `${f.source} ${f.category} ${f.severity} ${f.rule} ${f.path ?? ''}: ${f.title}`) });
      console.log(`[golden] ${name}: ${verdict.summary}`);
      expect(report.behavior, seen).not.toBeNull();
      expect(report.behavior && 'error' in report.behavior, seen).toBe(false);
      expect(verdict.malicious, seen).toBe(golden.malicious);
      expect(verdict.categories, seen).toEqual(golden.categories);
      if (typeof golden.summary === 'string') expect(verdict.summary, seen).toBe(golden.summary);
      else expect(verdict.summary, seen).toMatch(golden.summary);
      expect(verdict.evidence?.[0]?.rule, seen).toBe(golden.evidence);
      // the verdict's categories are exactly those of the findings
      expect([...new Set(report.findings.map((f) => f.category))].sort(), seen).toEqual(golden.categories);
      const dynamic = report.findings.filter((f) => f.source === 'dynamic');
      if (name === 'webserver' || name === 'attack-tool') expect(dynamic, seen).toEqual([]);
      else expect(dynamic.length, seen).toBeGreaterThan(0);
    }, 150_000);
  }

  it('the miner as SARIF: the dynamic stratum finding is a result, the verdict rides along', async () => {
    const r = await scan('miner', ['--format', 'sarif']);
    expect(r.code, r.stderr).toBe(0);
    const sarif = JSON.parse(r.stdout) as {
      version: string;
      runs: Array<{ results: Array<{ ruleId: string; level: string; properties: Record<string, unknown> }>; tool: { driver: { rules: Array<{ id: string }> } }; properties: { verdict: Record<string, unknown> } }>;
    };
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0]!;
    const stratum = run.results.find((x) => x.ruleId === STRATUM_RULE);
    expect(stratum, JSON.stringify(run.results.map((x) => x.ruleId))).toMatchObject({ level: 'error', properties: { source: 'dynamic', category: 'cryptominer', severity: 'critical' } });
    expect(run.tool.driver.rules.map((x) => x.id)).toContain(STRATUM_RULE);
    expect(run.properties.verdict).toEqual({ malicious: true, categories: GOLDEN.miner.categories, summary: GOLDEN.miner.summary });
  }, 150_000);

  it('the miner as HTML (--output): the file carries the miner report, stdout stays empty', async () => {
    const file = join(work, 'miner.html');
    const r = await scan('miner', ['--format', 'html', '--output', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    const data = /<script type="application\/json" id="detonate-data">([^<]*)<\/script>/.exec(html);
    expect(data, html.slice(0, 2000)).not.toBeNull();
    const reports = JSON.parse(data![1]!) as Report[];
    expect(reports).toHaveLength(1);
    const report = reports[0]!;
    expectValidReport(report, 'the report inside the HTML file');
    expect(report.image.reference).toBe(`oci-archive:${archive('miner')}`);
    expect(report.verdict).toMatchObject({ malicious: true, categories: GOLDEN.miner.categories, summary: GOLDEN.miner.summary });
    expect(report.findings).toContainEqual(expect.objectContaining({ rule: STRATUM_RULE, source: 'dynamic', category: 'cryptominer' }));
    expect(report.behavior && 'connections' in report.behavior ? report.behavior.connections : []).toContainEqual(
      expect.objectContaining({ protocol: 'stratum', port: 3333, host: 'pool.example.test' }),
    );
  }, 150_000);
});
