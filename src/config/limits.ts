/**
 * Every limit Detonate enforces on hostile input, in one place, with its documented default.
 * Images are hostile: each limit turns an attack (bomb, absurd size, deep nesting) into a clear error or a notice.
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
