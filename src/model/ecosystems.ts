/**
 * Every package ecosystem Detonate inventories, in one table: its label, whether it is the OS's own package
 * manager (advisories then come per OS release and are keyed by source package), and the advisory ecosystem of a
 * language package. The catalogers' registry, purls, the advisory lookup and the table's order are all keyed by
 * it: adding an ecosystem starts with a line here, and the compiler asks for the rest.
 */

export interface EcosystemInfo {
  /** What the README and the table call it. */
  label: string;
  /** An OS package manager: advisories are per OS release (`debian:12`) and keyed by source package. */
  os: boolean;
  /** The advisory ecosystem of a language package (OSV's name, lower case); null for OS packages. */
  advisoryEcosystem: string | null;
}

export const PACKAGE_ECOSYSTEMS = {
  deb: { label: 'Debian/Ubuntu (dpkg)', os: true, advisoryEcosystem: null },
  apk: { label: 'Alpine (apk)', os: true, advisoryEcosystem: null },
  rpm: { label: 'Red Hat family (rpm)', os: true, advisoryEcosystem: null },
  npm: { label: 'npm', os: false, advisoryEcosystem: 'npm' },
  pypi: { label: 'Python', os: false, advisoryEcosystem: 'pypi' },
  gem: { label: 'RubyGems', os: false, advisoryEcosystem: 'rubygems' },
  golang: { label: 'Go', os: false, advisoryEcosystem: 'go' },
  maven: { label: 'Java', os: false, advisoryEcosystem: 'maven' },
  nuget: { label: '.NET', os: false, advisoryEcosystem: 'nuget' },
  cargo: { label: 'Rust', os: false, advisoryEcosystem: 'crates.io' },
} as const satisfies Record<string, EcosystemInfo>;

export type PackageType = keyof typeof PACKAGE_ECOSYSTEMS;

/** Every package type, in the table's order (OS first). */
export const PACKAGE_TYPES = Object.keys(PACKAGE_ECOSYSTEMS) as PackageType[];

export function isPackageType(value: string): value is PackageType {
  return Object.prototype.hasOwnProperty.call(PACKAGE_ECOSYSTEMS, value);
}

/** The OS's own package managers (deb, apk, rpm). */
export function isOsPackageType(type: PackageType): boolean {
  return PACKAGE_ECOSYSTEMS[type].os;
}
