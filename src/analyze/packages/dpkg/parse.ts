import type { CatalogedPackage } from '../../analyzer.js';
import { MAX_DPKG_PACKAGES } from '../../limits.js';

/**
 * dpkg's database is a file of RFC 822-style paragraphs (deb822): `Field: value` lines, continuation lines that
 * start with a space or tab, paragraphs separated by blank lines. The same format is used by
 * `var/lib/dpkg/status`, distroless images' `var/lib/dpkg/status.d/<package>` files and opkg's `status`.
 */

/** One paragraph: field names as written (dpkg's are case-insensitive, so look them up with `field()`). */
export type ControlParagraph = Map<string, string>;

/** The paragraphs of deb822 text, one at a time. Lines that are neither fields nor continuations are skipped. */
export function* controlParagraphs(text: string): Generator<ControlParagraph> {
  let current: ControlParagraph | null = null;
  let lastField: string | null = null;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let line = text.slice(start, end);
    start = end + 1;
    if (line.endsWith('\r')) line = line.slice(0, -1);

    if (line.trim() === '') {
      if (current) yield current;
      current = null;
      lastField = null;
      continue;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      if (current && lastField !== null) current.set(lastField, `${current.get(lastField) ?? ''}\n${line.trim()}`);
      continue;
    }
    if (line[0] === '#') continue; // comments are allowed in deb822 files, though dpkg never writes them
    const colon = line.indexOf(':');
    if (colon <= 0) {
      lastField = null;
      continue;
    }
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name === '' || /\s/.test(name)) {
      lastField = null;
      continue;
    }
    current ??= new Map();
    current.set(name, line.slice(colon + 1).trim());
    lastField = name;
  }
  if (current) yield current;
}

/** All paragraphs of deb822 text. */
export function parseControlParagraphs(text: string): ControlParagraph[] {
  return [...controlParagraphs(text)];
}

/** The value of a field (names are case-insensitive), or undefined. */
export function field(paragraph: ControlParagraph, name: string): string | undefined {
  return paragraph.get(name.toLowerCase());
}

/**
 * dpkg's package states (the third word of `Status:`) in which the package's files are on disk. `config-files`
 * and `not-installed` leave only configuration or nothing behind, so those entries are not packages of the image.
 */
const STATES_WITH_FILES = new Set(['installed', 'half-configured', 'unpacked', 'half-installed', 'triggers-awaited', 'triggers-pending']);

export interface StatusParseOptions {
  /**
   * Whether an entry without a `Status:` field counts as installed. True for distroless `status.d/` files, which
   * hold the control data of installed packages only; false for the real status database, where dpkg always
   * writes the field.
   */
  missingStatusMeansInstalled: boolean;
  /** Extra metadata to put on every package (e.g. `{ packageManager: 'opkg' }`). */
  metadata?: Record<string, string>;
}

export interface StatusParseResult {
  packages: CatalogedPackage[];
  /** True when the file held more than `MAX_DPKG_PACKAGES` installed packages and the rest were ignored. */
  capped: boolean;
  /** Paragraphs that had a `Package:` field. */
  entries: number;
  /** Entries that claim to be installed but have no usable name or version. */
  malformed: number;
}

/** A package name or version is one token; anything else is corruption, not a package. */
const TOKEN = /^[^\s()]{1,256}$/;

/** `Source: gcc-5 (5.1.1-12ubuntu1)` → name and version; `Source: pam` → name only. */
export function parseSourceField(value: string): { name: string; version?: string } | null {
  const match = /^(\S+)(?:\s+\(([^()\s]+)\))?\s*$/.exec(value.trim());
  if (!match) return null;
  return match[2] ? { name: match[1]!, version: match[2] } : { name: match[1]! };
}

/** Installed packages of a dpkg/opkg status file. */
export function parseDpkgStatus(text: string, options: StatusParseOptions): StatusParseResult {
  const packages: CatalogedPackage[] = [];
  let entries = 0;
  let malformed = 0;
  let capped = false;
  for (const paragraph of controlParagraphs(text)) {
    const name = field(paragraph, 'Package');
    if (name === undefined) continue;
    entries++;
    const status = field(paragraph, 'Status');
    const installed = status === undefined
      ? options.missingStatusMeansInstalled
      : STATES_WITH_FILES.has(status.split(/\s+/).pop() ?? '');
    if (!installed) continue;
    const version = field(paragraph, 'Version');
    if (!TOKEN.test(name) || version === undefined || !TOKEN.test(version)) {
      // Distroless status.d files may hold bare `Package:` stubs; only an entry whose Status claims it is installed is corrupt.
      if (status !== undefined) malformed++;
      continue;
    }
    const pkg: CatalogedPackage = { name, version, type: 'deb' };
    const source = field(paragraph, 'Source');
    const parsedSource = source ? parseSourceField(source) : null;
    pkg.sourceName = parsedSource?.name ?? name;
    pkg.sourceVersion = parsedSource?.version ?? version;
    const arch = field(paragraph, 'Architecture');
    if (arch && TOKEN.test(arch)) pkg.arch = arch;
    if (options.metadata) pkg.metadata = { ...options.metadata };
    if (packages.length >= MAX_DPKG_PACKAGES) {
      capped = true;
      break;
    }
    packages.push(pkg);
  }
  return { packages, capped, entries, malformed };
}
