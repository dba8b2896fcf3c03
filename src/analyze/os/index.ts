import type { Analyzer, AnalysisOutput, AnalyzedFile } from '../analyzer.js';
import type { OsInfo } from '../../model/index.js';
import {
  parseAlpineRelease,
  parseDebianVersion,
  parseLsbRelease,
  parseOsRelease,
  parseRedhatRelease,
} from './parse.js';
import { MAX_RELEASE_FILE_BYTES } from '../limits.js';

/**
 * Which parser reads each release file. os-release is authoritative; the others are fallbacks for images without
 * it (CentOS 6, old Alpine, stripped images). The merge step prefers `etc/os-release`, then `usr/lib/os-release`,
 * then whichever fallback is in the topmost layer.
 */
const RELEASE_FILES: ReadonlyMap<string, (text: string) => OsInfo | null> = new Map([
  ['etc/os-release', parseOsRelease],
  ['usr/lib/os-release', parseOsRelease],
  ['etc/lsb-release', parseLsbRelease],
  ['etc/alpine-release', parseAlpineRelease],
  ['etc/debian_version', parseDebianVersion],
  ['etc/redhat-release', parseRedhatRelease],
  ['etc/centos-release', parseRedhatRelease],
  ['etc/fedora-release', parseRedhatRelease],
  ['etc/rocky-release', parseRedhatRelease],
  ['etc/almalinux-release', parseRedhatRelease],
  ['etc/oracle-release', parseRedhatRelease],
  ['etc/system-release', parseRedhatRelease],
]);

/** Detects the distribution from os-release and the older per-distribution release files. */
export const osReleaseAnalyzer: Analyzer = {
  name: 'os-release',
  version: 1,
  wants: (path) => RELEASE_FILES.has(path),
  analyze(file: AnalyzedFile): AnalysisOutput {
    const parse = RELEASE_FILES.get(file.path);
    if (!parse) return {};
    if (file.content.length > MAX_RELEASE_FILE_BYTES) {
      return { notices: [{ level: 'warning', message: `release file is ${file.content.length} bytes, too large to be one; ignored` }] };
    }
    const os = parse(file.content.toString('utf8'));
    if (!os) {
      // An empty fallback file says nothing; a non-empty os-release that names nothing is worth a word.
      if (parse === parseOsRelease && file.content.toString('utf8').trim() !== '') {
        return { notices: [{ level: 'warning', message: 'os-release has no recognisable KEY=value lines; distribution not taken from it' }] };
      }
      return {};
    }
    return { os };
  },
};
