/** Requests per minute one client address may make to `detonate serve` (`--rate-limit` changes it). */
export const SERVE_RATE_LIMIT_PER_MINUTE = 600;
/** Characters of a search query or an indicator value, at most. */
export const MAX_QUERY_CHARS = 256;
/** How long the dashboard's figures are served before they are worked out again. */
export const DASHBOARD_CACHE_MS = 30_000;
/** Longest path parameter (a digest, an indicator value percent-encoded) the router accepts. */
export const MAX_PATH_PARAM_CHARS = 512;
/** Longest platform (`linux/arm64/v8`) a query names. */
export const MAX_PLATFORM_CHARS = 64;
/** Connections to the store a server keeps: enough for concurrent requests, few enough for a shared server. */
export const SERVE_POOL_SIZE = 8;
/** Longest path segment a static export writes (file systems allow 255 bytes; an escaped value is cut into several). */
export const MAX_EXPORT_PATH_SEGMENT_CHARS = 120;
