/**
 * ruby-advisory-db (github.com/rubysec/ruby-advisory-db, `gems/<gem>/<id>.yml`), the database bundler-audit uses:
 *
 *   gem: actionpack
 *   cve: 2008-7248            # without the CVE- prefix
 *   ghsa: 8fqx-7pv4-3jwm      # without the GHSA- prefix
 *   osvdb: 12345
 *   date: 2017-10-24
 *   cvss_v2: 6.8              # scores, not vectors
 *   cvss_v3: 9.8
 *   unaffected_versions: ["< 2.1.0"]
 *   patched_versions: ["~> 2.1.3", ">= 2.2.2"]
 *
 * A version is vulnerable when it satisfies no patched and no unaffected requirement; that set is written as
 * `VersionRange`s (see ranges.ts: `~> 2.1.3` is `>= 2.1.3, < 2.2`), and the requirements themselves are kept in
 * `nativeRange`.
 */
import type { AdvisoryRecord, FeedImporter } from '../model.js';
import { FeedInputError, baseName, errorMessage, isObject, numberFrom, parseYaml, readBoundedFile, text, texts, unique, type Notice } from './common.js';
import { MAX_RUBYSEC_ID_CHARS, resolveFeedLimits, type FeedLimits } from './limits.js';
import { gemAdvisoryRanges, type FeedAffectedPackage } from './ranges.js';

/** CVSS v2's qualitative bands (no "critical"): a v2 score is given as a rating, since `severity.score` is read as v3. */
function cvss2Rating(score: number): string {
  return score >= 7 ? 'high' : score >= 4 ? 'medium' : 'low';
}

function prefixed(prefix: string, value: unknown): string | undefined {
  const t = text(value);
  if (t === undefined || t.length > MAX_RUBYSEC_ID_CHARS) return undefined;
  return t.toUpperCase().startsWith(prefix) ? `${prefix}${t.slice(prefix.length)}` : `${prefix}${t}`;
}

export function rubysecRecord(doc: unknown, fileName: string, notice: Notice): AdvisoryRecord | null {
  if (!isObject(doc)) {
    notice('not a ruby-advisory-db advisory (not a mapping); skipped');
    return null;
  }
  const gem = text(doc.gem);
  if (!gem) {
    notice('advisory without a gem name; skipped');
    return null;
  }
  const patched = texts(doc.patched_versions);
  const unaffected = texts(doc.unaffected_versions);
  const converted = gemAdvisoryRanges(patched, unaffected);
  if ('error' in converted) {
    notice(`${gem}: ${converted.error}; skipped`);
    return null;
  }
  const cve = prefixed('CVE-', doc.cve);
  const ghsa = prefixed('GHSA-', doc.ghsa);
  const osvdb = prefixed('OSVDB-', doc.osvdb);
  const sourceId = fileName.replace(/\.ya?ml$/i, '');
  const id = cve ?? ghsa ?? osvdb ?? sourceId;
  const affected: FeedAffectedPackage = {
    ecosystem: 'rubygems',
    name: gem,
    status: 'affected',
    ranges: converted.ranges,
    ...(converted.versions.length > 0 ? { versions: converted.versions } : {}),
    nativeRange: converted.native,
  };
  const v3 = numberFrom(doc.cvss_v3);
  const v4 = numberFrom(doc.cvss_v4);
  const v2 = numberFrom(doc.cvss_v2);
  const score = [v3, v4].find((s) => s !== undefined && s >= 0 && s <= 10);
  const severity = score !== undefined ? { score } : v2 !== undefined && v2 >= 0 && v2 <= 10 ? { rating: cvss2Rating(v2) } : undefined;
  const summary = text(doc.title);
  const published = text(doc.date);
  const related = isObject(doc.related) ? texts(doc.related.url) : [];
  const references = unique([...texts(doc.url), ...related]);
  return {
    id,
    aliases: unique([sourceId, cve, ghsa, osvdb].filter((x): x is string => x !== undefined && x !== id)),
    source: 'rubysec',
    sourceId,
    ...(summary ? { summary } : {}),
    ...(published ? { published } : {}),
    ...(severity ? { severity } : {}),
    ...(references.length > 0 ? { references } : {}),
    affected: [affected],
  };
}

export function createRubysecImporter(overrides: Partial<FeedLimits> = {}): FeedImporter {
  const limits = resolveFeedLimits(overrides);
  return {
    name: 'rubysec',
    detect(path: string, head: Buffer): boolean {
      if (!/\.ya?ml$/i.test(path)) return false;
      const start = head.toString('utf8');
      return /^gem:[ \t]*\S/m.test(start) && /^(?:patched_versions|unaffected_versions|cve|ghsa|osvdb|url):/m.test(start);
    },
    async *read(path: string, notice: Notice): AsyncGenerator<AdvisoryRecord> {
      let doc: unknown;
      try {
        doc = parseYaml((await readBoundedFile(path, Math.min(limits.maxYamlBytes, limits.maxRecordBytes))).toString('utf8'), limits.maxYamlAliases);
      } catch (err) {
        if (err instanceof FeedInputError || (err as NodeJS.ErrnoException).code !== undefined) {
          notice(`${errorMessage(err)}; file skipped`);
          return;
        }
        throw err;
      }
      const record = rubysecRecord(doc, baseName(path), notice);
      if (record) yield record;
    },
  };
}

export const rubysecImporter: FeedImporter = createRubysecImporter();
