import { ByteView, checkRange } from './bytes.js';
import { BinaryFormatError } from './errors.js';
import { MAX_ELF_INTERPRETER_BYTES, MAX_ELF_PROGRAM_HEADERS, MAX_ELF_SECTIONS, MAX_ELF_SECTION_NAME_BYTES } from '../limits.js';

/** ELF section types and flags used by callers (the full lists are in the System V ABI). */
export const SHT_NOBITS = 8;
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;
export const PT_LOAD = 1;
export const PT_INTERP = 3;
export const SHT_SYMTAB = 2;
export const PF_X = 0x1;
export const PF_W = 0x2;

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  address: number;
  /** File offset of the section's bytes (meaningless for SHT_NOBITS). */
  offset: number;
  size: number;
  link: number;
  info: number;
  addressAlign: number;
  entrySize: number;
}

export interface ElfProgramHeader {
  type: number;
  flags: number;
  offset: number;
  virtualAddress: number;
  physicalAddress: number;
  fileSize: number;
  memorySize: number;
  align: number;
}

export interface ElfFile {
  bits: 32 | 64;
  littleEndian: boolean;
  /** ELF OS/ABI byte (0 System V, 3 Linux, 9 FreeBSD …). */
  osAbi: number;
  /** e_type: 1 relocatable, 2 executable, 3 shared object (also PIE executables), 4 core. */
  type: number;
  machine: number;
  entry: number;
  sections: ElfSection[];
  programHeaders: ElfProgramHeader[];
  /** Set only when read with `tolerateDamagedSections` and the section table could not be read. */
  sectionTableError?: string;
}

export interface ReadElfOptions {
  tolerateDamagedSections?: boolean;
}

export const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);

export function isElf(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0x7f && buf[1] === 0x45 && buf[2] === 0x4c && buf[3] === 0x46;
}

/**
 * Reads an ELF file's header, section headers (with names) and program headers; 32/64-bit, either byte order.
 * Header tables that point outside the file are errors; a section whose *contents* lie outside the file is
 * listed as is and only fails when its bytes are read (`elfSectionBytes`), as damaged binaries often have one.
 * With `tolerateDamagedSections`, a section table that cannot be read leaves `sections` empty and says why in
 * `sectionTableError` (the loader never reads it; malware corrupts it on purpose to stop analysis tools).
 */
export function readElf(buf: Buffer, options: ReadElfOptions = {}): ElfFile {
  if (!isElf(buf)) throw new BinaryFormatError('not-recognised', 'not an ELF file');
  if (buf.length < 16) throw new BinaryFormatError('truncated', 'ELF identification is truncated');
  const elfClass = buf[4];
  const data = buf[5];
  if (elfClass !== 1 && elfClass !== 2) throw new BinaryFormatError('malformed', `unknown ELF class ${elfClass}`);
  if (data !== 1 && data !== 2) throw new BinaryFormatError('malformed', `unknown ELF byte order ${data}`);
  const bits = elfClass === 2 ? 64 : 32;
  const v = new ByteView(buf, data === 1);
  const is64 = bits === 64;
  v.check(0, is64 ? 64 : 52, 'ELF header');

  const type = v.u16(16);
  const machine = v.u16(18);
  const entry = is64 ? v.address64(24) : v.u32(24);
  const phoff = is64 ? v.u64(32, 'e_phoff') : v.u32(28);
  const shoff = is64 ? v.u64(40, 'e_shoff') : v.u32(32);
  const fieldsAt = is64 ? 52 : 40;
  const phentsize = v.u16(fieldsAt + 2);
  let phnum = v.u16(fieldsAt + 4);
  const shentsize = v.u16(fieldsAt + 6);
  let shnum = v.u16(fieldsAt + 8);
  let shstrndx = v.u16(fieldsAt + 10);

  const shMin = is64 ? 64 : 40;
  const phMin = is64 ? 56 : 32;

  // Extended numbering: counts that do not fit in 16 bits live in section header 0.
  let sectionTableError: string | undefined;
  const sectionTable = (): void => {
    if (shoff !== 0) {
      if (shentsize < shMin) throw new BinaryFormatError('malformed', `ELF section header size ${shentsize} is below ${shMin}`);
      checkRange(buf.length, shoff, shentsize, 'ELF section header table');
      if (shnum === 0) shnum = is64 ? v.u64(shoff + 32, 'section count') : v.u32(shoff + 20);
      if (shstrndx === 0xffff) shstrndx = v.u32(shoff + 24);
      if (phnum === 0xffff) phnum = v.u32(shoff + 28);
    } else {
      shnum = 0;
    }
    if (shnum > MAX_ELF_SECTIONS) throw new BinaryFormatError('too-large', `ELF declares ${shnum} sections`);
  };
  if (options.tolerateDamagedSections) {
    try {
      sectionTable();
    } catch (err) {
      if (!(err instanceof BinaryFormatError)) throw err;
      sectionTableError = err.message;
      shnum = 0;
    }
  } else {
    sectionTable();
  }
  if (phnum > MAX_ELF_PROGRAM_HEADERS) throw new BinaryFormatError('too-large', `ELF declares ${phnum} program headers`);

  const programHeaders: ElfProgramHeader[] = [];
  if (phnum > 0 && phoff !== 0) {
    if (phentsize < phMin) throw new BinaryFormatError('malformed', `ELF program header size ${phentsize} is below ${phMin}`);
    checkRange(buf.length, phoff, phnum * phentsize, 'ELF program header table');
    for (let i = 0; i < phnum; i++) {
      const at = phoff + i * phentsize;
      programHeaders.push(
        is64
          ? {
              type: v.u32(at),
              flags: v.u32(at + 4),
              offset: v.u64(at + 8, 'p_offset'),
              virtualAddress: v.address64(at + 16),
              physicalAddress: v.address64(at + 24),
              fileSize: v.u64(at + 32, 'p_filesz'),
              memorySize: v.address64(at + 40),
              align: v.address64(at + 48),
            }
          : {
              type: v.u32(at),
              offset: v.u32(at + 4),
              virtualAddress: v.u32(at + 8),
              physicalAddress: v.u32(at + 12),
              fileSize: v.u32(at + 16),
              memorySize: v.u32(at + 20),
              flags: v.u32(at + 24),
              align: v.u32(at + 28),
            },
      );
    }
  }

  let sections: ElfSection[] = [];
  const readSections = (): void => {
    if (shnum > 0) {
      checkRange(buf.length, shoff, shnum * shentsize, 'ELF section header table');
      const nameOffsets: number[] = [];
      for (let i = 0; i < shnum; i++) {
        const at = shoff + i * shentsize;
        nameOffsets.push(v.u32(at));
        sections.push(
          is64
            ? {
                index: i,
                name: '',
                type: v.u32(at + 4),
                flags: v.address64(at + 8),
                address: v.address64(at + 16),
                offset: v.u64(at + 24, 'sh_offset'),
                size: v.u64(at + 32, 'sh_size'),
                link: v.u32(at + 40),
                info: v.u32(at + 44),
                addressAlign: v.address64(at + 48),
                entrySize: v.address64(at + 56),
              }
            : {
                index: i,
                name: '',
                type: v.u32(at + 4),
                flags: v.u32(at + 8),
                address: v.u32(at + 12),
                offset: v.u32(at + 16),
                size: v.u32(at + 20),
                link: v.u32(at + 24),
                info: v.u32(at + 28),
                addressAlign: v.u32(at + 32),
                entrySize: v.u32(at + 36),
              },
        );
      }
      if (shstrndx !== 0) {
        const strtab = sections[shstrndx];
        if (!strtab) throw new BinaryFormatError('malformed', `ELF section-name table index ${shstrndx} is not a section`);
        if (strtab.type === SHT_NOBITS) throw new BinaryFormatError('malformed', 'ELF section-name table has no contents');
        checkRange(buf.length, strtab.offset, strtab.size, 'ELF section-name table');
        const names = new ByteView(buf.subarray(strtab.offset, strtab.offset + strtab.size), v.littleEndian);
        sections.forEach((s, i) => {
          const nameOffset = nameOffsets[i]!;
          s.name = nameOffset < names.length ? names.cString(nameOffset, MAX_ELF_SECTION_NAME_BYTES, 'section name') : '';
        });
      }
    }
  };
  if (options.tolerateDamagedSections && sectionTableError === undefined) {
    try {
      readSections();
    } catch (err) {
      if (!(err instanceof BinaryFormatError)) throw err;
      sectionTableError = err.message;
      sections = [];
    }
  } else {
    readSections();
  }

  const file: ElfFile = { bits, littleEndian: v.littleEndian, osAbi: buf[7]!, type, machine, entry, sections, programHeaders };
  if (sectionTableError !== undefined) file.sectionTableError = sectionTableError;
  return file;
}

/** The first section called `name`, if any. */
export function findElfSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/** A section's bytes (empty for SHT_NOBITS); throws if they lie outside the file. */
export function elfSectionBytes(buf: Buffer, section: ElfSection): Buffer {
  if (section.type === SHT_NOBITS) return buf.subarray(0, 0);
  checkRange(buf.length, section.offset, section.size, `ELF section ${section.name || section.index}`);
  return buf.subarray(section.offset, section.offset + section.size);
}

const ELF_MACHINES: Record<number, string> = {
  3: 'x86',
  8: 'mips',
  20: 'ppc',
  21: 'ppc64',
  22: 's390',
  40: 'arm',
  62: 'x86_64',
  183: 'aarch64',
  243: 'riscv',
  258: 'loongarch',
};

export function elfMachineName(machine: number): string {
  return ELF_MACHINES[machine] ?? `elf-machine-${machine}`;
}

/**
 * The program interpreter a dynamically linked program names in PT_INTERP (`/lib64/ld-linux-x86-64.so.2`), or
 * undefined for static programs and libraries. A PT_INTERP whose bytes lie outside the file reads as `''`
 * (the program still needs an interpreter; its name is unreadable).
 */
export function elfInterpreter(buf: Buffer, elf: ElfFile): string | undefined {
  const interp = elf.programHeaders.find((p) => p.type === PT_INTERP);
  if (!interp) return undefined;
  if (interp.offset >= buf.length || interp.fileSize === 0) return '';
  const end = Math.min(buf.length, interp.offset + Math.min(interp.fileSize, MAX_ELF_INTERPRETER_BYTES));
  let i = interp.offset;
  while (i < end && buf[i] !== 0) i++;
  return buf.toString('latin1', interp.offset, i);
}
