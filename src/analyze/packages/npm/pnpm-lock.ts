import { createRequire } from 'node:module';
import { NpmPackageCollector, isRecord, stringField, type Notice, type ParseResult } from './collect.js';
import { MAX_PNPM_LOCK_ALIASES, MAX_PNPM_LOCK_DOCUMENTS } from '../../limits.js';

// The YAML parser loads on the first pnpm lock file: it was a tenth of every scan's start-up time.
const require = createRequire(import.meta.url);
let yaml: typeof import('yaml') | undefined;

/**
 * `pnpm-lock.yaml`, every format in use: v5 keys `/name/1.2.3_peer@4.5.6`, v6 keys `/name@1.2.3(peer@4.5.6)`,
 * v9 keys `name@1.2.3(peer@4.5.6)` (with peer variants again under `snapshots`). Tarball, git and `file:` entries
 * name themselves in `name`/`version` fields. v5/v6 `dev: true` becomes metadata.dev. The projects' direct
 * dependencies (top-level `dependencies` in v5/v6, `importers` in multi-project and v9 files) are read as well.
 * Parsed with the `yaml` package (duplicate-key checks off: they are quadratic; aliases capped). Throws on YAML
 * syntax errors.
 */
export function parsePnpmLock(text: string): ParseResult {
  const collector = new NpmPackageCollector();
  const notices: Notice[] = [];
  yaml ??= require('yaml') as typeof import('yaml');
  const docs = yaml.parseAllDocuments(text, { uniqueKeys: false, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  if (list.length > MAX_PNPM_LOCK_DOCUMENTS) notices.push({ level: 'warning', message: `pnpm lock has ${list.length} YAML documents; only the first ${MAX_PNPM_LOCK_DOCUMENTS} were read` });
  for (const doc of list.slice(0, MAX_PNPM_LOCK_DOCUMENTS)) {
    if (doc.errors.length > 0) throw new Error(`not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
    const value: unknown = doc.toJS({ maxAliasCount: MAX_PNPM_LOCK_ALIASES });
    if (!isRecord(value)) continue;
    const major = lockMajorVersion(value.lockfileVersion);
    // Direct dependencies of the project(s): normally also under `packages`, but not in trimmed lock files.
    readImporter(value, major, collector);
    if (isRecord(value.importers)) for (const importer of Object.values(value.importers)) if (isRecord(importer)) readImporter(importer, major, collector);
    if (isRecord(value.packages)) readPackages(value.packages, major, collector);
    // v9 puts peer-resolved variants under `snapshots`; their base versions are normally in `packages` already.
    if (isRecord(value.snapshots)) readPackages(value.snapshots, major, collector);
  }
  return { packages: collector.packages(), notices };
}

function lockMajorVersion(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number.parseFloat(v) : Number.NaN;
  return Number.isFinite(n) ? Math.floor(n) : 9;
}

/**
 * Name and version from a package key. v5: `/@scope/name/1.0.0_peer`; v6: `/@scope/name@1.0.0(peer)`;
 * v9: `@scope/name@1.0.0(peer)`. Keys of tarball/file packages (`name@file:…`, `name@https://…`) give the name only.
 */
export function parsePnpmKey(key: string, major: number): { name: string; version?: string } | undefined {
  let k = key.startsWith('/') ? key.slice(1) : key;
  const paren = k.indexOf('(');
  if (paren >= 0) k = k.slice(0, paren);
  let name: string;
  let version: string;
  if (major < 6) {
    const segments = k.split('/');
    const nameSegments = k.startsWith('@') ? 2 : 1;
    if (segments.length <= nameSegments) return undefined;
    name = segments.slice(0, nameSegments).join('/');
    version = segments.slice(nameSegments).join('/');
    const underscore = version.indexOf('_');
    if (underscore >= 0) version = version.slice(0, underscore);
  } else {
    // Package names hold no `@` past the scope's, while locators after it may (`git+ssh://git@…`).
    const at = k.indexOf('@', 1);
    if (at <= 0) return undefined;
    name = k.slice(0, at);
    version = k.slice(at + 1);
  }
  // Registry versions start with a digit; anything else is a locator (`file:…`, a URL) and needs the entry's fields.
  return /^v?\d/.test(version) ? { name, version } : { name };
}

function readPackages(packages: Record<string, unknown>, major: number, collector: NpmPackageCollector): void {
  for (const [key, raw] of Object.entries(packages)) {
    const entry = isRecord(raw) ? raw : {};
    const fromKey = parsePnpmKey(key, major);
    const name = stringField(entry, 'name') ?? fromKey?.name;
    const version = stringField(entry, 'version') ?? fromKey?.version;
    if (!name || !version) continue;
    collector.add({ name, version, dev: entry.dev === true });
  }
}

/**
 * One project's `dependencies` / `devDependencies` / `optionalDependencies`: `name: 1.2.3_peer` (v5),
 * `name: { specifier, version: 1.2.3(peer) }` (v6+), or `/real@1.2.3` for an alias. `link:` members are skipped.
 */
function readImporter(importer: Record<string, unknown>, major: number, collector: NpmPackageCollector): void {
  for (const [section, dev] of [['dependencies', false], ['optionalDependencies', false], ['devDependencies', true]] as const) {
    const deps = importer[section];
    if (!isRecord(deps)) continue;
    for (const [name, spec] of Object.entries(deps)) {
      const raw = typeof spec === 'string' ? spec : isRecord(spec) ? stringField(spec, 'version') : undefined;
      if (!raw) continue;
      if (raw.startsWith('/')) {
        const aliased = parsePnpmKey(raw, major);
        if (aliased?.version) collector.add({ name: aliased.name, version: aliased.version, dev });
        continue;
      }
      const version = raw.replace(/[(_].*$/, '');
      if (/^v?\d/.test(version)) collector.add({ name, version, dev });
    }
  }
}
