import type { FileHeader, Finding, OsInfo, Package, ScanNotice } from '../model/index.js';

export type { FileHeader } from '../model/index.js';

/** A file handed to an analyzer. `content` is the whole file, read once and shared by every analyzer that wanted it. */
export interface AnalyzedFile extends FileHeader {
  content: Buffer;
}

/**
 * A package as a cataloger reports it: the framework fills in `layer`, adds the file path to `paths`, and
 * computes `purl` where the cataloger leaves it out (OS packages, whose purl needs the distro: see purl.ts).
 */
export type CatalogedPackage = Omit<Package, 'layer' | 'paths' | 'purl'> & { paths?: string[]; purl?: string };

/**
 * A finding as a detector reports it: the framework fills in `layer`, `removedInLayer`, `sha256` and `source`,
 * and `path` (the analysed file's) where the detector leaves it out.
 * Results are cached per layer digest and reused wherever the layer appears, so nothing here may depend on the
 * layer's position in one image.
 */
export type DetectedFinding = Omit<Finding, 'layer' | 'removedInLayer' | 'source'> & { source?: Finding['source'] };

export interface AnalysisOutput {
  packages?: CatalogedPackage[];
  findings?: DetectedFinding[];
  os?: OsInfo;
  notices?: Omit<ScanNotice, 'layer'>[];
}

/**
 * One analyzer per ecosystem or detector (as Syft's catalogers and Trivy's analyzers).
 * `wants` is called for every entry of every layer, so it must be cheap (string tests on the path).
 * `analyze` must never throw on bad content: return a notice instead. (The runner also catches, to be safe.)
 * Bump `version` whenever output for the same input can change: cached layer results are keyed by it.
 */
export interface Analyzer {
  readonly name: string;
  readonly version: number;
  /**
   * What else decides this analyzer's output besides its code: e.g. a digest of the YARA rules or hash list it was
   * built with. Part of the layer cache key, so results made with other rules are never reused.
   */
  readonly configKey?: string;
  /**
   * Also run on payloads unpacked from files (archive members, decoded blobs, what a self-extracting script carries;
   * see unpack/): the threat detectors. Not the catalogers: what a payload holds is not installed.
   */
  readonly scansPayloads?: boolean;
  wants(path: string, header: FileHeader): boolean;
  analyze(file: AnalyzedFile, context: AnalyzerContext): Promise<AnalysisOutput> | AnalysisOutput;
}

/** Facts an analyzer may need that come from outside the file (the OS, for package URLs, is resolved at merge time). */
export interface AnalyzerContext {
  /** Limits, e.g. how deep to descend into nested archives. */
  readonly maxNestedArchiveDepth: number;
  readonly maxNestedArchiveBytes: number;
}
