/**
 * The Node.js security working group's advisories (github.com/nodejs/security-wg, `vuln/npm/<n>.json` and
 * `vuln/core/<n>.json`), one per file or gathered in one JSON array (`npm-advisories.json`,
 * `node-core-advisories.json`; an element may also be an object mapping ids to advisories, as in the corpus copy).
 *
 * npm advisories (`NSWG-ECO-<id>`): `module_name`, `vulnerable_versions` / `patched_versions` (npm ranges),
 * `cves`, `cvss_vector`, `cvss_score`. Core advisories (`NSWG-CORE-<n>`, about the `node` binary itself): `cve`,
 * `vulnerable` / `patched`, `severity`, `cvss`. The affected versions are those in the vulnerable range and not in
 * the patched one, as `VersionRange`s (see ranges.ts); the ranges as written are kept in `nativeRange`.
 */
import type { AdvisoryRecord, FeedImporter } from '../model.js';
import { FeedInputError, baseName, errorMessage, isObject, numberFrom, parseJson, readBoundedFile, recordsPerCve, text, texts, type JsonObject, type Notice } from './common.js';
import { resolveFeedLimits, type FeedLimits } from './limits.js';
import { npmAdvisoryRanges, type FeedAffectedPackage } from './ranges.js';

/** Ecosystem of the Node.js runtime itself: no cataloger reports it as a package yet. */
export const NODE_RUNTIME_ECOSYSTEM = 'nodejs';

function isNpmAdvisory(v: JsonObject): boolean {
  return v.module_name !== undefined && v.vulnerable_versions !== undefined;
}

function isCoreAdvisory(v: JsonObject): boolean {
  return v.vulnerable !== undefined && (v.cve !== undefined || v.patched !== undefined);
}

interface Found {
  advisory: JsonObject;
  /** The id from the file name or the mapping key, for core advisories that carry none. */
  idHint?: string;
}

/** Every advisory in a file's JSON, once each (the corpus copy holds each twice: in the array and in a mapping). */
function advisoriesIn(doc: unknown, fileId: string | undefined, notice: Notice): Found[] {
  const found: Found[] = [];
  const seen = new Map<string, number>(); // dedup key → index in found
  const add = (advisory: JsonObject, idHint: string | undefined) => {
    const key = isNpmAdvisory(advisory) && advisory.id !== undefined ? `npm:${String(advisory.id)}` : JSON.stringify(advisory);
    const at = seen.get(key);
    if (at !== undefined) {
      const existing = found[at];
      if (existing && existing.idHint === undefined && idHint !== undefined) existing.idHint = idHint;
      return;
    }
    seen.set(key, found.length);
    found.push({ advisory, ...(idHint !== undefined ? { idHint } : {}) });
  };
  const visit = (value: unknown, idHint: string | undefined, where: string, nested: boolean) => {
    if (!isObject(value)) {
      notice(`${where}: not an advisory object; skipped`);
      return;
    }
    if (isNpmAdvisory(value) || isCoreAdvisory(value)) {
      add(value, idHint);
      return;
    }
    if (!nested && Object.values(value).every(isObject)) {
      // { "1": {…}, "2": {…} }
      for (const [key, inner] of Object.entries(value)) visit(inner, /^\d{1,9}$/.test(key) ? key : undefined, `${where}.${key.slice(0, 20)}`, true);
      return;
    }
    notice(`${where}: not a security-wg advisory; skipped`);
  };
  if (Array.isArray(doc)) doc.forEach((item, i) => visit(item, undefined, `[${i}]`, false));
  else visit(doc, fileId, 'advisory', false);
  return found;
}

function npmRecords(a: JsonObject, where: string, notice: Notice, maxSplit: number): AdvisoryRecord[] {
  const id = numberFrom(a.id);
  const name = text(a.module_name);
  const vulnerable = text(a.vulnerable_versions);
  if (id === undefined || !name || !vulnerable) {
    notice(`${where}: npm advisory without id, module_name or vulnerable_versions; skipped`);
    return [];
  }
  const sourceId = `NSWG-ECO-${id}`;
  const patched = text(a.patched_versions);
  const converted = npmAdvisoryRanges(vulnerable, patched);
  if (!converted) {
    notice(`${sourceId}: vulnerable_versions ${JSON.stringify(vulnerable.slice(0, 100))} is not an npm range; skipped`);
    return [];
  }
  const affected: FeedAffectedPackage = {
    ecosystem: 'npm',
    name,
    status: 'affected',
    ranges: converted.ranges,
    ...(converted.versions.length > 0 ? { versions: converted.versions } : {}),
    nativeRange: converted.native,
  };
  const vector = text(a.cvss_vector);
  const score = numberFrom(a.cvss_score);
  const severity = {
    ...(vector?.startsWith('CVSS:3') ? { cvssV3: vector } : vector?.startsWith('CVSS:4') ? { cvssV4: vector } : {}),
    ...(score !== undefined && score >= 0 && score <= 10 ? { score } : {}),
  };
  const summary = text(a.title);
  const published = text(a.publish_date) ?? text(a.created_at);
  const modified = text(a.updated_at);
  const references = texts(a.references);
  return recordsPerCve(
    {
      source: 'nodejs-security-wg',
      sourceId,
      ...(summary ? { summary } : {}),
      ...(published ? { published } : {}),
      ...(modified ? { modified } : {}),
      ...(Object.keys(severity).length > 0 ? { severity } : {}),
      ...(references.length > 0 ? { references } : {}),
      affected: [affected],
    },
    [sourceId, ...texts(a.cves)],
    sourceId,
    maxSplit,
  );
}

function coreRecords(a: JsonObject, idHint: string | undefined, where: string, notice: Notice, maxSplit: number): AdvisoryRecord[] {
  const cves = texts(a.cve);
  const vulnerable = text(a.vulnerable);
  const sourceId = idHint !== undefined ? `NSWG-CORE-${idHint}` : cves[0];
  if (!vulnerable || sourceId === undefined) {
    notice(`${where}: core advisory without vulnerable range, or without id and CVE; skipped`);
    return [];
  }
  const converted = npmAdvisoryRanges(vulnerable, text(a.patched));
  if (!converted) {
    notice(`${sourceId}: vulnerable ${JSON.stringify(vulnerable.slice(0, 100))} is not a version range; skipped`);
    return [];
  }
  const affected: FeedAffectedPackage = {
    ecosystem: NODE_RUNTIME_ECOSYSTEM,
    name: 'node',
    status: 'affected',
    ranges: converted.ranges,
    ...(converted.versions.length > 0 ? { versions: converted.versions } : {}),
    nativeRange: converted.native,
  };
  const cvss = text(a.cvss);
  const vector = cvss ? (cvss.startsWith('CVSS:') ? cvss : `CVSS:${cvss}`) : undefined;
  const score = numberFrom(a.cvss_score);
  const rating = text(a.severity)?.toLowerCase();
  const severity = {
    ...(vector?.startsWith('CVSS:3') ? { cvssV3: vector } : {}),
    ...(score !== undefined && score >= 0 && score <= 10 ? { score } : {}),
    ...(rating ? { rating } : {}),
  };
  const summary = text(a.description) ?? text(a.overview)?.split('\n', 1)[0];
  const published = text(a.publish_date);
  const ref = text(a.ref);
  return recordsPerCve(
    {
      source: 'nodejs-security-wg',
      sourceId,
      ...(summary ? { summary } : {}),
      ...(published ? { published } : {}),
      ...(Object.keys(severity).length > 0 ? { severity } : {}),
      ...(ref ? { references: [ref] } : {}),
      affected: [affected],
    },
    [sourceId, ...cves],
    sourceId,
    maxSplit,
  );
}

export function createNodejsSecurityWgImporter(overrides: Partial<FeedLimits> = {}): FeedImporter {
  const limits = resolveFeedLimits(overrides);
  return {
    name: 'nodejs-security-wg',
    detect(path: string, head: Buffer): boolean {
      const p = path.replace(/\\/g, '/').toLowerCase();
      if (!p.endsWith('.json')) return false;
      const name = baseName(p);
      if (name === 'npm-advisories.json' || name === 'node-core-advisories.json') return true;
      if (/(?:^|\/)(?:nodejs-security-wg|security-wg)\/vuln\//.test(p) || /\/vuln\/(?:npm|core)\/\d+\.json$/.test(p)) return true;
      const start = head.toString('utf8');
      return /"module_name"\s*:/.test(start) && /"vulnerable_versions"\s*:/.test(start);
    },
    async *read(path: string, notice: Notice): AsyncGenerator<AdvisoryRecord> {
      let doc: unknown;
      try {
        doc = parseJson((await readBoundedFile(path, limits.maxWholeFileBytes)).toString('utf8'));
      } catch (err) {
        if (err instanceof FeedInputError || (err as NodeJS.ErrnoException).code !== undefined) {
          notice(`${errorMessage(err)}; file skipped`);
          return;
        }
        throw err;
      }
      const fileId = /^(\d{1,9})\.json$/i.exec(baseName(path))?.[1];
      for (const { advisory, idHint } of advisoriesIn(doc, fileId, notice)) {
        const where = idHint !== undefined ? `advisory ${idHint}` : `advisory ${String(advisory.id ?? '?').slice(0, 20)}`;
        yield* isNpmAdvisory(advisory)
          ? npmRecords(advisory, where, notice, limits.maxSplitAffected)
          : coreRecords(advisory, idHint, where, notice, limits.maxSplitAffected);
      }
    },
  };
}

export const nodejsSecurityWgImporter: FeedImporter = createNodejsSecurityWgImporter();
