/**
 * Bounds of the advisory DB outside the feed readers (listed in `LIMIT_MODULES`, src/config/limits.ts): feed
 * downloads, CVSS vectors, severity words and version strings. Advisories come from the network: each bound turns an
 * absurd value into an error, `unknown` or a cut, never unbounded work. The feed readers' bounds are in
 * src/vuln/feeds/limits.ts.
 */

// --- Feed downloads (download.ts) ---

/** A feed server gets a minute to answer and two minutes of silence while the body streams. */
export const FEED_DOWNLOAD_HEADERS_TIMEOUT_MS = 60_000;
export const FEED_DOWNLOAD_BODY_TIMEOUT_MS = 120_000;
/** Redirects followed for one feed download. */
export const MAX_FEED_DOWNLOAD_REDIRECTS = 5;
/** Largest feed file downloaded; a larger one is refused before or while it streams. */
export const MAX_FEED_DOWNLOAD_BYTES = 4 * 1024 * 1024 * 1024;

// --- Severity (severity/) ---

/**
 * Longest CVSS vector accepted (trimmed; four times this untrimmed). A v4.0 vector with every base, threat,
 * environmental and supplemental metric written out is about 250 characters; anything several times longer is not one.
 */
export const MAX_CVSS_VECTOR_CHARS = 1024;
/** A severity rating longer than this ("high", "not yet assigned" …) is not one: `unknown`. */
export const MAX_SEVERITY_RATING_CHARS = 64;

// --- Versions (versions/) ---

/** node-semver's limit: versions and range parts up to 256 characters. */
export const MAX_SEMVER_CHARS = 256;
/**
 * Maven version parsing allocates an item per character in the worst case (`a1a1…`, `1-1-…`), about half a second
 * per MiB; no real version comes near this length, so longer strings are compared by their first 64 KiB, then by raw
 * text.
 */
export const MAX_MAVEN_PARSED_VERSION_CHARS = 1 << 16;

// --- Matching (match.ts, db.ts) ---

/**
 * Package versions whose match results an open DB keeps (a few hundred bytes each): a whole registry's distinct
 * package versions, but not an unbounded store's; past it the memo starts again.
 */
export const MAX_MEMOIZED_MATCHES = 500_000;

// --- Automatic refresh (refresh.ts) ---

/** A scan refreshes the default advisory DB once it is this old (as Trivy fetches its DB when the copy it has is due). */
export const DB_REFRESH_AFTER_HOURS = 24;
