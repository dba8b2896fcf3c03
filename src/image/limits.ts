/**
 * Bounds of the image sources (listed in `LIMIT_MODULES`, src/config/limits.ts). Archives, references, registries and
 * their auth servers are hostile: each bound turns an absurd size, count or wait into a clear error or a cut. The
 * user-tunable sizes (manifests, blobs, layers) are `Limits` in src/config/limits.ts.
 */

// --- Image archives (docker-archive, oci-archive): the outer tar, indexed once (archive/tar-index.ts) ---

/** Members of one image archive: an image has a few per layer; more is not an image archive, or a hostile one. */
export const MAX_ARCHIVE_MEMBERS = 200_000;
/** Largest tar metadata record (GNU long name or link, pax header) of an image archive: names are short. */
export const MAX_ARCHIVE_METADATA_RECORD_BYTES = 1024 * 1024;
/** Symlinks and hardlinks followed inside an image archive to reach a member: a loop stops here. */
export const MAX_ARCHIVE_LINK_HOPS = 16;

// --- Image references (ref.ts) ---

/** Longest IMAGE argument parsed at all; anything longer is refused before the grammar runs. */
export const MAX_REFERENCE_CHARS = 4096;
/** distribution/reference's NameTotalLengthMax: registry + "/" + repository. */
export const MAX_IMAGE_NAME_CHARS = 255;

// --- Registries (registry/) ---

/** Every wait the registry client makes, in milliseconds. */
export interface RegistryTimeouts {
  /** TCP + TLS connection set-up. */
  connectMs: number;
  /** From sending a request to receiving the response headers. */
  headersMs: number;
  /** Longest silence while a body streams (a blob may take long overall, but must keep moving). */
  bodyIdleMs: number;
  /** Whole request, body included, for small documents (manifests, tokens, tag lists). */
  smallRequestMs: number;
}

/** A slow registry gets a minute to answer and must keep a body moving; small documents get two minutes in all. */
export const DEFAULT_REGISTRY_TIMEOUTS: Readonly<RegistryTimeouts> = Object.freeze({
  connectMs: 15_000,
  headersMs: 60_000,
  bodyIdleMs: 60_000,
  smallRequestMs: 120_000,
});

/** How often and how long to retry 429, 5xx and dropped connections. */
export interface RetryPolicy {
  /** Tries per request, the first included. */
  attempts: number;
  /** Backoff before retry n is `baseDelayMs * 2^(n-1)`, capped at `maxDelayMs` (used when no Retry-After). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this is not waited for: the request fails at once, saying when to retry. */
  maxRetryAfterMs: number;
}

/** Four tries, 0.5 + 1 + 2 s of backoff between them; a registry asking for over a minute's pause gets an error. */
export const DEFAULT_REGISTRY_RETRY: Readonly<RetryPolicy> = Object.freeze({
  attempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
  maxRetryAfterMs: 60_000,
});

/** Redirects followed for one request (registries redirect blobs to storage once). */
export const MAX_REGISTRY_REDIRECTS = 5;
/** Bytes read of an error response's body to describe the error. */
export const MAX_REGISTRY_ERROR_BODY_BYTES = 16 * 1024;
/** Images taken from one index (`--platform all`); real indexes list a dozen at most. */
export const MAX_IMAGES_PER_INDEX = 256;
/** Tag listing (`listTags`): tags asked per page, most tags kept and most pages followed. */
export const DEFAULT_TAG_LIST_LIMITS: Readonly<{ pageSize: number; maxTags: number; maxPages: number }> = Object.freeze({
  pageSize: 1000,
  maxTags: 100_000,
  maxPages: 1000,
});
/** Longest `Link` header read for the next page of a listing. */
export const MAX_LINK_HEADER_CHARS = 8192;

// --- Registry authentication (registry/auth.ts, challenge.ts, credentials.ts) ---

/** Longest `WWW-Authenticate` value parsed; longer is cut (a hostile server cannot make us parse megabytes). */
export const MAX_AUTH_HEADER_CHARS = 16 * 1024;
/** `WWW-Authenticate` headers of one response parsed, and parser steps in one: a flood of commas stops here. */
export const MAX_AUTH_HEADER_VALUES = 16;
export const MAX_AUTH_HEADER_STEPS = 1000;
/** Longest `Retry-After` read as an HTTP date (one is 29 characters). */
export const MAX_RETRY_AFTER_CHARS = 64;
/** Largest token response read from an auth server, and longest token accepted from it. */
export const MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024;
export const MAX_TOKEN_CHARS = 64 * 1024;
/** Largest Docker config.json read: it holds a few keys, never megabytes. */
export const MAX_DOCKER_CONFIG_BYTES = 1024 * 1024;
/** A credential helper (`docker-credential-*`) gets this long and this much output to answer. */
export const CREDENTIAL_HELPER_TIMEOUT_MS = 15_000;
export const MAX_CREDENTIAL_HELPER_OUTPUT_BYTES = 64 * 1024;
