import { NpmPackageCollector, isRecord, npmLicenses, stringField, type Notice, type ParseResult } from './collect.js';
import { MAX_NPM_LOCK_ENTRIES, MAX_NPM_LOCK_V1_NESTING } from '../../limits.js';

const NODE_MODULES = 'node_modules/';

/**
 * `package-lock.json` / `npm-shrinkwrap.json`. Lockfile v2 and v3 list every installed path in `packages`
 * (`node_modules/a/node_modules/b` → b); v1 nests `dependencies` objects. v2 carries both: `packages` wins.
 * Handled: aliases (`npm:real@1.0.0`, or a `name` field differing from the path), workspace links (the link's
 * path names the package, its target holds the version), dev-only packages (`dev: true` → metadata.dev).
 * The root entry (the project itself) is recorded when it has a name and a version, as Syft does.
 * Throws on text that is not JSON.
 */
export function parsePackageLock(text: string): ParseResult {
  const doc: unknown = JSON.parse(text);
  const collector = new NpmPackageCollector();
  const notices: Notice[] = [];
  if (!isRecord(doc)) return { packages: [], notices: [{ level: 'warning', message: 'package lock is not a JSON object' }] };

  if (isRecord(doc.packages)) readPackagesMap(doc.packages, collector, notices);
  else if (isRecord(doc.dependencies)) readDependencyTree(doc.dependencies, collector, notices);

  if (!isRecord(doc.packages)) {
    const name = stringField(doc, 'name');
    const version = stringField(doc, 'version');
    if (name && version) collector.add({ name, version });
  }
  return { packages: collector.packages(), notices };
}

/** The package a `node_modules/…` path installs: the part after the last `node_modules/`, e.g. `@babel/core`. */
function nameFromInstallPath(path: string): string | undefined {
  const i = path.lastIndexOf(NODE_MODULES);
  if (i < 0) return undefined;
  return path.slice(i + NODE_MODULES.length) || undefined;
}

function readPackagesMap(packages: Record<string, unknown>, collector: NpmPackageCollector, notices: Notice[]): void {
  const keys = Object.keys(packages);
  if (keys.length > MAX_NPM_LOCK_ENTRIES) {
    notices.push({ level: 'warning', message: `package lock lists ${keys.length} packages; only the first ${MAX_NPM_LOCK_ENTRIES} were read` });
  }
  // Workspace members are linked into node_modules: the link's path names them, the target holds the version.
  const linkNames = new Map<string, string>();
  for (const key of keys.slice(0, MAX_NPM_LOCK_ENTRIES)) {
    const entry = packages[key];
    if (!isRecord(entry) || entry.link !== true) continue;
    const target = stringField(entry, 'resolved');
    const name = nameFromInstallPath(key);
    if (target && name && !linkNames.has(target)) linkNames.set(target, name);
  }

  for (const key of keys.slice(0, MAX_NPM_LOCK_ENTRIES)) {
    const entry = packages[key];
    if (!isRecord(entry) || entry.link === true) continue;
    const version = stringField(entry, 'version');
    if (!version) continue;
    const installedAs = key === '' ? undefined : nameFromInstallPath(key);
    // Inside node_modules the path is the alias; `name` is the real package when they differ.
    const name = stringField(entry, 'name') ?? installedAs ?? linkNames.get(key);
    if (!name) continue;
    collector.add({
      name,
      version,
      dev: entry.dev === true,
      licenses: npmLicenses(entry.license) ?? npmLicenses(entry.licenses),
    });
  }
}

/** `npm:@scope/real@1.2.3` → the real package behind an alias. */
function parseAlias(version: string): { name: string; version: string } | undefined {
  const spec = version.slice('npm:'.length);
  const at = spec.lastIndexOf('@');
  if (at <= 0) return undefined;
  return { name: spec.slice(0, at), version: spec.slice(at + 1) };
}

function readDependencyTree(root: Record<string, unknown>, collector: NpmPackageCollector, notices: Notice[]): void {
  const stack: { deps: Record<string, unknown>; depth: number }[] = [{ deps: root, depth: 1 }];
  let seen = 0;
  let tooDeep = false;
  while (stack.length > 0) {
    const { deps, depth } = stack.pop()!;
    for (const [key, entry] of Object.entries(deps)) {
      if (++seen > MAX_NPM_LOCK_ENTRIES) {
        notices.push({ level: 'warning', message: `package lock lists more than ${MAX_NPM_LOCK_ENTRIES} packages; the rest were not read` });
        return;
      }
      if (!isRecord(entry)) continue;
      const version = stringField(entry, 'version');
      if (version) {
        if (version.startsWith('npm:')) {
          const alias = parseAlias(version);
          if (alias) collector.add({ ...alias, dev: entry.dev === true });
        } else {
          // git, file and URL dependencies carry a locator instead of a version: `add` refuses them.
          collector.add({ name: key, version, dev: entry.dev === true });
        }
      }
      if (isRecord(entry.dependencies)) {
        if (depth < MAX_NPM_LOCK_V1_NESTING) stack.push({ deps: entry.dependencies, depth: depth + 1 });
        else tooDeep = true;
      }
    }
  }
  if (tooDeep) notices.push({ level: 'warning', message: `package lock nests dependencies deeper than ${MAX_NPM_LOCK_V1_NESTING} levels; deeper entries were not read` });
}
