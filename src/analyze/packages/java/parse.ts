/**
 * Pure parsers for the metadata files inside Java archives: `META-INF/MANIFEST.MF`, Maven's `pom.properties`,
 * and the `name-1.2.3.jar` file-name convention.
 */

/** Manifest attributes by lower-cased name (names are case-insensitive); main-section values win over named sections. */
export type Manifest = Map<string, string>;

/**
 * Parses a JAR manifest: `Name: value` lines, a line starting with one space continues the previous value, a
 * blank line ends a section. Attributes of later (per-entry) sections fill only names the main section lacks.
 */
export function parseManifest(text: string): Manifest {
  const out: Manifest = new Map();
  let inMain = true;
  let key: string | undefined;
  let value = '';
  const flush = () => {
    if (key !== undefined && (inMain || !out.has(key))) out.set(key, value.trim());
    key = undefined;
  };
  for (const line of text.split(/\r\n|\r|\n/)) {
    if (line.startsWith(' ')) {
      if (key !== undefined) value += line.slice(1);
      continue;
    }
    flush();
    if (line === '') {
      inMain = false;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    key = line.slice(0, colon).trim().toLowerCase();
    value = line.slice(colon + 1);
  }
  flush();
  return out;
}

/** Parses a Java `.properties` file (`=`, `:` or whitespace separators, `#`/`!` comments, `\` continuations and escapes). */
export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.replace(/^[ \t\f]+/, '');
    if (line === '' || line.startsWith('#') || line.startsWith('!')) continue;
    // A line ending in an odd number of backslashes continues on the next one (leading blanks there dropped).
    while (/(^|[^\\])(\\\\)*\\$/.test(line) && i + 1 < lines.length) {
      line = line.slice(0, -1) + lines[++i]!.replace(/^[ \t\f]+/, '');
    }
    let k = 0;
    while (k < line.length && !'=: \t\f'.includes(line[k]!)) k += line[k] === '\\' ? 2 : 1;
    const key = unescapeProperty(line.slice(0, k));
    let rest = line.slice(k).replace(/^[ \t\f]+/, '');
    if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1);
    out.set(key, unescapeProperty(rest).trim());
  }
  return out;
}

function unescapeProperty(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e: string) => {
    if (e.length === 5) return String.fromCharCode(parseInt(e.slice(1), 16));
    return e === 't' ? '\t' : e === 'n' ? '\n' : e === 'r' ? '\r' : e === 'f' ? '\f' : e;
  });
}

export interface MavenCoordinates {
  groupId: string;
  artifactId: string;
  version: string;
}

/** groupId, artifactId and version from a pom.properties, if all three are present. */
export function pomPropertiesCoordinates(text: string): MavenCoordinates | undefined {
  const props = parseProperties(text);
  const groupId = props.get('groupId') ?? '';
  const artifactId = props.get('artifactId') ?? '';
  const version = props.get('version') ?? '';
  return groupId && artifactId && version ? { groupId, artifactId, version } : undefined;
}

function first(manifest: Manifest, names: readonly string[]): string | undefined {
  for (const n of names) {
    const v = manifest.get(n.toLowerCase());
    // OSGi bundles may hold `%key` placeholders resolved from a localisation file: not a value.
    if (v && !v.startsWith('%')) return v;
  }
  return undefined;
}

/** A group id the manifest states outright (Maven's Implementation-Vendor-Id, Jenkins' Group-Id), if any. */
export function manifestGroupId(manifest: Manifest): string | undefined {
  return first(manifest, ['Implementation-Vendor-Id', 'Group-Id']);
}

/**
 * The archive's own coordinates as its manifest states them, the way Trivy reads them offline: group from
 * Implementation-Vendor-Id, Jenkins' Group-Id, the OSGi Bundle-SymbolicName without its last element, or a vendor
 * name; artifact from the implementation or specification title, Jenkins' Short-Name, or the bundle name; version
 * likewise (its first word: some carry a date or build number after a space). Titles and vendors are display
 * names, so this identity is weaker than pom.properties and, when it has a version, the file name.
 */
export function manifestCoordinates(manifest: Manifest): MavenCoordinates | undefined {
  let groupId = manifestGroupId(manifest);
  if (!groupId) {
    const symbolic = manifest.get('bundle-symbolicname')?.split(';')[0]?.trim();
    const dot = symbolic ? symbolic.lastIndexOf('.') : -1;
    groupId = symbolic && dot > 0 ? symbolic.slice(0, dot) : symbolic || first(manifest, ['Implementation-Vendor', 'Specification-Vendor']);
  }
  const artifactId = first(manifest, ['Implementation-Title', 'Specification-Title', 'Short-Name', 'Bundle-Name']);
  const version = first(manifest, ['Implementation-Version', 'Plugin-Version', 'Specification-Version', 'Bundle-Version'])?.split(/\s/)[0];
  return groupId && artifactId && version ? { groupId, artifactId, version } : undefined;
}

/** File extensions of Java archives (all ZIP files): libraries, web and enterprise apps, Jenkins plugins, ZAP add-ons … */
export const JAVA_ARCHIVE_EXTENSIONS: ReadonlySet<string> = new Set(['jar', 'war', 'ear', 'par', 'sar', 'hpi', 'jpi', 'zap', 'kar', 'nar', 'lpkg']);

export function javaArchiveExtension(path: string): string | undefined {
  const dot = path.lastIndexOf('.');
  if (dot < 0 || path.length - dot > 5) return undefined;
  const ext = path.slice(dot + 1).toLowerCase();
  return JAVA_ARCHIVE_EXTENSIONS.has(ext) ? ext : undefined;
}

/**
 * `commons-lang3-3.11.jar` → commons-lang3, 3.11; `zstd-jni-1.5.7-4.jar` → zstd-jni, 1.5.7-4. The version starts
 * at the first `-` followed by a digit, unless a later word is followed by another dotted number, as in
 * `log4j-1.2-api-2.17.1.jar` (log4j-1.2-api, 2.17.1) or `hibernate-jpa-2.1-api-1.0.0.Final.jar`.
 */
export function fileNameCoordinates(path: string): { artifactId: string; version: string } | undefined {
  const base = path.slice(path.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  if (/\s/.test(stem)) return undefined;
  for (const m of stem.matchAll(/-(?=\d)/g)) {
    const artifactId = stem.slice(0, m.index);
    const version = stem.slice(m.index + 1);
    if (artifactId === '' || artifactId.endsWith('-')) continue;
    const parts = version.split('-');
    const versionStartsLater = parts.some((part, k) => k > 0 && /^[A-Za-z]+$/.test(parts[k - 1]!) && /^\d+\.\d/.test(part));
    if (!versionStartsLater) return { artifactId, version };
  }
  return undefined;
}
