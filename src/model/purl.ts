import type { OsInfo, Package } from './report.js';
import type { PackageType } from './ecosystems.js';

/** What an OS package's purl is made of. */
export type OsPackageCoordinates = Pick<Package, 'type' | 'name' | 'version' | 'arch' | 'sourceName' | 'metadata'>;

/**
 * purl-spec's per-type case rules for the types Detonate emits (others keep their case, e.g. golang, maven, nuget).
 * The encoding below follows the purl-spec and is tested against the reference implementation, packageurl-js,
 * which Detonate does not load at run time: it was a fifth of the start-up time of a cached re-scan.
 */
const LOWER_NAMESPACE = new Set(['deb', 'apk', 'rpm', 'npm', 'pypi', 'alpm', 'composer', 'github', 'bitbucket', 'hex']);
const LOWER_NAME = new Set(['deb', 'apk', 'npm', 'pypi', 'alpm', 'composer', 'github', 'bitbucket', 'hex', 'oci']);

function encodeNamespace(ns: string): string {
  return encodeURIComponent(ns).replace(/%3A/g, ':').replace(/%2F/g, '/');
}

function encodeVersion(v: string): string {
  return encodeURIComponent(v).replace(/%3A/g, ':').replace(/%2B/g, '+');
}

function encodeQualifiers(q: Record<string, string>): string {
  const params = new URLSearchParams();
  for (const key of Object.keys(q).sort()) params.set(key, q[key]!);
  return params.toString().replace(/\+/g, '%20');
}

/** A package URL for a language package, whose namespace the cataloger knows (npm scope, Maven group, Go module path). */
export function packageUrl(
  type: PackageType | 'oci' | 'generic',
  namespace: string | undefined,
  name: string,
  version: string | undefined,
  qualifiers?: Record<string, string | undefined>,
): string {
  let ns = namespace ? namespace.split('/').filter(Boolean).join('/') : '';
  let n = name;
  if (LOWER_NAMESPACE.has(type)) ns = ns.toLowerCase();
  if (LOWER_NAME.has(type)) n = n.toLowerCase();
  if (type === 'pypi') n = n.replace(/_/g, '-');
  if (!n) throw new Error('a package URL needs a name');
  const q: Record<string, string> = {};
  for (const [k, v] of Object.entries(qualifiers ?? {})) if (v) q[k.toLowerCase()] = v;
  let out = `pkg:${type}/`;
  if (ns) out += `${encodeNamespace(ns)}/`;
  out += encodeURIComponent(n);
  if (version) out += `@${encodeVersion(version)}`;
  if (Object.keys(q).length > 0) out += `?${encodeQualifiers(q)}`;
  return out;
}

/**
 * OS packages' purls need the distro (`pkg:deb/debian/libssl3@…?arch=amd64&distro=debian-12`), which is only known
 * once the image's os-release has been found, so the merge step computes them here.
 */
export function osPackageUrl(pkg: OsPackageCoordinates, os: OsInfo | null | undefined): string {
  const fallbackNamespace = pkg.type === 'deb' ? 'debian' : pkg.type === 'apk' ? 'alpine' : 'redhat';
  const namespace = os?.id ?? fallbackNamespace;
  const distro = os ? (os.versionId ? `${os.id}-${os.versionId}` : os.id) : undefined;
  const epoch = typeof pkg.metadata?.epoch === 'number' || typeof pkg.metadata?.epoch === 'string' ? String(pkg.metadata.epoch) : undefined;
  // rpm purls carry the epoch as a qualifier and the version without it (purl-spec, type rpm).
  const version = pkg.type === 'rpm' && epoch && pkg.version.startsWith(`${epoch}:`) ? pkg.version.slice(epoch.length + 1) : pkg.version;
  return packageUrl(pkg.type, namespace, pkg.name, version, {
    arch: pkg.arch,
    epoch: pkg.type === 'rpm' && epoch && epoch !== '0' ? epoch : undefined,
    distro,
    upstream: pkg.sourceName && pkg.sourceName !== pkg.name ? pkg.sourceName : undefined,
  });
}

