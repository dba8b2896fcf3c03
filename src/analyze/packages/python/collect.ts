import type { CatalogedPackage } from '../../analyzer.js';
import { packageUrl, type ScanNotice } from '../../../model/index.js';
import { MAX_PACKAGE_NAME_CHARS, MAX_PACKAGE_VERSION_CHARS } from '../../limits.js';

export type Notice = Omit<ScanNotice, 'layer'>;

export interface ParseResult {
  packages: CatalogedPackage[];
  notices: Notice[];
}

export interface PythonEntry {
  /** The name as the distribution or file writes it (`Flask`, `typing_extensions`): shown to the user. */
  name: string;
  version: string;
  dev?: boolean;
  licenses?: string[];
}

/** PEP 503 normalised name (`Foo.Bar_baz` → `foo-bar-baz`): what pip compares, and the name in the purl. */
export function normalizePythonName(name: string): string {
  return name.replace(/[-_.]+/g, '-').toLowerCase();
}

/** A distribution name as PEP 508 allows it: letters, digits, `-_.`, starting and ending alphanumeric. */
export function isValidPythonName(name: string): boolean {
  return name.length > 0 && name.length <= MAX_PACKAGE_NAME_CHARS && /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(name);
}

/** A version as lock files and metadata write it (PEP 440, plus legacy forms): no spaces, wildcards or ranges. */
export function isPlausiblePythonVersion(version: string): boolean {
  return version.length > 0 && version.length <= MAX_PACKAGE_VERSION_CHARS && /^[A-Za-z0-9][A-Za-z0-9.+!_-]*$/.test(version);
}

export function pypiPackageUrl(name: string, version: string): string {
  return packageUrl('pypi', undefined, normalizePythonName(name), version);
}

/** Collects one file's packages once per purl; a package is dev-only when every occurrence is. */
export class PythonPackageCollector {
  private readonly byPurl = new Map<string, { entry: PythonEntry; purl: string }>();

  add(entry: PythonEntry): boolean {
    const name = entry.name.trim();
    const version = entry.version.trim();
    if (!isValidPythonName(name) || !isPlausiblePythonVersion(version)) return false;
    const purl = pypiPackageUrl(name, version);
    const existing = this.byPurl.get(purl);
    if (existing) {
      existing.entry.dev = existing.entry.dev === true && entry.dev === true;
      return true;
    }
    this.byPurl.set(purl, { entry: { ...entry, name, version }, purl });
    return true;
  }

  packages(): CatalogedPackage[] {
    return [...this.byPurl.values()].map(({ entry, purl }) => ({
      name: entry.name,
      version: entry.version,
      type: 'pypi' as const,
      purl,
      ...(entry.licenses && entry.licenses.length > 0 ? { licenses: entry.licenses } : {}),
      ...(entry.dev ? { metadata: { dev: true } } : {}),
    }));
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Text of a file written by Python tooling: UTF-8, or UTF-16 when it starts with a byte-order mark (Windows
 * editors and PowerShell's `pip freeze > requirements.txt` write UTF-16LE).
 */
export function decodeText(content: Buffer): string {
  if (content.length >= 2 && content[0] === 0xff && content[1] === 0xfe) return content.subarray(2).toString('utf16le');
  if (content.length >= 2 && content[0] === 0xfe && content[1] === 0xff) {
    const swapped = Buffer.from(content.subarray(2, 2 + ((content.length - 2) & ~1)));
    return swapped.swap16().toString('utf16le');
  }
  const text = content.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export function mebibytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}
