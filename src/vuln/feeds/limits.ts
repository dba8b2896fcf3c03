/**
 * Limits on advisory-feed input. Feeds are downloaded from the network or read from a directory the user names, so
 * they are treated as hostile: each limit turns an absurd size into a notice (the record or file is skipped), never a
 * crash or unbounded memory. The defaults leave room for the largest real feeds (OSV's npm `all.zip`, the Debian
 * security tracker JSON) with a wide margin.
 */
export interface FeedLimits {
  /** Largest file parsed as a whole (a JSON array of advisories, a DSA list, a JSON secdb). */
  maxWholeFileBytes: number;
  /** Largest YAML file (YAML parsing costs far more memory per byte than JSON). */
  maxYamlBytes: number;
  /** Most aliases (`*ref`) one YAML document may expand: the guard against "billion laughs" alias bombs. */
  maxYamlAliases: number;
  /** Largest single record: one JSONL line, one JSON file holding one advisory, one zip entry. */
  maxRecordBytes: number;
  /** Largest value of one top-level member of a streamed JSON object (one source package of the Debian tracker). */
  maxMemberBytes: number;
  /** Most entries a feed archive (OSV `all.zip`) may list. */
  maxZipEntries: number;
  /** Largest central directory of a feed archive. */
  maxZipDirectoryBytes: number;
  /** Total bytes expanded from one feed archive. */
  maxZipExpandedBytes: number;
  /** Largest expanded/compressed ratio of one archive entry once it is over 1 MiB (zip bombs). */
  maxZipRatio: number;
  /** Directory walk (`readFeedsFrom`): deepest nesting and most files visited. */
  maxWalkDepth: number;
  maxWalkFiles: number;
  /** Unrecognised files reported one by one before the rest are only counted. */
  maxUnrecognisedNotices: number;
  /**
   * When one advisory names several CVEs it becomes one record per CVE (as the DSA list does); beyond this many
   * (CVEs × affected packages) it stays one record with the other CVEs as aliases.
   */
  maxSplitAffected: number;
}

export const DEFAULT_FEED_LIMITS: Readonly<FeedLimits> = Object.freeze({
  maxWholeFileBytes: 64 * 1024 * 1024,
  maxYamlBytes: 16 * 1024 * 1024,
  maxYamlAliases: 100,
  maxRecordBytes: 8 * 1024 * 1024,
  maxMemberBytes: 64 * 1024 * 1024,
  maxZipEntries: 4_000_000,
  maxZipDirectoryBytes: 1024 * 1024 * 1024,
  maxZipExpandedBytes: 64 * 1024 * 1024 * 1024,
  maxZipRatio: 200,
  maxWalkDepth: 32,
  maxWalkFiles: 2_000_000,
  maxUnrecognisedNotices: 100,
  maxSplitAffected: 100_000,
});

export function resolveFeedLimits(overrides: Partial<FeedLimits> = {}): FeedLimits {
  const out: FeedLimits = { ...DEFAULT_FEED_LIMITS };
  for (const key of Object.keys(out) as (keyof FeedLimits)[]) {
    const v = overrides[key];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) out[key] = v;
  }
  return out;
}

// --- Fixed bounds of the feed readers: lengths past which a value is not what it claims (skipped or `undefined`) ---

/** Longest member name of a streamed JSON object (a source package name of the Debian tracker). */
export const MAX_JSON_MEMBER_NAME_BYTES = 64 * 1024;
/** Longest npm range, and most `||` alternatives in one, turned into intervals. */
export const MAX_NPM_RANGE_CHARS = 4096;
export const MAX_NPM_RANGE_ALTERNATIVES = 256;
/** Longest RubyGems requirement line turned into intervals. */
export const MAX_GEM_REQUIREMENT_CHARS = 1024;
/** Longest date read (`2023-03-29T12:00:00Z`, `August 26th, 2005`). */
export const MAX_DATE_CHARS = 64;
/** Longest identifiers kept: an OSV id, an Alpine secdb advisory id, a DSA list reference, a RubySec CVE or GHSA id. */
export const MAX_OSV_ID_CHARS = 256;
export const MAX_SECDB_ADVISORY_ID_CHARS = 128;
export const MAX_DSA_REFERENCE_CHARS = 64;
export const MAX_RUBYSEC_ID_CHARS = 64;
