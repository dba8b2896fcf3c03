import type { Analyzer, AnalysisOutput, AnalyzedFile } from '../../analyzer.js';
import { parseDpkgStatus, type StatusParseOptions } from './parse.js';
import { MAX_DPKG_PACKAGES } from '../../limits.js';

const DPKG_STATUS = 'var/lib/dpkg/status';
const DISTROLESS_STATUS_DIR = 'var/lib/dpkg/status.d/';
/** opkg (OpenWrt, Yocto) keeps a dpkg-format status file; OpenWrt has it under usr/lib. */
const OPKG_STATUS = new Set(['var/lib/opkg/status', 'usr/lib/opkg/status']);

/**
 * Files that sit beside the control files in distroless `status.d/` (`libssl3.md5sums`, maintainer scripts …).
 * Package names may contain dots (`libgtk2.0-0`), so only these known suffixes are ruled out.
 */
const NON_CONTROL_SUFFIXES = ['.md5sums', '.conffiles', '.list', '.preinst', '.postinst', '.prerm', '.postrm', '.config', '.templates', '.triggers', '.shlibs', '.symbols', '.sha256sums'];

function isDistrolessControlFile(path: string): boolean {
  if (!path.startsWith(DISTROLESS_STATUS_DIR)) return false;
  const name = path.slice(DISTROLESS_STATUS_DIR.length);
  if (name === '' || name.includes('/') || name.startsWith('.')) return false;
  return !NON_CONTROL_SUFFIXES.some((suffix) => name.endsWith(suffix));
}

/** Installed Debian packages: `var/lib/dpkg/status`, distroless `var/lib/dpkg/status.d/*`, and opkg's status file. */
export const dpkgAnalyzer: Analyzer = {
  name: 'dpkg',
  version: 1,
  wants: (path) => path === DPKG_STATUS || OPKG_STATUS.has(path) || isDistrolessControlFile(path),
  analyze(file: AnalyzedFile): AnalysisOutput {
    const distroless = file.path !== DPKG_STATUS && !OPKG_STATUS.has(file.path);
    const options: StatusParseOptions = { missingStatusMeansInstalled: distroless };
    if (OPKG_STATUS.has(file.path)) options.metadata = { packageManager: 'opkg' };
    const text = file.content.toString('utf8');
    const result = parseDpkgStatus(text, options);
    const notices: NonNullable<AnalysisOutput['notices']> = [];
    if (!distroless && result.entries === 0 && text.trim() !== '') {
      notices.push({ level: 'warning', message: 'package status database has no package entries; it may be corrupt' });
    }
    if (result.capped) {
      notices.push({ level: 'warning', message: `more than ${MAX_DPKG_PACKAGES} installed packages; the rest ignored` });
    }
    if (result.malformed > 0) {
      notices.push({ level: 'warning', message: `${result.malformed} installed package entr${result.malformed === 1 ? 'y has' : 'ies have'} no usable name or version; skipped` });
    }
    return notices.length > 0 ? { packages: result.packages, notices } : { packages: result.packages };
  },
};
