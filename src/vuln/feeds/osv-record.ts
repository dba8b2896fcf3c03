/**
 * One OSV record (https://ossf.github.io/osv-schema/) → advisory records. Shared by the OSV importer (JSON, JSONL,
 * `all.zip`, YAML) and the GHSA importer (GitHub's advisories are published in OSV form).
 */
import type { AdvisoryRecord, AffectedPackage, Ecosystem, VersionRange } from '../model.js';
import { pep503 } from '../ecosystem.js';
import { isObject, recordsPerCve, text, texts, unique, type JsonObject, type Notice } from './common.js';
import { MAX_OSV_ID_CHARS } from './limits.js';

/** OS distributions whose OSV ecosystem is `<Name>:<release>`, with Detonate's id for them and how the release is kept. */
const OS_ECOSYSTEMS: ReadonlyMap<string, { id: string; release: (r: string) => string | null }> = new Map([
  ['debian', { id: 'debian', release: (r) => r }],
  ['alpine', { id: 'alpine', release: (r) => /^v?(\d+\.\d+)/.exec(r)?.[1] ?? (r === 'edge' ? 'edge' : null) }],
  ['almalinux', { id: 'almalinux', release: major }],
  ['rocky linux', { id: 'rocky', release: major }],
  ['photon os', { id: 'photon', release: major }],
  ['mageia', { id: 'mageia', release: major }],
  ['opensuse', { id: 'opensuse', release: (r) => r.toLowerCase().replace(/\s+/g, '-') }],
]);

function major(release: string): string | null {
  return /^(\d+)/.exec(release)?.[1] ?? null;
}

/** Language ecosystems, by OSV name (lower-cased). */
const LANGUAGE_ECOSYSTEMS: ReadonlyMap<string, string> = new Map([
  ['pypi', 'pypi'],
  ['go', 'go'],
  ['npm', 'npm'],
  ['maven', 'maven'],
  ['rubygems', 'rubygems'],
  ['crates.io', 'crates.io'],
  ['nuget', 'nuget'],
  ['packagist', 'packagist'],
  ['wolfi', 'wolfi'],
  ['chainguard', 'chainguard'],
]);

/**
 * Detonate's ecosystem for an OSV ecosystem: `Debian:12` → `debian:12`, `Alpine:v3.19` → `alpine:3.19`,
 * `Ubuntu:22.04:LTS` → `ubuntu:22.04` (`Ubuntu:Pro:18.04:LTS` → `ubuntu-pro:18.04`: Pro fixes are not in the
 * public archive), `PyPI` → `pypi`, `crates.io`, `Rocky Linux:9` → `rocky:9` … Any other ecosystem is kept
 * lower-cased (nothing matches it yet, but nothing is lost).
 */
export function mapOsvEcosystem(ecosystem: string): Ecosystem {
  const trimmed = ecosystem.trim();
  const colon = trimmed.indexOf(':');
  const name = (colon < 0 ? trimmed : trimmed.slice(0, colon)).toLowerCase();
  const rest = colon < 0 ? '' : trimmed.slice(colon + 1).trim();
  if (colon < 0) {
    const language = LANGUAGE_ECOSYSTEMS.get(name);
    if (language) return language;
  }
  if (name === 'ubuntu') {
    const parts = rest.split(':');
    const release = parts.find((p) => /^\d+\.\d+$/.test(p));
    if (release) return parts.includes('Pro') ? `ubuntu-pro:${release}` : `ubuntu:${release}`;
  }
  const os = OS_ECOSYSTEMS.get(name);
  if (os && rest !== '') {
    const release = os.release(rest);
    if (release) return `${os.id}:${release}`;
  }
  return trimmed.toLowerCase();
}

/** The name matching uses: PEP 503 for PyPI, lower case for NuGet and Packagist (both case-insensitive), else as given. */
export function normalizePackageName(ecosystem: Ecosystem, name: string): string {
  switch (ecosystem) {
    case 'pypi':
      return pep503(name);
    case 'nuget':
    case 'packagist':
      return name.toLowerCase();
    default:
      return name;
  }
}

/** OSV `events` in order → ranges: each `introduced` opens a range, the next `fixed` / `last_affected` closes it. */
export function eventsToRanges(events: unknown): VersionRange[] {
  if (!Array.isArray(events)) return [];
  const ranges: VersionRange[] = [];
  let open: VersionRange | null = null;
  for (const event of events) {
    if (!isObject(event)) continue;
    const introduced = text(event.introduced);
    const fixed = text(event.fixed);
    const lastAffected = text(event.last_affected);
    if (introduced !== undefined) {
      if (open) ranges.push(open);
      open = { introduced };
    } else if (fixed !== undefined || lastAffected !== undefined) {
      const range: VersionRange = open ?? { introduced: '0' };
      if (fixed !== undefined) range.fixed = fixed;
      else if (lastAffected !== undefined) range.lastAffected = lastAffected;
      ranges.push(range);
      open = null;
    }
    // `limit` only bounds git commit walks
  }
  if (open) ranges.push(open);
  return ranges;
}

interface Severity {
  cvssV3?: string;
  cvssV4?: string;
  cvssV2?: string;
  score?: number;
  rating?: string;
}

function severityOf(raw: JsonObject): Severity | undefined {
  const out: Severity = {};
  const entries: unknown[] = Array.isArray(raw.severity) ? [...(raw.severity as unknown[])] : [];
  // a record without top-level severity may give it per affected package
  if (entries.length === 0 && Array.isArray(raw.affected)) {
    for (const a of raw.affected) if (isObject(a) && Array.isArray(a.severity)) entries.push(...(a.severity as unknown[]));
  }
  for (const s of entries) {
    if (!isObject(s)) continue;
    const type = text(s.type)?.toUpperCase();
    const score = text(s.score);
    if (!type || !score) continue;
    const numeric = /^\d+(?:\.\d+)?$/.test(score) ? Number(score) : undefined;
    if (type === 'CVSS_V3' || type === 'CVSS_V4' || type === 'CVSS_V2') {
      if (numeric !== undefined) out.score ??= numeric;
      else if (type === 'CVSS_V3') out.cvssV3 ??= score;
      else if (type === 'CVSS_V4') out.cvssV4 ??= score;
      else out.cvssV2 ??= score;
    } else if (numeric === undefined) {
      // e.g. Ubuntu's { type: "Ubuntu", score: "medium" }
      out.rating ??= score.toLowerCase();
    }
  }
  const specific = isObject(raw.database_specific) ? text(raw.database_specific.severity) : undefined;
  if (specific) out.rating = specific.toLowerCase();
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A per-package rating: Debian's urgency, a distro's severity word. */
function packageSeverity(a: JsonObject): string | undefined {
  for (const holder of [a.ecosystem_specific, a.database_specific]) {
    if (!isObject(holder)) continue;
    const value = text(holder.urgency) ?? text(holder.severity);
    if (value) return value.toLowerCase();
  }
  return undefined;
}

function affectedPackage(a: unknown, index: number, where: string, notice: Notice): AffectedPackage | null {
  if (!isObject(a)) {
    notice(`${where}: affected[${index}] is not an object; skipped`);
    return null;
  }
  const pkg = isObject(a.package) ? a.package : undefined;
  const ecosystemName = text(pkg?.ecosystem);
  const name = text(pkg?.name);
  if (!ecosystemName || !name) {
    // OSV allows affected entries without a package (commits only): nothing to match
    if (!pkg) return null;
    notice(`${where}: affected[${index}] has no package ecosystem or name; skipped`);
    return null;
  }
  const ecosystem = mapOsvEcosystem(ecosystemName);
  const ranges: VersionRange[] = [];
  for (const r of Array.isArray(a.ranges) ? a.ranges : []) {
    if (!isObject(r)) continue;
    const type = text(r.type)?.toUpperCase();
    if (type === 'SEMVER' || type === 'ECOSYSTEM') ranges.push(...eventsToRanges(r.events));
  }
  // GHSA: a range still open (no fix known) may say how far it is known to reach: `<= 1.2.3`
  const lastKnown = isObject(a.database_specific) ? text(a.database_specific.last_known_affected_version_range) : undefined;
  const lastKnownInclusive = lastKnown ? /^<=\s*(\S+)$/.exec(lastKnown)?.[1] : undefined;
  const openRange = ranges[ranges.length - 1];
  if (lastKnownInclusive && openRange && openRange.fixed === undefined && openRange.lastAffected === undefined) openRange.lastAffected = lastKnownInclusive;
  const versions = unique(texts(a.versions));
  if (ranges.length === 0 && versions.length === 0) return null; // git ranges only: nothing a version can match
  const severity = packageSeverity(a);
  return {
    ecosystem,
    name: normalizePackageName(ecosystem, name),
    status: 'affected',
    ranges,
    ...(versions.length > 0 ? { versions } : {}),
    ...(severity ? { severity } : {}),
  };
}

export interface OsvConversion {
  /** `osv`, `ghsa`, … */
  source: string;
  maxSplitAffected: number;
  /** Withdrawn records are dropped once their withdrawal date has passed. */
  now?: number;
}

/**
 * The advisory records of one OSV record: one per CVE it names (in `aliases`, `upstream`, or as its id), else one
 * under its own id (for a malicious-package record, its `MAL-` id, so that the OSV and GHSA copies of it agree).
 * Malformed records and packages are reported and skipped; a withdrawn record, or one without any package a version
 * can match (git ranges only), gives nothing.
 */
export function osvToRecords(raw: unknown, where: string, how: OsvConversion, notice: Notice): AdvisoryRecord[] {
  if (!isObject(raw)) {
    notice(`${where}: not an OSV record (not a JSON object); skipped`);
    return [];
  }
  const osvId = text(raw.id);
  if (!osvId) {
    notice(`${where}: OSV record without an id; skipped`);
    return [];
  }
  if (osvId.length > MAX_OSV_ID_CHARS) {
    notice(`${where}: OSV id longer than ${MAX_OSV_ID_CHARS} characters; skipped`);
    return [];
  }
  const withdrawn = text(raw.withdrawn);
  if (withdrawn !== undefined) {
    const at = Date.parse(withdrawn);
    if (!Number.isFinite(at) || at <= (how.now ?? Date.now())) return [];
  }
  if (raw.affected !== undefined && !Array.isArray(raw.affected)) {
    notice(`${where}: ${osvId}: "affected" is not a list; skipped`);
    return [];
  }
  const affected: AffectedPackage[] = [];
  const list = (raw.affected as unknown[] | undefined) ?? [];
  for (let i = 0; i < list.length; i++) {
    const a = affectedPackage(list[i], i, `${where}: ${osvId}`, notice);
    if (a) affected.push(a);
  }
  if (affected.length === 0) return [];

  const aliases = texts(raw.aliases);
  const upstream = texts(raw.upstream);
  const identifiers = [osvId, ...aliases, ...upstream];
  const malicious = identifiers.some((id) => id.startsWith('MAL-')) || (isObject(raw.database_specific) && raw.database_specific['malicious-packages-origins'] !== undefined);
  const fallbackId = malicious ? (identifiers.find((id) => id.startsWith('MAL-')) ?? osvId) : osvId;
  const summary = text(raw.summary) ?? firstLine(text(raw.details));
  const published = text(raw.published);
  const modified = text(raw.modified);
  const severity = severityOf(raw);
  const references = unique(
    (Array.isArray(raw.references) ? raw.references : []).flatMap((r) => {
      const url = isObject(r) ? text(r.url) : undefined;
      return url ? [url] : [];
    }),
  );
  return recordsPerCve(
    {
      source: how.source,
      sourceId: osvId,
      ...(summary ? { summary } : {}),
      ...(published ? { published } : {}),
      ...(modified ? { modified } : {}),
      ...(severity ? { severity } : {}),
      ...(malicious ? { malicious: true } : {}),
      ...(references.length > 0 ? { references } : {}),
      affected,
    },
    identifiers,
    fallbackId,
    how.maxSplitAffected,
  );
}

/** A summary from free text: its first line, at most 200 characters. */
function firstLine(details: string | undefined): string | undefined {
  if (!details) return undefined;
  const line = details.split('\n', 1)[0]?.trim() ?? '';
  if (line === '') return undefined;
  return line.length > 200 ? `${line.slice(0, 197)}...` : line;
}
