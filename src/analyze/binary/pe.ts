import { ByteView, checkRange } from './bytes.js';
import { BinaryFormatError } from './errors.js';

export const IMAGE_SCN_CNT_CODE = 0x20;
export const IMAGE_SCN_CNT_INITIALIZED_DATA = 0x40;
export const IMAGE_SCN_CNT_UNINITIALIZED_DATA = 0x80;
export const IMAGE_SCN_MEM_EXECUTE = 0x20000000;
export const IMAGE_SCN_MEM_READ = 0x40000000;
export const IMAGE_SCN_MEM_WRITE = 0x80000000;

/** Windows' loader caps sections at 96; real files stay far below. */
const MAX_SECTIONS = 96;
const MAX_DATA_DIRECTORIES = 16;
const MAX_LONG_NAME = 256;

export interface PeSection {
  index: number;
  name: string;
  virtualSize: number;
  virtualAddress: number;
  rawSize: number;
  rawOffset: number;
  characteristics: number;
}

export interface PeDataDirectory {
  virtualAddress: number;
  size: number;
}

export interface PeFile {
  machine: number;
  /** PE32+ (64-bit optional header) rather than PE32. */
  is64: boolean;
  characteristics: number;
  imageBase: number;
  subsystem: number;
  /** Export, import, resource … CLR runtime header (index 14, present in .NET assemblies). */
  dataDirectories: PeDataDirectory[];
  sections: PeSection[];
}

export function isPe(buf: Buffer): boolean {
  return buf.length >= 2 && buf[0] === 0x4d && buf[1] === 0x5a;
}

/** Reads a PE (Windows executable or DLL): COFF header, optional-header basics, data directories and sections. */
export function readPe(buf: Buffer): PeFile {
  if (!isPe(buf)) throw new BinaryFormatError('not-recognised', 'not a PE file (no MZ header)');
  const v = new ByteView(buf, true);
  const peOffset = v.u32(0x3c, 'e_lfanew');
  v.check(peOffset, 24, 'PE header');
  if (buf.readUInt32BE(peOffset) !== 0x50450000) throw new BinaryFormatError('not-recognised', 'MZ file without a PE signature (a DOS program)');
  const coff = peOffset + 4;
  const machine = v.u16(coff);
  const sectionCount = v.u16(coff + 2);
  const symbolTable = v.u32(coff + 8);
  const symbolCount = v.u32(coff + 12);
  const optionalSize = v.u16(coff + 16);
  const characteristics = v.u16(coff + 18);
  if (sectionCount > MAX_SECTIONS) throw new BinaryFormatError('too-large', `PE declares ${sectionCount} sections`);

  const opt = coff + 20;
  let is64 = false;
  let imageBase = 0;
  let subsystem = 0;
  const dataDirectories: PeDataDirectory[] = [];
  if (optionalSize >= 2) {
    v.check(opt, optionalSize, 'PE optional header');
    const magic = v.u16(opt);
    if (magic !== 0x10b && magic !== 0x20b) throw new BinaryFormatError('malformed', `unknown PE optional header magic 0x${magic.toString(16)}`);
    is64 = magic === 0x20b;
    const dirCountAt = is64 ? 108 : 92;
    if (optionalSize >= dirCountAt + 4) {
      imageBase = is64 ? v.address64(opt + 24) : v.u32(opt + 28);
      subsystem = v.u16(opt + 68);
      const declared = v.u32(opt + dirCountAt);
      const fits = Math.floor((optionalSize - dirCountAt - 4) / 8);
      const count = Math.min(declared, fits, MAX_DATA_DIRECTORIES);
      for (let i = 0; i < count; i++) {
        const at = opt + dirCountAt + 4 + i * 8;
        dataDirectories.push({ virtualAddress: v.u32(at), size: v.u32(at + 4) });
      }
    }
  }

  const table = opt + optionalSize;
  checkRange(buf.length, table, sectionCount * 40, 'PE section table');
  const stringTable = symbolTable !== 0 ? symbolTable + symbolCount * 18 : 0;
  const sections: PeSection[] = [];
  for (let i = 0; i < sectionCount; i++) {
    const at = table + i * 40;
    let name = v.fixedString(at, 8);
    // Names longer than 8 bytes (MinGW, Go's DWARF sections) are "/<decimal offset>" into the COFF string table.
    if (/^\/\d+$/.test(name) && stringTable > 0) {
      const nameAt = stringTable + Number(name.slice(1));
      if (nameAt < buf.length) name = v.cString(nameAt, MAX_LONG_NAME, 'PE long section name');
    }
    sections.push({
      index: i,
      name,
      virtualSize: v.u32(at + 8),
      virtualAddress: v.u32(at + 12),
      rawSize: v.u32(at + 16),
      rawOffset: v.u32(at + 20),
      characteristics: v.u32(at + 36),
    });
  }
  return { machine, is64, characteristics, imageBase, subsystem, dataDirectories, sections };
}

export function findPeSection(pe: PeFile, name: string): PeSection | undefined {
  return pe.sections.find((s) => s.name === name);
}

/** A section's raw bytes as stored in the file; throws if they lie outside it. */
export function peSectionBytes(buf: Buffer, section: PeSection): Buffer {
  if (section.rawSize === 0) return buf.subarray(0, 0);
  checkRange(buf.length, section.rawOffset, section.rawSize, `PE section ${section.name}`);
  return buf.subarray(section.rawOffset, section.rawOffset + section.rawSize);
}

const PE_MACHINES: Record<number, string> = {
  0x14c: 'x86',
  0x8664: 'x86_64',
  0x1c0: 'arm',
  0x1c4: 'arm',
  0xaa64: 'aarch64',
  0x200: 'ia64',
  0x5064: 'riscv64',
};

export function peMachineName(machine: number): string {
  return PE_MACHINES[machine] ?? `pe-machine-0x${machine.toString(16)}`;
}
