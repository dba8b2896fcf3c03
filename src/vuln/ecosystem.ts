import { isPackageType, PACKAGE_ECOSYSTEMS, type OsInfo, type Package, type PackageType } from '../model/index.js';
import type { Ecosystem } from './model.js';

/** PEP 503 name normalisation: runs of `-`, `_`, `.` become one `-`, lower case. */
export function pep503(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The advisory ecosystem of an OS release: `debian:12`, `ubuntu:22.04`, `alpine:3.19`, `rhel:9` … */
export function osEcosystem(os: OsInfo | null | undefined): Ecosystem | null {
  if (!os) return null;
  const id = os.id.toLowerCase();
  const v = os.versionId ?? '';
  switch (id) {
    case 'debian':
      return `debian:${v ? v.split('.')[0] : (os.versionCodename ?? 'sid')}`;
    case 'ubuntu':
      return v ? `ubuntu:${v}` : null;
    case 'alpine': {
      const m = /^(\d+)\.(\d+)/.exec(v);
      return m ? `alpine:${m[1]}.${m[2]}` : v.includes('edge') ? 'alpine:edge' : null;
    }
    case 'wolfi':
    case 'chainguard':
      return id; // rolling distributions: their feeds carry no release
    default: {
      const major = /^(\d+)/.exec(v)?.[1];
      return major ? `${id}:${major}` : null;
    }
  }
}

/** What a package is looked up as: its ecosystem, the name advisories use, and the version to compare. */
export interface PackageKey {
  ecosystem: Ecosystem;
  name: string;
  version: string;
}

/** Language package names as advisories write them, where the ecosystem folds them (PEP 503, NuGet's case). */
const ADVISORY_NAMES: Partial<Record<PackageType, (name: string) => string>> = {
  pypi: pep503,
  nuget: (name) => name.toLowerCase(),
};

/**
 * OS packages are keyed by source package and source version (advisories are written against sources: a binNMU
 * `+b1` binary still carries its source's version); language packages by their normalised name, in the advisory
 * ecosystem the model's table gives.
 */
export function packageKey(pkg: Package, os: OsInfo | null | undefined): PackageKey | null {
  if (!isPackageType(pkg.type)) return null;
  const { os: isOs, advisoryEcosystem } = PACKAGE_ECOSYSTEMS[pkg.type];
  if (isOs) {
    const ecosystem = osEcosystem(os);
    if (!ecosystem) return null;
    return { ecosystem, name: pkg.sourceName ?? pkg.name, version: pkg.sourceVersion ?? pkg.version };
  }
  if (advisoryEcosystem === null) return null;
  const name = ADVISORY_NAMES[pkg.type]?.(pkg.name) ?? pkg.name;
  return { ecosystem: advisoryEcosystem, name, version: pkg.version };
}
