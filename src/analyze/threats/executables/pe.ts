import { BinaryFormatError } from '../../binary/errors.js';
import {
  IMAGE_FILE_DLL,
  IMAGE_SCN_CNT_CODE,
  IMAGE_SCN_MEM_EXECUTE,
  IMAGE_SCN_MEM_WRITE,
  PE_DIRECTORY_CLR_RUNTIME,
  PE_DIRECTORY_SECURITY,
  peMachineName,
  peRvaToOffset,
  peSectionAt,
  readPe,
  readPeImports,
  type PeFile,
} from '../../binary/pe.js';
import { printable } from '../evidence.js';
import { roundEntropy, shannonEntropy, type SectionEntropy } from './entropy.js';
import { detectPackers, entryPatternLength, type PackerMatch } from './packers.js';
import type { ExecutableRules } from './rules.js';
import { ENTROPY_BYTE_BUDGET, MAX_DLLS_IN_EVIDENCE, MAX_SECTIONS_IN_EVIDENCE } from '../../limits.js';

export type PeKind = 'exe' | 'dll' | 'driver' | 'efi';

/**
 * What a Windows program is, as the `windows-pe` finding's `evidence.pe` carries it (plain JSON). Field names are
 * part of the contract with the image-level Windows malware check: extend, do not rename.
 */
export interface PeFacts {
  /** `PE32` or `PE32+`. */
  format: 'PE32' | 'PE32+';
  /** x86, x86_64, aarch64, arm … (`pe-machine-0x…` for others). */
  machine: string;
  /** gui, console, native, efi-application, efi-boot-driver, efi-runtime-driver, … or `subsystem-<n>`. */
  subsystem: string;
  kind: PeKind;
  /** A .NET assembly: the CLR runtime header (data directory 14) is present. */
  managed: boolean;
  /** An Authenticode signature blob is present (data directory 4); it is NOT verified. */
  signed: boolean;
  /** The packer that runs first (see `packers`), by id from rules/executables.yaml: `upx`, `aspack`, … */
  packer?: string;
  /** Every packer recognised, with the signals that matched. */
  packers?: PackerMatch[];
  /** Name of the section holding the entry point (printable), and whether it is writable (a packer trait). */
  entrySection?: string;
  entrySectionWritable?: boolean;
  imports: {
    /** Imported DLLs (regular and delay-loaded). */
    dllCount: number;
    /** Imported functions (names and ordinals). */
    functionCount: number;
    /** DLL names, lower-cased, printable, first 32. */
    dlls: string[];
    /** The table was longer than the reader's limits. */
    truncated?: boolean;
    /** Part of the table points outside the file. */
    damaged?: string;
  };
  /** Downloads and runs: e.g. URLDownloadToFileW + ShellExecuteW (the functions that made the `dropper` combination hold). */
  dropperImports?: string[];
  /** Process injection: VirtualAllocEx + WriteProcessMemory + CreateRemoteThread (the `injection` combination). */
  injectionImports?: string[];
  /** Any further combination of rules/executables.yaml, under its `field`: the functions that made it hold. */
  [comboField: string]: unknown;
  /** Shannon entropy of sections, code first, at most MAX_SECTIONS_IN_EVIDENCE. */
  sections: SectionEntropy[];
  /** Code sections at or above the high-entropy threshold (names). */
  highEntropyCode: string[];
  /** The headers could be read only in part (the reason): a Windows program all the same. */
  malformed?: string;
}

const SUBSYSTEMS: Record<number, string> = {
  1: 'native',
  2: 'gui',
  3: 'console',
  5: 'os2-console',
  7: 'posix-console',
  8: 'native-windows',
  9: 'windows-ce-gui',
  10: 'efi-application',
  11: 'efi-boot-driver',
  12: 'efi-runtime-driver',
  13: 'efi-rom',
  14: 'xbox',
  16: 'boot-application',
};

function kindOf(pe: PeFile): PeKind {
  if (pe.subsystem >= 10 && pe.subsystem <= 13) return 'efi';
  if (pe.subsystem === 1) return 'driver';
  if ((pe.characteristics & IMAGE_FILE_DLL) !== 0) return 'dll';
  return 'exe';
}

function directoryPresent(pe: PeFile, index: number): boolean {
  const d = pe.dataDirectories[index];
  return d !== undefined && d.virtualAddress !== 0 && d.size !== 0;
}

/** Import names matched against a combination's groups, with A/W variants. */
function comboMatches(functions: Set<string>, groups: Set<string>[]): string[] | undefined {
  const matched: string[] = [];
  for (const group of groups) {
    const hits = [...functions].filter((fn) => group.has(fn) || ((fn.endsWith('A') || fn.endsWith('W')) && group.has(fn.slice(0, -1))));
    if (hits.length === 0) return undefined;
    matched.push(...hits);
  }
  return [...new Set(matched)].sort();
}

/** Facts of a PE file that `detectExecutableFormat` recognised. Never throws on bad content. */
export function examinePe(content: Buffer, rules: ExecutableRules): PeFacts {
  let pe: PeFile;
  try {
    pe = readPe(content);
  } catch (err) {
    if (!(err instanceof BinaryFormatError)) throw err;
    return malformedFacts(content, err.message);
  }
  const sectionNames = pe.sections.map((s) => s.name);
  const entry = pe.entryPoint !== 0 ? peSectionAt(pe, pe.entryPoint) : undefined;
  const entryOffset = pe.entryPoint !== 0 ? peRvaToOffset(pe, pe.entryPoint, content.length) : undefined;
  const entryBytes = entryOffset !== undefined ? content.subarray(entryOffset, entryOffset + entryPatternLength(rules)) : undefined;
  const packers = detectPackers(rules, { format: 'pe', content, sectionNames, entrySection: entry?.name, entryBytes, hasSectionTable: true });

  const imports = readPeImports(content, pe);
  const functions = new Set(imports.modules.flatMap((m) => m.functions));
  const facts: PeFacts = {
    format: pe.is64 ? 'PE32+' : 'PE32',
    machine: peMachineName(pe.machine),
    subsystem: SUBSYSTEMS[pe.subsystem] ?? `subsystem-${pe.subsystem}`,
    kind: kindOf(pe),
    managed: directoryPresent(pe, PE_DIRECTORY_CLR_RUNTIME),
    signed: directoryPresent(pe, PE_DIRECTORY_SECURITY),
    imports: {
      dllCount: imports.modules.length,
      functionCount: imports.functionCount,
      dlls: [...new Set(imports.modules.map((m) => printable(m.name.toLowerCase(), 64)))].slice(0, MAX_DLLS_IN_EVIDENCE),
    },
    sections: [],
    highEntropyCode: [],
  };
  if (imports.truncated) facts.imports.truncated = true;
  if (imports.damaged) facts.imports.damaged = printable(imports.damaged);
  if (packers.length > 0) {
    facts.packer = packers[0]!.id;
    facts.packers = packers;
  }
  if (entry) {
    facts.entrySection = printable(entry.name, 16);
    facts.entrySectionWritable = (entry.characteristics & IMAGE_SCN_MEM_WRITE) !== 0;
  }
  for (const combo of rules.importCombos) {
    const matched = comboMatches(functions, combo.groups);
    if (matched) facts[combo.field] = matched.map((m) => printable(m, 64));
  }

  let budget = ENTROPY_BYTE_BUDGET;
  const measured: SectionEntropy[] = [];
  for (const s of pe.sections) {
    const executable = (s.characteristics & (IMAGE_SCN_MEM_EXECUTE | IMAGE_SCN_CNT_CODE)) !== 0;
    const size = Math.max(0, Math.min(s.rawSize, content.length - s.rawOffset, s.virtualSize || s.rawSize));
    if (size === 0 || s.rawOffset >= content.length || size > budget) continue;
    budget -= size;
    const entropy = shannonEntropy(content.subarray(s.rawOffset, s.rawOffset + size));
    measured.push({ name: printable(s.name, 16), size, entropy: roundEntropy(entropy), executable });
    if (executable && size >= rules.entropy.minSectionBytes && entropy >= rules.entropy.highCode) facts.highEntropyCode.push(printable(s.name, 16));
  }
  facts.sections = [...measured.filter((s) => s.executable), ...measured.filter((s) => !s.executable)].slice(0, MAX_SECTIONS_IN_EVIDENCE);
  return facts;
}

/** A PE whose headers do not read: what the COFF header still says, and why the rest failed. */
function malformedFacts(content: Buffer, reason: string): PeFacts {
  let machine = 'unknown';
  let format: PeFacts['format'] = 'PE32';
  try {
    const peOffset = content.readUInt32LE(0x3c);
    machine = peMachineName(content.readUInt16LE(peOffset + 4));
    if (content.readUInt16LE(peOffset + 24) === 0x20b) format = 'PE32+';
  } catch {
    // Fields past the end of the file: the defaults stand.
  }
  return {
    format,
    machine,
    subsystem: 'unknown',
    kind: 'exe',
    managed: false,
    signed: false,
    imports: { dllCount: 0, functionCount: 0, dlls: [] },
    sections: [],
    highEntropyCode: [],
    malformed: printable(reason),
  };
}

const MACHINE_TITLES: Record<string, string> = { x86_64: 'x86-64', aarch64: 'ARM64', arm: 'ARM', x86: 'x86', ia64: 'IA-64', riscv64: 'RISC-V 64' };
const SUBSYSTEM_TITLES: Record<string, string> = { gui: 'GUI', console: 'console', native: 'native/driver' };
const KIND_TITLES: Record<PeKind, string> = { exe: 'Windows executable', dll: 'Windows DLL', driver: 'Windows driver', efi: 'EFI program' };

/** "Windows executable (PE32+ x86-64, console, .NET managed)". */
export function peTitle(facts: PeFacts): string {
  const parts = [`${facts.format} ${MACHINE_TITLES[facts.machine] ?? facts.machine}`];
  if (facts.subsystem !== 'unknown') parts.push(SUBSYSTEM_TITLES[facts.subsystem] ?? facts.subsystem);
  parts.push(facts.managed ? '.NET managed' : 'native');
  if (facts.packers?.length) parts.push(`packed with ${facts.packers[0]!.name}`);
  if (facts.signed) parts.push('signature present');
  if (facts.malformed) parts.push('malformed headers');
  return `${KIND_TITLES[facts.kind]} (${parts.join(', ')})`;
}
