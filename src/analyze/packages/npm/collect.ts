import type { CatalogedPackage } from '../../analyzer.js';
import { packageUrl, type ScanNotice } from '../../../model/index.js';
import { MAX_NPM_LICENSES, MAX_NPM_NAME_CHARS, MAX_NPM_VERSION_CHARS } from '../../limits.js';

export type Notice = Omit<ScanNotice, 'layer'>;

export interface ParseResult {
  packages: CatalogedPackage[];
  notices: Notice[];
}

/** One package as a JavaScript manifest or lock file names it. */
export interface NpmEntry {
  name: string;
  version: string;
  dev?: boolean;
  licenses?: string[];
}

/**
 * An npm package name: `name` or `@scope/name`, no spaces, no further slashes. Lock files and manifests in images
 * may hold anything, and a name that cannot exist in a registry would only make a misleading purl.
 */
export function isValidNpmName(name: string): boolean {
  if (name.length === 0 || name.length > MAX_NPM_NAME_CHARS) return false;
  return /^(?:@[^\s/@]+\/)?[^\s/@][^\s/]*$/.test(name);
}

/** A version as found in a lock or manifest: non-empty, no whitespace, not a URL or a path. */
export function isPlausibleVersion(version: string): boolean {
  return version.length > 0 && version.length <= MAX_NPM_VERSION_CHARS && !/[\s:/]/.test(version);
}

/** `pkg:npm/%40babel/core@7.0.0`: the npm scope is the purl namespace. */
export function npmPackageUrl(name: string, version: string): string {
  if (name.startsWith('@')) {
    const slash = name.indexOf('/');
    if (slash > 1) return packageUrl('npm', name.slice(0, slash), name.slice(slash + 1), version);
  }
  return packageUrl('npm', undefined, name, version);
}

/**
 * Licences as package.json and package-lock.json write them: an SPDX string, a legacy `{type}` object, or an array
 * of either. Anything else (numbers, empty strings, unknown objects) is ignored.
 */
export function npmLicenses(value: unknown): string[] | undefined {
  const out: string[] = [];
  const take = (v: unknown) => {
    if (typeof v === 'string') {
      if (v.trim()) out.push(v.trim());
    } else if (v && typeof v === 'object' && !Array.isArray(v)) {
      const type = (v as Record<string, unknown>).type;
      if (typeof type === 'string' && type.trim()) out.push(type.trim());
    }
  };
  if (Array.isArray(value)) value.slice(0, MAX_NPM_LICENSES).forEach(take);
  else take(value);
  return out.length > 0 ? [...new Set(out)] : undefined;
}

/**
 * Collects the packages of one file once per package URL. A package counts as a development dependency only when
 * every occurrence says so (npm installs it for production as soon as one production path needs it).
 */
export class NpmPackageCollector {
  private readonly byPurl = new Map<string, { entry: NpmEntry; purl: string }>();

  add(entry: NpmEntry): boolean {
    if (!isValidNpmName(entry.name) || !isPlausibleVersion(entry.version)) return false;
    const purl = npmPackageUrl(entry.name, entry.version);
    const existing = this.byPurl.get(purl);
    if (!existing) {
      this.byPurl.set(purl, { entry: { ...entry }, purl });
      return true;
    }
    existing.entry.dev = existing.entry.dev === true && entry.dev === true;
    if (!existing.entry.licenses && entry.licenses) existing.entry.licenses = entry.licenses;
    return true;
  }

  packages(): CatalogedPackage[] {
    return [...this.byPurl.values()].map(({ entry, purl }) => ({
      name: entry.name,
      version: entry.version,
      type: 'npm' as const,
      purl,
      ...(entry.licenses ? { licenses: entry.licenses } : {}),
      ...(entry.dev ? { metadata: { dev: true } } : {}),
    }));
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function stringField(record: Record<string, unknown>, key: string): string | undefined {
  const v = record[key];
  return typeof v === 'string' ? v : undefined;
}

/** JSON text of a file, without the byte-order mark some Windows editors leave. */
export function jsonText(content: Buffer): string {
  const text = content.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function mebibytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
