import type { Analyzer, AnalysisOutput, AnalyzedFile } from '../../analyzer.js';
import { parseContainerManifest, readRpmDatabase, type RpmDatabaseResult } from './parse.js';

/**
 * Where rpm keeps its package database: `var/lib/rpm` traditionally, `usr/lib/sysimage/rpm` since Fedora 36 and
 * openSUSE (often with a symlink from the old place), `usr/share/rpm` on some older SUSE-based images. The file
 * name hints at the format (`Packages` Berkeley DB, `rpmdb.sqlite`, `Packages.db` ndb), but the content decides.
 */
const RPM_DB_DIRS = ['var/lib/rpm/', 'usr/lib/sysimage/rpm/', 'usr/share/rpm/'];
const RPM_DB_FILES = new Set(['Packages', 'rpmdb.sqlite', 'Packages.db']);
const RPM_DB_PATHS = new Set(RPM_DB_DIRS.flatMap((dir) => [...RPM_DB_FILES].map((file) => dir + file)));
/** CBL-Mariner / Azure Linux distroless images list their rpms here instead of keeping a database. */
const MARINER_MANIFEST = 'var/lib/rpmmanifest/container-manifest-2';

type Notices = NonNullable<AnalysisOutput['notices']>;

/** Installed rpm packages from the rpm database (Berkeley DB, SQLite or ndb) or a Mariner distroless manifest. */
export const rpmAnalyzer: Analyzer = {
  name: 'rpm',
  version: 1,
  wants: (path) => RPM_DB_PATHS.has(path) || path === MARINER_MANIFEST,
  analyze(file: AnalyzedFile): AnalysisOutput {
    if (file.content.length === 0) return {};
    if (file.path === MARINER_MANIFEST) {
      const { packages, malformed } = parseContainerManifest(file.content.toString('utf8'));
      const notices: Notices = malformed > 0 ? [{ level: 'warning', message: `${malformed} malformed line${malformed === 1 ? '' : 's'} in the rpm manifest skipped` }] : [];
      return { packages, notices };
    }
    let result: RpmDatabaseResult;
    try {
      result = readRpmDatabase(file.content);
    } catch (err) {
      return { notices: [{ level: 'warning', message: `rpm database could not be read: ${(err as Error).message}` }] };
    }
    const notices: Notices = [];
    if (result.problems.count > 0) {
      notices.push({ level: 'warning', message: `rpm database (${result.format}) is damaged; packages may be missing: ${result.problems.summary()}` });
    }
    if (result.badHeaders.count > 0) {
      notices.push({ level: 'warning', message: `rpm database (${result.format}): unreadable package headers skipped: ${result.badHeaders.summary()}` });
    }
    return { packages: result.packages, notices };
  },
};
