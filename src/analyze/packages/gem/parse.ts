import type { CatalogedPackage } from '../../analyzer.js';
import { packageUrl, type ScanNotice } from '../../../model/index.js';
import { MAX_GEM_EXPRESSION_LITERALS, MAX_GEM_FILE_BYTES, MAX_GEM_LICENSES, MAX_PACKAGE_NAME_CHARS, MAX_PACKAGE_VERSION_CHARS } from '../../limits.js';

export type Notice = Omit<ScanNotice, 'layer'>;

export interface ParseResult {
  packages: CatalogedPackage[];
  notices: Notice[];
}

export type GemFileKind = 'gemspec' | 'Gemfile.lock';

/**
 * Which Ruby file this is, from its path alone (cheap). Installed gems leave their specification in
 * `…/specifications/<name>-<version>.gemspec` (RubyGems' own stub, a fixed Ruby-DSL shape); Bundler's lock file is
 * `Gemfile.lock` (also `Gemfile.next.lock` and the like for dual-boot apps, and `gems.locked`). A `.gemspec` in a source checkout is
 * arbitrary Ruby and is not read.
 */
const INSTALLED_GEM_DIR = /(?:^|\/)gems\/[^/]+-\d[^/]*\//;

export function gemFileKind(path: string): GemFileKind | undefined {
  if (path.endsWith('.gemspec')) {
    return path.startsWith('specifications/') || path.includes('/specifications/') ? 'gemspec' : undefined;
  }
  if (path.endsWith('.lock') || path.endsWith('/gems.locked') || path === 'gems.locked') {
    const base = path.slice(path.lastIndexOf('/') + 1);
    if (!base.startsWith('Gemfile') && base !== 'gems.locked') return undefined;
    // A lock file inside an installed gem (`…/gems/rack-3.0.8/Gemfile.lock`) is its authors' dev setup.
    return INSTALLED_GEM_DIR.test(path) ? undefined : 'Gemfile.lock';
  }
  return undefined;
}

const GEM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const GEM_VERSION = /^[0-9][0-9A-Za-z.]*$/;

function gemPackage(name: string, version: string, extras: { licenses?: string[]; platform?: string }): CatalogedPackage | undefined {
  if (name.length > MAX_PACKAGE_NAME_CHARS || !GEM_NAME.test(name) || version.length > MAX_PACKAGE_VERSION_CHARS || !GEM_VERSION.test(version)) return undefined;
  return {
    name,
    version,
    type: 'gem',
    purl: packageUrl('gem', undefined, name, version),
    ...(extras.licenses && extras.licenses.length > 0 ? { licenses: extras.licenses } : {}),
    ...(extras.platform && extras.platform !== 'ruby' ? { metadata: { platform: extras.platform } } : {}),
  };
}

/**
 * The string literals of a Ruby expression, up to a comment: `"x".freeze`, `'x'`, `%q<x>`, `["a".freeze, "b"]`,
 * `Gem::Version.new("1.2.3")`. Interpolated strings (`"#{…}"`) are dropped: their value is not in the file.
 */
export function rubyStringLiterals(expression: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < expression.length && out.length < MAX_GEM_EXPRESSION_LITERALS) {
    const c = expression[i]!;
    if (c === '#') break;
    if (c === '"' || c === "'") {
      let value = '';
      let j = i + 1;
      for (; j < expression.length && expression[j] !== c; j++) {
        if (expression[j] === '\\' && j + 1 < expression.length) {
          j++;
          value += unescapeRuby(expression[j]!, c);
        } else {
          value += expression[j];
        }
      }
      if (!(c === '"' && value.includes('#{'))) out.push(value);
      i = j + 1;
      continue;
    }
    if (c === '%' && /^%[qQ]?[<({[|!/]/.test(expression.slice(i, i + 3))) {
      const open = expression[i + 1] === 'q' || expression[i + 1] === 'Q' ? i + 2 : i + 1;
      const delimiter = expression[open]!;
      const close = ({ '<': '>', '(': ')', '{': '}', '[': ']' } as Record<string, string>)[delimiter] ?? delimiter;
      const end = expression.indexOf(close, open + 1);
      if (end < 0) break;
      out.push(expression.slice(open + 1, end));
      i = end + 1;
      continue;
    }
    i++;
  }
  return out;
}

function unescapeRuby(ch: string, quote: string): string {
  if (quote === "'") return ch === "'" || ch === '\\' ? ch : `\\${ch}`;
  return ch === 'n' ? '\n' : ch === 't' ? '\t' : ch;
}

/**
 * An installed gem's specification stub, e.g. `s.name = "rake".freeze` / `s.version = "13.0.3"` /
 * `s.licenses = ["MIT".freeze]`. Assignments must use the block's variable (`Gem::Specification.new do |s|`).
 * A file without a name and a version gives nothing.
 */
export function parseGemspec(text: string): ParseResult {
  const block = /Gem::Specification\.new\s*(?:do|\{)\s*\|\s*(\w+)\s*\|/.exec(text);
  const receiver = block ? block[1]! : '\\w+';
  const assignment = new RegExp(`^\\s*${receiver}\\.(name|version|licenses?|platform)\\s*=\\s*(.*)$`);
  let name: string | undefined;
  let version: string | undefined;
  let platform: string | undefined;
  const licenses: string[] = [];
  for (const line of text.split('\n')) {
    const m = assignment.exec(line);
    if (!m) continue;
    const [, field, expression] = m;
    const strings = rubyStringLiterals(expression!);
    if (field === 'name') name ??= strings[0];
    else if (field === 'version') version ??= strings[0];
    else if (field === 'platform') platform ??= strings[0];
    else {
      for (const l of strings) {
        if (licenses.length < MAX_GEM_LICENSES && l.trim() && !licenses.includes(l.trim())) licenses.push(l.trim());
      }
    }
  }
  const pkg = name && version ? gemPackage(name.trim(), version.trim(), { licenses, platform }) : undefined;
  return { packages: pkg ? [pkg] : [], notices: [] };
}

/**
 * Bundler's `Gemfile.lock`: every `specs:` list of the GEM, GIT, PATH and PLUGIN SOURCE sections, four-space
 * indented `name (version)` lines (six-space lines below are that gem's own dependencies). A platform suffix
 * (`nokogiri (1.13.6-x86_64-linux)`) is split off into metadata.platform.
 */
export function parseGemfileLock(text: string): ParseResult {
  const byPurl = new Map<string, CatalogedPackage>();
  let inSpecs = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    if (!line.startsWith(' ')) {
      inSpecs = false;
      continue;
    }
    if (line === '  specs:') {
      inSpecs = true;
      continue;
    }
    if (!inSpecs || !line.startsWith('    ') || line.startsWith('     ')) continue;
    const m = /^ {4}(\S+) \(([^)\s]+)\)$/.exec(line);
    if (!m) continue;
    const [, name, fullVersion] = m;
    const dash = fullVersion!.indexOf('-');
    const version = dash > 0 ? fullVersion!.slice(0, dash) : fullVersion!;
    const platform = dash > 0 ? fullVersion!.slice(dash + 1) : undefined;
    const pkg = gemPackage(name!, version, { platform });
    if (pkg && !byPurl.has(pkg.purl!)) byPurl.set(pkg.purl!, pkg);
  }
  return { packages: [...byPurl.values()], notices: [] };
}

/** Parses one gemspec or Gemfile.lock; oversized input becomes a notice. */
export function parseGemFile(kind: GemFileKind, content: Buffer): ParseResult {
  if (content.length > MAX_GEM_FILE_BYTES[kind]) {
    const mib = (n: number) => `${(n / (1024 * 1024)).toFixed(1)} MiB`;
    return {
      packages: [],
      notices: [{ level: 'warning', message: `${kind} is ${mib(content.length)}, over the ${mib(MAX_GEM_FILE_BYTES[kind])} limit: not read` }],
    };
  }
  const text = content.toString('utf8');
  return kind === 'gemspec' ? parseGemspec(text) : parseGemfileLock(text);
}
