import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { osReleaseAnalyzer } from '../../os/index.js';
import { dpkgAnalyzer } from './index.js';
import { parseControlParagraphs, parseSourceField } from './parse.js';
import { MAX_DPKG_PACKAGES } from '../../limits.js';

const testdata = (name: string) => readFileSync(fileURLToPath(new URL(`testdata/${name}`, import.meta.url)));
const header = (path: string) => ({ path, type: 'file' as const, size: 1, mode: 0o644 });

describe('dpkg status database', () => {
  // testdata/status was checked with `dpkg-query --admindir=… -W` (see testdata/README.md).
  it('lists the packages whose files are on disk, as dpkg-query shows them', async () => {
    const { packages, notices } = await analyzeFiles([dpkgAnalyzer], [{ path: 'var/lib/dpkg/status', content: testdata('status') }]);
    expect(notices).toEqual([]);
    expect(packages.map((p) => `${p.name} ${p.version} ${p.arch} ${p.sourceName} ${p.sourceVersion}`)).toEqual([
      'adduser 3.134 all adduser 3.134',
      'being-removed 0.5-2 amd64 being-removed 0.5-2',
      'libc6 2.36-9+deb12u4 amd64 glibc 2.36-9+deb12u4',
      'libc6 2.36-9+deb12u4 i386 glibc 2.36-9+deb12u4',
      'libgcc-s1 1:12.2.0-14 amd64 gcc-12 12.2.0-14',
      'login 1:4.13+dfsg1-1+b1 amd64 shadow 1:4.13+dfsg1-1+b1',
    ]);
    expect(packages.every((p) => p.type === 'deb' && p.paths[0] === 'var/lib/dpkg/status')).toBe(true);
  });

  it('gives OS packages a purl with the distro once the OS is known', async () => {
    const { packages } = await analyzeFiles([dpkgAnalyzer, osReleaseAnalyzer], [
      { path: 'var/lib/dpkg/status', content: testdata('status') },
      { path: 'etc/os-release', content: 'ID=debian\nVERSION_ID="12"\n' },
    ]);
    const login = packages.find((p) => p.name === 'login');
    expect(login?.purl).toMatch(/^pkg:deb\/debian\/login@1(:|%3A)4\.13/);
    expect(login?.purl).toContain('distro=debian-12');
    expect(login?.purl).toContain('upstream=shadow');
  });

  it('keeps continuation lines with their field and reads CRLF files', () => {
    const [p] = parseControlParagraphs('Package: x\r\nDescription: first\r\n second\r\n .\r\n third\r\nVersion: 1\r\n');
    expect(p?.get('description')).toBe('first\nsecond\n.\nthird');
    expect(p?.get('version')).toBe('1');
  });

  it('splits Source into name and version', () => {
    expect(parseSourceField('gcc-5 (5.1.1-12ubuntu1)')).toEqual({ name: 'gcc-5', version: '5.1.1-12ubuntu1' });
    expect(parseSourceField('pam')).toEqual({ name: 'pam' });
    expect(parseSourceField('a b c')).toBeNull();
  });
});

describe('distroless status.d', () => {
  it('reads each control file as installed and skips the md5sums beside it', async () => {
    const { packages } = await analyzeFiles([dpkgAnalyzer], [
      { path: 'var/lib/dpkg/status.d/base-files', content: testdata('status.d/base-files') },
      { path: 'var/lib/dpkg/status.d/libssl3', content: testdata('status.d/libssl3') },
      { path: 'var/lib/dpkg/status.d/libssl3.md5sums', content: testdata('status.d/libssl3.md5sums') },
    ]);
    expect(packages.map((p) => [p.name, p.version, p.sourceName, p.paths[0]])).toEqual([
      ['base-files', '12.4+deb12u5', 'base-files', 'var/lib/dpkg/status.d/base-files'],
      ['libssl3', '3.0.11-1~deb12u2', 'openssl', 'var/lib/dpkg/status.d/libssl3'],
    ]);
  });

  it('wants control files only, including names with dots', () => {
    expect(dpkgAnalyzer.wants('var/lib/dpkg/status.d/libgtk2.0-0', header('var/lib/dpkg/status.d/libgtk2.0-0'))).toBe(true);
    expect(dpkgAnalyzer.wants('var/lib/dpkg/status.d/libssl3.md5sums', header('var/lib/dpkg/status.d/libssl3.md5sums'))).toBe(false);
    expect(dpkgAnalyzer.wants('var/lib/dpkg/status.d/sub/x', header('var/lib/dpkg/status.d/sub/x'))).toBe(false);
    expect(dpkgAnalyzer.wants('var/lib/dpkg/status-old', header('var/lib/dpkg/status-old'))).toBe(false);
    expect(dpkgAnalyzer.wants('var/lib/dpkg/available', header('var/lib/dpkg/available'))).toBe(false);
  });
});

describe('opkg', () => {
  it('reads opkg status files, where installed packages say "install user installed"', async () => {
    const text = 'Package: busybox\nVersion: 1.36.1-r3\nStatus: install user installed\nArchitecture: x86_64\n\n'
      + 'Package: gone\nVersion: 1\nStatus: deinstall hold not-installed\n';
    const { packages } = await analyzeFiles([dpkgAnalyzer], [{ path: 'usr/lib/opkg/status', content: text }]);
    expect(packages).toHaveLength(1);
    expect(packages[0]).toMatchObject({ name: 'busybox', version: '1.36.1-r3', arch: 'x86_64', metadata: { packageManager: 'opkg' } });
  });
});

describe('hostile and broken status files', () => {
  it('a garbage status file gives a notice and no packages', async () => {
    const garbage = Buffer.alloc(8192);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 97 + 13) & 0xff;
    const { packages, notices } = await analyzeFiles([dpkgAnalyzer], [{ path: 'var/lib/dpkg/status', content: garbage }]);
    expect(packages).toEqual([]);
    expect(notices).toEqual([expect.objectContaining({ level: 'warning', path: 'var/lib/dpkg/status' })]);
  });

  it('an installed entry without a version is skipped with a notice', async () => {
    const text = 'Package: ok\nStatus: install ok installed\nVersion: 1.0\n\nPackage: broken\nStatus: install ok installed\n\nPackage: spaced\nStatus: install ok installed\nVersion: 1 2\n';
    const { packages, notices } = await analyzeFiles([dpkgAnalyzer], [{ path: 'var/lib/dpkg/status', content: text }]);
    expect(packages.map((p) => p.name)).toEqual(['ok']);
    expect(notices[0]?.message).toMatch(/^2 installed package entries have no usable name or version/);
  });

  it('an empty status file, or one of continuation lines only, is quietly empty or noted, never a throw', async () => {
    expect(await analyzeFiles([dpkgAnalyzer], [{ path: 'var/lib/dpkg/status', content: '' }])).toMatchObject({ packages: [], notices: [] });
    const odd = ' leading continuation\n\n\n:\n: no name\nPackage\n';
    const result = await analyzeFiles([dpkgAnalyzer], [{ path: 'var/lib/dpkg/status', content: odd }]);
    expect(result.packages).toEqual([]);
  });

  it('a large status file parses in linear time', async () => {
    const one = (i: number) => `Package: p${i}\nStatus: install ok installed\nVersion: 1.${i}\nDescription: x\n${' line\n'.repeat(20)}\n`;
    const text = Array.from({ length: 20_000 }, (_, i) => one(i)).join('');
    const started = Date.now();
    const { packages } = await analyzeFiles([dpkgAnalyzer], [{ path: 'var/lib/dpkg/status', content: text }]);
    expect(packages).toHaveLength(20_000);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('stops at MAX_DPKG_PACKAGES packages with a notice', async () => {
    const text = Array.from({ length: MAX_DPKG_PACKAGES + 3 }, (_, i) => `Package: p${i}\nStatus: install ok installed\nVersion: 1\n`).join('\n');
    const { packages, notices } = await analyzeFiles([dpkgAnalyzer], [{ path: 'var/lib/dpkg/status', content: text }]);
    expect(packages).toHaveLength(MAX_DPKG_PACKAGES);
    expect(notices[0]?.message).toMatch(/the rest ignored/);
  });
});
