import type { CatalogedPackage } from '../../analyzer.js';
import { MAX_APK_LICENSE_CHARS, MAX_APK_PACKAGES } from '../../limits.js';

/**
 * apk's database of installed packages (`lib/apk/db/installed`): one paragraph per package, each line a
 * one-letter key, a colon and a value (`P:musl`, `V:1.2.4-r2`), paragraphs separated by blank lines. Lines about
 * the package's files (`F:`, `R:`, `Z:` …) follow its fields and are not needed here.
 */

export interface ApkParseResult {
  packages: CatalogedPackage[];
  /** True when the database held more than `MAX_APK_PACKAGES` packages and the rest were ignored. */
  capped: boolean;
  /** Paragraphs that name a package. */
  entries: number;
  /** Paragraphs with a package name but no usable version. */
  malformed: number;
}

/** A name, version, arch or origin is one token; anything else is corruption. */
const TOKEN = /^[^\s]{1,256}$/;

interface ApkFields {
  name?: string;
  version?: string;
  arch?: string;
  origin?: string;
  license?: string;
  commit?: string;
}

export function parseApkInstalled(text: string): ApkParseResult {
  const packages: CatalogedPackage[] = [];
  let entries = 0;
  let malformed = 0;
  let capped = false;
  let current: ApkFields = {};
  let inParagraph = false;

  const finish = () => {
    if (!inParagraph) return;
    inParagraph = false;
    const f = current;
    current = {};
    if (f.name === undefined) return;
    entries++;
    if (!TOKEN.test(f.name) || f.version === undefined || !TOKEN.test(f.version)) {
      malformed++;
      return;
    }
    const pkg: CatalogedPackage = { name: f.name, version: f.version, type: 'apk' };
    // apk's origin is the aport (source package) the binary package was built from, at the same version.
    pkg.sourceName = f.origin && TOKEN.test(f.origin) ? f.origin : f.name;
    pkg.sourceVersion = f.version;
    if (f.arch && TOKEN.test(f.arch)) pkg.arch = f.arch;
    if (f.license) pkg.licenses = [f.license.slice(0, MAX_APK_LICENSE_CHARS)];
    if (f.commit && /^[0-9a-f]{7,64}$/.test(f.commit)) pkg.metadata = { commit: f.commit };
    if (packages.length >= MAX_APK_PACKAGES) capped = true;
    else packages.push(pkg);
  };

  let start = 0;
  while (start <= text.length && !capped) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim() === '') {
      finish();
      continue;
    }
    inParagraph = true;
    if (line.length < 2 || line[1] !== ':') continue;
    const value = line.slice(2).trim();
    switch (line[0]) {
      case 'P': current.name = value; break;
      case 'V': current.version = value; break;
      case 'A': current.arch = value; break;
      case 'o': current.origin = value; break;
      case 'L': current.license = value; break;
      case 'c': current.commit = value; break;
      default: break;
    }
  }
  finish();
  return { packages, capped, entries, malformed };
}
