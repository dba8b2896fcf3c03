import type { OsInfo } from '../../model/index.js';
import { MAX_ALPINE_RELEASE_CHARS, MAX_DEBIAN_VERSION_CHARS, MAX_REDHAT_RELEASE_CHARS, MAX_RELEASE_FILE_CHARS, MAX_RELEASE_VALUE_CHARS } from '../limits.js';

/**
 * Parsers for the files that name a Linux distribution. Each takes the file's text and returns an `OsInfo`, or
 * `null` when the text does not say which distribution this is. None of them throws.
 */

/**
 * `KEY=value` assignments in the shell-compatible syntax os-release(5) and lsb-release use: `#` comments, values
 * unquoted, in double quotes (with `\"`, `\\`, `` \` ``, `\$` escapes) or in single quotes (no escapes).
 */
export function parseShellAssignments(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const body = text.length > MAX_RELEASE_FILE_CHARS ? text.slice(0, MAX_RELEASE_FILE_CHARS) : text;
  for (const rawLine of body.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) continue;
    const value = unquoteShellValue(line.slice(eq + 1));
    if (value === null) continue;
    out.set(key, value.length > MAX_RELEASE_VALUE_CHARS ? value.slice(0, MAX_RELEASE_VALUE_CHARS) : value);
  }
  return out;
}

/** The value of one assignment, quotes removed and escapes resolved; `null` when a quote is left open. */
function unquoteShellValue(raw: string): string | null {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const c = raw[i]!;
    if (c === '"') {
      i++;
      let closed = false;
      while (i < raw.length) {
        const d = raw[i]!;
        if (d === '\\' && i + 1 < raw.length && '"\\`$'.includes(raw[i + 1]!)) {
          out += raw[i + 1]!;
          i += 2;
          continue;
        }
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        out += d;
        i++;
      }
      if (!closed) return null;
    } else if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      if (end < 0) return null;
      out += raw.slice(i + 1, end);
      i = end + 1;
    } else if (c === '\\' && i + 1 < raw.length) {
      out += raw[i + 1]!;
      i += 2;
    } else if (c === '#' && (i === 0 || /\s/.test(raw[i - 1]!))) {
      break; // a trailing comment after an unquoted value
    } else {
      // Unquoted spaces would end the value in a shell; some hand-written files have them, so keep them.
      out += c;
      i++;
    }
  }
  return out.trimEnd();
}

/** os-release(5): `/etc/os-release` or `/usr/lib/os-release`. */
export function parseOsRelease(text: string): OsInfo | null {
  const fields = parseShellAssignments(text);
  if (fields.size === 0) return null;
  // The specification says a missing ID means "linux"; only believe that when the file has os-release keys at all.
  const known = ['ID', 'NAME', 'VERSION_ID', 'PRETTY_NAME', 'VERSION_CODENAME', 'ID_LIKE'];
  if (!known.some((k) => fields.has(k))) return null;
  const id = (fields.get('ID') || 'linux').toLowerCase();
  const info: OsInfo = { id };
  const versionId = fields.get('VERSION_ID');
  if (versionId) info.versionId = versionId;
  const codename = fields.get('VERSION_CODENAME') || fields.get('UBUNTU_CODENAME');
  if (codename) info.versionCodename = codename;
  const prettyName = fields.get('PRETTY_NAME') || fields.get('NAME');
  if (prettyName) info.prettyName = prettyName;
  const idLike = fields.get('ID_LIKE');
  if (idLike) {
    const parts = idLike.toLowerCase().split(/\s+/).filter(Boolean);
    if (parts.length > 0) info.idLike = parts;
  }
  return info;
}

/** `/etc/lsb-release` (Ubuntu and derivatives): `DISTRIB_ID`, `DISTRIB_RELEASE`, `DISTRIB_CODENAME`. */
export function parseLsbRelease(text: string): OsInfo | null {
  const fields = parseShellAssignments(text);
  const distribId = fields.get('DISTRIB_ID');
  if (!distribId) return null;
  const info: OsInfo = { id: distribId.toLowerCase().replace(/\s+/g, '') };
  const release = fields.get('DISTRIB_RELEASE');
  if (release) info.versionId = release;
  const codename = fields.get('DISTRIB_CODENAME');
  if (codename) info.versionCodename = codename;
  const description = fields.get('DISTRIB_DESCRIPTION');
  if (description) info.prettyName = description;
  return info;
}

function firstLine(text: string): string {
  const body = text.length > MAX_RELEASE_FILE_CHARS ? text.slice(0, MAX_RELEASE_FILE_CHARS) : text;
  return (body.split('\n').find((l) => l.trim() !== '') ?? '').trim();
}

/** `/etc/alpine-release`: one line, the version (`3.19.1`). */
export function parseAlpineRelease(text: string): OsInfo | null {
  const version = firstLine(text);
  if (!/^\d+\.\d+[0-9A-Za-z._-]*$/.test(version) || version.length > MAX_ALPINE_RELEASE_CHARS) return null;
  return { id: 'alpine', versionId: version, prettyName: `Alpine Linux v${version.split('.').slice(0, 2).join('.')}` };
}

/**
 * `/etc/debian_version`: a point release (`12.5`), or `codename/sid` on testing and unstable. The version id is the
 * major number, as Debian's own os-release gives it (`VERSION_ID="12"`).
 */
export function parseDebianVersion(text: string): OsInfo | null {
  const line = firstLine(text);
  if (line === '' || line.length > MAX_DEBIAN_VERSION_CHARS) return null;
  const numeric = /^(\d+)(?:\.\d+)*$/.exec(line);
  if (numeric) return { id: 'debian', versionId: numeric[1]!, prettyName: `Debian GNU/Linux ${line}` };
  const testing = /^([a-z]+)\/sid$/.exec(line);
  if (testing) return { id: 'debian', versionCodename: testing[1]!, prettyName: `Debian GNU/Linux ${line}` };
  return null;
}

/** Distribution names as they open a Red Hat-style release line, with the os-release ID each one uses. */
const REDHAT_FAMILY: readonly [RegExp, string][] = [
  [/^red hat enterprise linux/i, 'rhel'],
  [/^centos stream/i, 'centos'],
  [/^centos/i, 'centos'],
  [/^fedora/i, 'fedora'],
  [/^rocky linux/i, 'rocky'],
  [/^almalinux/i, 'almalinux'],
  [/^oracle linux/i, 'ol'],
  [/^amazon linux/i, 'amzn'],
  [/^scientific linux/i, 'scientific'],
  [/^cloudlinux/i, 'cloudlinux'],
  [/^eurolinux/i, 'eurolinux'],
];

/**
 * `/etc/redhat-release`, `/etc/centos-release`, `/etc/system-release` and the like: one line such as
 * `CentOS Linux release 7.9.2009 (Core)` or `Red Hat Enterprise Linux Server release 7.9 (Maipo)`.
 * The version id is the release number as written (`7.9.2009`).
 */
export function parseRedhatRelease(text: string): OsInfo | null {
  const line = firstLine(text);
  if (line === '' || line.length > MAX_REDHAT_RELEASE_CHARS) return null;
  const family = REDHAT_FAMILY.find(([pattern]) => pattern.test(line));
  if (!family) return null;
  const info: OsInfo = { id: family[1], prettyName: line };
  const version = /\brelease\s+(\d+(?:\.\d+)*)/i.exec(line);
  if (version) info.versionId = version[1]!;
  return info;
}
