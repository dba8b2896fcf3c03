/**
 * Alpine's security database (secdb, https://secdb.alpinelinux.org/), YAML or JSON, one file per release and
 * repository:
 *
 *   distroversion: v3.11
 *   reponame: main
 *   packages:
 *     - pkg:
 *         name: openssl
 *         secfixes:
 *           1.1.1d-r3: [CVE-2019-1551]     # fixed in this apk version (of the source package, "origin")
 *           "0": [CVE-2020-1967]           # never vulnerable in this release
 *
 * Each id becomes one record per file (id = the CVE; other ids on the same line such as `XSA-214` or a GHSA are
 * aliases) naming every package of the file it concerns. Wolfi and Chainguard publish the same format (no
 * `distroversion`; ecosystem `wolfi` / `chainguard`), as does vuln-list's one-package-per-file copy
 * (`{ "name", "secfixes", "distroversion" }`).
 */
import type { AdvisoryRecord, AffectedPackage, Ecosystem, FeedImporter } from '../model.js';
import { apkVersions } from '../versions/index.js';
import { FeedInputError, errorMessage, isObject, parseJson, parseYaml, readBoundedFile, text, type JsonObject, type Notice } from './common.js';
import { MAX_SECDB_ADVISORY_ID_CHARS, resolveFeedLimits, type FeedLimits } from './limits.js';

/** The advisory ecosystem a secdb file describes, or null when it does not say. */
export function secdbEcosystem(doc: JsonObject, path: string): Ecosystem | null {
  const version = text(doc.distroversion);
  if (version) {
    const m = /^v?(\d+\.\d+)/.exec(version);
    if (m) return `alpine:${m[1]}`;
    if (version === 'edge') return 'alpine:edge';
  }
  const prefix = text(doc.urlprefix) ?? '';
  const repo = text(doc.reponame) ?? '';
  if (repo === 'chainguard' || prefix.includes('cgr.dev')) return 'chainguard';
  if (prefix.includes('wolfi.dev')) return 'wolfi';
  const fromPath = /(?:^|[/\\])v(\d+\.\d+)[/\\]/.exec(path);
  return fromPath ? `alpine:${fromPath[1]}` : null;
}

const ADVISORY_ID = /^[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9._:]+)+$/;

/** The identifiers on one secfixes line: `CVE-2017-8904 XSA-214`, `CVE-2017-2616 (+ regression fix)`. */
export function secfixIds(line: string): string[] {
  const ids: string[] = [];
  // `CVE_2019-2426`, `CVE 2018-16859`: typos of a CVE id
  const cleaned = line.replace(/\([^)]*\)/g, ' ').replace(/\bCVE[\s_]+(\d{4}-\d{4,})/gi, 'CVE-$1');
  for (const token of cleaned.split(/[\s,;]+/)) {
    if (!ADVISORY_ID.test(token) || token.length > MAX_SECDB_ADVISORY_ID_CHARS) continue;
    ids.push(/^cve-/i.test(token) ? token.toUpperCase() : token);
  }
  return ids;
}

interface Fix {
  /** Lowest version named as fixing it; undefined: only under "0" (not affected). */
  fixed?: string;
}

interface Collected {
  aliases: Set<string>;
  packages: Map<string, Fix>;
}

function collectPackage(name: string, secfixes: JsonObject, into: Map<string, Collected>, notice: Notice): void {
  for (const [version, lines] of Object.entries(secfixes)) {
    const fixVersion = version.trim();
    const notAffected = fixVersion === '0';
    if (!notAffected && !apkVersions.valid(fixVersion)) {
      // upstream typos (`4.8.0.-r1`, `2.7.16-33`) still name the fix: apk-tools compares them token by token
      if (!/^\d[^\s]{0,63}$/.test(fixVersion)) {
        notice(`${name}: "${fixVersion.slice(0, 100)}" is not a version; its fixes are skipped`);
        continue;
      }
      notice(`${name}: "${fixVersion}" is not a valid apk version; kept, compared as apk-tools compares it`);
    }
    const entries = Array.isArray(lines) ? lines : typeof lines === 'string' && lines !== '' ? [lines] : [];
    for (const entry of entries) {
      const ids = typeof entry === 'string' ? secfixIds(entry) : [];
      const id = ids.find((i) => i.startsWith('CVE-')) ?? ids[0];
      if (id === undefined) {
        notice(`${name} ${fixVersion}: ${JSON.stringify(entry)?.slice(0, 100)} names no advisory; skipped`);
        continue;
      }
      let c = into.get(id);
      if (!c) into.set(id, (c = { aliases: new Set(), packages: new Map() }));
      for (const other of ids) if (other !== id) c.aliases.add(other);
      const fix = c.packages.get(name) ?? {};
      if (!notAffected && (fix.fixed === undefined || apkVersions.compare(fixVersion, fix.fixed) < 0)) fix.fixed = fixVersion;
      c.packages.set(name, fix);
    }
  }
}

/** The records of one parsed secdb document. */
export function secdbRecords(doc: unknown, path: string, notice: Notice): AdvisoryRecord[] {
  if (!isObject(doc)) {
    notice('not a secdb document (not a mapping); file skipped');
    return [];
  }
  const ecosystem = secdbEcosystem(doc, path);
  if (!ecosystem) {
    notice('no distroversion: cannot tell which Alpine release it describes; file skipped');
    return [];
  }
  const collected = new Map<string, Collected>();
  const packages: unknown[] = Array.isArray(doc.packages) ? doc.packages : doc.name !== undefined ? [{ pkg: doc }] : [];
  if (doc.packages === undefined && doc.name === undefined) notice('no packages list');
  packages.forEach((item, i) => {
    const pkg = isObject(item) && isObject(item.pkg) ? item.pkg : undefined;
    const name = text(pkg?.name);
    if (!pkg || !name) {
      notice(`packages[${i}] has no pkg.name; skipped`);
      return;
    }
    if (pkg.secfixes === undefined || pkg.secfixes === '') return;
    if (!isObject(pkg.secfixes)) {
      notice(`${name}: secfixes is not a mapping; skipped`);
      return;
    }
    collectPackage(name, pkg.secfixes, collected, notice);
  });
  const source = ecosystem.startsWith('alpine:') ? 'alpine-secdb' : `${ecosystem}-secdb`;
  const records: AdvisoryRecord[] = [];
  for (const [id, c] of collected) {
    const affected: AffectedPackage[] = [...c.packages].map(([name, fix]) =>
      fix.fixed !== undefined
        ? { ecosystem, name, status: 'affected', ranges: [{ introduced: '0', fixed: fix.fixed }] }
        : { ecosystem, name, status: 'not-affected', ranges: [] },
    );
    records.push({ id, aliases: [...c.aliases], source, sourceId: id, affected });
  }
  return records;
}

export function createAlpineSecdbImporter(overrides: Partial<FeedLimits> = {}): FeedImporter {
  const limits = resolveFeedLimits(overrides);
  return {
    name: 'alpine-secdb',
    detect(path: string, head: Buffer): boolean {
      const lower = path.toLowerCase();
      if (!/\.(?:ya?ml|json)$/.test(lower)) return false;
      const start = head.toString('utf8');
      return /["']?secfixes["']?\s*:/.test(start) || (/["']?distroversion["']?\s*:/.test(start) && /["']?(?:apkurl|urlprefix)["']?\s*:/.test(start));
    },
    async *read(path: string, notice: Notice): AsyncGenerator<AdvisoryRecord> {
      let doc: unknown;
      try {
        const yaml = !path.toLowerCase().endsWith('.json');
        const body = (await readBoundedFile(path, yaml ? limits.maxYamlBytes : limits.maxWholeFileBytes)).toString('utf8');
        doc = yaml ? parseYaml(body, limits.maxYamlAliases) : parseJson(body);
      } catch (err) {
        if (err instanceof FeedInputError || (err as NodeJS.ErrnoException).code !== undefined) {
          notice(`${errorMessage(err)}; file skipped`);
          return;
        }
        throw err;
      }
      yield* secdbRecords(doc, path, notice);
    },
  };
}

export const alpineSecdbImporter: FeedImporter = createAlpineSecdbImporter();
