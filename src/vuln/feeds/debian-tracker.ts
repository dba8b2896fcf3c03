/**
 * The Debian security tracker's JSON export (https://security-tracker.debian.org/tracker/data/json), one object
 * keyed by source package, then by CVE (or TEMP- id):
 *
 *   { "openssl": { "CVE-2023-0286": { "description": "…", "scope": "remote", "debianbug": 123,
 *       "releases": { "bookworm": { "status": "resolved", "fixed_version": "3.0.8-1", "urgency": "high",
 *                                   "repositories": { "bookworm": "3.0.11-1~deb12u2" } },
 *                     "bullseye": { "status": "open", "urgency": "low", "nodsa": "Minor issue",
 *                                   "nodsa_reason": "postponed" } } } } }
 *
 * Release statuses: `resolved` with a fixed version → affected below it; `resolved` with fixed version `0` → not
 * affected; `open` → unfixed, or `ignored` when the security team decided not to fix it there (`nodsa`, urgency
 * `end-of-life`); `undetermined` → unfixed. The urgency becomes the package's rating. The file is about 70 MB: it
 * is streamed one source package at a time.
 */
import type { AdvisoryRecord, AffectedPackage, FeedImporter } from '../model.js';
import { FeedInputError, errorMessage, isObject, numberFrom, text, type JsonObject, type Notice } from './common.js';
import { debianEcosystem, debianUrgency } from './debian-releases.js';
import { readObjectMembers } from './json-members.js';
import { resolveFeedLimits, type FeedLimits } from './limits.js';

const TRACKER_HEAD = /^\s*\{\s*"[^"\\]{1,200}"\s*:\s*\{\s*"(?:CVE|TEMP)-/;

function releaseEntry(pkg: string, codename: string, rel: unknown, where: string, notice: Notice, unknownReleases: Set<string>): AffectedPackage | null {
  if (!isObject(rel)) {
    notice(`${where}: release ${codename} is not an object; skipped`);
    return null;
  }
  const ecosystem = debianEcosystem(codename);
  if (!ecosystem) {
    if (!unknownReleases.has(codename)) {
      unknownReleases.add(codename);
      notice(`unknown Debian release "${codename.slice(0, 50)}"; its entries are skipped`);
    }
    return null;
  }
  const status = text(rel.status);
  const fixed = text(rel.fixed_version);
  const urgency = debianUrgency(text(rel.urgency));
  const base = { ecosystem, name: pkg, ...(urgency ? { severity: urgency } : {}) };
  switch (status) {
    case 'resolved':
      if (fixed === undefined || fixed === '0') return { ...base, status: 'not-affected', ranges: [] };
      return { ...base, status: 'affected', ranges: [{ introduced: '0', fixed }] };
    case 'open': {
      const wontFix = text(rel.nodsa) !== undefined || text(rel.nodsa_reason) !== undefined || urgency === 'end-of-life';
      return { ...base, status: wontFix ? 'ignored' : 'unfixed', ranges: [] };
    }
    case 'undetermined':
      return { ...base, status: 'unfixed', ranges: [] };
    default:
      notice(`${where}: release ${codename} has unknown status ${JSON.stringify(status ?? null)}; skipped`);
      return null;
  }
}

/** The records of one source package's member of the tracker JSON. */
export function trackerPackageRecords(pkg: string, cves: JsonObject, notice: Notice, unknownReleases = new Set<string>()): AdvisoryRecord[] {
  const records: AdvisoryRecord[] = [];
  for (const [id, entry] of Object.entries(cves)) {
    const where = `${pkg} ${id.slice(0, 64)}`;
    if (!isObject(entry) || (entry.releases !== undefined && !isObject(entry.releases))) {
      notice(`${where}: not a tracker entry; skipped`);
      continue;
    }
    const affected: AffectedPackage[] = [];
    for (const [codename, rel] of Object.entries(isObject(entry.releases) ? entry.releases : {})) {
      const a = releaseEntry(pkg, codename, rel, where, notice, unknownReleases);
      if (a) affected.push(a);
    }
    if (affected.length === 0) continue;
    const summary = text(entry.description);
    const bug = numberFrom(entry.debianbug);
    records.push({
      id,
      aliases: [],
      source: 'debian-tracker',
      sourceId: id,
      ...(summary ? { summary } : {}),
      ...(bug !== undefined && bug > 0 ? { references: [`https://bugs.debian.org/${bug}`] } : {}),
      affected,
    });
  }
  return records;
}

export function createDebianTrackerImporter(overrides: Partial<FeedLimits> = {}): FeedImporter {
  const limits = resolveFeedLimits(overrides);
  return {
    name: 'debian-tracker',
    detect(_path: string, head: Buffer): boolean {
      return TRACKER_HEAD.test(head.toString('utf8'));
    },
    async *read(path: string, notice: Notice): AsyncGenerator<AdvisoryRecord> {
      const unknownReleases = new Set<string>();
      try {
        for await (const member of readObjectMembers(path, limits.maxMemberBytes)) {
          const pkg = member.key.slice(0, 200);
          if ('skipped' in member) {
            notice(`${pkg}: ${member.skipped}; skipped`);
            continue;
          }
          if (!isObject(member.value)) {
            notice(`${pkg}: not an object of CVEs; skipped`);
            continue;
          }
          yield* trackerPackageRecords(pkg, member.value, notice, unknownReleases);
        }
      } catch (err) {
        if (err instanceof FeedInputError || (err as NodeJS.ErrnoException).code !== undefined) {
          notice(`${errorMessage(err)}; the rest of the file is skipped`);
          return;
        }
        throw err;
      }
    },
  };
}

export const debianTrackerImporter: FeedImporter = createDebianTrackerImporter();
