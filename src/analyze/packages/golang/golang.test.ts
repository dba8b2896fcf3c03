import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { buildElf, buildMachO, buildPe } from '../../../../test/support/binary-builders.js';
import { BinaryFormatError } from '../../binary/errors.js';
import { goBinaryAnalyzer } from './index.js';
import { BUILDINFO_MAGIC, readGoBuildInfo } from './buildinfo.js';
import { goBinaryPackages, ldflagsVariables, parseBuildSetting, parseModInfo, splitShellWords, stdlibVersion, unquoteGo, versionFromLdflags } from './parse.js';

const fixture = (name: string) => readFileSync(fileURLToPath(new URL(`testdata/${name}`, import.meta.url)));

const START = Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex');
const END = Buffer.from('f932433186182072008242104116d8f2', 'hex');

/** Module info framed by the linker's sentinels. */
function framed(text: string): Buffer {
  return Buffer.concat([START, Buffer.from(text), END]);
}

function uvarint(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}

/** A Go ≥ 1.18 build info blob: header, then the version and module info as length-prefixed strings. */
function inlineBuildInfo(goVersion: string, modInfo: Buffer): Buffer {
  const header = Buffer.alloc(32);
  BUILDINFO_MAGIC.copy(header);
  header[14] = 8;
  header[15] = 0x2;
  return Buffer.concat([header, uvarint(goVersion.length), Buffer.from(goVersion), uvarint(modInfo.length), modInfo]);
}

const MODINFO = [
  'path\texample.com/tool/cmd/tool',
  'mod\texample.com/tool\t(devel)\t',
  'dep\tgithub.com/davecgh/go-spew\tv1.1.1\th1:vj9j/u1bqnvCEfJOwUhtlOARqs3+rkHYY13jYWTU97c=',
  'dep\tgithub.com/go-sql-driver/mysql\tv1.4.0\th1:old=',
  '=>\tgithub.com/go-sql-driver/mysql\tv1.5.0\th1:new=',
  'dep\texample.com/local\tv0.0.0-00010101000000-000000000000',
  '=>\t../local\t(devel)\t',
  'build\t-ldflags="-s -w -X main.version=v1.0.0"',
  'build\tCGO_ENABLED=0',
  'build\tGOOS=linux',
  'build\tvcs.revision=0123abcd',
  '',
].join('\n');

/**
 * A pre-1.18 (pointer) layout: `.go.buildinfo` holds two pointers to Go string headers in `.data`, which point
 * at the bytes in `.rodata`.
 */
function pointerLayoutElf(bits: 32 | 64, littleEndian: boolean, goVersion: string, modInfo: Buffer, lie?: { length?: number; address?: number }): Buffer {
  const ptr = bits / 8;
  const INFO = 0x40000;
  const DATA = 0x50000;
  const RODATA = 0x60000;
  const writeWord = (b: Buffer, at: number, v: number) => {
    if (ptr === 8) {
      if (littleEndian) b.writeBigUInt64LE(BigInt(v), at);
      else b.writeBigUInt64BE(BigInt(v), at);
    } else if (littleEndian) b.writeUInt32LE(v, at);
    else b.writeUInt32BE(v, at);
  };
  const rodata = Buffer.concat([Buffer.from(goVersion), modInfo]);
  const data = Buffer.alloc(4 * ptr);
  writeWord(data, 0, lie?.address ?? RODATA);
  writeWord(data, ptr, goVersion.length);
  writeWord(data, 2 * ptr, RODATA + goVersion.length);
  writeWord(data, 3 * ptr, lie?.length ?? modInfo.length);
  const header = Buffer.alloc(32);
  BUILDINFO_MAGIC.copy(header);
  header[14] = ptr;
  header[15] = littleEndian ? 0 : 1;
  writeWord(header, 16, DATA);
  writeWord(header, 16 + ptr, DATA + 2 * ptr);
  return elfWith([{ name: '.go.buildinfo', data: header, address: INFO }, { name: '.data', data, address: DATA }, { name: '.rodata', data: rodata, address: RODATA }], bits, littleEndian);
}

/** An ELF with these sections after 1 KiB of code, so it is large enough to be taken for a program. */
function elfWith(sections: Parameters<typeof buildElf>[0]['sections'], bits: 32 | 64 = 64, littleEndian = true): Buffer {
  return buildElf({ bits, littleEndian, sections: [{ name: '.text', data: Buffer.alloc(1024, 0x90), flags: 0x6 }, ...sections] });
}

async function analyze(content: Buffer, path = 'usr/local/bin/tool') {
  return analyzeFiles([goBinaryAnalyzer], [{ path, content, mode: 0o755 }]);
}

describe('Go binaries: real build information', () => {
  it('reads the Docker CLI: toolchain only (no module line), build settings kept', async () => {
    const { packages, notices } = await analyze(fixture('docker-cli.elf'), 'usr/local/bin/docker');
    expect(notices).toEqual([]);
    expect(packages).toEqual([
      expect.objectContaining({ name: 'stdlib', version: '1.24.3', type: 'golang', purl: 'pkg:golang/stdlib@1.24.3', paths: ['usr/local/bin/docker'], metadata: expect.objectContaining({ toolchain: 'go1.24.3', GOOS: 'linux', GOARCH: 'amd64', CGO_ENABLED: '1' }) }),
    ]);
  });

  it('reads the version Docker stamps with -ldflags -X from its quoted build setting', () => {
    const raw = readGoBuildInfo(fixture('docker-cli.elf'))!;
    const info = parseModInfo(raw.modInfo);
    expect(info.path).toBe('github.com/docker/cli/cmd/docker');
    expect(info.settings.find((s) => s.key === '-ldflags')?.value).toContain('-X "github.com/docker/cli/cli/version.Version=28.2.2"');
    expect(versionFromLdflags(info.settings, 'github.com/docker/cli')).toBe('28.2.2');
  });

  it('reads Terraform: (devel) main module, every dependency, directory replacements', async () => {
    const content = fixture('terraform.elf');
    const { packages, notices } = await analyze(content, 'bin/terraform');
    expect(notices).toEqual([]);
    const declaredDeps = content.toString('latin1').split('\ndep\t').length - 1;
    expect(declaredDeps).toBe(221);
    expect(packages).toHaveLength(2 + declaredDeps);
    const byName = new Map(packages.map((p) => [p.name, p]));
    expect(byName.get('stdlib')?.version).toBe('1.23.3');
    expect(byName.get('github.com/hashicorp/terraform')).toMatchObject({ version: '(devel)', purl: 'pkg:golang/github.com/hashicorp/terraform', metadata: { mainModule: true, develVersion: true, mainPackage: 'github.com/hashicorp/terraform' } });
    expect(byName.get('cloud.google.com/go')).toMatchObject({ version: 'v0.110.7', purl: 'pkg:golang/cloud.google.com/go@v0.110.7', metadata: { checksum: 'h1:rJyC7nWRg2jWGZ4wSJ5nY65GTdYJkg0cd/uXb+ACI6o=' } });
    expect(byName.get('github.com/hashicorp/terraform/internal/legacy')).toMatchObject({ version: '(devel)', metadata: { replacedByDirectory: './internal/legacy', develVersion: true } });
    expect(packages.every((p) => p.type === 'golang' && p.paths[0] === 'bin/terraform')).toBe(true);
  });

  const systemGoBinaries = ['/usr/bin/umoci', '/usr/bin/skopeo', '/usr/bin/docker-registry', '/usr/local/bin/docker'].filter((p) => existsSync(p));
  it.skipIf(systemGoBinaries.length === 0)('reads whole Go binaries installed on this machine, and nothing from a C program', async () => {
    for (const path of systemGoBinaries) {
      const content = readFileSync(path);
      const { packages, notices } = await analyze(content);
      expect(notices, path).toEqual([]);
      const std = packages.find((p) => p.name === 'stdlib');
      expect(std?.version, path).toMatch(/^1\.\d+(\.\d+)?/);
      expect(content.includes(Buffer.from(`go${std!.version}`)), path).toBe(true);
    }
    const c = ['/bin/ls', '/usr/bin/ls'].find((p) => existsSync(p));
    if (c) expect((await analyze(readFileSync(c))).packages).toEqual([]);
  });
});

describe('Go binaries: every layout and container', () => {
  const blob = inlineBuildInfo('go1.22.1 X:boringcrypto', framed(MODINFO));

  const expectTool = (packages: Awaited<ReturnType<typeof analyze>>['packages']) => {
    const byName = new Map(packages.map((p) => [p.name, p]));
    expect(byName.get('stdlib')).toMatchObject({ version: '1.22.1', metadata: { goExperiment: 'boringcrypto', toolchain: 'go1.22.1 X:boringcrypto' } });
    expect(byName.get('example.com/tool')).toMatchObject({ version: 'v1.0.0', purl: 'pkg:golang/example.com/tool@v1.0.0', metadata: { versionFrom: 'ldflags', moduleVersion: '(devel)', 'vcs.revision': '0123abcd' } });
    expect(byName.get('github.com/davecgh/go-spew')?.version).toBe('v1.1.1');
    expect(byName.get('github.com/go-sql-driver/mysql')).toMatchObject({ version: 'v1.5.0', metadata: { replaces: 'github.com/go-sql-driver/mysql@v1.4.0', checksum: 'h1:new=' } });
    expect(byName.get('example.com/local')).toMatchObject({ version: '(devel)', purl: 'pkg:golang/example.com/local', metadata: { replacedByDirectory: '../local' } });
    expect(packages).toHaveLength(5);
  };

  it('ELF with a .go.buildinfo section (Go ≥ 1.18 inline strings)', async () => {
    const { packages, notices } = await analyze(buildElf({ sections: [{ name: '.text', data: Buffer.alloc(2048) }, { name: '.go.buildinfo', data: blob, address: 0x1000 }] }));
    expect(notices).toEqual([]);
    expectTool(packages);
  });

  for (const [bits, littleEndian] of [[64, true], [32, false], [32, true], [64, false]] as const) {
    it(`ELF ${bits}-bit ${littleEndian ? 'little' : 'big'}-endian with the pre-1.18 pointer layout`, async () => {
      const raw = readGoBuildInfo(pointerLayoutElf(bits, littleEndian, 'go1.16.4', framed(MODINFO)));
      expect(raw).toMatchObject({ goVersion: 'go1.16.4', layout: 'pointer', foundIn: '.go.buildinfo' });
      expect(parseModInfo(raw!.modInfo).deps).toHaveLength(3);
      const { packages } = await analyze(pointerLayoutElf(bits, littleEndian, 'go1.16.4', framed(MODINFO)));
      expect(packages.find((p) => p.name === 'stdlib')?.version).toBe('1.16.4');
    });
  }

  it('PE: build info at the start of the writable data section', async () => {
    const pe = buildPe({ sections: [{ name: '.text', data: Buffer.alloc(1024), virtualAddress: 0x1000, characteristics: 0x60000020 }, { name: '.data', data: Buffer.concat([blob, Buffer.alloc(64)]), virtualAddress: 0x2000 }] });
    const { packages } = await analyzeFiles([goBinaryAnalyzer], [{ path: 'opt/win/tool.exe', content: pe }]);
    expectTool(packages);
  });

  it('Mach-O: the __go_buildinfo section, and the older __DATA,__data placement', async () => {
    const modern = buildMachO({ sections: [{ name: '__text', segment: '__TEXT', data: Buffer.alloc(1024), address: 0x1000 }, { name: '__go_buildinfo', segment: '__DATA', data: blob, address: 0x100000 }] });
    expectTool((await analyze(modern)).packages);
    const older = buildMachO({ sections: [{ name: '__text', segment: '__TEXT', data: Buffer.alloc(1024), address: 0x1000 }, { name: '__data', segment: '__DATA', data: Buffer.concat([Buffer.alloc(48, 7), blob]), address: 0x100000 }] });
    expect(readGoBuildInfo(older)?.foundIn).toBe('__data');
  });

  it('ELF stripped of its section table: found in a writable load segment', () => {
    const elf = buildElf({ sections: [{ name: '.text', data: Buffer.alloc(512) }, { name: '.data', data: Buffer.concat([Buffer.alloc(32, 1), blob]), address: 0x8000 }] });
    elf.writeBigUInt64LE(0n, 40);
    elf.writeUInt16LE(0, 60);
    elf.writeUInt16LE(0, 62);
    expect(readGoBuildInfo(elf)).toMatchObject({ goVersion: 'go1.22.1 X:boringcrypto', foundIn: 'data segment' });
  });

  it('ELF with broken headers: the inline layout is still found by scanning the file', () => {
    const elf = buildElf({ sections: [{ name: '.go.buildinfo', data: blob, address: 0x1000 }] });
    elf.writeBigUInt64LE(BigInt(elf.length * 4), 40);
    expect(readGoBuildInfo(elf)).toMatchObject({ goVersion: 'go1.22.1 X:boringcrypto', foundIn: 'file scan' });
  });

  it('not Go: C programs, scripts and unaligned look-alikes give nothing', async () => {
    expect(readGoBuildInfo(buildElf({ sections: [{ name: '.data', data: Buffer.alloc(4096, 3), address: 0x1000 }] }))).toBeNull();
    const unaligned = buildPe({ sections: [{ name: '.data', data: Buffer.concat([Buffer.alloc(3), blob]), virtualAddress: 0x2000 }] });
    expect(readGoBuildInfo(unaligned)).toBeNull();
    expect((await analyze(Buffer.from(`#!/bin/sh\n${'echo hi\n'.repeat(300)}`))).packages).toEqual([]);
    expect(goBinaryAnalyzer.wants('usr/share/doc/readme', { path: 'usr/share/doc/readme', type: 'file', size: 5000, mode: 0o644 })).toBe(false);
  });
});

describe('Go binaries: hostile build information', () => {
  const expectError = (buf: Buffer, code?: BinaryFormatError['code']) => {
    let thrown: unknown;
    try {
      readGoBuildInfo(buf);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(BinaryFormatError);
    if (code) expect((thrown as BinaryFormatError).code).toBe(code);
  };

  it('a length prefix claiming more bytes than the file holds', async () => {
    const header = inlineBuildInfo('go1.22.1', framed(MODINFO)).subarray(0, 32);
    const lying = Buffer.concat([header, uvarint(8), Buffer.from('go1.22.1'), uvarint(2 ** 40), Buffer.from('path\tx\n')]);
    const elf = elfWith([{ name: '.go.buildinfo', data: lying, address: 0x1000 }]);
    expectError(elf, 'too-large');
    const { packages, notices } = await analyze(elf);
    expect(packages).toEqual([]);
    expect(notices).toEqual([expect.objectContaining({ level: 'warning', message: expect.stringMatching(/Go build information is unreadable/) })]);
    const withinLimit = Buffer.concat([header, uvarint(8), Buffer.from('go1.22.1'), uvarint(100_000), Buffer.from('path\tx\n')]);
    expectError(buildElf({ sections: [{ name: '.go.buildinfo', data: withinLimit, address: 0x1000 }] }), 'out-of-bounds');
    const endless = Buffer.concat([header, Buffer.alloc(20, 0xff)]);
    expectError(buildElf({ sections: [{ name: '.go.buildinfo', data: endless, address: 0x1000 }] }));
  });

  it('pointers to unmapped addresses and string headers with absurd lengths', () => {
    expectError(pointerLayoutElf(64, true, 'go1.16.4', framed(MODINFO), { address: 0x7fff0000 }), 'out-of-bounds');
    expectError(pointerLayoutElf(64, true, 'go1.16.4', framed(MODINFO), { length: 2 ** 31 }), 'too-large');
    expectError(pointerLayoutElf(32, false, 'go1.16.4', framed(MODINFO), { length: 5000 }), 'out-of-bounds');
  });

  it('a version string that is not a Go version', () => {
    expectError(buildElf({ sections: [{ name: '.go.buildinfo', data: inlineBuildInfo('\u0000\u0001garbage', framed(MODINFO)), address: 0x1000 }] }), 'malformed');
  });

  it('garbage module lines are counted in a notice, the rest still read', async () => {
    const text = `path\tx\nmod\texample.com/x\tv1.2.3\t\nnonsense line\n=>\tdangling\tv1\t\ndep\tgithub.com/a/b\tv0.1.0\t\nbuild\tno-equals-sign\n`;
    const { packages, notices } = await analyze(elfWith([{ name: '.go.buildinfo', data: inlineBuildInfo('go1.21.0', framed(text)), address: 0x1000 }]));
    expect(packages.map((p) => `${p.name}@${p.version}`)).toEqual(['example.com/x@v1.2.3', 'github.com/a/b@v0.1.0', 'stdlib@1.21.0']);
    expect(notices[0]?.message).toMatch(/3 line\(s\) of Go module information did not parse/);
  });
});

describe('Go module information text', () => {
  it('reads quoted build settings as Go writes them', () => {
    expect(parseBuildSetting('-ldflags="-X \\"main.v=1\\" -s"')).toEqual({ key: '-ldflags', value: '-X "main.v=1" -s' });
    expect(parseBuildSetting('"key with space"=value')).toEqual({ key: 'key with space', value: 'value' });
    expect(parseBuildSetting('CGO_CFLAGS=')).toEqual({ key: 'CGO_CFLAGS', value: '' });
    expect(parseBuildSetting('x="unterminated')).toBeUndefined();
    expect(unquoteGo('"tab\\there \\u00e9\\xc3\\xa9 \\101"rest')).toEqual({ value: 'tab\there éé A', rest: 'rest' });
  });

  it('splits -ldflags like a shell and finds -X assignments in every spelling', () => {
    expect(splitShellWords(`-s -w -X 'main.version=1.0 beta' -X="a.b=c" x\\ y`)).toEqual(['-s', '-w', '-X', 'main.version=1.0 beta', '-X=a.b=c', 'x y']);
    expect(ldflagsVariables('-X main.version=1 -X=pkg.ver=2 -Xother.Version=3 --X=z.version=4 -extldflags -static')).toEqual([
      { key: 'main.version', value: '1' },
      { key: 'pkg.ver', value: '2' },
      { key: 'other.Version', value: '3' },
      { key: 'z.version', value: '4' },
    ]);
  });

  it('picks the stamped main-module version by where the variable lives', () => {
    const ld = (v: string) => [{ key: '-ldflags', value: v }];
    expect(versionFromLdflags(ld('-X main.version=v1.0.0'), 'github.com/aquasecurity/test')).toBe('v1.0.0');
    expect(versionFromLdflags(ld('-X github.com/x/tool/internal/build.Version=2.0.0 -X main.version=1.0.0'), 'github.com/x/tool')).toBe('1.0.0');
    expect(versionFromLdflags(ld('-X github.com/x/tool/cmd/tool/app.ver=3.0.0 -X main.version=1.0.0'), 'github.com/x/tool')).toBe('3.0.0');
    expect(versionFromLdflags(ld('-X main.version=1.0.0 -X version.Version=1.1.0'), 'm')).toBeUndefined();
    expect(versionFromLdflags(ld('-X main.version=dev -X main.commit=abc'), 'm')).toBeUndefined();
    expect(versionFromLdflags([], 'm')).toBeUndefined();
  });

  it('prefers a stamped version over a Go 1.24 VCS pseudo-version, but never over a release', () => {
    const settings = [{ key: '-ldflags', value: '-X main.version=v1.0.0' }];
    const pseudo = goBinaryPackages('go1.24.0', { main: { path: 'github.com/aquasecurity/test', version: 'v0.0.0-20250101000000-abcdefabcdef+dirty' }, deps: [], settings, malformedLines: 0 });
    expect(pseudo.find((p) => p.name === 'github.com/aquasecurity/test')?.version).toBe('v1.0.0');
    const release = goBinaryPackages('go1.24.0', { main: { path: 'go.etcd.io/bbolt', version: 'v1.3.5' }, deps: [], settings, malformedLines: 0 });
    expect(release.find((p) => p.name === 'go.etcd.io/bbolt')?.version).toBe('v1.3.5');
  });

  it('names the toolchain without its go prefix', () => {
    expect(stdlibVersion('go1.22.3 X:boringcrypto')).toBe('1.22.3');
    expect(stdlibVersion('go1.21rc2')).toBe('1.21rc2');
    expect(stdlibVersion('devel go1.23-abc Tue')).toBe('devel');
  });
});
