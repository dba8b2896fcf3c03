import { dataFileDigest } from '../../../config/paths.js';
import type { Analyzer, AnalysisOutput, AnalyzedFile, DetectedFinding } from '../../analyzer.js';
import { detectExecutableFormat } from '../../binary/executable.js';
import { Kind, candidateKinds, hasKind } from '../candidates.js';
import { printable } from '../evidence.js';
import { examineElf, type ElfFacts } from './elf.js';
import { examinePe, peTitle, type PeFacts } from './pe.js';
import { executableRules, type ExecutableRules } from './rules.js';

/**
 * The executables detector: what each program in an image is.
 *
 * Findings (evidence is plain JSON; every string from the image is printable and bounded):
 *
 * - `windows-pe` / info / `executables/windows-pe`: one per PE file (by magic, whatever its name), never another
 *   category: whether a Windows program is malware is decided by the image-level check, which reads:
 *     - `evidence.pe.format`            'PE32' | 'PE32+'
 *     - `evidence.pe.machine`           'x86' | 'x86_64' | 'aarch64' | 'arm' | …
 *     - `evidence.pe.subsystem`         'gui' | 'console' | 'native' | 'efi-application' | … | 'unknown'
 *     - `evidence.pe.kind`              'exe' | 'dll' | 'driver' | 'efi'
 *     - `evidence.pe.managed`           true for .NET assemblies (CLR runtime header, data directory 14)
 *     - `evidence.pe.signed`            an Authenticode blob is present (data directory 4); NOT verified
 *     - `evidence.pe.packer`            id of the packer that runs first (`upx`, `aspack`, `mew` …), absent if none
 *     - `evidence.pe.packers`           every packer recognised: `{ id, name, signals, atEntryPoint }[]`
 *     - `evidence.pe.imports`           `{ dllCount, functionCount, dlls (first 32, lower-case), truncated?, damaged? }`
 *     - `evidence.pe.dropperImports`    functions making the download-and-run combination hold
 *                                       (URLDownloadToFile/InternetOpenUrl + WinExec/ShellExecute/CreateProcess)
 *     - `evidence.pe.injectionImports`  functions making the process-injection combination hold
 *                                       (VirtualAllocEx + WriteProcessMemory + CreateRemoteThread …)
 *     - `evidence.pe.entrySection`, `evidence.pe.entrySectionWritable`
 *     - `evidence.pe.sections`          `{ name, size, entropy, executable }[]`, code first
 *     - `evidence.pe.highEntropyCode`   names of code sections at ≥ `entropy.highCode` bits/byte
 *     - `evidence.pe.malformed`         why the headers read only in part (the file is still a PE)
 *   Further combinations added to rules/executables.yaml appear as `evidence.pe.<field>`.
 *
 * - `suspicious` / moderate / T1027.002, one per packed program (ELF or PE):
 *     - `executables/packed-<packer id>` (`packed-upx`, `packed-aspack` …) when a packer's signal is present;
 *     - `executables/high-entropy-code` when no packer is named but a code section is compressed or encrypted
 *       (not for .NET assemblies, whose resources sit in .text, nor for Go programs, whose build info shows them unpacked).
 *   Evidence: `packer`, `packerName`, `signals`, `highEntropyCode`, and the file's facts as `elf` or `pe`.
 *
 * - `suspicious` / moderate / `executables/hidden-location`: a compiled Linux program that is packed, or static and
 *   stripped (and not Go), in a temporary directory (`tmp/`, `dev/shm/` …) or a hidden one (a dot-directory that
 *   ordinary tools do not use, or a dot-file). Evidence: `location` ('temporary' | 'hidden'), `directory`, `elf`.
 *
 * Plain scripts yield no finding; `scriptFacts` (script.ts) tells their language to other detectors.
 * Packer signatures, import combinations, thresholds and locations: rules/executables.yaml.
 */

export { examineElf, type ElfFacts } from './elf.js';
export { examinePe, peTitle, type PeFacts } from './pe.js';
export { scriptFacts, interpreterLanguage, type ScriptFacts, type ScriptLanguage } from './script.js';
export { shannonEntropy } from './entropy.js';

const PACKING = ['T1027.002'];
const HIDDEN_FILES = 'T1564.001';

/** UPX writes its version into what it packs (`$Id: UPX 4.02 Copyright …`); other packers' versions are not read. */
const UPX_VERSION = /\$Id: UPX (\d{1,2}\.\d{1,3}(?:\.\d{1,3})?)/;

function packerVersion(id: string, content: Buffer): string | undefined {
  if (id !== 'upx') return undefined;
  // the notice sits in the stub, near the start of the file
  return UPX_VERSION.exec(content.subarray(0, 1024 * 1024).toString('latin1'))?.[1];
}

function packedFindings(format: 'ELF' | 'Windows', facts: ElfFacts | PeFacts, key: 'elf' | 'pe', content: Buffer): DetectedFinding[] {
  const packer = facts.packers?.[0];
  if (packer) {
    const version = packerVersion(packer.id, content);
    return [
      {
        category: 'suspicious',
        severity: 'moderate',
        rule: `executables/packed-${packer.id}`,
        title: `${format} program packed with ${packer.name}${version ? ` ${version}` : ''}`,
        attack: PACKING,
        evidence: { packer: packer.id, packerName: packer.name, ...(version ? { packerVersion: version } : {}), signals: packer.signals, highEntropyCode: facts.highEntropyCode, [key]: facts },
      },
    ];
  }
  if (facts.highEntropyCode.length > 0) {
    const first = facts.sections.find((s) => s.name === facts.highEntropyCode[0]);
    return [
      {
        category: 'suspicious',
        severity: 'moderate',
        rule: 'executables/high-entropy-code',
        title: `${format} program with compressed or encrypted code (${facts.highEntropyCode[0]} at ${first?.entropy ?? '?'} bits/byte)`,
        attack: PACKING,
        evidence: { highEntropyCode: facts.highEntropyCode, [key]: facts },
      },
    ];
  }
  return [];
}

/** Why `path` is an odd place for a program: in a temporary directory, or under a hidden name; undefined if neither. */
export function oddLocation(path: string, rules: ExecutableRules): { location: 'temporary' | 'hidden'; directory: string } | undefined {
  const temp = rules.hiddenLocations.tempDirs.find((d) => path.startsWith(d));
  if (temp) return { location: 'temporary', directory: temp };
  const segments = path.split('/');
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.length > 1 && segment.startsWith('.') && !rules.hiddenLocations.ordinaryDotDirs.has(segment)) {
      return { location: 'hidden', directory: printable(segments.slice(0, i + 1).join('/') + (i < segments.length - 1 ? '/' : ''), 200) };
    }
  }
  return undefined;
}

function hiddenLocationFinding(path: string, facts: ElfFacts, rules: ExecutableRules): DetectedFinding[] {
  if (facts.type === 'relocatable' || facts.type === 'core') return [];
  const staticStripped = facts.linking === 'static' && facts.stripped && facts.goVersion === undefined;
  if (facts.packer === undefined && !staticStripped) return [];
  const odd = oddLocation(path, rules);
  if (!odd) return [];
  const traits = [facts.packers?.[0] ? `${facts.packers[0].name}-packed` : undefined, facts.linking === 'static' ? 'static' : undefined, facts.stripped ? 'stripped' : undefined].filter(Boolean);
  return [
    {
      category: 'suspicious',
      severity: 'moderate',
      rule: 'executables/hidden-location',
      title: `${capitalise(traits.join(', '))} ELF program in a ${odd.location} directory (${odd.directory})`,
      attack: facts.packer !== undefined ? [HIDDEN_FILES, ...PACKING] : [HIDDEN_FILES],
      evidence: { location: odd.location, directory: odd.directory, elf: facts },
    },
  ];
}

/**
 * Whether screened facts (no Go build information, entropy of code only) may lead to a finding: a superset of the
 * conditions of `packedFindings` and `hiddenLocationFinding`, which the full facts then decide.
 */
function mayYieldFinding(path: string, screened: ElfFacts, rules: ExecutableRules): boolean {
  if (screened.packer !== undefined || screened.highEntropyCode.length > 0) return true;
  if (screened.type === 'relocatable' || screened.type === 'core') return false;
  return screened.linking === 'static' && screened.stripped && oddLocation(path, rules) !== undefined;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const executablesAnalyzer: Analyzer = {
  name: 'executables',
  scansPayloads: true,
  version: 2,
  get configKey(): string {
    return `executables-rules:${dataFileDigest('executables.yaml')}`;
  },
  wants: (path, header) => hasKind(candidateKinds(path, header), Kind.Executable | Kind.WindowsProgram | Kind.Script),
  analyze(file: AnalyzedFile): AnalysisOutput {
    const format = detectExecutableFormat(file.content);
    if (format === 'pe') {
      const rules = executableRules();
      const facts = examinePe(file.content, rules);
      const findings: DetectedFinding[] = [
        { category: 'windows-pe', severity: 'info', rule: 'executables/windows-pe', title: peTitle(facts), evidence: { pe: facts } },
      ];
      if (!facts.managed || facts.packer !== undefined) findings.push(...packedFindings('Windows', facts, 'pe', file.content));
      return { findings };
    }
    if (format === 'elf') {
      const rules = executableRules();
      // Most programs yield nothing: screen them cheaply, and examine in full only those that may yield a finding.
      const screened = examineElf(file.content, rules, 'screen');
      if (!screened) return { notices: [{ level: 'warning', message: 'ELF headers are unreadable; the program was not examined' }] };
      if (!mayYieldFinding(file.path, screened, rules)) return {};
      const facts = examineElf(file.content, rules);
      if (!facts) return { notices: [{ level: 'warning', message: 'ELF headers are unreadable; the program was not examined' }] };
      const findings = facts.goVersion === undefined || facts.packer !== undefined ? packedFindings('ELF', facts, 'elf', file.content) : [];
      findings.push(...hiddenLocationFinding(file.path, facts, rules));
      return findings.length > 0 ? { findings } : {};
    }
    return {};
  },
};
