import { NpmPackageCollector, type ParseResult } from './collect.js';
import { MAX_YARN_DESCRIPTORS_PER_ENTRY } from '../../limits.js';

/** Protocols whose entries are not registry packages or duplicate another entry (`patch:` wraps an npm one). */
const SKIPPED_PROTOCOLS = new Set(['file', 'link', 'portal', 'workspace', 'patch', 'exec']);
/** Protocols whose entries are real packages fetched from somewhere (the registry, git, a tarball URL). */
const FETCHED_PROTOCOLS = new Set(['npm', 'git', 'git+ssh', 'git+https', 'git+http', 'http', 'https', 'github', 'gitlab', 'bitbucket']);

interface LockBlock {
  descriptors: string[];
  fields: Map<string, string>;
}

/**
 * `yarn.lock`, both formats, read line by line (linear in the file, no YAML parser needed):
 * v1 (`name@range:` then `  version "1.2.3"`) and Berry (`"name@npm:range":` then `  version: 1.2.3` and
 * `  resolution: "name@npm:1.2.3"`, recognised by its `__metadata` entry). Local (`file:`, `link:`, `portal:`),
 * patched and unresolved workspace entries are skipped; git and tarball entries are kept with their `version`.
 */
export function parseYarnLock(text: string): ParseResult {
  const blocks = readBlocks(text);
  const berry = blocks.some((b) => b.descriptors[0] === '__metadata');
  const collector = new NpmPackageCollector();
  for (const block of blocks) {
    const entry = berry ? berryEntry(block) : classicEntry(block);
    if (entry) collector.add(entry);
  }
  return { packages: collector.packages(), notices: [] };
}

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) return t.slice(1, -1);
  return t;
}

/** Splits `a@^1, "b@^2"` at commas outside quotes. */
function splitDescriptors(header: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote = '';
  for (const ch of header) {
    if (quote) {
      if (ch === quote) quote = '';
      else current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
    } else if (ch === ',') {
      out.push(current.trim());
      current = '';
      if (out.length >= MAX_YARN_DESCRIPTORS_PER_ENTRY) return out;
    } else {
      current += ch;
    }
  }
  if (current.trim()) out.push(current.trim());
  return out.filter(Boolean);
}

function readBlocks(text: string): LockBlock[] {
  const blocks: LockBlock[] = [];
  let current: LockBlock | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const indent = line.length - line.trimStart().length;
    if (indent === 0) {
      current = undefined;
      if (!line.endsWith(':')) continue;
      current = { descriptors: splitDescriptors(line.slice(0, -1)), fields: new Map() };
      blocks.push(current);
      continue;
    }
    // Only the entry's own fields (two-space indent); nested maps such as `dependencies:` are not needed.
    if (!current || indent !== 2) continue;
    const field = parseField(line.trim());
    if (field && !current.fields.has(field.key)) current.fields.set(field.key, field.value);
  }
  return blocks;
}

/** `version "1.2.3"`, `"version" "1.2.3"` (v1) or `version: 1.2.3` (Berry). */
function parseField(line: string): { key: string; value: string } | undefined {
  let key: string;
  let rest: string;
  if (line.startsWith('"')) {
    const end = line.indexOf('"', 1);
    if (end < 0) return undefined;
    key = line.slice(1, end);
    rest = line.slice(end + 1);
  } else {
    const m = /^([^\s:]+)(:?)(?:\s|$)/.exec(line);
    if (!m) return undefined;
    key = m[1]!;
    rest = line.slice(m[0].length);
  }
  rest = rest.replace(/^:/, '').trim();
  if (!rest) return undefined;
  return { key, value: unquote(rest) };
}

/** `@scope/name@range` → name and range (the range may itself contain `@`, e.g. `npm:real@^1`). */
function splitDescriptor(descriptor: string): { name: string; range: string } | undefined {
  const at = descriptor.indexOf('@', descriptor.startsWith('@') ? 1 : 0);
  if (at <= 0) return undefined;
  return { name: descriptor.slice(0, at), range: descriptor.slice(at + 1) };
}

function protocolOf(range: string): string | undefined {
  const m = /^([a-z][a-z0-9+]*):/.exec(range);
  return m ? m[1] : undefined;
}

/** The package a registry tarball URL serves: `…/@4lolo/resize-observer-polyfill/-/resize-observer-polyfill-1.5.2.tgz`. */
function nameFromRegistryUrl(url: string): string | undefined {
  const m = /^https?:\/\/[^/]+\/((?:@[^/]+\/)?[^/@]+)\/-\/[^/]+\.tgz(?:#.*)?$/.exec(url);
  return m ? decodeURIComponent(m[1]!).replace(/^%40/, '@') : undefined;
}

function classicEntry(block: LockBlock): { name: string; version: string } | undefined {
  const version = block.fields.get('version');
  const first = block.descriptors[0];
  if (!version || !first) return undefined;
  const descriptor = splitDescriptor(first);
  if (!descriptor) return undefined;
  let { name } = descriptor;
  const protocol = protocolOf(descriptor.range);
  if (protocol && (SKIPPED_PROTOCOLS.has(protocol) || !FETCHED_PROTOCOLS.has(protocol))) return undefined;
  if (protocol === 'npm') {
    const aliased = splitDescriptor(descriptor.range.slice('npm:'.length));
    if (aliased) name = aliased.name;
  }
  const resolved = block.fields.get('resolved');
  const fromUrl = resolved ? nameFromRegistryUrl(resolved) : undefined;
  return { name: fromUrl ?? name, version };
}

function berryEntry(block: LockBlock): { name: string; version: string } | undefined {
  const version = block.fields.get('version');
  const resolution = block.fields.get('resolution');
  const first = block.descriptors[0];
  if (!version || !resolution || !first || first === '__metadata') return undefined;
  const resolved = splitDescriptor(resolution);
  if (!resolved) return undefined;
  const protocol = protocolOf(resolved.range);
  if (protocol === 'workspace') {
    // The project's own packages; `0.0.0-use.local` means the workspace declares no version.
    if (version === '0.0.0-use.local') return undefined;
    const declared = splitDescriptor(first);
    return { name: declared?.name ?? resolved.name, version };
  }
  if (protocol && (SKIPPED_PROTOCOLS.has(protocol) || !FETCHED_PROTOCOLS.has(protocol))) return undefined;
  return { name: resolved.name, version };
}
