import { PythonPackageCollector, isRecord, type ParseResult } from './collect.js';
import { parseToml, type TomlValue } from './toml.js';

/**
 * `Pipfile.lock` (JSON): `default` and `develop` sections of `name → { version: "==1.2.3" }`. Entries without a
 * pinned version (editable checkouts, VCS references) are skipped. Throws on text that is not JSON.
 */
export function parsePipfileLock(text: string): ParseResult {
  const doc: unknown = JSON.parse(text);
  const collector = new PythonPackageCollector();
  if (isRecord(doc)) {
    for (const [section, dev] of [['default', false], ['develop', true]] as const) {
      const deps = doc[section];
      if (!isRecord(deps)) continue;
      for (const [name, entry] of Object.entries(deps)) {
        if (!isRecord(entry) || typeof entry.version !== 'string') continue;
        const version = entry.version.replace(/^={2,3}/, '');
        collector.add({ name, version, dev });
      }
    }
  }
  return { packages: collector.packages(), notices: [] };
}

export type TomlLockKind = 'poetry' | 'uv' | 'pdm';

function stringOf(v: TomlValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * `poetry.lock`, `uv.lock` and `pdm.lock`: each an array of `[[package]]` tables with `name` and `version`.
 * Development-only packages are marked where the file says so: Poetry 1's `category = "dev"`, Poetry 2's `groups`
 * without `main`. (PDM's groups mix optional extras with dev groups, so they are not read as dev.)
 * uv's editable/virtual project entries (the project itself) are kept, as Syft does.
 * Throws on TOML syntax errors.
 */
export function parseTomlLock(kind: TomlLockKind, text: string): ParseResult {
  const doc = parseToml(text);
  const collector = new PythonPackageCollector();
  const list = doc.package;
  if (Array.isArray(list)) {
    for (const entry of list) {
      if (typeof entry !== 'object' || Array.isArray(entry)) continue;
      const name = stringOf(entry.name);
      const version = stringOf(entry.version);
      if (!name || !version) continue;
      let dev = false;
      if (kind === 'poetry') dev = entry.category === 'dev';
      // Poetry 2 lists the dependency groups instead; `main` is the production one.
      if (kind === 'poetry' && Array.isArray(entry.groups)) dev = entry.groups.length > 0 && !entry.groups.includes('main');
      collector.add({ name, version, dev });
    }
  }
  return { packages: collector.packages(), notices: [] };
}
