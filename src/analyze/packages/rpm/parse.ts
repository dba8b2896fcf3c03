import type { CatalogedPackage } from '../../analyzer.js';
import { forEachBdbHashValue, looksLikeBdb } from './bdb.js';
import { parseRpmHeader, parseSourceRpmName, type RpmHeader } from './header.js';
import { forEachNdbBlob, looksLikeNdb } from './ndb.js';
import { ProblemLog } from './problems.js';
import { forEachSqliteBlob, looksLikeSqlite } from './sqlite.js';
import { MAX_RPM_PACKAGES } from '../../limits.js';

export type RpmDatabaseFormat = 'bdb' | 'sqlite' | 'ndb';

/** The database format, told by content (a file's name does not say: `Packages` may have been converted). */
export function detectRpmDatabaseFormat(content: Buffer): RpmDatabaseFormat | null {
  if (looksLikeSqlite(content)) return 'sqlite';
  if (looksLikeNdb(content)) return 'ndb';
  if (looksLikeBdb(content)) return 'bdb';
  return null;
}

export interface RpmDatabaseResult {
  format: RpmDatabaseFormat;
  packages: CatalogedPackage[];
  /** Structural problems of the database file (broken pages, slots …). */
  problems: ProblemLog;
  /** Header blobs that could not be parsed, or lack a name or version. */
  badHeaders: ProblemLog;
}

/**
 * Installed packages of an rpm database in any of its three formats. Throws when the file is not an rpm
 * database at all or cannot be opened; damage inside it is reported in `problems` / `badHeaders`.
 */
export function readRpmDatabase(content: Buffer): RpmDatabaseResult {
  const format = detectRpmDatabaseFormat(content);
  if (!format) throw new Error('not an rpm database (neither Berkeley DB, SQLite nor ndb)');
  const badHeaders = new ProblemLog(3);
  const packages: CatalogedPackage[] = [];
  let capped = false;
  const visit = (blob: Buffer): boolean => {
    // The BDB backend keeps a 4-byte counter under key 0 beside the headers; it is not a package.
    if (blob.length <= 8) return true;
    let header: RpmHeader;
    try {
      header = parseRpmHeader(blob);
    } catch (err) {
      badHeaders.add((err as Error).message);
      return true;
    }
    const pkg = packageFromHeader(header);
    if (pkg === null) badHeaders.add('header without a name or version');
    else if (pkg !== 'skip') packages.push(pkg);
    capped = packages.length >= MAX_RPM_PACKAGES;
    return !capped;
  };
  const problems = format === 'sqlite' ? forEachSqliteBlob(content, visit) : format === 'ndb' ? forEachNdbBlob(content, visit) : forEachBdbHashValue(content, visit);
  if (capped) problems.add(`stopped after ${MAX_RPM_PACKAGES} packages; the rest ignored`);
  return { format, packages, problems, badHeaders };
}

/**
 * `[epoch:]version-release`, as rpm and the advisories of Red Hat-family distributions write it. The epoch is
 * shown only when it is set and not 0 (rpm compares a missing epoch as 0); it is also kept in `metadata.epoch`.
 */
export function rpmVersionString(version: string, release: string | undefined, epoch: number | undefined): string {
  const vr = release ? `${version}-${release}` : version;
  return epoch ? `${epoch}:${vr}` : vr;
}

/** Names and versions are single printable tokens; a header saying otherwise is damaged. */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE_OR_SPACE = /[\s\u0000-\u001f\u007f]/;

/** A package from a header; `'skip'` for the keyring's `gpg-pubkey` pseudo-packages, `null` when unusable. */
export function packageFromHeader(header: RpmHeader): CatalogedPackage | 'skip' | null {
  const { name, version, release, epoch } = header;
  if (name === 'gpg-pubkey') return 'skip';
  if (!name || !version || UNPRINTABLE_OR_SPACE.test(name) || UNPRINTABLE_OR_SPACE.test(version)) return null;
  const pkg: CatalogedPackage = { name, version: rpmVersionString(version, release, epoch), type: 'rpm' };
  if (header.arch) pkg.arch = header.arch;
  if (header.license) pkg.licenses = [header.license];
  const metadata: NonNullable<CatalogedPackage['metadata']> = {};
  if (epoch !== undefined) metadata.epoch = epoch;
  if (release) metadata.release = release;
  if (header.sourceRpm) {
    metadata.sourceRpm = header.sourceRpm;
    const source = parseSourceRpmName(header.sourceRpm);
    if (source) {
      pkg.sourceName = source.name;
      // A source rpm's file name has no epoch; it is built with the epoch of its binary packages.
      pkg.sourceVersion = rpmVersionString(source.version, source.release, epoch);
    }
  }
  if (header.vendor) metadata.vendor = header.vendor;
  if (header.modularityLabel) metadata.modularityLabel = header.modularityLabel;
  if (Object.keys(metadata).length > 0) pkg.metadata = metadata;
  return pkg;
}

/**
 * CBL-Mariner / Azure Linux distroless images have no rpm database, only `var/lib/rpmmanifest/container-manifest-2`:
 * one tab-separated line per package: name, version-release, install time, build time, vendor, epoch or
 * `(none)`, size, arch, epoch number, source rpm.
 */
export function parseContainerManifest(text: string): { packages: CatalogedPackage[]; malformed: number } {
  const packages: CatalogedPackage[] = [];
  let malformed = 0;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const cols = line.split('\t');
    const [name, versionRelease] = cols;
    if (cols.length < 10 || !name || !versionRelease) {
      malformed++;
      continue;
    }
    const epochText = /^\d{1,9}$/.test(cols[8]!) ? cols[8]! : /^\d{1,9}$/.test(cols[5]!) ? cols[5]! : undefined;
    const epoch = epochText !== undefined ? Number(epochText) : undefined;
    const dash = versionRelease.lastIndexOf('-');
    const version = dash > 0 ? versionRelease.slice(0, dash) : versionRelease;
    const release = dash > 0 ? versionRelease.slice(dash + 1) : undefined;
    const given = (value: string | undefined) => (value && value !== '(none)' ? value : undefined);
    const pkg = packageFromHeader({ name, version, release, epoch, arch: given(cols[7]), sourceRpm: given(cols[9]), vendor: given(cols[4]) });
    if (pkg === 'skip') continue;
    if (pkg) packages.push(pkg);
    else malformed++;
  }
  return { packages, malformed };
}
