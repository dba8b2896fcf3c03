import type { Analyzer, AnalysisOutput, AnalyzedFile } from '../../analyzer.js';
import { BinaryFormatError } from '../../binary/errors.js';
import { detectExecutableFormat } from '../../binary/executable.js';
import { isExecutableCandidate } from '../../binary/candidates.js';
import { readGoBuildInfo, type RawBuildInfo } from './buildinfo.js';
import { goBinaryPackages, parseModInfo } from './parse.js';

/**
 * Go binaries (ELF, PE, Mach-O): the toolchain (`stdlib`), the main module and every dependency module from the
 * build information the Go linker embeds. Source manifests (go.mod, go.sum) are not read: an image inventory
 * lists what was built into the image, not what a checkout declares.
 */
export const goBinaryAnalyzer: Analyzer = {
  name: 'golang-binary',
  version: 1,
  wants: (path, header) => isExecutableCandidate(path, header),
  analyze(file: AnalyzedFile): AnalysisOutput {
    if (detectExecutableFormat(file.content) === null) return {};
    let raw: RawBuildInfo | null;
    try {
      raw = readGoBuildInfo(file.content);
    } catch (err) {
      if (err instanceof BinaryFormatError) {
        return { notices: [{ level: 'warning', message: `Go build information is unreadable: ${err.message}` }] };
      }
      throw err;
    }
    if (!raw) return {};
    const info = parseModInfo(raw.modInfo);
    const packages = goBinaryPackages(raw.goVersion, info);
    if (info.malformedLines > 0) {
      return { packages, notices: [{ level: 'warning', message: `${info.malformedLines} line(s) of Go module information did not parse; skipped` }] };
    }
    return { packages };
  },
};
