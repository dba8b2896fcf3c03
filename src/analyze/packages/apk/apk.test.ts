import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { osReleaseAnalyzer } from '../../os/index.js';
import { apkAnalyzer } from './index.js';
import { parseApkInstalled } from './parse.js';
import { MAX_APK_PACKAGES } from '../../limits.js';

const installed = readFileSync(fileURLToPath(new URL('testdata/installed', import.meta.url)));

describe('apk installed database', () => {
  it('lists each package with its origin, arch and licence', async () => {
    const { packages, notices } = await analyzeFiles([apkAnalyzer], [{ path: 'lib/apk/db/installed', content: installed }]);
    expect(notices).toEqual([]);
    expect(packages.map((p) => [p.name, p.version, p.sourceName, p.arch, p.licenses?.[0]])).toEqual([
      ['busybox-binsh', '1.36.1-r15', 'busybox', 'x86_64', 'GPL-2.0-only'],
      ['ca-certificates-bundle', '20240226-r0', 'ca-certificates', 'x86_64', 'MPL-2.0 AND MIT'],
      ['libcrypto3', '3.1.4-r5', 'openssl', 'x86_64', 'Apache-2.0'],
      ['musl', '1.2.4_git20230717-r4', 'musl', 'x86_64', 'MIT'],
    ]);
    expect(packages.every((p) => p.type === 'apk' && p.sourceVersion === p.version)).toBe(true);
  });

  it('gets a purl with the Alpine release', async () => {
    const { packages } = await analyzeFiles([apkAnalyzer, osReleaseAnalyzer], [
      { path: 'lib/apk/db/installed', content: installed },
      { path: 'etc/os-release', content: 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n' },
    ]);
    expect(packages.find((p) => p.name === 'libcrypto3')?.purl).toMatch(/^pkg:apk\/alpine\/libcrypto3@3\.1\.4-r5\?.*distro=alpine-3\.19\.1.*upstream=openssl/);
  });

  it('also reads the database where apk-tools 3 keeps it', () => {
    expect(apkAnalyzer.wants('usr/lib/apk/db/installed', { path: 'usr/lib/apk/db/installed', type: 'file', size: 1, mode: 0o644 })).toBe(true);
    expect(apkAnalyzer.wants('lib/apk/db/installed.new', { path: 'lib/apk/db/installed.new', type: 'file', size: 1, mode: 0o644 })).toBe(false);
  });

  it('skips an entry without a version, with a notice, and keeps the rest', async () => {
    const text = 'P:novers\nA:x86_64\n\nP:good\nV:1.0-r0\n';
    const { packages, notices } = await analyzeFiles([apkAnalyzer], [{ path: 'lib/apk/db/installed', content: text }]);
    expect(packages.map((p) => p.name)).toEqual(['good']);
    expect(notices[0]?.message).toMatch(/1 apk package entry has no usable name or version/);
  });

  it('reads a last paragraph without a trailing newline, and CRLF lines', () => {
    expect(parseApkInstalled('P:a\r\nV:1-r0\r\n\r\nP:b\nV:2-r1').packages.map((p) => `${p.name}@${p.version}`)).toEqual(['a@1-r0', 'b@2-r1']);
  });

  it('garbage gives a notice and no packages, never a throw', async () => {
    const garbage = Buffer.alloc(4096);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 61 + 5) & 0xff;
    const { packages, notices } = await analyzeFiles([apkAnalyzer], [{ path: 'lib/apk/db/installed', content: garbage }]);
    expect(packages).toEqual([]);
    expect(notices).toEqual([expect.objectContaining({ level: 'warning', path: 'lib/apk/db/installed' })]);
  });

  it('stops at MAX_APK_PACKAGES packages with a notice', async () => {
    const text = Array.from({ length: MAX_APK_PACKAGES + 3 }, (_, i) => `P:p${i}\nV:1-r0\n`).join('\n');
    const { packages, notices } = await analyzeFiles([apkAnalyzer], [{ path: 'lib/apk/db/installed', content: text }]);
    expect(packages).toHaveLength(MAX_APK_PACKAGES);
    expect(notices[0]?.message).toMatch(/the rest ignored/);
  });
});
