import type { CatalogedPackage } from '../../analyzer.js';
import { packageUrl } from '../../../model/index.js';

/** A module line of Go's module info (`mod`, `dep`, or the `=>` replacement after one). */
export interface GoModule {
  path: string;
  version: string;
  /** `h1:` checksum from go.sum, when the module was downloaded. */
  sum?: string;
  replace?: GoModule;
}

export interface GoBuildSetting {
  key: string;
  value: string;
}

/** What `runtime/debug.BuildInfo` holds, read from the text the linker embeds. */
export interface GoModInfo {
  /** Main package path (`path` line), e.g. `github.com/org/tool/cmd/tool`. */
  path?: string;
  main?: GoModule;
  deps: GoModule[];
  settings: GoBuildSetting[];
  /** Lines that did not parse (counted, not fatal: the rest is still useful). */
  malformedLines: number;
}

/** The version Go writes for a main module built from a checkout, and for directory replacements. */
export const DEVEL_VERSION = '(devel)';

/** Parses the module info text (`path`, `mod`, `dep`, `=>`, `build` lines, tab-separated). */
export function parseModInfo(text: string): GoModInfo {
  const info: GoModInfo = { deps: [], settings: [], malformedLines: 0 };
  let last: GoModule | undefined;
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '') continue;
    const tab = line.indexOf('\t');
    const kind = tab < 0 ? line : line.slice(0, tab);
    const rest = tab < 0 ? '' : line.slice(tab + 1);
    // A replacement applies to the module line right before it, and to nothing else.
    const previous = last;
    last = undefined;
    switch (kind) {
      case 'go':
        break;
      case 'path':
        info.path = rest;
        break;
      case 'mod':
      case 'dep': {
        const mod = parseModuleFields(rest);
        if (!mod) {
          info.malformedLines++;
          break;
        }
        if (kind === 'mod') info.main = mod;
        else info.deps.push(mod);
        last = mod;
        break;
      }
      case '=>': {
        const replacement = parseModuleFields(rest);
        if (!replacement || !previous) {
          info.malformedLines++;
          break;
        }
        previous.replace = replacement;
        break;
      }
      case 'build': {
        const setting = parseBuildSetting(rest);
        if (setting) info.settings.push(setting);
        else info.malformedLines++;
        break;
      }
      default:
        info.malformedLines++;
    }
  }
  return info;
}

/** `path\tversion\tsum`; the version is empty for directory replacements written by older toolchains. */
function parseModuleFields(rest: string): GoModule | undefined {
  const fields = rest.split('\t');
  const path = fields[0] ?? '';
  const version = fields[1] ?? '';
  if (path === '' || /\s/.test(path)) return undefined;
  const mod: GoModule = { path, version };
  if (fields[2]) mod.sum = fields[2];
  return mod;
}

/** `key=value`, where Go quotes (strconv.Quote) a key or value containing spaces, tabs, quotes or `=`. */
export function parseBuildSetting(rest: string): GoBuildSetting | undefined {
  let key: string;
  let after: string;
  if (rest.startsWith('"')) {
    const q = unquoteGo(rest);
    if (!q) return undefined;
    key = q.value;
    after = q.rest;
  } else {
    const eq = rest.indexOf('=');
    if (eq < 0) return undefined;
    key = rest.slice(0, eq);
    after = rest.slice(eq);
  }
  if (!after.startsWith('=') || key === '') return undefined;
  const rawValue = after.slice(1);
  if (rawValue.startsWith('"')) {
    const q = unquoteGo(rawValue);
    if (!q || q.rest !== '') return undefined;
    return { key, value: q.value };
  }
  return { key, value: rawValue };
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34, "'": 39 };

/** Reads one Go double-quoted string literal at the start of `s`; returns its value and what follows it. */
export function unquoteGo(s: string): { value: string; rest: string } | undefined {
  if (!s.startsWith('"')) return undefined;
  const bytes: number[] = [];
  const pushText = (text: string) => {
    for (const b of Buffer.from(text, 'utf8')) bytes.push(b);
  };
  let i = 1;
  while (i < s.length) {
    const c = s[i]!;
    if (c === '"') return { value: Buffer.from(bytes).toString('utf8'), rest: s.slice(i + 1) };
    if (c !== '\\') {
      const cp = s.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      pushText(ch);
      i += ch.length;
      continue;
    }
    const e = s[i + 1];
    if (e === undefined) return undefined;
    if (e in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[e]!);
      i += 2;
    } else if (e === 'x') {
      const hex = s.slice(i + 2, i + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 4;
    } else if (e === 'u' || e === 'U') {
      const n = e === 'u' ? 4 : 8;
      const hex = s.slice(i + 2, i + 2 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) return undefined;
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) return undefined;
      pushText(String.fromCodePoint(cp));
      i += 2 + n;
    } else if (/[0-7]/.test(e)) {
      const oct = s.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) return undefined;
      bytes.push(parseInt(oct, 8));
      i += 4;
    } else {
      return undefined;
    }
  }
  return undefined;
}

/** Splits a command line as a POSIX shell would (quotes and backslashes; no expansion). */
export function splitShellWords(line: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote === "'") {
      if (c === "'") quote = null;
      else current += c;
      continue;
    }
    if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1]!)) current += line[++i];
      else current += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      current += line[++i];
      inWord = true;
    } else if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/** `-X importpath.name=value` assignments in an `-ldflags` value, in order. */
export function ldflagsVariables(ldflags: string): { key: string; value: string }[] {
  const words = splitShellWords(ldflags);
  const out: { key: string; value: string }[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let assignment: string | undefined;
    if (w === '-X' || w === '--X') assignment = words[++i];
    else if (w.startsWith('--X=')) assignment = w.slice(4);
    else if (w.startsWith('-X')) assignment = w.slice(w[2] === '=' ? 3 : 2);
    if (assignment === undefined) continue;
    const eq = assignment.indexOf('=');
    if (eq <= 0) continue;
    out.push({ key: assignment.slice(0, eq).replace(/^'+/, ''), value: assignment.slice(eq + 1).replace(/'+$/, '') });
  }
  return out;
}

const SEMVER = /^v?(0|[1-9]\d*)(\.(0|[1-9]\d*)(\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?)?$/;
const CONVENTIONAL_VERSION_PACKAGES = new Set(['main', 'common', 'version', 'cmd']);

/**
 * The main module's version stamped with `-ldflags "-X …version=1.2.3"`, for binaries built from a checkout
 * (whose module version is `(devel)`). Variables named `*.version` / `*.ver` holding a semantic version count;
 * one under the module's own `cmd/` tree wins, then one in a conventionally named package (main, common,
 * version, cmd), then any other. Several different values at the deciding level make the answer unknown.
 */
export function versionFromLdflags(settings: readonly GoBuildSetting[], mainPath: string): string | undefined {
  const ldflags = settings.find((s) => s.key === '-ldflags')?.value;
  if (!ldflags) return undefined;
  const ranks: Set<string>[] = [new Set(), new Set(), new Set()];
  for (const { key, value } of ldflagsVariables(ldflags)) {
    const lower = key.toLowerCase();
    if (!(lower.endsWith('.version') || lower.endsWith('.ver')) || !SEMVER.test(value)) continue;
    const pkg = key.slice(key.lastIndexOf('/') + 1).split('.')[0]!.toLowerCase();
    const rank = key.startsWith(`${mainPath}/cmd/`) ? 0 : CONVENTIONAL_VERSION_PACKAGES.has(pkg) ? 1 : 2;
    ranks[rank]!.add(value);
  }
  for (const values of ranks) {
    if (values.size === 1) return [...values][0];
    if (values.size > 1) return undefined;
  }
  return undefined;
}

/** `go1.22.1 X:boringcrypto` → `1.22.1`; `go1.21rc2` → `1.21rc2`; anything else as its first word. */
export function stdlibVersion(goVersion: string): string {
  const first = goVersion.split(' ')[0] ?? goVersion;
  return first.startsWith('go') ? first.slice(2) : first;
}

/** Build settings worth keeping with the toolchain package (the rest stay in the binary). */
const KEPT_SETTINGS = ['GOOS', 'GOARCH', 'CGO_ENABLED', '-buildmode', '-compiler', 'GOEXPERIMENT', 'GOFIPS140'];
const VCS_SETTINGS = ['vcs', 'vcs.revision', 'vcs.time', 'vcs.modified'];

function isLocalPath(path: string): boolean {
  return path.startsWith('./') || path.startsWith('../') || path.startsWith('/') || path === '.' || /^[A-Za-z]:[\\/]/.test(path);
}

/** A purl for a Go module path (the last element is the name, the rest the namespace); undefined if none can be made. */
function goPurl(path: string, version: string): string | undefined {
  const slash = path.lastIndexOf('/');
  const namespace = slash > 0 ? path.slice(0, slash) : undefined;
  const name = slash > 0 ? path.slice(slash + 1) : path;
  try {
    return packageUrl('golang', namespace, name, version === DEVEL_VERSION || version === '' ? undefined : version);
  } catch {
    return undefined;
  }
}

/**
 * The packages of one Go binary: the toolchain as `stdlib` (version without `go`, as govulncheck, Trivy and
 * Grype name it), the main module, and every dependency (after `=>` replacements).
 */
export function goBinaryPackages(goVersion: string, info: GoModInfo): CatalogedPackage[] {
  const packages = new Map<string, CatalogedPackage>();
  const add = (p: CatalogedPackage) => {
    if (p.purl && !packages.has(p.purl)) packages.set(p.purl, p);
  };

  const settings = new Map(info.settings.map((s) => [s.key, s.value]));
  const stdlibMeta: Record<string, string> = { toolchain: goVersion };
  for (const key of KEPT_SETTINGS) {
    const v = settings.get(key);
    if (v !== undefined) stdlibMeta[key] = v;
  }
  const experiment = /\bX:(\S+)/.exec(goVersion)?.[1];
  if (experiment) stdlibMeta.goExperiment = experiment;
  const stdVersion = stdlibVersion(goVersion);
  add({ name: 'stdlib', version: stdVersion, type: 'golang', purl: packageUrl('golang', undefined, 'stdlib', stdVersion), metadata: stdlibMeta });

  if (info.main?.path) {
    const main = info.main;
    const meta: Record<string, string | boolean> = { mainModule: true };
    if (info.path) meta.mainPackage = info.path;
    for (const key of VCS_SETTINGS) {
      const v = settings.get(key);
      if (v !== undefined) meta[key] = v;
    }
    let version = main.version || DEVEL_VERSION;
    const stamped = versionFromLdflags(info.settings, main.path);
    if (stamped && (version === DEVEL_VERSION || version.startsWith('v0.0.0-'))) {
      meta.versionFrom = 'ldflags';
      meta.moduleVersion = version;
      version = stamped;
    } else if (version === DEVEL_VERSION) {
      // Built from a checkout without a stamped version: kept as Go wrote it, and marked so nothing matches on it.
      meta.develVersion = true;
    }
    add({ name: main.path, version, type: 'golang', purl: goPurl(main.path, version), metadata: meta });
  }

  for (const dep of info.deps) {
    const meta: Record<string, string | boolean> = {};
    let path = dep.path;
    let version = dep.version;
    let sum = dep.sum;
    const replace = dep.replace;
    if (replace) {
      meta.replaces = `${dep.path}@${dep.version}`;
      if (isLocalPath(replace.path) || replace.version === '' || replace.version === DEVEL_VERSION) {
        // Replaced by a directory: the code is whatever was there, so the original version says nothing.
        meta.replacedByDirectory = replace.path;
        version = DEVEL_VERSION;
        meta.develVersion = true;
        sum = undefined;
      } else {
        path = replace.path;
        version = replace.version;
        sum = replace.sum;
      }
    }
    if (version === '') continue;
    if (sum) meta.checksum = sum;
    add({ name: path, version, type: 'golang', purl: goPurl(path, version), ...(Object.keys(meta).length > 0 ? { metadata: meta } : {}) });
  }
  return [...packages.values()];
}
