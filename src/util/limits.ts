/**
 * Bounds of the helpers in util/ (listed in `LIMIT_MODULES`, src/config/limits.ts). Archives found inside images
 * are hostile: each bound turns an absurd count or size into a `ZipFormatError` or caps what is held open.
 */

/** Bounds of one ZIP archive read by util/zip.ts (Java archives, Python eggs, archives the detectors open). */
export interface ZipLimits {
  /** Most entries an archive may declare; more is refused before the directory is read. */
  maxEntries: number;
  /** Largest expanded size of one entry. */
  maxEntryBytes: number;
  /** Largest total of expanded bytes over all reads that share one `ZipBudget`. */
  maxTotalBytes: number;
  /** Largest expanded/compressed ratio of one entry once it expands beyond `ratioCheckAfterBytes` (zip bombs). */
  maxRatio: number;
  ratioCheckAfterBytes: number;
}

/** Generous for real jars and eggs; a hostile archive stops at these with a `ZipFormatError`. */
export const DEFAULT_ZIP_LIMITS: Readonly<ZipLimits> = Object.freeze({
  maxEntries: 200_000,
  maxEntryBytes: 256 * 1024 * 1024,
  maxTotalBytes: 1024 * 1024 * 1024,
  maxRatio: 200,
  ratioCheckAfterBytes: 1024 * 1024,
});

/**
 * Directories `LongPaths` keeps open as anchors (util/long-paths.ts), least recently used closed first: bounds the
 * file descriptors one tree holds however deep it is; a rootfs path needs at most 8 (4,096 characters of 3-byte UTF-8).
 */
export const MAX_LONG_PATH_ANCHORS = 64;
