import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianImage, DEBIAN_EXTRA_PACKAGES, type DebianImage } from '../support/debian-image.js';
import { scanReference } from '../../src/scan/scan.js';
import type { Report } from '../../src/model/index.js';
import { expectValidReport } from '../support/report-schema.js';

// A real Debian bookworm image made by mmdebstrap; dpkg-query reading the same status file is the oracle.
let image: DebianImage;
let report: Report;
let work: string;
let dpkgTruth: { name: string; version: string; source: string; sourceVersion: string; arch: string }[];

beforeAll(async () => {
  image = await debianImage();
  work = mkdtempSync(join(tmpdir(), 'detonate-debian-'));
  [report] = (await scanReference(`oci-archive:${image.archive}`, { cacheDir: join(work, 'cache') })) as [Report];
  const admin = join(work, 'dpkg');
  mkdirSync(admin);
  execFileSync('tar', ['-xf', image.rootfsTar, '-C', admin, '--strip-components=4', './var/lib/dpkg/status']);
  const out = execFileSync('dpkg-query', [`--admindir=${admin}`, '-W', '-f', '${db:Status-Abbrev}\t${Package}\t${Version}\t${source:Package}\t${source:Version}\t${Architecture}\n'], { encoding: 'utf8' });
  dpkgTruth = out.trim().split('\n').map((l) => l.split('\t')).filter(([status]) => status!.startsWith('ii'))
    .map(([, name, version, source, sourceVersion, arch]) => ({ name: name!, version: version!, source: source!, sourceVersion: sourceVersion!, arch: arch! }));
}, 600_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('a real Debian image (mmdebstrap bookworm minbase)', () => {
  it('its report validates against the report schema', () => {
    expectValidReport(report);
  });

  it('detects Debian 12 from os-release', () => {
    expect(report.image.os).toMatchObject({ id: 'debian', versionId: '12', versionCodename: 'bookworm' });
  });

  it('lists exactly the packages dpkg-query lists as installed, with versions, source packages and architectures', () => {
    expect(dpkgTruth.length).toBeGreaterThan(100);
    const debs = report.packages.filter((p) => p.type === 'deb');
    const got = debs.map((p) => ({ name: p.name, version: p.version, source: p.sourceName ?? p.name, sourceVersion: p.sourceVersion ?? p.version, arch: p.arch ?? '' }));
    const byName = (a: { name: string; arch: string }, b: { name: string; arch: string }) => `${a.name}:${a.arch}`.localeCompare(`${b.name}:${b.arch}`);
    expect(got.sort(byName)).toEqual([...dpkgTruth].sort(byName));
    for (const wanted of DEBIAN_EXTRA_PACKAGES) expect(debs.some((p) => p.name === wanted)).toBe(true);
  });

  it('gives each package a purl with the distro, attributed to the base layer', () => {
    const libc = report.packages.find((p) => p.name === 'libc6')!;
    expect(libc.purl).toMatch(/^pkg:deb\/debian\/libc6@[^?]+\?arch=amd64&distro=debian-12&upstream=glibc$/);
    expect(libc.layer).toBe(0);
    expect(libc.paths).toEqual(['var/lib/dpkg/status']);
  });

  it('records both layers, their files and the config', () => {
    expect(report.image.layers).toHaveLength(2);
    expect(report.image.layers[0]!.createdBy).toMatch(/^mmdebstrap --variant=minbase/);
    expect(report.image.files!.count).toBeGreaterThan(10_000);
    expect(report.image.config.cmd).toEqual(['/bin/bash']);
  });
});
