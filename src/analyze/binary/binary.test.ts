import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import {
  BinaryFormatError,
  detectExecutableFormat,
  findSection,
  readAtAddress,
  readElf,
  readExecutable,
  readMachO,
  readPe,
  sectionBytes,
  elfSectionBytes,
  findElfSection,
  isExecutableCandidate,
} from './index.js';
import { buildElf, buildFatMachO, buildMachO, buildPe, elfSectionHeaderOffset } from '../../../test/support/binary-builders.js';

const payload = Buffer.from('hello section');

function expectBinaryError(fn: () => unknown, code?: BinaryFormatError['code']): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(BinaryFormatError);
  if (code) expect((thrown as BinaryFormatError).code).toBe(code);
}

/** Deterministic byte mutations of a valid file: the readers must only ever throw BinaryFormatError. */
function fuzz(valid: Buffer, read: (b: Buffer) => unknown, rounds = 1500): void {
  let seed = 12345;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  for (let r = 0; r < rounds; r++) {
    const copy = Buffer.from(valid);
    const flips = 1 + (rand() % 8);
    for (let i = 0; i < flips; i++) copy[rand() % Math.min(copy.length, 512)] = rand() & 0xff;
    const cut = rand() % 4 === 0 ? copy.subarray(0, rand() % copy.length) : copy;
    try {
      const exe = read(cut);
      if (exe && typeof exe === 'object' && 'sections' in exe && 'data' in exe) {
        for (const s of (exe as ReturnType<typeof readExecutable>).sections) {
          try {
            sectionBytes(exe as ReturnType<typeof readExecutable>, s);
          } catch (err) {
            if (!(err instanceof BinaryFormatError)) throw err;
          }
        }
      }
    } catch (err) {
      if (!(err instanceof BinaryFormatError)) throw new Error(`round ${r}: ${(err as Error).stack}`);
    }
  }
}

describe('ELF reader', () => {
  for (const bits of [32, 64] as const) {
    for (const littleEndian of [true, false]) {
      it(`reads sections and maps addresses in a ${bits}-bit ${littleEndian ? 'little' : 'big'}-endian file`, () => {
        const elf = buildElf({ bits, littleEndian, machine: 40, sections: [{ name: '.text', data: Buffer.alloc(32, 0x90) }, { name: '.data', data: payload, address: 0x10000 }] });
        const exe = readExecutable(elf);
        expect(exe).toMatchObject({ format: 'elf', bits, littleEndian, machine: 'arm' });
        expect(exe.sections.map((s) => s.name)).toEqual(['.text', '.data', '.shstrtab']);
        expect(sectionBytes(exe, findSection(exe, '.data')!).toString()).toBe('hello section');
        expect(readAtAddress(exe, 0x10006, 7).toString()).toBe('section');
        expectBinaryError(() => readAtAddress(exe, 0x10006, 100), 'out-of-bounds');
        expect(readElf(elf).programHeaders).toHaveLength(1);
      });
    }
  }

  it('reads a real system binary', () => {
    const path = ['/bin/true', '/usr/bin/true', '/bin/ls'].find((p) => existsSync(p));
    if (!path) return;
    const buf = readFileSync(path);
    if (detectExecutableFormat(buf) !== 'elf') return;
    const elf = readElf(buf);
    expect(elf.sections.map((s) => s.name)).toEqual(expect.arrayContaining(['.text', '.shstrtab']));
    const text = findElfSection(elf, '.text')!;
    expect(elfSectionBytes(buf, text).length).toBe(text.size);
    const expectedMachine: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };
    if (expectedMachine[process.arch]) expect(readExecutable(buf).machine).toBe(expectedMachine[process.arch]);
  });

  it('lists a section whose contents lie outside the file, and refuses to read it', () => {
    const elf = buildElf({ sections: [{ name: '.data', data: payload }] });
    elf.writeBigUInt64LE(BigInt(elf.length + 4096), elfSectionHeaderOffset(elf, 1) + 24);
    const exe = readExecutable(elf);
    expectBinaryError(() => sectionBytes(exe, findSection(exe, '.data')!), 'out-of-bounds');
    elf.writeBigUInt64LE(2n ** 62n, elfSectionHeaderOffset(elf, 1) + 24);
    expectBinaryError(() => readExecutable(elf), 'too-large');
  });

  it('rejects a section header table outside the file', () => {
    const elf = buildElf({ sections: [{ name: '.data', data: payload }] });
    elf.writeBigUInt64LE(BigInt(elf.length - 10), 40);
    expectBinaryError(() => readElf(elf));
  });

  it('rejects absurd counts from extended numbering without allocating', () => {
    const elf = buildElf({ sections: [{ name: '.data', data: payload }] });
    elf.writeUInt16LE(0, 60); // e_shnum = 0: the count is in section 0's sh_size
    elf.writeBigUInt64LE(2n ** 40n, elfSectionHeaderOffset(elf, 0) + 32);
    expectBinaryError(() => readElf(elf), 'too-large');
  });

  it('rejects a section-name table index that is not a section, and short header entries', () => {
    const bad = buildElf({ sections: [{ name: '.data', data: payload }] });
    bad.writeUInt16LE(99, 62);
    expectBinaryError(() => readElf(bad), 'malformed');
    const short = buildElf({ sections: [{ name: '.data', data: payload }] });
    short.writeUInt16LE(8, 58);
    expectBinaryError(() => readElf(short), 'malformed');
  });

  it('gives typed errors for truncated and unknown-class files', () => {
    expectBinaryError(() => readElf(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1])), 'truncated');
    expectBinaryError(() => readElf(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 9, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0])), 'malformed');
    expectBinaryError(() => readElf(Buffer.from('not an elf')), 'not-recognised');
  });

  it('survives random corruption with typed errors only', () => {
    fuzz(buildElf({ sections: [{ name: '.text', data: Buffer.alloc(64) }, { name: '.go.buildinfo', data: payload, address: 0x4000 }] }), readExecutable);
    fuzz(buildElf({ bits: 32, littleEndian: false, sections: [{ name: '.data', data: payload, address: 0x4000 }] }), readExecutable);
  });
});

describe('PE reader', () => {
  it('reads sections of PE32+ and PE32 files, with long names from the string table', () => {
    for (const is64 of [true, false]) {
      const pe = buildPe({ is64, sections: [{ name: '.text', data: Buffer.alloc(16), virtualAddress: 0x1000, characteristics: 0x60000020 }, { name: '.data', data: payload, virtualAddress: 0x2000 }, { name: '.debug_info', data: Buffer.from('dwarf'), virtualAddress: 0x3000 }] });
      expect(detectExecutableFormat(pe)).toBe('pe');
      const exe = readExecutable(pe);
      expect(exe).toMatchObject({ format: 'pe', bits: is64 ? 64 : 32, machine: is64 ? 'x86_64' : 'x86' });
      expect(exe.sections.map((s) => s.name)).toEqual(['.text', '.data', '.debug_info']);
      expect(findSection(exe, '.text')).toMatchObject({ executable: true, writable: false });
      expect(sectionBytes(exe, findSection(exe, '.data')!).subarray(0, payload.length).toString()).toBe('hello section');
      const base = is64 ? 0x140000000 : 0x400000;
      expect(readAtAddress(exe, base + 0x2000, 5).toString()).toBe('hello');
      expect(readPe(pe).dataDirectories).toHaveLength(16);
    }
  });

  it('refuses a DOS program and a section table outside the file', () => {
    const dos = Buffer.alloc(128);
    dos.write('MZ', 0, 'latin1');
    dos.writeUInt32LE(0x40, 0x3c);
    expect(detectExecutableFormat(dos)).toBeNull();
    expectBinaryError(() => readPe(dos), 'not-recognised');
    const pe = buildPe({ sections: [{ name: '.data', data: payload, virtualAddress: 0x1000 }] });
    pe.writeUInt16LE(90, 0x40 + 4 + 2);
    expectBinaryError(() => readPe(pe));
    pe.writeUInt16LE(5000, 0x40 + 4 + 2);
    expectBinaryError(() => readPe(pe), 'too-large');
  });

  it('survives random corruption with typed errors only', () => {
    fuzz(buildPe({ sections: [{ name: '.data', data: payload, virtualAddress: 0x1000 }, { name: '.zdebug_line', data: payload, virtualAddress: 0x2000 }] }), readExecutable);
  });
});

describe('Mach-O reader', () => {
  it('reads 64-bit little-endian and 32-bit big-endian files', () => {
    for (const [bits, littleEndian] of [[64, true], [32, false]] as const) {
      const macho = buildMachO({ bits, littleEndian, sections: [{ name: '__text', segment: '__TEXT', data: Buffer.alloc(16), address: 0x1000 }, { name: '__go_buildinfo', segment: '__DATA', data: payload, address: 0x8000 }, { name: '__data', segment: '__DATA', data: Buffer.from('more'), address: 0x8020 }] });
      const exe = readExecutable(macho);
      expect(exe).toMatchObject({ format: 'macho', bits, littleEndian });
      expect(findSection(exe, '__go_buildinfo', '__DATA')).toBeDefined();
      expect(findSection(exe, '__go_buildinfo', '__TEXT')).toBeUndefined();
      expect(sectionBytes(exe, findSection(exe, '__data')!).toString()).toBe('more');
      expect(readAtAddress(exe, 0x8020, 4).toString()).toBe('more');
    }
  });

  it('reads the first architecture of a universal binary', () => {
    const thin = buildMachO({ sections: [{ name: '__data', segment: '__DATA', data: payload, address: 0x4000 }] });
    const fat = buildFatMachO([{ cpuType: 0x0100000c, data: thin }, { cpuType: 0x01000007, data: thin }]);
    const exe = readExecutable(fat);
    expect(exe.fileOffset).toBeGreaterThan(0);
    expect(sectionBytes(exe, findSection(exe, '__data')!).toString()).toBe('hello section');
  });

  it('does not take a Java class file (same 0xCAFEBABE magic) for a universal binary', () => {
    const cls = Buffer.from([0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x34, 0, 0, 0, 0]);
    expect(detectExecutableFormat(cls)).toBeNull();
  });

  it('rejects load commands that lie about their sizes', () => {
    const macho = buildMachO({ sections: [{ name: '__data', segment: '__DATA', data: payload, address: 0x4000 }] });
    const zero = Buffer.from(macho);
    zero.writeUInt32LE(0, 32 + 4);
    expectBinaryError(() => readMachO(zero), 'malformed');
    const manySections = Buffer.from(macho);
    manySections.writeUInt32LE(1000, 32 + 64);
    expectBinaryError(() => readMachO(manySections), 'malformed');
    const manyCommands = Buffer.from(macho);
    manyCommands.writeUInt32LE(0xffffffff, 16);
    expectBinaryError(() => readMachO(manyCommands));
  });

  it('survives random corruption with typed errors only', () => {
    fuzz(buildMachO({ sections: [{ name: '__data', segment: '__DATA', data: payload, address: 0x4000 }] }), readExecutable);
    fuzz(buildFatMachO([{ cpuType: 7, data: buildMachO({ bits: 32, littleEndian: false, sections: [{ name: '__data', segment: '__DATA', data: payload, address: 0x4000 }] }) }]), readExecutable);
  });
});

describe('executable candidates', () => {
  const header = (path: string, mode: number, size: number) => ({ path, type: 'file' as const, mode, size });
  it('selects executable files and anything under bin directories, of plausible size', () => {
    expect(isExecutableCandidate('opt/app/server', header('opt/app/server', 0o755, 2_000_000))).toBe(true);
    expect(isExecutableCandidate('usr/local/bin/tool', header('usr/local/bin/tool', 0o644, 2_000_000))).toBe(true);
    expect(isExecutableCandidate('bin/tool', header('bin/tool', 0o644, 2_000_000))).toBe(true);
    expect(isExecutableCandidate('etc/motd', header('etc/motd', 0o644, 2_000_000))).toBe(false);
    expect(isExecutableCandidate('usr/bin/tiny.sh', header('usr/bin/tiny.sh', 0o755, 200))).toBe(false);
    expect(isExecutableCandidate('opt/win/tool.exe', header('opt/win/tool.exe', 0o644, 2_000_000))).toBe(true);
  });
  it('recognises formats by magic only', () => {
    expect(detectExecutableFormat(Buffer.from('#!/bin/sh\necho hi\n'))).toBeNull();
    expect(detectExecutableFormat(Buffer.alloc(0))).toBeNull();
  });
});
