import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.js';
import { corpusDir } from '../support/paths.js';
import { writeOciArchive } from '../support/image-builder.js';
import type { Report } from '../../src/model/index.js';
import { semverVersions } from '../../src/vuln/versions/index.js';

// The advisory DB is built by the CLI from the real corpus feeds; images carry versions the feeds name.
let work: string;
let db: string;
let report: Report;

const dpkg = (name: string, source: string, version: string) =>
  `Package: ${name}\nStatus: install ok installed\nArchitecture: amd64\nSource: ${source}\nVersion: ${version}\nDescription: x\n`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-vuln-e2e-'));
  db = join(work, 'advisories.sqlite');
  const update = await runCli(['db', 'update', '--quiet', '--db', db, '--from', join(corpusDir, 'vuln')], { DETONATE_CACHE_DIR: join(work, 'cache') }, 120_000);
  expect(update.code, update.stderr).toBe(0);
  const image = join(work, 'bullseye.tar');
  await writeOciArchive(image, {
    layers: [
      {
        entries: [
          { name: 'etc/os-release', content: 'ID=debian\nVERSION_ID="11"\nVERSION_CODENAME=bullseye\nPRETTY_NAME="Debian GNU/Linux 11 (bullseye)"\n' },
          {
            name: 'var/lib/dpkg/status',
            content: [
              dpkg('libssl1.1', 'openssl', '1.1.1n-0+deb11u3'),
              dpkg('xserver-xorg-core', 'xorg-server', '2:1.20.11-1+deb11u5'),
              dpkg('dino-im', 'dino-im', '0.2.0-3+deb11u1'),
            ].join('\n'),
          },
        ],
      },
      { entries: [{ name: 'srv/app/node_modules/lodash/package.json', content: JSON.stringify({ name: 'lodash', version: '4.17.4' }) }] },
    ],
  });
  const scan = await runCli(['scan', '--static-only', '-q', '--format', 'json', '--db', db, `oci-archive:${image}`], { DETONATE_CACHE_DIR: join(work, 'cache') });
  expect(scan.code, scan.stderr).toBe(0);
  report = JSON.parse(scan.stdout) as Report;
}, 300_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('vulnerabilities from the corpus feeds', () => {
  const ids = (pkg: string) => report.vulnerabilities.filter((v) => v.package === pkg).map((v) => v.id).sort();

  it('names the advisory DB in the report', () => {
    expect(report.tool.advisoryDb?.sources).toEqual([join(corpusDir, 'vuln')]);
    expect(report.tool.advisoryDb?.stale).toBeUndefined();
  });

  it('matches Debian binary packages through their source packages and DSA fixed versions', () => {
    // DSA-5343-1 fixed openssl 1.1.1n-0+deb11u4 in bullseye; DSA-5169-1 (u3) is already installed
    expect(ids('libssl1.1')).toEqual(['CVE-2022-2097', 'CVE-2022-4304', 'CVE-2022-4450', 'CVE-2023-0215', 'CVE-2023-0286']);
    const v = report.vulnerabilities.find((x) => x.id === 'CVE-2023-0286')!;
    expect(v).toMatchObject({ package: 'libssl1.1', installedVersion: '1.1.1n-0+deb11u3', fixedVersion: '1.1.1n-0+deb11u4', source: 'DSA-5343-1', layer: 0 });
    expect(v.aliases).toContain('DSA-5343-1');
    // DSA-5380-1 (u6) applies, DSA-5342-1 (u5) does not
    expect(ids('xserver-xorg-core')).toEqual(['CVE-2023-1393']);
    expect(report.vulnerabilities.find((x) => x.id === 'CVE-2023-1393')!.fixedVersion).toBe('2:1.20.11-1+deb11u6');
    // the installed version is exactly the fixed one
    expect(ids('dino-im')).toEqual([]);
  });

  it('matches npm packages against the Node.js security WG ranges, with severities from their CVSS vectors', () => {
    const lodash = report.vulnerabilities.filter((v) => v.package === 'lodash');
    expect(lodash.map((v) => v.id)).toEqual(expect.arrayContaining(['CVE-2018-3721', 'CVE-2018-16487']));
    const proto = lodash.find((v) => v.id === 'CVE-2018-16487')!;
    expect(proto).toMatchObject({ installedVersion: '4.17.4', fixedVersion: '4.17.11', layer: 1 });
    expect(['high', 'moderate']).toContain(proto.severity);
    expect(proto.cvss?.vector).toMatch(/^CVSS:3\.\d\//);
    for (const v of lodash) if (v.fixedVersion) expect(semverVersions.compare(v.fixedVersion, '4.17.4')).toBeGreaterThan(0);
  });

  it('counts vulnerabilities by severity in the verdict', () => {
    const total = Object.values(report.verdict.vulnerabilities).reduce((a, b) => a + b, 0);
    expect(total).toBe(report.vulnerabilities.length);
  });
});
