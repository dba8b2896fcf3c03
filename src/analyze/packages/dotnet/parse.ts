import type { CatalogedPackage } from '../../analyzer.js';
import { packageUrl, type ScanNotice } from '../../../model/index.js';
import { MAX_DOTNET_ENTRIES, MAX_DOTNET_FILE_BYTES, MAX_PACKAGE_NAME_CHARS, MAX_PACKAGE_VERSION_CHARS } from '../../limits.js';

export type Notice = Omit<ScanNotice, 'layer'>;

export interface ParseResult {
  packages: CatalogedPackage[];
  notices: Notice[];
}

export type DotnetFileKind = 'deps.json' | 'packages.lock.json';

/** Which .NET file this is, from its name alone (cheap). */
export function dotnetFileKind(path: string): DotnetFileKind | undefined {
  if (!path.endsWith('.json')) return undefined;
  if (path.endsWith('.deps.json')) return 'deps.json';
  if (path === 'packages.lock.json' || path.endsWith('/packages.lock.json')) return 'packages.lock.json';
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const NUGET_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const NUGET_VERSION = /^[0-9][0-9A-Za-z.+-]*$/;

function nugetPackage(name: string, version: string): CatalogedPackage | undefined {
  if (name.length > MAX_PACKAGE_NAME_CHARS || !NUGET_ID.test(name) || version.length > MAX_PACKAGE_VERSION_CHARS || !NUGET_VERSION.test(version)) return undefined;
  return { name, version, type: 'nuget', purl: packageUrl('nuget', undefined, name, version) };
}

/**
 * `<app>.deps.json`, written next to every published .NET application: `libraries` maps `Name/Version` to
 * `{ type: "package" | "project" | "reference" | … }`. Only NuGet packages (`package`) are packages; the
 * application's own projects and framework references are not.
 */
export function parseDepsJson(doc: unknown): CatalogedPackage[] {
  if (!isRecord(doc) || !isRecord(doc.libraries)) return [];
  const out: CatalogedPackage[] = [];
  for (const [key, entry] of Object.entries(doc.libraries).slice(0, MAX_DOTNET_ENTRIES)) {
    if (!isRecord(entry) || entry.type !== 'package') continue;
    const slash = key.lastIndexOf('/');
    if (slash <= 0) continue;
    const pkg = nugetPackage(key.slice(0, slash), key.slice(slash + 1));
    if (pkg) out.push(pkg);
  }
  return out;
}

/**
 * NuGet's `packages.lock.json`: per target framework, `Name → { type: Direct | Transitive | CentralTransitive |
 * Project, resolved }`. Project references are not packages. The same package under several frameworks counts once.
 */
export function parsePackagesLock(doc: unknown): CatalogedPackage[] {
  if (!isRecord(doc) || !isRecord(doc.dependencies)) return [];
  const byPurl = new Map<string, CatalogedPackage>();
  let seen = 0;
  for (const framework of Object.values(doc.dependencies)) {
    if (!isRecord(framework)) continue;
    for (const [name, entry] of Object.entries(framework)) {
      if (++seen > MAX_DOTNET_ENTRIES) return [...byPurl.values()];
      if (!isRecord(entry) || entry.type === 'Project' || typeof entry.resolved !== 'string') continue;
      const pkg = nugetPackage(name, entry.resolved);
      if (pkg && !byPurl.has(pkg.purl!)) byPurl.set(pkg.purl!, pkg);
    }
  }
  return [...byPurl.values()];
}

/** Parses one .NET dependency file; malformed or oversized input becomes a notice. */
export function parseDotnetFile(kind: DotnetFileKind, content: Buffer): ParseResult {
  if (content.length > MAX_DOTNET_FILE_BYTES) {
    const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
    return { packages: [], notices: [{ level: 'warning', message: `${kind} is ${mib(content.length)}, over the ${mib(MAX_DOTNET_FILE_BYTES)} limit: not read` }] };
  }
  let doc: unknown;
  try {
    const text = content.toString('utf8');
    doc = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (err) {
    return { packages: [], notices: [{ level: 'warning', message: `${kind} could not be parsed: ${(err as Error).message.slice(0, 200)}` }] };
  }
  return { packages: kind === 'deps.json' ? parseDepsJson(doc) : parsePackagesLock(doc), notices: [] };
}
