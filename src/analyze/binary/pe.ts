import { ByteView, checkRange } from './bytes.js';
import { BinaryFormatError } from './errors.js';
import { DEFAULT_PE_IMPORT_LIMITS, MAX_PE_IMPORT_NAME_BYTES, MAX_PE_LONG_SECTION_NAME_BYTES, MAX_PE_SECTIONS, type PeImportLimits } from '../limits.js';

export const IMAGE_SCN_CNT_CODE = 0x20;
export const IMAGE_SCN_CNT_INITIALIZED_DATA = 0x40;
export const IMAGE_SCN_CNT_UNINITIALIZED_DATA = 0x80;
export const IMAGE_SCN_MEM_EXECUTE = 0x20000000;
export const IMAGE_SCN_MEM_READ = 0x40000000;
export const IMAGE_SCN_MEM_WRITE = 0x80000000;

/** The PE/COFF optional header's data directories (IMAGE_NUMBEROF_DIRECTORY_ENTRIES): a format constant, more declared are ignored. */
const MAX_DATA_DIRECTORIES = 16;

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
  /** RVA of the entry point (AddressOfEntryPoint; 0 when the optional header is too short to hold it, or for most DLLs' absent one). */
  entryPoint: number;
  /** DllCharacteristics bits (ASLR, DEP, …); 0 when the optional header is too short. */
  dllCharacteristics: number;
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
  if (sectionCount > MAX_PE_SECTIONS) throw new BinaryFormatError('too-large', `PE declares ${sectionCount} sections`);

  const opt = coff + 20;
  let is64 = false;
  let imageBase = 0;
  let subsystem = 0;
  let entryPoint = 0;
  let dllCharacteristics = 0;
  const dataDirectories: PeDataDirectory[] = [];
  if (optionalSize >= 2) {
    v.check(opt, optionalSize, 'PE optional header');
    const magic = v.u16(opt);
    if (magic !== 0x10b && magic !== 0x20b) throw new BinaryFormatError('malformed', `unknown PE optional header magic 0x${magic.toString(16)}`);
    is64 = magic === 0x20b;
    if (optionalSize >= 20) entryPoint = v.u32(opt + 16);
    const dirCountAt = is64 ? 108 : 92;
    if (optionalSize >= dirCountAt + 4) {
      imageBase = is64 ? v.address64(opt + 24) : v.u32(opt + 28);
      subsystem = v.u16(opt + 68);
      dllCharacteristics = v.u16(opt + 70);
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
      if (nameAt < buf.length) name = v.cString(nameAt, MAX_PE_LONG_SECTION_NAME_BYTES, 'PE long section name');
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
  return { machine, is64, characteristics, imageBase, subsystem, entryPoint, dllCharacteristics, dataDirectories, sections };
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

/** Data directory indexes (PE/COFF specification, "Optional Header Data Directories"). */
export const PE_DIRECTORY_IMPORT = 1;
export const PE_DIRECTORY_SECURITY = 4;
export const PE_DIRECTORY_DELAY_IMPORT = 13;
export const PE_DIRECTORY_CLR_RUNTIME = 14;

export const IMAGE_FILE_DLL = 0x2000;

/** The section whose memory range holds `rva`, if any (virtual size 0 means "as large as the raw data", as loaders read it). */
export function peSectionAt(pe: PeFile, rva: number): PeSection | undefined {
  return pe.sections.find((s) => rva >= s.virtualAddress && rva - s.virtualAddress < Math.max(s.virtualSize, s.rawSize));
}

/**
 * The file offset of the byte mapped at `rva`, or undefined when no file byte backs it (zero-filled tail of a section,
 * outside every section, past the end of the file). RVAs below the first section map to the headers, as loaded.
 */
export function peRvaToOffset(pe: PeFile, rva: number, fileLength: number): number | undefined {
  if (!Number.isSafeInteger(rva) || rva < 0) return undefined;
  const section = peSectionAt(pe, rva);
  let offset: number;
  if (section) {
    const delta = rva - section.virtualAddress;
    if (delta >= section.rawSize) return undefined;
    offset = section.rawOffset + delta;
  } else {
    const firstSection = pe.sections.reduce((min, s) => Math.min(min, s.virtualAddress), Number.MAX_SAFE_INTEGER);
    if (rva >= firstSection) return undefined;
    offset = rva;
  }
  return offset < fileLength ? offset : undefined;
}

export interface PeImportedModule {
  /** DLL name as written in the file (case kept), cut to a bounded length. */
  name: string;
  /** Function names; imports by ordinal appear as `#<ordinal>`. */
  functions: string[];
  /** From the delay-load import directory rather than the regular one. */
  delayLoaded?: boolean;
}

export interface PeImports {
  modules: PeImportedModule[];
  functionCount: number;
  /** The limits stopped the walk before its end (more modules or functions than are read). */
  truncated: boolean;
  /** Why part of the table could not be read (pointers outside the file); what was read before stays. */
  damaged?: string;
}

/**
 * The DLLs and functions a PE imports, from the import directory and the delay-load import directory. Hostile tables
 * (pointers outside the file, descriptors without an end, thunk arrays that never end) yield what was read before the
 * problem, bounded by `limits`; this function does not throw on bad content.
 */
export function readPeImports(buf: Buffer, pe: PeFile, limits: PeImportLimits = DEFAULT_PE_IMPORT_LIMITS): PeImports {
  const result: PeImports = { modules: [], functionCount: 0, truncated: false };
  const pointerSize = pe.is64 ? 8 : 4;
  const at = (rva: number, length: number): number | undefined => {
    const offset = peRvaToOffset(pe, rva, buf.length);
    return offset !== undefined && length <= buf.length - offset ? offset : undefined;
  };
  const nameAt = (rva: number): string | undefined => {
    const offset = at(rva, 1);
    if (offset === undefined) return undefined;
    const end = Math.min(buf.length, offset + MAX_PE_IMPORT_NAME_BYTES);
    let i = offset;
    while (i < end && buf[i] !== 0) i++;
    return buf.toString('latin1', offset, i);
  };
  const damaged = (why: string): void => {
    result.damaged ??= why;
  };

  /** Reads one thunk array (names or ordinals) at `rva` into `functions`. */
  const readThunks = (rva: number, functions: string[]): void => {
    for (let i = 0; ; i++) {
      if (result.functionCount >= limits.maxFunctions) {
        result.truncated = true;
        return;
      }
      const offset = at(rva + i * pointerSize, pointerSize);
      if (offset === undefined) return damaged(`import thunk at RVA 0x${(rva + i * pointerSize).toString(16)} is outside the file`);
      const entry = pe.is64 ? buf.readBigUInt64LE(offset) : BigInt(buf.readUInt32LE(offset));
      if (entry === 0n) return;
      const byOrdinal = pe.is64 ? (entry & (1n << 63n)) !== 0n : (entry & 0x80000000n) !== 0n;
      if (byOrdinal) {
        functions.push(`#${Number(entry & 0xffffn)}`);
      } else {
        const name = nameAt(Number(entry & 0x7fffffffn) + 2);
        if (name === undefined) return damaged(`import name at RVA 0x${(Number(entry & 0x7fffffffn) + 2).toString(16)} is outside the file`);
        functions.push(name);
      }
      result.functionCount++;
    }
  };

  const directory = pe.dataDirectories[PE_DIRECTORY_IMPORT];
  if (directory && directory.virtualAddress !== 0) {
    for (let i = 0; ; i++) {
      if (result.modules.length >= limits.maxModules) {
        result.truncated = true;
        break;
      }
      const offset = at(directory.virtualAddress + i * 20, 20);
      if (offset === undefined) {
        damaged('import directory runs outside the file');
        break;
      }
      const lookup = buf.readUInt32LE(offset);
      const nameRva = buf.readUInt32LE(offset + 12);
      const iat = buf.readUInt32LE(offset + 16);
      if (nameRva === 0 && iat === 0 && lookup === 0) break;
      const name = nameAt(nameRva);
      if (name === undefined) {
        damaged(`imported DLL name at RVA 0x${nameRva.toString(16)} is outside the file`);
        break;
      }
      const module: PeImportedModule = { name, functions: [] };
      result.modules.push(module);
      // The lookup table keeps names after binding; some linkers leave it out, and the IAT then holds them.
      readThunks(lookup !== 0 ? lookup : iat, module.functions);
      if (result.truncated) break;
    }
  }

  const delay = pe.dataDirectories[PE_DIRECTORY_DELAY_IMPORT];
  if (delay && delay.virtualAddress !== 0 && !result.truncated) {
    for (let i = 0; ; i++) {
      if (result.modules.length >= limits.maxModules) {
        result.truncated = true;
        break;
      }
      const offset = at(delay.virtualAddress + i * 32, 32);
      if (offset === undefined) {
        damaged('delay-load import directory runs outside the file');
        break;
      }
      const attributes = buf.readUInt32LE(offset);
      const nameRva = buf.readUInt32LE(offset + 4);
      const nameTable = buf.readUInt32LE(offset + 16);
      if (nameRva === 0) break;
      // Attribute bit 0 clear: an old (Visual C++ 6) table of virtual addresses rather than RVAs.
      const base = (attributes & 1) === 0 && nameRva > pe.imageBase ? pe.imageBase : 0;
      const name = nameAt(nameRva - base);
      if (name === undefined) {
        damaged(`delay-loaded DLL name at RVA 0x${nameRva.toString(16)} is outside the file`);
        break;
      }
      const module: PeImportedModule = { name, functions: [], delayLoaded: true };
      result.modules.push(module);
      if (nameTable !== 0 && base === 0) readThunks(nameTable, module.functions);
      if (result.truncated) break;
    }
  }
  return result;
}
