import { checkRange } from './bytes.js';
import { BinaryFormatError } from './errors.js';
import { PF_W, PF_X, PT_LOAD, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS, elfMachineName, isElf, readElf, type ElfFile } from './elf.js';
import { IMAGE_SCN_MEM_EXECUTE, IMAGE_SCN_MEM_WRITE, isPe, peMachineName, readPe, type PeFile } from './pe.js';
import { machOCpuName, machOKind, readMachO, readMachOFat, type MachOFile } from './macho.js';

export type ExecutableFormat = 'elf' | 'pe' | 'macho';

/** A section in format-neutral terms: where its bytes are in the file and where they are mapped in memory. */
export interface BinarySection {
  name: string;
  /** Mach-O segment name (`__DATA`); absent for ELF and PE. */
  segment?: string;
  address: number;
  memorySize: number;
  offset: number;
  /** Bytes stored in the file (0 for .bss-like sections). */
  fileSize: number;
  writable: boolean;
  executable: boolean;
}

/** A file range mapped at a virtual address: ELF PT_LOAD segments, PE sections, Mach-O segments. */
export interface MappedRange {
  address: number;
  offset: number;
  fileSize: number;
}

export interface Executable {
  format: ExecutableFormat;
  bits: 32 | 64;
  littleEndian: boolean;
  /** Architecture in common spelling: x86_64, aarch64, arm, x86 … (or a numeric fallback). */
  machine: string;
  /** The bytes the offsets below refer to: the whole file, or one architecture's slice of a universal Mach-O. */
  data: Buffer;
  /** Offset of `data` in the file it was read from (non-zero only for a slice of a universal Mach-O). */
  fileOffset: number;
  sections: BinarySection[];
  mappings: MappedRange[];
  elf?: ElfFile;
  pe?: PeFile;
  macho?: MachOFile;
}

/** What the magic bytes say, without parsing further (cheap: for `analyze()` to return early on other files). */
export function detectExecutableFormat(buf: Buffer): ExecutableFormat | null {
  if (isElf(buf)) return 'elf';
  if (machOKind(buf) !== null) return 'macho';
  if (isPe(buf) && buf.length >= 0x40) {
    const peOffset = buf.readUInt32LE(0x3c);
    if (peOffset <= buf.length - 4 && buf.readUInt32BE(peOffset) === 0x50450000) return 'pe';
  }
  return null;
}

/**
 * Reads an ELF, PE or Mach-O file into one shape. A universal Mach-O yields its first architecture that lies
 * inside the file (every slice of one build carries the same Go or Rust metadata). Throws `BinaryFormatError`.
 */
export function readExecutable(buf: Buffer): Executable {
  const format = detectExecutableFormat(buf);
  if (format === 'elf') return fromElf(buf, readElf(buf));
  if (format === 'pe') return fromPe(buf, readPe(buf));
  if (format === 'macho') {
    if (machOKind(buf) === 'thin') return fromMachO(buf, readMachO(buf), 0);
    let lastError: unknown;
    for (const arch of readMachOFat(buf)) {
      try {
        checkRange(buf.length, arch.offset, arch.size, 'Mach-O architecture slice');
        const slice = buf.subarray(arch.offset, arch.offset + arch.size);
        return fromMachO(slice, readMachO(slice), arch.offset);
      } catch (err) {
        lastError = err;
      }
    }
    if (lastError instanceof BinaryFormatError) throw lastError;
    throw new BinaryFormatError('malformed', 'universal Mach-O has no readable architecture');
  }
  throw new BinaryFormatError('not-recognised', 'not an ELF, PE or Mach-O file');
}

/** The first section called `name` (and, for Mach-O, in `segment` when given). */
export function findSection(exe: Executable, name: string, segment?: string): BinarySection | undefined {
  return exe.sections.find((s) => s.name === name && (segment === undefined || s.segment === segment));
}

/** A section's bytes as stored in the file (a view, not a copy); throws if they lie outside the file. */
export function sectionBytes(exe: Executable, section: BinarySection): Buffer {
  checkRange(exe.data.length, section.offset, section.fileSize, `section ${section.name}`);
  return exe.data.subarray(section.offset, section.offset + section.fileSize);
}

/**
 * `length` bytes stored at virtual address `address`; throws when the range is not backed by file bytes
 * (unmapped, zero-filled, or outside the file).
 */
export function readAtAddress(exe: Executable, address: number, length: number): Buffer {
  for (const m of exe.mappings) {
    if (address >= m.address && address - m.address < m.fileSize) {
      const delta = address - m.address;
      if (length > m.fileSize - delta) continue;
      const offset = m.offset + delta;
      checkRange(exe.data.length, offset, length, `data at address 0x${address.toString(16)}`);
      return exe.data.subarray(offset, offset + length);
    }
  }
  throw new BinaryFormatError('out-of-bounds', `address 0x${address.toString(16)} (+${length}) is not stored in the file`);
}

function fromElf(buf: Buffer, elf: ElfFile): Executable {
  const sections: BinarySection[] = elf.sections
    .filter((s) => s.index > 0)
    .map((s) => ({
      name: s.name,
      address: s.address,
      memorySize: s.size,
      offset: s.offset,
      fileSize: s.type === SHT_NOBITS ? 0 : s.size,
      writable: (s.flags & SHF_WRITE) !== 0,
      executable: (s.flags & SHF_EXECINSTR) !== 0,
    }));
  const loads = elf.programHeaders.filter((p) => p.type === PT_LOAD);
  // Without program headers (relocatable objects, some stripped files) allocated sections still give addresses.
  const mappings: MappedRange[] =
    loads.length > 0
      ? loads.map((p) => ({ address: p.virtualAddress, offset: p.offset, fileSize: p.fileSize }))
      : sections.filter((s) => s.address !== 0 && s.fileSize > 0).map((s) => ({ address: s.address, offset: s.offset, fileSize: s.fileSize }));
  if (sections.length === 0) {
    // A file stripped of its section table still has writable/executable load segments; expose them as unnamed sections.
    for (const p of loads) {
      sections.push({ name: '', address: p.virtualAddress, memorySize: p.memorySize, offset: p.offset, fileSize: p.fileSize, writable: (p.flags & PF_W) !== 0, executable: (p.flags & PF_X) !== 0 });
    }
  }
  return { format: 'elf', bits: elf.bits, littleEndian: elf.littleEndian, machine: elfMachineName(elf.machine), data: buf, fileOffset: 0, sections, mappings, elf };
}

function fromPe(buf: Buffer, pe: PeFile): Executable {
  const sections: BinarySection[] = pe.sections.map((s) => ({
    name: s.name,
    address: pe.imageBase + s.virtualAddress,
    memorySize: s.virtualSize,
    offset: s.rawOffset,
    fileSize: s.rawSize,
    writable: (s.characteristics & IMAGE_SCN_MEM_WRITE) !== 0,
    executable: (s.characteristics & IMAGE_SCN_MEM_EXECUTE) !== 0,
  }));
  const mappings = sections.map((s) => ({ address: s.address, offset: s.offset, fileSize: Math.min(s.fileSize, s.memorySize || s.fileSize) }));
  return { format: 'pe', bits: pe.is64 ? 64 : 32, littleEndian: true, machine: peMachineName(pe.machine), data: buf, fileOffset: 0, sections, mappings, pe };
}

const VM_PROT_WRITE = 0x2;
const VM_PROT_EXECUTE = 0x4;

function fromMachO(buf: Buffer, macho: MachOFile, fileOffset: number): Executable {
  const protection = new Map(macho.segments.map((s) => [s.name, s.initProtection]));
  const sections: BinarySection[] = macho.sections.map((s) => {
    const prot = protection.get(s.segment) ?? 0;
    return {
      name: s.name,
      segment: s.segment,
      address: s.address,
      memorySize: s.size,
      offset: s.offset,
      fileSize: s.inFile ? s.size : 0,
      writable: (prot & VM_PROT_WRITE) !== 0,
      executable: (prot & VM_PROT_EXECUTE) !== 0,
    };
  });
  const mappings = macho.segments.filter((s) => s.fileSize > 0).map((s) => ({ address: s.address, offset: s.offset, fileSize: s.fileSize }));
  return { format: 'macho', bits: macho.bits, littleEndian: macho.littleEndian, machine: machOCpuName(macho.cpuType), data: buf, fileOffset, sections, mappings, macho };
}
