/**
 * Builders of small, valid ELF, PE and Mach-O files with chosen sections, for tests of the readers and of the
 * catalogers and detectors that use them (real toolchains for every format and byte order are rarely at hand).
 */

const PROGBITS = 1;
const STRTAB = 3;
const SHF_WRITE_ALLOC = 0x3;

export interface ElfSectionSpec {
  name: string;
  data: Buffer;
  /** Virtual address; sections with one also get a PT_LOAD program header mapping them. */
  address?: number;
  type?: number;
  flags?: number;
}

export interface ElfSpec {
  bits?: 32 | 64;
  littleEndian?: boolean;
  machine?: number;
  sections: ElfSectionSpec[];
}

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

class Writer {
  constructor(
    readonly buf: Buffer,
    private readonly le: boolean,
  ) {}
  u16(at: number, v: number): void {
    if (this.le) this.buf.writeUInt16LE(v, at);
    else this.buf.writeUInt16BE(v, at);
  }
  u32(at: number, v: number): void {
    if (this.le) this.buf.writeUInt32LE(v >>> 0, at);
    else this.buf.writeUInt32BE(v >>> 0, at);
  }
  u64(at: number, v: number | bigint): void {
    if (this.le) this.buf.writeBigUInt64LE(BigInt(v), at);
    else this.buf.writeBigUInt64BE(BigInt(v), at);
  }
  word(at: number, v: number, is64: boolean): void {
    if (is64) this.u64(at, v);
    else this.u32(at, v);
  }
}

/** An ELF file (type EXEC) with the given sections, a section-name table and one PT_LOAD per addressed section. */
export function buildElf(spec: ElfSpec): Buffer {
  const is64 = (spec.bits ?? 64) === 64;
  const le = spec.littleEndian ?? true;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const shentsize = is64 ? 64 : 40;
  const loads = spec.sections.filter((s) => s.address !== undefined);

  const names = ['', ...spec.sections.map((s) => s.name), '.shstrtab'];
  const nameOffsets: number[] = [];
  let nameAt = 0;
  const shstrtab = Buffer.concat(
    names.map((n) => {
      nameOffsets.push(nameAt);
      const bytes = Buffer.from(`${n}\0`, 'latin1');
      nameAt += bytes.length;
      return bytes;
    }),
  );

  let at = align(ehsize + loads.length * phentsize, 16);
  const dataOffsets = spec.sections.map((s) => {
    const o = at;
    at = align(at + s.data.length, 16);
    return o;
  });
  const shstrtabOffset = at;
  at = align(at + shstrtab.length, 8);
  const shoff = at;
  const shnum = spec.sections.length + 2;
  const total = shoff + shnum * shentsize;

  const out = Buffer.alloc(total);
  const w = new Writer(out, le);
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, le ? 1 : 2, 1, 0], 0);
  w.u16(16, 2);
  w.u16(18, spec.machine ?? 62);
  w.u32(20, 1);
  w.word(24, 0, is64);
  w.word(is64 ? 32 : 28, loads.length > 0 ? ehsize : 0, is64);
  w.word(is64 ? 40 : 32, shoff, is64);
  const f = is64 ? 48 : 36;
  w.u32(f, 0);
  w.u16(f + 4, ehsize);
  w.u16(f + 6, phentsize);
  w.u16(f + 8, loads.length);
  w.u16(f + 10, shentsize);
  w.u16(f + 12, shnum);
  w.u16(f + 14, shnum - 1);

  let ph = ehsize;
  spec.sections.forEach((s, i) => {
    out.set(s.data, dataOffsets[i]!);
    if (s.address === undefined) return;
    w.u32(ph, 1);
    if (is64) {
      w.u32(ph + 4, 6);
      w.u64(ph + 8, dataOffsets[i]!);
      w.u64(ph + 16, s.address);
      w.u64(ph + 24, s.address);
      w.u64(ph + 32, s.data.length);
      w.u64(ph + 40, s.data.length);
      w.u64(ph + 48, 16);
    } else {
      w.u32(ph + 4, dataOffsets[i]!);
      w.u32(ph + 8, s.address);
      w.u32(ph + 12, s.address);
      w.u32(ph + 16, s.data.length);
      w.u32(ph + 20, s.data.length);
      w.u32(ph + 24, 6);
      w.u32(ph + 28, 16);
    }
    ph += phentsize;
  });
  out.set(shstrtab, shstrtabOffset);

  const writeSection = (index: number, nameOffset: number, type: number, flags: number, address: number, offset: number, size: number) => {
    const sh = shoff + index * shentsize;
    w.u32(sh, nameOffset);
    w.u32(sh + 4, type);
    if (is64) {
      w.u64(sh + 8, flags);
      w.u64(sh + 16, address);
      w.u64(sh + 24, offset);
      w.u64(sh + 32, size);
      w.u64(sh + 48, 1);
    } else {
      w.u32(sh + 8, flags);
      w.u32(sh + 12, address);
      w.u32(sh + 16, offset);
      w.u32(sh + 20, size);
      w.u32(sh + 32, 1);
    }
  };
  spec.sections.forEach((s, i) => {
    writeSection(i + 1, nameOffsets[i + 1]!, s.type ?? PROGBITS, s.flags ?? SHF_WRITE_ALLOC, s.address ?? 0, dataOffsets[i]!, s.data.length);
  });
  writeSection(shnum - 1, nameOffsets[shnum - 1]!, STRTAB, 0, 0, shstrtabOffset, shstrtab.length);
  return out;
}

/** Byte offset of section header `index` in a file made by `buildElf` (for tests that corrupt one field). */
export function elfSectionHeaderOffset(elf: Buffer, index: number): number {
  const is64 = elf[4] === 2;
  const le = elf[5] === 1;
  const shoff = is64 ? Number(le ? elf.readBigUInt64LE(40) : elf.readBigUInt64BE(40)) : le ? elf.readUInt32LE(32) : elf.readUInt32BE(32);
  return shoff + index * (is64 ? 64 : 40);
}

export interface PeSectionSpec {
  name: string;
  data: Buffer;
  virtualAddress: number;
  characteristics?: number;
}

export interface PeSpec {
  is64?: boolean;
  machine?: number;
  imageBase?: number;
  sections: PeSectionSpec[];
  /** AddressOfEntryPoint (RVA). */
  entryPoint?: number;
  /** Optional-header subsystem (default 3, console). */
  subsystem?: number;
  /** COFF characteristics (default 0x22: executable, large-address-aware; add 0x2000 for a DLL). */
  characteristics?: number;
  /** Data directories to set, by index (1 imports, 4 security, 14 CLR runtime header …). */
  dataDirectories?: Record<number, { virtualAddress: number; size: number }>;
}

/** A PE image (no code that runs) with the given sections; names over 8 bytes go to a COFF string table. */
export function buildPe(spec: PeSpec): Buffer {
  const is64 = spec.is64 ?? true;
  const optionalSize = is64 ? 240 : 224;
  const peOffset = 0x40;
  const table = peOffset + 24 + optionalSize;
  const longNames: string[] = spec.sections.filter((s) => s.name.length > 8).map((s) => s.name);
  let at = align(table + spec.sections.length * 40, 0x200);
  const rawOffsets = spec.sections.map((s) => {
    const o = at;
    at = align(at + s.data.length, 0x200);
    return o;
  });
  const stringTableOffset = at;
  const stringTable = Buffer.concat([Buffer.alloc(4), ...longNames.map((n) => Buffer.from(`${n}\0`, 'latin1'))]);
  stringTable.writeUInt32LE(stringTable.length, 0);
  const out = Buffer.alloc(stringTableOffset + (longNames.length > 0 ? stringTable.length : 0));
  out.write('MZ', 0, 'latin1');
  out.writeUInt32LE(peOffset, 0x3c);
  out.writeUInt32BE(0x50450000, peOffset);
  const coff = peOffset + 4;
  out.writeUInt16LE(spec.machine ?? (is64 ? 0x8664 : 0x14c), coff);
  out.writeUInt16LE(spec.sections.length, coff + 2);
  out.writeUInt32LE(longNames.length > 0 ? stringTableOffset : 0, coff + 8);
  out.writeUInt32LE(0, coff + 12);
  out.writeUInt16LE(optionalSize, coff + 16);
  out.writeUInt16LE(spec.characteristics ?? 0x22, coff + 18);
  const opt = coff + 20;
  out.writeUInt16LE(is64 ? 0x20b : 0x10b, opt);
  const imageBase = spec.imageBase ?? (is64 ? 0x140000000 : 0x400000);
  if (is64) out.writeBigUInt64LE(BigInt(imageBase), opt + 24);
  else out.writeUInt32LE(imageBase, opt + 28);
  out.writeUInt32LE(spec.entryPoint ?? 0, opt + 16);
  out.writeUInt16LE(spec.subsystem ?? 3, opt + 68);
  out.writeUInt32LE(16, opt + (is64 ? 108 : 92));
  for (const [index, dir] of Object.entries(spec.dataDirectories ?? {})) {
    const at = opt + (is64 ? 112 : 96) + Number(index) * 8;
    out.writeUInt32LE(dir.virtualAddress, at);
    out.writeUInt32LE(dir.size, at + 4);
  }
  let stringAt = 4;
  spec.sections.forEach((s, i) => {
    const sh = table + i * 40;
    if (s.name.length > 8) {
      out.write(`/${stringAt}`, sh, 'latin1');
      stringAt += s.name.length + 1;
    } else {
      out.write(s.name, sh, 'latin1');
    }
    out.writeUInt32LE(s.data.length, sh + 8);
    out.writeUInt32LE(s.virtualAddress, sh + 12);
    out.writeUInt32LE(align(s.data.length, 0x200), sh + 16);
    out.writeUInt32LE(rawOffsets[i]!, sh + 20);
    out.writeUInt32LE(s.characteristics ?? 0xc0000040, sh + 36);
    out.set(s.data, rawOffsets[i]!);
  });
  if (longNames.length > 0) out.set(stringTable, stringTableOffset);
  return out;
}

export interface MachOSectionSpec {
  name: string;
  segment: string;
  data: Buffer;
  address: number;
}

export interface MachOSpec {
  bits?: 32 | 64;
  littleEndian?: boolean;
  cpuType?: number;
  sections: MachOSectionSpec[];
}

/** A thin Mach-O executable with one segment command per distinct segment name. */
export function buildMachO(spec: MachOSpec): Buffer {
  const is64 = (spec.bits ?? 64) === 64;
  const le = spec.littleEndian ?? true;
  const headerSize = is64 ? 32 : 28;
  const segFixed = is64 ? 72 : 56;
  const sectSize = is64 ? 80 : 68;
  const bySegment = new Map<string, MachOSectionSpec[]>();
  for (const s of spec.sections) bySegment.set(s.segment, [...(bySegment.get(s.segment) ?? []), s]);
  const commandsSize = [...bySegment.values()].reduce((n, list) => n + segFixed + list.length * sectSize, 0);
  let at = align(headerSize + commandsSize, 0x1000);
  const layout = [...bySegment.entries()].map(([segment, list]) => {
    const sorted = [...list].sort((a, b) => a.address - b.address);
    const base = sorted[0]!.address;
    const last = sorted[sorted.length - 1]!;
    const size = last.address + last.data.length - base;
    const offset = at;
    at = align(at + size, 0x1000);
    return { segment, sections: sorted, base, size, offset };
  });
  const out = Buffer.alloc(at);
  const w = new Writer(out, le);
  w.u32(0, is64 ? 0xfeedfacf : 0xfeedface);
  w.u32(4, spec.cpuType ?? (is64 ? 0x01000007 : 7));
  w.u32(12, 2);
  w.u32(16, layout.length);
  w.u32(20, commandsSize);
  let cmd = headerSize;
  for (const seg of layout) {
    w.u32(cmd, is64 ? 0x19 : 0x1);
    w.u32(cmd + 4, segFixed + seg.sections.length * sectSize);
    out.write(seg.segment, cmd + 8, 'latin1');
    if (is64) {
      w.u64(cmd + 24, seg.base);
      w.u64(cmd + 32, seg.size);
      w.u64(cmd + 40, seg.offset);
      w.u64(cmd + 48, seg.size);
      w.u32(cmd + 56, 3);
      w.u32(cmd + 60, 3);
      w.u32(cmd + 64, seg.sections.length);
    } else {
      w.u32(cmd + 24, seg.base);
      w.u32(cmd + 28, seg.size);
      w.u32(cmd + 32, seg.offset);
      w.u32(cmd + 36, seg.size);
      w.u32(cmd + 40, 3);
      w.u32(cmd + 44, 3);
      w.u32(cmd + 48, seg.sections.length);
    }
    seg.sections.forEach((s, i) => {
      const sa = cmd + segFixed + i * sectSize;
      const fileOffset = seg.offset + (s.address - seg.base);
      out.write(s.name, sa, 'latin1');
      out.write(s.segment, sa + 16, 'latin1');
      if (is64) {
        w.u64(sa + 32, s.address);
        w.u64(sa + 40, s.data.length);
        w.u32(sa + 48, fileOffset);
      } else {
        w.u32(sa + 32, s.address);
        w.u32(sa + 36, s.data.length);
        w.u32(sa + 40, fileOffset);
      }
      out.set(s.data, fileOffset);
    });
    cmd += segFixed + seg.sections.length * sectSize;
  }
  return out;
}

/** A universal Mach-O holding the given thin files. */
export function buildFatMachO(slices: { cpuType: number; data: Buffer }[]): Buffer {
  let at = align(8 + slices.length * 20, 0x1000);
  const offsets = slices.map((s) => {
    const o = at;
    at = align(at + s.data.length, 0x1000);
    return o;
  });
  const out = Buffer.alloc(at);
  out.writeUInt32BE(0xcafebabe, 0);
  out.writeUInt32BE(slices.length, 4);
  slices.forEach((s, i) => {
    const fa = 8 + i * 20;
    out.writeUInt32BE(s.cpuType, fa);
    out.writeUInt32BE(offsets[i]!, fa + 8);
    out.writeUInt32BE(s.data.length, fa + 12);
    out.writeUInt32BE(12, fa + 16);
    out.set(s.data, offsets[i]!);
  });
  return out;
}

/**
 * The bytes of an import section placed at `rva`: the import directory (one descriptor per DLL and a null one),
 * then per DLL a lookup table, an address table, hint/name entries and the DLL name. Point data directory 1 at `rva`.
 */
export function buildPeImportSection(rva: number, imports: { dll: string; functions: string[] }[], is64 = true): Buffer {
  const pointer = is64 ? 8 : 4;
  const chunks: Buffer[] = [];
  let at = (imports.length + 1) * 20;
  const directory = Buffer.alloc(at);
  const reserve = (b: Buffer): number => {
    const offset = at;
    chunks.push(b);
    at += b.length;
    return offset;
  };
  imports.forEach((imp, i) => {
    const names = imp.functions.map((fn) => {
      const entry = Buffer.alloc(align(2 + fn.length + 1, 2));
      entry.write(fn, 2, 'latin1');
      return reserve(entry);
    });
    const table = Buffer.alloc((names.length + 1) * pointer);
    names.forEach((n, j) => (is64 ? table.writeBigUInt64LE(BigInt(rva + n), j * pointer) : table.writeUInt32LE(rva + n, j * pointer)));
    const lookup = reserve(table);
    const iat = reserve(Buffer.from(table));
    const dllName = reserve(Buffer.from(`${imp.dll}\0`, 'latin1'));
    directory.writeUInt32LE(rva + lookup, i * 20);
    directory.writeUInt32LE(rva + dllName, i * 20 + 12);
    directory.writeUInt32LE(rva + iat, i * 20 + 16);
  });
  return Buffer.concat([directory, ...chunks]);
}

export interface ElfProgramSpec {
  bits?: 32 | 64;
  machine?: number;
  /** e_type: 2 executable (default), 3 shared object / PIE. */
  type?: number;
  /** A PT_INTERP naming this loader (a dynamically linked program). */
  interpreter?: string;
  /** Bytes placed right after the program headers (where UPX writes its `l_info` with the `UPX!` magic). */
  afterHeaders?: Buffer;
  /** Load segments (PF_R|PF_X by default), no section table at all. */
  segments: { data: Buffer; address: number; flags?: number }[];
}

/** An ELF program without a section table (as UPX and `sstrip` leave them), little-endian. */
export function buildElfProgram(spec: ElfProgramSpec): Buffer {
  const is64 = (spec.bits ?? 64) === 64;
  const ehsize = is64 ? 64 : 52;
  const phentsize = is64 ? 56 : 32;
  const interp = spec.interpreter !== undefined ? Buffer.from(`${spec.interpreter}\0`, 'latin1') : undefined;
  const phnum = spec.segments.length + (interp ? 1 : 0);
  let at = ehsize + phnum * phentsize;
  const afterAt = at;
  at += spec.afterHeaders?.length ?? 0;
  const interpAt = at;
  at += interp?.length ?? 0;
  const offsets = spec.segments.map((seg) => {
    at = align(at, 16);
    const o = at;
    at += seg.data.length;
    return o;
  });
  const out = Buffer.alloc(at);
  const w = new Writer(out, true);
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1, 0], 0);
  w.u16(16, spec.type ?? 2);
  w.u16(18, spec.machine ?? (is64 ? 62 : 3));
  w.u32(20, 1);
  w.word(24, spec.segments[0]?.address ?? 0, is64);
  w.word(is64 ? 32 : 28, ehsize, is64);
  const f = is64 ? 48 : 36;
  w.u16(f + 4, ehsize);
  w.u16(f + 6, phentsize);
  w.u16(f + 8, phnum);
  w.u16(f + 10, is64 ? 64 : 40);
  if (spec.afterHeaders) out.set(spec.afterHeaders, afterAt);
  const headers: { type: number; flags: number; offset: number; address: number; size: number }[] = [];
  if (interp) {
    out.set(interp, interpAt);
    headers.push({ type: 3, flags: 4, offset: interpAt, address: 0, size: interp.length });
  }
  spec.segments.forEach((seg, i) => headers.push({ type: 1, flags: seg.flags ?? 5, offset: offsets[i]!, address: seg.address, size: seg.data.length }));
  headers.forEach((h, i) => {
    const ph = ehsize + i * phentsize;
    w.u32(ph, h.type);
    if (is64) {
      w.u32(ph + 4, h.flags);
      w.u64(ph + 8, h.offset);
      w.u64(ph + 16, h.address);
      w.u64(ph + 24, h.address);
      w.u64(ph + 32, h.size);
      w.u64(ph + 40, h.size);
      w.u64(ph + 48, 16);
    } else {
      w.u32(ph + 4, h.offset);
      w.u32(ph + 8, h.address);
      w.u32(ph + 12, h.address);
      w.u32(ph + 16, h.size);
      w.u32(ph + 20, h.size);
      w.u32(ph + 24, h.flags);
      w.u32(ph + 28, 16);
    }
  });
  spec.segments.forEach((seg, i) => out.set(seg.data, offsets[i]!));
  return out;
}
