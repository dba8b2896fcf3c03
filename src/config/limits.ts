/**
 * Where every limit Detonate enforces on hostile input is found. Images, registries, feeds and samples are hostile:
 * each limit turns an attack (bomb, absurd size, deep nesting, a server that never answers) into a clear error, a
 * notice or a cut. Here: the limits a scan can tune (`Limits`, with their defaults); every other bound lives in its
 * stage's own module, and `LIMIT_MODULES` below lists them all.
 */
export interface Limits {
  /** Largest manifest, index or config JSON accepted from a registry or archive. */
  maxManifestBytes: number;
  /** Largest single blob (layer) accepted, compressed. */
  maxBlobBytes: number;
  /** Largest expanded size of one layer: a decompression bomb stops here. */
  maxLayerExpandedBytes: number;
  /** Largest expanded size of all the layers of one image together (each layer counted each time it is read). */
  maxImageExpandedBytes: number;
  /** Largest expanded/compressed ratio tolerated once a layer has expanded past `ratioCheckAfterBytes`. */
  maxCompressionRatio: number;
  ratioCheckAfterBytes: number;
  /** Most entries in one layer tar. */
  maxLayerEntries: number;
  /** Most manifests and indexes read to resolve one IMAGE argument (nested indexes included, each digest once). */
  maxManifests: number;
  /** Most layers in one image. */
  maxLayers: number;
  /** Largest file read into memory for analyzers; bigger files are recorded but not analysed (a notice says so). */
  maxAnalyzedFileBytes: number;
  /** Nested archives (jar in war in ear): depth and expanded bytes per archive. */
  maxNestedArchiveDepth: number;
  maxNestedArchiveBytes: number;
  /** Longest path accepted inside a layer. */
  maxPathLength: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxManifestBytes: 4 * 1024 * 1024,
  maxBlobBytes: 16 * 1024 * 1024 * 1024,
  maxLayerExpandedBytes: 32 * 1024 * 1024 * 1024,
  maxImageExpandedBytes: 64 * 1024 * 1024 * 1024,
  maxCompressionRatio: 200,
  ratioCheckAfterBytes: 256 * 1024 * 1024,
  maxLayerEntries: 2_000_000,
  maxManifests: 1024,
  maxLayers: 512,
  maxAnalyzedFileBytes: 128 * 1024 * 1024,
  maxNestedArchiveDepth: 4,
  maxNestedArchiveBytes: 256 * 1024 * 1024,
  maxPathLength: 4096,
});

export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  return { ...DEFAULT_LIMITS, ...overrides };
}

/**
 * The per-stage limit modules, by floor (lowest first), as paths from the repository root: each holds its stage's
 * bounds as exported constants with a line saying what each bounds and why the value. config/ is a floor below the
 * stages and imports none of them, so this is a list, not re-exports. test/lint/limits.test.ts keeps it true: every
 * module listed exists, every `limits.ts` under src/ is listed, and no limit-like constant is declared anywhere else.
 */
export const LIMIT_MODULES: readonly string[] = Object.freeze([
  // the ZIP reader's bounds; the directories LongPaths keeps open
  'src/util/limits.ts',
  // archive members, reference lengths, registry timeouts, retries and redirects, auth headers, tokens, credentials
  'src/image/limits.ts',
  // files in flight, release files, config checks, executable headers, catalogers' sizes, detectors' work and evidence
  'src/analyze/limits.ts',
  // feed downloads, CVSS vectors, severity words, version strings
  'src/vuln/limits.ts',
  // feed files, records, archives, YAML, directory walks (tunable `FeedLimits`), and the feed readers' fixed lengths
  'src/vuln/feeds/limits.ts',
  // the run: the sample's resources and deadline, the image's config, rootfs, writable layer, dropped files, the
  // sinkhole process, host commands, teardown
  'src/detonate/limits.ts',
  // the runtime drivers' management commands, kill grace and what they keep of a runtime's log
  'src/detonate/runtime/limits.ts',
  // the trace: lines, strings and events parsed; what folding it remembers and lists; the drain
  'src/detonate/monitor/limits.ts',
  // the sinkhole's connections, bytes, timeouts and events; what its DNS, TLS, HTTP, SSH, stratum, IRC and SMTP
  // parsers accept and keep
  'src/detonate/sinkhole/limits.ts',
  // rule and ignore files, conditions, what a rule sees of a run record, what findings and the verdict cite
  'src/verdict/limits.ts',
  // what each report format shows: cells, rows, identifiers, descriptions, evidence; license expressions
  'src/report/limits.ts',
  // the results store's waits for its server and helpers, the bytes a row keeps of a string, the queue's retries
  'src/store/limits.ts',
  // the crawl's listings: repositories, tags, pages and their sizes, search queries, file lines; Docker Hub tokens
  'src/crawl/limits.ts',
  // a worker's jobs: their budget and lease, waits for the store, registries and other jobs, memory per image, the
  // shared rate limits' defaults and the registry pauses
  'src/worker/limits.ts',
  // the results API: requests per client, query and path lengths, the dashboard's cache, store connections
  'src/web/limits.ts',
  // the commands' own output
  'src/cli/limits.ts',
]);
