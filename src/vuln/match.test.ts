import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AdvisoryDb, AdvisoryDbWriter } from './db.js';
import { matchPackages } from './match.js';
import type { AdvisoryRecord } from './model.js';
import type { Package } from '../model/index.js';

let work: string;
let db: AdvisoryDb;

const adv = (r: Partial<AdvisoryRecord> & Pick<AdvisoryRecord, 'id' | 'affected'>): AdvisoryRecord => ({ aliases: [], source: 'test', sourceId: r.id, ...r });

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'detonate-match-'));
  const writer = await AdvisoryDbWriter.create(join(work, 'db.sqlite'), 'test');
  // Debian: keyed by source package and release
  writer.add(adv({ id: 'CVE-2023-5678', source: 'debian-dsa', sourceId: 'DSA-5532-1', affected: [{ ecosystem: 'debian:12', name: 'openssl', status: 'affected', ranges: [{ introduced: '0', fixed: '3.0.11-1~deb12u2' }] }] }));
  writer.add(adv({ id: 'CVE-2023-5678', source: 'osv', sourceId: 'DEBIAN-CVE-2023-5678', severity: { cvssV3: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:L' }, affected: [{ ecosystem: 'debian:12', name: 'openssl', status: 'affected', ranges: [{ introduced: '0', fixed: '3.0.11-1~deb12u2' }] }] }));
  writer.add(adv({ id: 'CVE-2024-0001', source: 'debian-tracker', sourceId: 'CVE-2024-0001', affected: [{ ecosystem: 'debian:12', name: 'openssl', status: 'unfixed', ranges: [], severity: 'high' }] }));
  writer.add(adv({ id: 'CVE-2024-0002', source: 'debian-tracker', sourceId: 'CVE-2024-0002', affected: [{ ecosystem: 'debian:12', name: 'openssl', status: 'ignored', ranges: [], severity: 'low' }] }));
  writer.add(adv({ id: 'CVE-2024-0003', source: 'debian-tracker', sourceId: 'CVE-2024-0003', affected: [{ ecosystem: 'debian:12', name: 'openssl', status: 'not-affected', ranges: [] }] }));
  writer.add(adv({ id: 'CVE-2024-0003', source: 'osv', sourceId: 'X-0003', affected: [{ ecosystem: 'debian:12', name: 'openssl', status: 'affected', ranges: [{ introduced: '0' }] }] }));
  writer.add(adv({ id: 'CVE-2022-0001', source: 'debian-dsa', sourceId: 'DSA-1-1', affected: [{ ecosystem: 'debian:11', name: 'openssl', status: 'affected', ranges: [{ introduced: '0', fixed: '9.9' }] }] }));
  // Alpine secdb's openssl case on v3.11
  writer.add(adv({ id: 'CVE-2019-1551', source: 'alpine-secdb', sourceId: 'CVE-2019-1551', affected: [{ ecosystem: 'alpine:3.11', name: 'openssl', status: 'affected', ranges: [{ introduced: '0', fixed: '1.1.1d-r2' }] }] }));
  // language ecosystems
  writer.add(adv({ id: 'CVE-2021-23337', aliases: ['GHSA-35jh-r3h4-6jhm'], source: 'ghsa', sourceId: 'GHSA-35jh-r3h4-6jhm', severity: { rating: 'HIGH' }, affected: [{ ecosystem: 'npm', name: 'lodash', status: 'affected', ranges: [{ introduced: '0', fixed: '4.17.21' }] }] }));
  writer.add(adv({ id: 'PYSEC-2021-59', aliases: ['CVE-2021-33503'], source: 'osv', sourceId: 'PYSEC-2021-59', affected: [{ ecosystem: 'pypi', name: 'urllib3', status: 'affected', ranges: [{ introduced: '1.25.4', fixed: '1.26.5' }] }] }));
  writer.add(adv({ id: 'CVE-2021-29921', source: 'osv', sourceId: 'GO-2021-0001', affected: [{ ecosystem: 'go', name: 'stdlib', status: 'affected', ranges: [{ introduced: '0', fixed: '1.16.4' }] }] }));
  writer.add(adv({ id: 'MAL-2022-1', source: 'osv', sourceId: 'MAL-2022-1', malicious: true, summary: 'Malicious code in flatmap-stream', affected: [{ ecosystem: 'npm', name: 'flatmap-stream', status: 'affected', ranges: [], versions: ['0.1.1'] }] }));
  await writer.finish();
  db = AdvisoryDb.open(join(work, 'db.sqlite'));
});
afterAll(() => {
  db.close();
  rmSync(work, { recursive: true, force: true });
});

const pkg = (p: Partial<Package> & Pick<Package, 'name' | 'version' | 'type'>): Package => ({ purl: `pkg:${p.type}/${p.name}@${p.version}`, layer: 0, paths: ['x'], ...p });
const debian = { id: 'debian', versionId: '12' };

describe('matching', () => {
  it('matches a Debian binary package through its source package, merges feeds, and keeps not-affected out', () => {
    const libssl = pkg({ name: 'libssl3', version: '3.0.11-1~deb12u1', type: 'deb', sourceName: 'openssl', sourceVersion: '3.0.11-1~deb12u1' });
    const { vulnerabilities } = matchPackages(db, [libssl], debian);
    const byId = Object.fromEntries(vulnerabilities.map((v) => [v.id, v]));
    expect(Object.keys(byId).sort()).toEqual(['CVE-2023-5678', 'CVE-2024-0001', 'CVE-2024-0002']);
    expect(byId['CVE-2023-5678']).toMatchObject({
      package: 'libssl3', installedVersion: '3.0.11-1~deb12u1', fixedVersion: '3.0.11-1~deb12u2', severity: 'moderate', severitySource: 'cvss:3.1',
      aliases: ['DEBIAN-CVE-2023-5678', 'DSA-5532-1'], source: 'DSA-5532-1', cvss: { score: 5.3 },
    });
    expect(byId['CVE-2024-0001']).toMatchObject({ fixedVersion: null, severity: 'high' });
    expect(byId['CVE-2024-0002']).toMatchObject({ fixedVersion: null, severity: 'low', wontFix: true });
  });

  it('the fixed version itself and later ones do not match; other releases are not consulted', () => {
    for (const version of ['3.0.11-1~deb12u2', '3.0.13-1~deb12u1']) {
      const { vulnerabilities } = matchPackages(db, [pkg({ name: 'openssl', version, type: 'deb' })], debian);
      expect(vulnerabilities.map((v) => v.id).sort()).toEqual(['CVE-2024-0001', 'CVE-2024-0002']);
    }
    expect(matchPackages(db, [pkg({ name: 'openssl', version: '1.0', type: 'deb' })], { id: 'debian', versionId: '10' }).vulnerabilities).toEqual([]);
  });

  it('Alpine: openssl 1.1.1d-r0 is vulnerable on 3.11, 1.1.1d-r3 is not', () => {
    const alpine = { id: 'alpine', versionId: '3.11.6' };
    expect(matchPackages(db, [pkg({ name: 'openssl', version: '1.1.1d-r0', type: 'apk' })], alpine).vulnerabilities.map((v) => v.id)).toEqual(['CVE-2019-1551']);
    expect(matchPackages(db, [pkg({ name: 'openssl', version: '1.1.1d-r3', type: 'apk' })], alpine).vulnerabilities).toEqual([]);
  });

  it('language packages by normalised name, with GHSA ratings and OSV ranges', () => {
    const { vulnerabilities } = matchPackages(db, [
      pkg({ name: 'lodash', version: '4.17.20', type: 'npm' }),
      pkg({ name: 'lodash', version: '4.17.21', type: 'npm' }),
      pkg({ name: 'URLLib3', version: '1.26.4', type: 'pypi' }),
      pkg({ name: 'urllib3', version: '1.25.3', type: 'pypi' }),
      pkg({ name: 'stdlib', version: '1.16.3', type: 'golang' }),
    ], null);
    expect(vulnerabilities.map((v) => `${v.package}@${v.installedVersion} ${v.id} ${v.severity} ${v.fixedVersion}`).sort()).toEqual([
      'URLLib3@1.26.4 PYSEC-2021-59 unknown 1.26.5',
      'lodash@4.17.20 CVE-2021-23337 high 4.17.21',
      'stdlib@1.16.3 CVE-2021-29921 unknown 1.16.4',
    ]);
  });

  it('a package named by a MAL- record is a malicious-package finding, not a vulnerability', () => {
    const { vulnerabilities, findings } = matchPackages(db, [pkg({ name: 'flatmap-stream', version: '0.1.1', type: 'npm', layer: 2, paths: ['app/node_modules/flatmap-stream/package.json'] })], null);
    expect(vulnerabilities).toEqual([]);
    expect(findings).toEqual([expect.objectContaining({ category: 'malicious-package', severity: 'critical', layer: 2, path: 'app/node_modules/flatmap-stream/package.json', rule: 'advisory:MAL-2022-1' })]);
    expect(matchPackages(db, [pkg({ name: 'flatmap-stream', version: '0.1.0', type: 'npm' })], null).findings).toEqual([]);
  });
});
