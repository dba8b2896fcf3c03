import type { Analyzer, AnalysisOutput, AnalyzedFile } from '../../analyzer.js';
import { BinaryFormatError } from '../../binary/errors.js';
import { detectExecutableFormat, findSection, readExecutable, sectionBytes, type Executable } from '../../binary/executable.js';
import { isExecutableCandidate } from '../../binary/candidates.js';
import { AuditDataError, auditPackages, inflateAuditData, parseAuditJson } from './parse.js';

/** The section `cargo auditable` adds: `.dep-v0` in ELF and PE, `__DATA,__dep_v0` in Mach-O. */
export function auditSection(exe: Executable): Buffer | undefined {
  const section = exe.format === 'macho' ? findSection(exe, '__dep_v0', '__DATA') : findSection(exe, '.dep-v0');
  return section ? sectionBytes(exe, section) : undefined;
}

/** Rust programs built with `cargo auditable`: every crate compiled in, from the embedded dependency list. */
export const rustAuditAnalyzer: Analyzer = {
  name: 'rust-audit-binary',
  version: 1,
  wants: (path, header) => isExecutableCandidate(path, header),
  analyze(file: AnalyzedFile): AnalysisOutput {
    if (detectExecutableFormat(file.content) === null) return {};
    let exe: Executable;
    try {
      exe = readExecutable(file.content);
    } catch (err) {
      // Not ours to report: a damaged executable is the threat detectors' concern, and it has no readable section.
      if (err instanceof BinaryFormatError) return {};
      throw err;
    }
    try {
      const compressed = auditSection(exe);
      if (!compressed) return {};
      return { packages: auditPackages(parseAuditJson(inflateAuditData(compressed))) };
    } catch (err) {
      if (err instanceof BinaryFormatError || err instanceof AuditDataError) {
        return { notices: [{ level: 'warning', message: `cargo-auditable dependency data is unreadable: ${err.message}` }] };
      }
      throw err;
    }
  },
};
