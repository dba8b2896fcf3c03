import { ByteView, checkRange } from './bytes.js';
import { BinaryFormatError } from './errors.js';
import { MAX_MACHO_LOAD_COMMANDS, MAX_MACHO_SECTIONS_PER_SEGMENT } from '../limits.js';

const MH_MAGIC = 0xfeedface;
const MH_MAGIC_64 = 0xfeedfacf;
const MH_CIGAM = 0xcefaedfe;
const MH_CIGAM_64 = 0xcffaedfe;
const FAT_MAGIC = 0xcafebabe;
const FAT_MAGIC_64 = 0xcafebabf;
const LC_SEGMENT = 0x1;
const LC_SEGMENT_64 = 0x19;

/** Section types whose contents are zero-filled at load time and not stored in the file. */
const ZEROFILL_TYPES = new Set([0x1, 0xc, 0x12]);
/** Java class files share the fat magic (0xcafebabe); their "arch count" is the class-file version (≥ 45). */
const MAX_FAT_ARCHES = 32;

export interface MachOSection {
  name: string;
  segment: string;
  address: number;
  size: number;
  offset: number;
  flags: number;
  /** False for zero-fill sections, which occupy memory but no file bytes. */
  inFile: boolean;
}

export interface MachOSegment {
  name: string;
  address: number;
  memorySize: number;
  offset: number;
  fileSize: number;
  initProtection: number;
}

export interface MachOFile {
  bits: 32 | 64;
  littleEndian: boolean;
  cpuType: number;
  fileType: number;
  segments: MachOSegment[];
  sections: MachOSection[];
}

export interface MachOFatArch {
  cpuType: number;
  offset: number;
  size: number;
}

export type MachOKind = 'thin' | 'fat';

/** Which Mach-O flavour the magic says, if any (a fat header is checked for a plausible arch count). */
export function machOKind(buf: Buffer): MachOKind | null {
  if (buf.length < 8) return null;
  const magic = buf.readUInt32BE(0);
  if (magic === MH_MAGIC || magic === MH_MAGIC_64 || magic === MH_CIGAM || magic === MH_CIGAM_64) return 'thin';
  if (magic === FAT_MAGIC || magic === FAT_MAGIC_64) {
    const count = buf.readUInt32BE(4);
    return count >= 1 && count <= MAX_FAT_ARCHES ? 'fat' : null;
  }
  return null;
}

/** The architectures of a universal ("fat") Mach-O; each is a thin Mach-O at `[offset, offset + size)`. */
export function readMachOFat(buf: Buffer): MachOFatArch[] {
  if (machOKind(buf) !== 'fat') throw new BinaryFormatError('not-recognised', 'not a universal Mach-O');
  const v = new ByteView(buf, false);
  const is64 = v.u32(0) === FAT_MAGIC_64;
  const count = v.u32(4);
  const entrySize = is64 ? 32 : 20;
  checkRange(buf.length, 8, count * entrySize, 'Mach-O fat arch table');
  const arches: MachOFatArch[] = [];
  for (let i = 0; i < count; i++) {
    const at = 8 + i * entrySize;
    arches.push({
      cpuType: v.u32(at),
      offset: is64 ? v.u64(at + 8, 'fat arch offset') : v.u32(at + 8),
      size: is64 ? v.u64(at + 16, 'fat arch size') : v.u32(at + 12),
    });
  }
  return arches;
}

/** Reads a thin Mach-O: header, segments and their sections. */
export function readMachO(buf: Buffer): MachOFile {
  if (machOKind(buf) !== 'thin') throw new BinaryFormatError('not-recognised', 'not a thin Mach-O file');
  const magic = buf.readUInt32BE(0);
  const littleEndian = magic === MH_CIGAM || magic === MH_CIGAM_64;
  const is64 = magic === MH_MAGIC_64 || magic === MH_CIGAM_64;
  const v = new ByteView(buf, littleEndian);
  const headerSize = is64 ? 32 : 28;
  v.check(0, headerSize, 'Mach-O header');
  const cpuType = v.u32(4);
  const fileType = v.u32(12);
  const commandCount = v.u32(16);
  const commandsSize = v.u32(20);
  checkRange(buf.length, headerSize, commandsSize, 'Mach-O load commands');
  if (commandCount > MAX_MACHO_LOAD_COMMANDS || commandCount * 8 > commandsSize) {
    throw new BinaryFormatError('malformed', `Mach-O declares ${commandCount} load commands in ${commandsSize} bytes`);
  }

  const segments: MachOSegment[] = [];
  const sections: MachOSection[] = [];
  const end = headerSize + commandsSize;
  let at = headerSize;
  for (let i = 0; i < commandCount; i++) {
    const cmd = v.u32(at, 'load command');
    const size = v.u32(at + 4, 'load command size');
    if (size < 8 || size > end - at) throw new BinaryFormatError('malformed', `Mach-O load command ${i} has size ${size}`);
    if (cmd === LC_SEGMENT || cmd === LC_SEGMENT_64) {
      const seg64 = cmd === LC_SEGMENT_64;
      const fixed = seg64 ? 72 : 56;
      const sectSize = seg64 ? 80 : 68;
      if (size < fixed) throw new BinaryFormatError('malformed', `Mach-O segment command ${i} is too short`);
      const segment: MachOSegment = seg64
        ? {
            name: v.fixedString(at + 8, 16),
            address: v.address64(at + 24),
            memorySize: v.address64(at + 32),
            offset: v.u64(at + 40, 'segment file offset'),
            fileSize: v.u64(at + 48, 'segment file size'),
            initProtection: v.u32(at + 60),
          }
        : {
            name: v.fixedString(at + 8, 16),
            address: v.u32(at + 24),
            memorySize: v.u32(at + 28),
            offset: v.u32(at + 32),
            fileSize: v.u32(at + 36),
            initProtection: v.u32(at + 44),
          };
      const sectionCount = v.u32(at + (seg64 ? 64 : 48));
      if (sectionCount > MAX_MACHO_SECTIONS_PER_SEGMENT || fixed + sectionCount * sectSize > size) {
        throw new BinaryFormatError('malformed', `Mach-O segment ${segment.name} declares ${sectionCount} sections that do not fit its command`);
      }
      segments.push(segment);
      for (let s = 0; s < sectionCount; s++) {
        const sa = at + fixed + s * sectSize;
        const flags = v.u32(sa + (seg64 ? 64 : 56));
        sections.push({
          name: v.fixedString(sa, 16),
          segment: v.fixedString(sa + 16, 16),
          address: seg64 ? v.address64(sa + 32) : v.u32(sa + 32),
          size: seg64 ? v.u64(sa + 40, 'section size') : v.u32(sa + 36),
          offset: v.u32(sa + (seg64 ? 48 : 40)),
          flags,
          inFile: !ZEROFILL_TYPES.has(flags & 0xff),
        });
      }
    }
    at += size;
  }
  return { bits: is64 ? 64 : 32, littleEndian, cpuType, fileType, segments, sections };
}

export function findMachOSection(macho: MachOFile, name: string, segment?: string): MachOSection | undefined {
  return macho.sections.find((s) => s.name === name && (segment === undefined || s.segment === segment));
}

/** A section's bytes (empty for zero-fill sections); throws if they lie outside the file. */
export function machOSectionBytes(buf: Buffer, section: MachOSection): Buffer {
  if (!section.inFile) return buf.subarray(0, 0);
  checkRange(buf.length, section.offset, section.size, `Mach-O section ${section.segment},${section.name}`);
  return buf.subarray(section.offset, section.offset + section.size);
}

const CPU_ARCH_ABI64 = 0x01000000;
const MACHO_CPUS: Record<number, string> = {
  7: 'x86',
  [7 | CPU_ARCH_ABI64]: 'x86_64',
  12: 'arm',
  [12 | CPU_ARCH_ABI64]: 'aarch64',
  18: 'ppc',
  [18 | CPU_ARCH_ABI64]: 'ppc64',
};

export function machOCpuName(cpuType: number): string {
  return MACHO_CPUS[cpuType] ?? `macho-cpu-${cpuType}`;
}
