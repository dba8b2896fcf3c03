import { BinaryFormatError } from '../../binary/errors.js';
import { PF_X, PT_LOAD, SHF_ALLOC, SHF_EXECINSTR, SHT_NOBITS, elfInterpreter, elfMachineName, readElf, type ElfFile } from '../../binary/elf.js';
import { readGoBuildInfo } from '../../packages/golang/buildinfo.js';
import { printable } from '../evidence.js';
import { entropyReaches, roundEntropy, shannonEntropy, type SectionEntropy } from './entropy.js';
import { detectPackers, type PackerMatch } from './packers.js';
import type { ExecutableRules } from './rules.js';
import { ENTROPY_BYTE_BUDGET, MAX_SECTIONS_IN_EVIDENCE } from '../../limits.js';

const PT_DYNAMIC = 2;

export type ElfType = 'executable' | 'pie-executable' | 'shared-object' | 'relocatable' | 'core' | 'other';

/** What a Linux (or other ELF) program is: plain JSON, the `evidence.elf` of this detector's findings. */
export interface ElfFacts {
  class: 'ELF32' | 'ELF64';
  /** x86_64, aarch64, arm, x86, mips … (`elf-machine-<n>` for others). */
  machine: string;
  endian: 'little' | 'big';
  type: ElfType;
  /** `dynamic`: names a program interpreter (PT_INTERP) or has a dynamic section (shared objects); `static` otherwise. */
  linking: 'static' | 'dynamic';
  /** The PT_INTERP path, printable. */
  interpreter?: string;
  /** No `.symtab` section (or no section table at all). */
  stripped: boolean;
  /** `absent`: e_shoff is 0 (UPX and `sstrip` output); `damaged`: it points outside the file or is inconsistent. */
  sectionTable: 'present' | 'absent' | 'damaged';
  /** The Go toolchain that built it, from the Go build information (absent for non-Go programs and packed ones). */
  goVersion?: string;
  /** The packer that runs first, by id from rules/executables.yaml (`upx` …). */
  packer?: string;
  packers?: PackerMatch[];
  /** Shannon entropy of loaded sections (or load segments when there is no section table), code first. */
  sections: SectionEntropy[];
  /** Code sections at or above the high-entropy threshold (names). */
  highEntropyCode: string[];
}

function typeOf(elf: ElfFile, interpreter: string | undefined): ElfType {
  switch (elf.type) {
    case 1:
      return 'relocatable';
    case 2:
      return 'executable';
    case 3:
      return interpreter !== undefined ? 'pie-executable' : 'shared-object';
    case 4:
      return 'core';
    default:
      return 'other';
  }
}

function goVersionOf(content: Buffer): string | undefined {
  try {
    return readGoBuildInfo(content)?.goVersion;
  } catch (err) {
    if (err instanceof BinaryFormatError) return undefined;
    throw err;
  }
}

/**
 * How much of an ELF `examineElf` works out. `full`: every fact. `screen`: only what can make a finding (headers,
 * packers, which code sections are high-entropy): `sections` stays empty and the Go build information is not read, so
 * the facts serve as a superset test only; the detector examines the few files that pass again in full for the evidence.
 */
export type ElfExamination = 'full' | 'screen';

/**
 * Facts of an ELF file, or undefined when even its header and program headers do not read (a damaged section
 * table alone is a fact, not a failure). Never throws on bad content.
 */
export function examineElf(content: Buffer, rules: ExecutableRules, examination: ElfExamination = 'full'): ElfFacts | undefined {
  let elf: ElfFile;
  try {
    elf = readElf(content, { tolerateDamagedSections: true });
  } catch (err) {
    if (err instanceof BinaryFormatError) return undefined;
    throw err;
  }
  const interpreter = elfInterpreter(content, elf);
  const hasSectionTable = elf.sections.length > 0;
  const packers = detectPackers(rules, { format: 'elf', content, sectionNames: elf.sections.map((s) => s.name), hasSectionTable });
  const facts: ElfFacts = {
    class: elf.bits === 64 ? 'ELF64' : 'ELF32',
    machine: elfMachineName(elf.machine),
    endian: elf.littleEndian ? 'little' : 'big',
    type: typeOf(elf, interpreter),
    linking: interpreter !== undefined || elf.programHeaders.some((p) => p.type === PT_DYNAMIC) ? 'dynamic' : 'static',
    stripped: !elf.sections.some((s) => s.name === '.symtab'),
    sectionTable: elf.sectionTableError !== undefined ? 'damaged' : hasSectionTable ? 'present' : 'absent',
    sections: [],
    highEntropyCode: [],
  };
  if (interpreter !== undefined) facts.interpreter = printable(interpreter, 128);
  if (packers.length > 0) {
    facts.packer = packers[0]!.id;
    facts.packers = packers;
  } else if (examination === 'full') {
    // A packed program hides its build information; only unpacked files are worth the look.
    const goVersion = goVersionOf(content);
    if (goVersion !== undefined) facts.goVersion = printable(goVersion, 64);
  }

  const ranges = hasSectionTable
    ? elf.sections
        .filter((s) => (s.flags & SHF_ALLOC) !== 0 && s.type !== SHT_NOBITS && s.size > 0)
        .map((s) => ({ name: s.name, offset: s.offset, size: s.size, executable: (s.flags & SHF_EXECINSTR) !== 0 }))
    : elf.programHeaders
        .map((p, i) => ({ p, i }))
        .filter(({ p }) => p.type === PT_LOAD && p.fileSize > 0)
        .map(({ p, i }) => ({ name: `LOAD[${i}]`, offset: p.offset, size: p.fileSize, executable: (p.flags & PF_X) !== 0 }));
  let budget = ENTROPY_BYTE_BUDGET;
  const measured: SectionEntropy[] = [];
  for (const r of ranges) {
    if (r.offset >= content.length) continue;
    const size = Math.min(r.size, content.length - r.offset);
    if (size > budget) continue;
    budget -= size;
    if (examination === 'screen') {
      // Only whether a code section is high-entropy matters here, and most are ruled out before their end.
      if (r.executable && size >= rules.entropy.minSectionBytes && entropyReaches(content.subarray(r.offset, r.offset + size), rules.entropy.highCode)) {
        facts.highEntropyCode.push(printable(r.name, 32));
      }
      continue;
    }
    const entropy = shannonEntropy(content.subarray(r.offset, r.offset + size));
    const name = printable(r.name, 32);
    measured.push({ name, size, entropy: roundEntropy(entropy), executable: r.executable });
    if (r.executable && size >= rules.entropy.minSectionBytes && entropy >= rules.entropy.highCode) facts.highEntropyCode.push(name);
  }
  facts.sections = [...measured.filter((s) => s.executable), ...measured.filter((s) => !s.executable)].slice(0, MAX_SECTIONS_IN_EVIDENCE);
  return facts;
}
