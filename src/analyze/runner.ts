import { createHash } from 'node:crypto';
import type { OsInfo, ScanNotice } from '../model/index.js';
import type { Analyzer, AnalyzerContext, CatalogedPackage, DetectedFinding, FileHeader } from './analyzer.js';
import { DEFAULT_LIMITS } from '../config/limits.js';
import { MAX_IN_FLIGHT_BYTES, MAX_IN_FLIGHT_FILES } from './limits.js';

/** Bump when the shape of `LayerResult` changes: old cache entries are then ignored. */
export const LAYER_RESULT_FORMAT = 1;

export interface LayerEntryRecord {
  path: string;
  type: FileHeader['type'];
  size: number;
  mode: number;
  linkname?: string;
}

/** What one analyzer made of one file. */
export interface FileAnalysisRecord {
  path: string;
  analyzer: string;
  packages?: CatalogedPackage[];
  findings?: DetectedFinding[];
  os?: OsInfo;
}

/** Everything the static stage learns from one layer; cached by (diffID, analyzer versions) and position-free. */
export interface LayerResult {
  format: number;
  diffId: string;
  analyzerKey: string;
  /** Every entry the layer adds or replaces (a later duplicate of a path in the same tar wins). */
  entries: LayerEntryRecord[];
  /** Paths the layer deletes from lower layers (`.wh.name`), and directories it makes opaque (`.wh..wh..opq`). */
  whiteouts: string[];
  opaqueDirs: string[];
  analyses: FileAnalysisRecord[];
  notices: Omit<ScanNotice, 'layer'>[];
  /** Uncompressed bytes of the layer tar. */
  tarBytes: number;
}

/** `name@version` of every analyzer, sorted: part of the layer cache key. */
export function analyzerKey(analyzers: readonly Analyzer[]): string {
  return [...analyzers].map((a) => `${a.name}@${a.version}${a.configKey ? `#${a.configKey}` : ''}`).sort().join(',');
}

/**
 * Collects one layer's result while the walker streams it. The walker asks `wanted(header)` for each entry and,
 * when some analyzer wants the file, reads its content once and calls `analyze`.
 */
export class LayerAnalysis {
  private readonly entries = new Map<string, LayerEntryRecord>();
  private readonly whiteouts: string[] = [];
  private readonly opaqueDirs: string[] = [];
  private readonly analyses: { sequence: number; order: number; record: FileAnalysisRecord }[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightBytes = 0;
  private sequence = 0;
  private readonly notices: Omit<ScanNotice, 'layer'>[] = [];
  private tarBytes = 0;

  constructor(
    private readonly analyzers: readonly Analyzer[],
    private readonly diffId: string,
    private readonly context: AnalyzerContext = {
      maxNestedArchiveDepth: DEFAULT_LIMITS.maxNestedArchiveDepth,
      maxNestedArchiveBytes: DEFAULT_LIMITS.maxNestedArchiveBytes,
    },
  ) {}

  addEntry(header: FileHeader): void {
    // A path repeated in one tar: the later entry is what extraction leaves behind.
    this.entries.delete(header.path);
    this.entries.set(header.path, {
      path: header.path,
      type: header.type,
      size: header.size,
      mode: header.mode,
      ...(header.linkname !== undefined ? { linkname: header.linkname } : {}),
    });
  }

  addWhiteout(path: string): void {
    this.whiteouts.push(path);
  }

  addOpaqueDir(dir: string): void {
    this.opaqueDirs.push(dir);
  }

  addNotice(notice: Omit<ScanNotice, 'layer'>): void {
    this.notices.push(notice);
  }

  setTarBytes(bytes: number): void {
    this.tarBytes = bytes;
  }

  /** Analyzers that want this entry; an empty list means the walker can skip its content. */
  wanted(header: FileHeader): Analyzer[] {
    return header.type === 'file' ? analyzersWanting(this.analyzers, header) : [];
  }

  /**
   * Hands one file to the analyzers that want it. Returns once there is room for more work: analyzers that wait on
   * other threads (YARA scanning in worker threads) then overlap with reading the next files, while at most
   * `MAX_IN_FLIGHT_FILES` files and `MAX_IN_FLIGHT_BYTES` bytes are held. Call `drain()` before `result()`.
   */
  async analyze(header: FileHeader, content: Buffer, analyzers: readonly Analyzer[]): Promise<void> {
    const sequence = this.sequence++;
    const size = content.length;
    this.inFlightBytes += size;
    const task = this.analyzeNow(header, content, analyzers, sequence).finally(() => {
      this.inFlight.delete(task);
      this.inFlightBytes -= size;
    });
    this.inFlight.add(task);
    while (this.inFlight.size >= MAX_IN_FLIGHT_FILES || (this.inFlightBytes > MAX_IN_FLIGHT_BYTES && this.inFlight.size > 1)) {
      await Promise.race(this.inFlight);
    }
  }

  /** Waits for every file handed to `analyze` to be done. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  private async analyzeNow(header: FileHeader, content: Buffer, analyzers: readonly Analyzer[], sequence: number): Promise<void> {
    let sha256: string | undefined;
    for (const analyzer of analyzers) {
      try {
        const out = await analyzer.analyze({ ...header, content }, this.context);
        for (const n of out.notices ?? []) this.notices.push({ ...n, path: n.path ?? header.path });
        const hasPackages = (out.packages?.length ?? 0) > 0;
        const hasFindings = (out.findings?.length ?? 0) > 0;
        if (!hasPackages && !hasFindings && !out.os) continue;
        const record: FileAnalysisRecord = { path: header.path, analyzer: analyzer.name };
        if (hasPackages) record.packages = out.packages;
        if (hasFindings) {
          sha256 ??= createHash('sha256').update(content).digest('hex');
          const fileSha = sha256;
          record.findings = out.findings!.map((f) => ({ ...f, path: f.path ?? header.path, sha256: f.sha256 ?? fileSha }));
        }
        if (out.os) record.os = out.os;
        this.analyses.push({ sequence, order: analyzers.indexOf(analyzer), record });
      } catch (err) {
        this.notices.push({
          level: 'warning',
          message: `${analyzer.name} could not read this file: ${(err as Error).message}`,
          path: header.path,
        });
      }
    }
  }

  result(analyzerKeyOverride?: string): LayerResult {
    if (this.inFlight.size > 0) throw new Error('LayerAnalysis.result() called before drain()');
    return {
      format: LAYER_RESULT_FORMAT,
      diffId: this.diffId,
      analyzerKey: analyzerKeyOverride ?? analyzerKey(this.analyzers),
      entries: [...this.entries.values()],
      whiteouts: this.whiteouts,
      opaqueDirs: this.opaqueDirs,
      // in the order files appeared in the layer, whatever order their analyses finished in
      analyses: this.analyses.sort((a, b) => a.sequence - b.sequence || a.order - b.order).map((a) => a.record),
      notices: this.notices,
      tarBytes: this.tarBytes,
    };
  }
}

/** The analyzers of `analyzers` that want a file with this header. */
export function analyzersWanting(analyzers: readonly Analyzer[], header: FileHeader): Analyzer[] {
  const out: Analyzer[] = [];
  for (const a of analyzers) {
    try {
      if (a.wants(header.path, header)) out.push(a);
    } catch {
      // a faulty wants() must not break the walk; the analyzer just sees nothing
    }
  }
  return out;
}

/** Runs analyzers over files already in memory, as one layer (used by tests and by nested content). */
export async function analyzeLayerFiles(
  analyzers: readonly Analyzer[],
  diffId: string,
  files: readonly { header: FileHeader; content: Buffer }[],
): Promise<LayerResult> {
  const layer = new LayerAnalysis(analyzers, diffId);
  for (const { header, content } of files) {
    layer.addEntry(header);
    const wanted = layer.wanted(header);
    if (wanted.length > 0) await layer.analyze(header, content, wanted);
  }
  await layer.drain();
  return layer.result();
}
