import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeFiles } from '../../../../test/support/analyze-files.js';
import { buildElf, buildElfProgram, buildPe, buildPeImportSection } from '../../../../test/support/binary-builders.js';
import { readPe, readPeImports } from '../../binary/pe.js';
import { executablesAnalyzer, examineElf, examinePe, scriptFacts, shannonEntropy } from './index.js';
import { ExecutableRulesError, executableRules, parseExecutableRules } from './rules.js';
import { entropyReaches, maxEntropyWithUnseen } from './entropy.js';

/** Deterministic incompressible bytes (a SHA-256 chain), as packed or encrypted code looks. */
function randomBytes(length: number, seed = 'seed'): Buffer {
  const out = Buffer.alloc(length);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < length; at += 32) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** Low-entropy bytes with some variety, as compiled code reads (well under 7 bits/byte). */
function codeLikeBytes(length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = [0x48, 0x89, 0xe5, 0x8b, 0x45, 0xfc, 0xc3, 0x00, 0x0f, 0x1f][(i * 7) % 10]! ^ (i % 13 === 0 ? i & 0x1f : 0);
  return out;
}

const CODE = 0x60000020;
const DATA = 0x40000040;

function peWithImports(imports: { dll: string; functions: string[] }[], options: { is64?: boolean; text?: Buffer } = {}): Buffer {
  const is64 = options.is64 ?? true;
  const idata = buildPeImportSection(0x2000, imports, is64);
  return buildPe({
    is64,
    entryPoint: 0x1000,
    sections: [
      { name: '.text', data: options.text ?? codeLikeBytes(4096), virtualAddress: 0x1000, characteristics: CODE },
      { name: '.idata', data: idata, virtualAddress: 0x2000, characteristics: DATA },
    ],
    dataDirectories: { 1: { virtualAddress: 0x2000, size: idata.length } },
  });
}

async function findingsFor(path: string, content: Buffer, mode = 0o755) {
  const { findings, notices } = await analyzeFiles([executablesAnalyzer], [{ path, content, mode }]);
  return { findings, notices };
}

describe('PE facts and the windows-pe finding', () => {
  it('reports a console PE32+ with its imports and the dropper and injection combinations', async () => {
    const pe = peWithImports([
      { dll: 'KERNEL32.dll', functions: ['VirtualAllocEx', 'WriteProcessMemory', 'CreateRemoteThread', 'ExitProcess'] },
      { dll: 'urlmon.dll', functions: ['URLDownloadToFileW'] },
      { dll: 'SHELL32.dll', functions: ['ShellExecuteW'] },
    ]);
    const { findings } = await findingsFor('opt/app/update.exe', pe, 0o644);
    expect(findings).toHaveLength(1);
    const f = findings[0]!;
    expect(f).toMatchObject({ category: 'windows-pe', severity: 'info', rule: 'executables/windows-pe', path: 'opt/app/update.exe', title: 'Windows executable (PE32+ x86-64, console, native)' });
    expect(f.evidence).toMatchObject({
      pe: {
        format: 'PE32+',
        machine: 'x86_64',
        subsystem: 'console',
        kind: 'exe',
        managed: false,
        signed: false,
        imports: { dllCount: 3, functionCount: 6, dlls: ['kernel32.dll', 'urlmon.dll', 'shell32.dll'] },
        dropperImports: ['ShellExecuteW', 'URLDownloadToFileW'],
        injectionImports: ['CreateRemoteThread', 'VirtualAllocEx', 'WriteProcessMemory'],
        entrySection: '.text',
      },
    });
    expect((f.evidence as { pe: { packer?: string } }).pe.packer).toBeUndefined();
  });

  it('leaves out combinations that only half hold (benign look-alikes)', () => {
    const facts = examinePe(
      peWithImports([
        { dll: 'KERNEL32.dll', functions: ['VirtualAllocEx', 'WriteProcessMemory', 'CreateProcessW'] },
        { dll: 'WININET.dll', functions: ['InternetReadFile'] },
      ]),
      executableRules(),
    );
    expect(facts.dropperImports).toBeUndefined();
    expect(facts.injectionImports).toBeUndefined();
    expect(facts.imports.functionCount).toBe(4);
  });

  it('tells a signed .NET DLL (PE32, GUI) and never calls its compressed resources packing', async () => {
    const pe = buildPe({
      is64: false,
      characteristics: 0x2102,
      subsystem: 2,
      sections: [{ name: '.text', data: randomBytes(16384), virtualAddress: 0x2000, characteristics: CODE }],
      dataDirectories: { 4: { virtualAddress: 0x400, size: 0x100 }, 14: { virtualAddress: 0x2008, size: 0x48 } },
    });
    const { findings } = await findingsFor('app/bin/Lib.dll', pe, 0o644);
    expect(findings.map((f) => f.category)).toEqual(['windows-pe']);
    expect(findings[0]!.title).toBe('Windows DLL (PE32 x86, GUI, .NET managed, signature present)');
    expect(findings[0]!.evidence).toMatchObject({ pe: { kind: 'dll', managed: true, signed: true, subsystem: 'gui' } });
  });

  it('tells drivers and EFI programs by subsystem', () => {
    const rules = executableRules();
    expect(examinePe(buildPe({ subsystem: 1, sections: [{ name: '.text', data: Buffer.alloc(64), virtualAddress: 0x1000 }] }), rules)).toMatchObject({ kind: 'driver', subsystem: 'native' });
    expect(examinePe(buildPe({ subsystem: 10, machine: 0xaa64, sections: [{ name: '.text', data: Buffer.alloc(64), virtualAddress: 0x1000 }] }), rules)).toMatchObject({ kind: 'efi', subsystem: 'efi-application', machine: 'aarch64' });
  });

  it('finds a PE by its magic whatever its name', async () => {
    const { findings } = await findingsFor('usr/share/app/helper.js', peWithImports([{ dll: 'KERNEL32.dll', functions: ['ExitProcess'] }]), 0o644);
    expect(findings.map((f) => f.rule)).toEqual(['executables/windows-pe']);
  });
});

describe('packed programs', () => {
  it('reports UPX sections in a PE as packed-upx, with the packer in the windows-pe evidence too', async () => {
    const pe = buildPe({
      is64: false,
      entryPoint: 0x6000,
      sections: [
        { name: 'UPX0', data: Buffer.alloc(0), virtualAddress: 0x1000, characteristics: 0xe0000080 },
        { name: 'UPX1', data: randomBytes(8192), virtualAddress: 0x6000, characteristics: 0xe0000040 },
      ],
    });
    const { findings } = await findingsFor('tmp/x.exe', pe, 0o644);
    const packed = findings.find((f) => f.category === 'suspicious')!;
    expect(packed).toMatchObject({ rule: 'executables/packed-upx', severity: 'moderate', attack: ['T1027.002'], title: 'Windows program packed with UPX' });
    expect(packed.evidence).toMatchObject({ packer: 'upx', packerName: 'UPX', signals: expect.arrayContaining(['section:UPX1']) });
    expect(findings.find((f) => f.category === 'windows-pe')!.evidence).toMatchObject({ pe: { packer: 'upx', entrySection: 'UPX1', entrySectionWritable: true } });
  });

  it('recognises a packer by the code at the entry point', () => {
    const stub = Buffer.concat([Buffer.from('60E803000000E9EB045D4555C3E801', 'hex'), codeLikeBytes(100)]);
    const pe = buildPe({ is64: false, entryPoint: 0x1000, sections: [{ name: '.text', data: stub, virtualAddress: 0x1000, characteristics: CODE }] });
    const facts = examinePe(pe, executableRules());
    expect(facts.packer).toBe('aspack');
    expect(facts.packers![0]!.signals).toEqual(['entry-point-code']);
  });

  it('names the packer that runs first when one is layered over another', () => {
    const pe = buildPe({
      is64: false,
      entryPoint: 0x8000,
      sections: [
        { name: 'UPX0', data: Buffer.alloc(0), virtualAddress: 0x1000 },
        { name: 'UPX1', data: randomBytes(1024), virtualAddress: 0x6000 },
        { name: 'yC', data: randomBytes(4096), virtualAddress: 0x8000, characteristics: 0xe00000e0 },
      ],
    });
    const facts = examinePe(pe, executableRules());
    expect(facts.packers!.map((p) => p.id)).toEqual(['yoda-crypter', 'upx']);
  });

  it('flags a compressed or encrypted code section without a named packer, and not ordinary code', async () => {
    const packed = buildPe({ entryPoint: 0x1000, sections: [{ name: '.text', data: randomBytes(16384), virtualAddress: 0x1000, characteristics: CODE }] });
    const { findings } = await findingsFor('opt/a.exe', packed, 0o644);
    expect(findings.find((f) => f.category === 'suspicious')).toMatchObject({ rule: 'executables/high-entropy-code', attack: ['T1027.002'], evidence: { highEntropyCode: ['.text'] } });
    const plain = buildPe({ entryPoint: 0x1000, sections: [{ name: '.text', data: codeLikeBytes(16384), virtualAddress: 0x1000, characteristics: CODE }, { name: '.rsrc', data: randomBytes(16384), virtualAddress: 0x6000 }] });
    expect((await findingsFor('opt/b.exe', plain, 0o644)).findings.map((f) => f.category)).toEqual(['windows-pe']);
  });

  it('reports a UPX-packed, static, stripped ELF, and where it hides', async () => {
    const lInfo = Buffer.concat([Buffer.alloc(4), Buffer.from('UPX!'), Buffer.alloc(8)]);
    const elf = buildElfProgram({ afterHeaders: lInfo, segments: [{ data: randomBytes(32768), address: 0x400000, flags: 7 }] });
    const facts = examineElf(elf, executableRules())!;
    expect(facts).toMatchObject({ class: 'ELF64', machine: 'x86_64', type: 'executable', linking: 'static', stripped: true, sectionTable: 'absent', packer: 'upx', highEntropyCode: ['LOAD[0]'] });

    const hidden = (await findingsFor('var/tmp/.ICE-unix/kdevtmpfsi', elf)).findings;
    expect(hidden.map((f) => f.rule).sort()).toEqual(['executables/hidden-location', 'executables/packed-upx']);
    expect(hidden.find((f) => f.rule === 'executables/hidden-location')).toMatchObject({
      category: 'suspicious',
      severity: 'moderate',
      title: 'UPX-packed, static, stripped ELF program in a temporary directory (var/tmp/)',
      evidence: { location: 'temporary', directory: 'var/tmp/' },
    });
    expect(hidden.find((f) => f.rule === 'executables/packed-upx')!.evidence).toMatchObject({ packer: 'upx', elf: { sections: [{ name: 'LOAD[0]', executable: true }] } });

    const inBin = (await findingsFor('usr/local/bin/tool', elf)).findings;
    expect(inBin.map((f) => f.rule)).toEqual(['executables/packed-upx']);
  });

  it('names the UPX version the stub records', async () => {
    const stub = Buffer.from('$Info: This file is packed with the UPX executable packer http://upx.sf.net $\n$Id: UPX 4.02 Copyright (C) 1996-2023 the UPX Team. All Rights Reserved. $\n');
    const lInfo = Buffer.concat([Buffer.alloc(4), Buffer.from('UPX!'), Buffer.alloc(8)]);
    const elf = buildElfProgram({ afterHeaders: lInfo, segments: [{ data: Buffer.concat([randomBytes(16384), stub]), address: 0x400000, flags: 7 }] });
    const packed = (await findingsFor('usr/local/bin/tool', elf)).findings.find((f) => f.rule === 'executables/packed-upx');
    expect(packed).toMatchObject({ title: 'ELF program packed with UPX 4.02', evidence: { packer: 'upx', packerVersion: '4.02' } });
  });

  it('reads UPX’s $Info string only in files without a section table (the upx tool itself has one)', () => {
    const info = Buffer.from('$Info: This file is packed with the UPX executable packer http://upx.sf.net $');
    const rules = executableRules();
    const sectionless = buildElfProgram({ segments: [{ data: Buffer.concat([codeLikeBytes(4096), info]), address: 0x400000 }] });
    expect(examineElf(sectionless, rules)!.packer).toBe('upx');
    const upxTool = buildElf({ sections: [{ name: '.text', data: codeLikeBytes(4096), flags: 6 }, { name: '.rodata', data: info, flags: 2 }, { name: '.symtab', data: Buffer.alloc(24), type: 2, flags: 0 }] });
    expect(examineElf(upxTool, rules)!.packer).toBeUndefined();
  });
});

describe('ELF facts and odd locations', () => {
  const staticStripped = buildElfProgram({ segments: [{ data: codeLikeBytes(8192), address: 0x400000 }] });

  it('reads linking, interpreter and symbols of a dynamic program; no finding', async () => {
    const dynamic = buildElfProgram({ type: 3, interpreter: '/lib64/ld-linux-x86-64.so.2', segments: [{ data: codeLikeBytes(8192), address: 0x1000 }] });
    expect(examineElf(dynamic, executableRules())).toMatchObject({ type: 'pie-executable', linking: 'dynamic', interpreter: '/lib64/ld-linux-x86-64.so.2', stripped: true });
    const withSymbols = buildElf({ bits: 32, littleEndian: false, machine: 8, sections: [{ name: '.text', data: codeLikeBytes(4096), flags: 6 }, { name: '.symtab', data: Buffer.alloc(32), type: 2, flags: 0 }] });
    expect(examineElf(withSymbols, executableRules())).toMatchObject({ class: 'ELF32', endian: 'big', machine: 'mips', stripped: false, sectionTable: 'present', sections: [{ name: '.text', executable: true }] });
    expect((await findingsFor('tmp/dyn', dynamic)).findings).toEqual([]);
  });

  it('flags a static, stripped program in /dev/shm or a hidden directory, not in ordinary places', async () => {
    expect((await findingsFor('dev/shm/x', staticStripped)).findings).toMatchObject([{ rule: 'executables/hidden-location', title: 'Static, stripped ELF program in a temporary directory (dev/shm/)', evidence: { location: 'temporary', directory: 'dev/shm/' }, attack: ['T1564.001'] }]);
    expect((await findingsFor('usr/lib/.lib/sshd', staticStripped)).findings).toMatchObject([{ rule: 'executables/hidden-location', evidence: { location: 'hidden', directory: 'usr/lib/.lib/' } }]);
    expect((await findingsFor('usr/bin/.sshd', staticStripped)).findings).toMatchObject([{ rule: 'executables/hidden-location', evidence: { directory: 'usr/bin/.sshd' } }]);
    for (const path of ['usr/local/bin/tool', 'root/.cargo/bin/tool', 'home/u/.local/bin/tool', 'root/.vscode-server/bin/node']) {
      expect((await findingsFor(path, staticStripped)).findings).toEqual([]);
    }
  });

  it('does not flag Go programs (static and stripped as built) anywhere', async () => {
    const go = readFileSync(new URL('../../packages/golang/testdata/terraform.elf', import.meta.url));
    expect(examineElf(go, executableRules())).toMatchObject({ goVersion: 'go1.23.3', linking: 'static', stripped: true });
    expect((await findingsFor('tmp/.cache-x/terraform', go)).findings).toEqual([]);
  });

  it('examines an ELF whose section table is damaged (an anti-analysis trick) from its program headers', () => {
    const elf = buildElf({ sections: [{ name: '.text', data: codeLikeBytes(4096), address: 0x400000, flags: 6 }] });
    elf.writeBigUInt64LE(BigInt(elf.length + 4096), 40);
    expect(examineElf(elf, executableRules())).toMatchObject({ sectionTable: 'damaged', stripped: true, sections: [{ name: 'LOAD[0]' }] });
  });
});

describe('scripts', () => {
  it('tells the language by shebang first, then by extension', () => {
    const text = (s: string) => Buffer.from(s);
    expect(scriptFacts('usr/local/bin/run', text('#!/usr/bin/env python3\nprint(1)\n'))).toEqual({ language: 'python', by: 'shebang', interpreter: 'python3' });
    expect(scriptFacts('opt/x.sh', text('#!/bin/bash\n'))).toEqual({ language: 'bash', by: 'shebang', interpreter: 'bash' });
    expect(scriptFacts('opt/x.txt', text('#!/usr/bin/perl5.36.0 -w\n'))).toMatchObject({ language: 'perl' });
    expect(scriptFacts('opt/x', text('#!/usr/bin/php8.2\n'))).toMatchObject({ language: 'php' });
    expect(scriptFacts('opt/x', text('#!/usr/bin/env -S node --no-warnings\n'))).toMatchObject({ language: 'javascript' });
    expect(scriptFacts('opt/deploy.ps1', text('Write-Host hi'))).toEqual({ language: 'powershell', by: 'extension' });
    expect(scriptFacts('srv/app.rb', text('puts 1'))).toMatchObject({ language: 'ruby' });
    expect(scriptFacts('srv/index.mjs', text('export {}'))).toMatchObject({ language: 'javascript' });
    expect(scriptFacts('srv/x.constructor', text('x'))).toBeUndefined();
    expect(scriptFacts('srv/README', text('#!constructor\n'))).toBeUndefined();
    expect(scriptFacts('srv/.sh', text('x'))).toBeUndefined();
  });

  it('gives no finding for plain scripts', async () => {
    const { findings, notices } = await analyzeFiles([executablesAnalyzer], [
      { path: 'usr/local/bin/entry.sh', content: '#!/bin/sh\nexec "$@"\n', mode: 0o755 },
      { path: 'app/main.py', content: 'print("hi")\n' },
    ]);
    expect(findings).toEqual([]);
    expect(notices).toEqual([]);
  });
});

describe('which files it opens', () => {
  const header = (path: string, mode: number) => ({ path, type: 'file' as const, mode, size: 4096 });
  it('wants programs, Windows programs and scripts; not data', () => {
    expect(executablesAnalyzer.wants('opt/x.dll', header('opt/x.dll', 0o644))).toBe(true);
    expect(executablesAnalyzer.wants('opt/tool', header('opt/tool', 0o755))).toBe(true);
    expect(executablesAnalyzer.wants('app/x.py', header('app/x.py', 0o644))).toBe(true);
    expect(executablesAnalyzer.wants('usr/share/doc/x.txt', header('usr/share/doc/x.txt', 0o644))).toBe(false);
    expect(executablesAnalyzer.configKey).toMatch(/^executables-rules:[0-9a-f]{16}$/);
  });
});

describe('hostile input', () => {
  it('bounds import tables that point outside the file or never end', () => {
    const rules = executableRules();
    const outside = peWithImports([{ dll: 'KERNEL32.dll', functions: ['ExitProcess'] }]);
    const pe = readPe(outside);
    // Point the import directory past the end of every section.
    outside.writeUInt32LE(0x7fff0000, 0x40 + 24 + 112 + 8);
    expect(examinePe(outside, rules).imports).toMatchObject({ dllCount: 0, damaged: expect.stringContaining('outside') });

    // A descriptor table with no terminator: every entry names the same DLL and the same thunks.
    const descriptor = Buffer.alloc(20);
    const endless = Buffer.alloc(64 * 1024);
    const nameRva = 0x2000 + endless.length - 32;
    endless.write('LOOP.dll', endless.length - 32, 'latin1');
    const thunkRva = 0x2000 + endless.length - 64;
    endless.writeBigUInt64LE(BigInt(nameRva - 2), endless.length - 64);
    descriptor.writeUInt32LE(thunkRva, 0);
    descriptor.writeUInt32LE(nameRva, 12);
    descriptor.writeUInt32LE(thunkRva, 16);
    for (let at = 0; at + 20 <= endless.length - 64; at += 20) descriptor.copy(endless, at);
    const looping = buildPe({ sections: [{ name: '.idata', data: endless, virtualAddress: 0x2000 }], dataDirectories: { 1: { virtualAddress: 0x2000, size: endless.length } } });
    const imports = readPeImports(looping, readPe(looping));
    expect(imports.truncated).toBe(true);
    expect(imports.modules.length).toBeLessThanOrEqual(256);
    expect(pe.sections).toHaveLength(2);
  });

  it('keeps a PE with a huge section count or truncated headers a windows-pe finding, and never throws', async () => {
    const pe = peWithImports([{ dll: 'KERNEL32.dll', functions: ['ExitProcess'] }]);
    const many = Buffer.from(pe);
    many.writeUInt16LE(60000, 0x40 + 6);
    const { findings } = await findingsFor('opt/many.exe', many, 0o644);
    expect(findings).toMatchObject([{ category: 'windows-pe', evidence: { pe: { malformed: expect.stringContaining('sections') } } }]);
    for (let cut = 0x44; cut < 0x40 + 24 + 240 + 80; cut += 7) {
      const out = await executablesAnalyzer.analyze({ path: 'x.exe', type: 'file', size: cut, mode: 0o644, content: pe.subarray(0, cut) }, { maxNestedArchiveDepth: 0, maxNestedArchiveBytes: 0 });
      for (const f of out.findings ?? []) expect(f.category).toBe('windows-pe');
    }
  });

  it('survives random corruption of PE and ELF programs without throwing', () => {
    const lInfo = Buffer.concat([Buffer.alloc(4), Buffer.from('UPX!'), Buffer.alloc(8)]);
    const samples = [
      peWithImports([{ dll: 'KERNEL32.dll', functions: ['VirtualAllocEx', 'WriteProcessMemory'] }, { dll: 'urlmon.dll', functions: ['URLDownloadToFileA'] }]),
      peWithImports([{ dll: 'KERNEL32.dll', functions: ['ExitProcess'] }], { is64: false }),
      buildElfProgram({ afterHeaders: lInfo, interpreter: '/lib/ld.so', segments: [{ data: randomBytes(2048), address: 0x400000 }] }),
      buildElf({ sections: [{ name: '.text', data: codeLikeBytes(512), address: 0x401000, flags: 6 }, { name: '.symtab', data: Buffer.alloc(24), type: 2, flags: 0 }] }),
    ];
    let seed = 99;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (const sample of samples) {
      for (let round = 0; round < 600; round++) {
        const copy = Buffer.from(sample);
        for (let i = 0, n = 1 + (rand() % 8); i < n; i++) copy[rand() % Math.min(copy.length, 1024)] = rand() & 0xff;
        const content = rand() % 4 === 0 ? copy.subarray(0, rand() % copy.length) : copy;
        expect(() => executablesAnalyzer.analyze({ path: 'tmp/.x/f', type: 'file', size: content.length, mode: 0o755, content }, { maxNestedArchiveDepth: 0, maxNestedArchiveBytes: 0 })).not.toThrow();
      }
    }
  });

  it('returns a notice, not a throw, for an ELF whose program headers are unreadable', async () => {
    const elf = buildElfProgram({ segments: [{ data: codeLikeBytes(256), address: 0x400000 }] });
    elf.writeUInt16LE(0xfffe, 56);
    const { findings, notices } = await findingsFor('usr/bin/broken', elf);
    expect(findings).toEqual([]);
    expect(notices).toMatchObject([{ level: 'warning', path: 'usr/bin/broken', message: expect.stringContaining('ELF headers') }]);
  });
});

describe('entropy', () => {
  it('measures 0 for constant bytes, 8 for all byte values equally often', () => {
    expect(shannonEntropy(Buffer.alloc(100))).toBe(0);
    expect(shannonEntropy(Buffer.from(Array.from({ length: 512 }, (_, i) => i & 0xff)))).toBeCloseTo(8, 10);
    expect(shannonEntropy(Buffer.alloc(0))).toBe(0);
  });

  it('counts bytes alike at any alignment and length', () => {
    const bytes = Buffer.concat([randomBytes(3000), Buffer.alloc(3000, 0x90)]);
    const naive = (b: Uint8Array): number => {
      const counts = new Array<number>(256).fill(0);
      for (const x of b) counts[x]!++;
      return counts.reduce((h, c) => (c === 0 ? h : h - (c / b.length) * Math.log2(c / b.length)), 0);
    };
    for (const [from, to] of [[0, 6000], [1, 5999], [2, 7], [3, 4], [5, 4097]] as const) {
      expect(shannonEntropy(bytes.subarray(from, to))).toBeCloseTo(naive(bytes.subarray(from, to)), 12);
    }
  });

  it('bounds the entropy of bytes not yet seen from above', () => {
    const bytes = Buffer.concat([Buffer.alloc(40_000, 0x41), randomBytes(60_000)]);
    const counts = new Float64Array(256);
    for (let i = 0; i < 50_000; i++) counts[bytes[i]!]!++;
    expect(maxEntropyWithUnseen(counts, 50_000, bytes.length)).toBeGreaterThanOrEqual(shannonEntropy(bytes));
    expect(maxEntropyWithUnseen(new Float64Array(256), 0, 1024)).toBeCloseTo(8, 10);
  });

  it('tells whether entropy reaches a threshold exactly as measuring it all does, low, high or random bytes late', () => {
    const code = Buffer.from(Array.from({ length: 600_000 }, (_, i) => [0x48, 0x89, 0xe5, 0x00, 0x8b, 0x45, 0xff, 0xc3][i % 8]! ^ (i % 97 === 0 ? i & 0xff : 0)));
    const inputs = [
      code,
      randomBytes(400_000),
      // Low-entropy start, incompressible end: the early stop must not rule it out.
      Buffer.concat([Buffer.alloc(150_000, 0x00), randomBytes(450_000)]),
      Buffer.concat([code.subarray(0, 200_000), randomBytes(500_000)]),
      randomBytes(5000),
      Buffer.alloc(0),
    ];
    for (const bytes of inputs) {
      for (const threshold of [0.5, 6, 7.2, 7.9]) expect(entropyReaches(bytes, threshold)).toBe(shannonEntropy(bytes) >= threshold);
    }
  });
});

describe('rules/executables.yaml', () => {
  it('loads the shipped file', () => {
    const rules = executableRules();
    expect(rules.packers.map((p) => p.id)).toEqual(expect.arrayContaining(['upx', 'aspack', 'pecompact', 'mpress', 'themida', 'fsg', 'mew', 'petite', 'pespin', 'upack', 'yoda-crypter']));
    expect(rules.importCombos.map((c) => c.field)).toEqual(['dropperImports', 'injectionImports']);
  });

  it('names the file, the line and the field in errors', () => {
    const base = 'importCombos: []\nentropy: { highCode: 7.2, minSectionBytes: 2048 }\nhiddenLocations: { tempDirs: [tmp/], ordinaryDotDirs: [.cargo] }\n';
    expect(() => parseExecutableRules(`packers:\n  - { id: x, name: X, entryPoint: ["ZZ 01"] }\n${base}`, 'my.yaml')).toThrow(/^my\.yaml:2: invalid at packers\.0\.entryPoint\.0: /);
    expect(() => parseExecutableRules(`packers:\n  - { id: x, name: X }\n${base}`, 'my.yaml')).toThrow(/my\.yaml: packers: x has no signal/);
    expect(() => parseExecutableRules('packers: [', 'my.yaml')).toThrow(ExecutableRulesError);
    expect(() => parseExecutableRules(`packers:\n  - { id: x, name: X, sections: [a] }\n  - { id: x, name: Y, sections: [b] }\n${base}`, 'my.yaml')).toThrow(/appears twice/);
  });
});
