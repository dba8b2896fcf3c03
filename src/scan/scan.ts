import type { Analyzer } from '../analyze/analyzer.js';
import { LayerAnalysis, analyzerKey, type LayerResult } from '../analyze/runner.js';
import { mergeLayers, type MergedImage } from '../analyze/merge.js';
import { LayerResultCache } from '../analyze/layer-cache.js';
import { ImageSummaryCache, summarise, type StaticSummary } from '../analyze/summary.js';
import { defaultAnalyzers, defaultImageChecks } from '../analyze/registry.js';
import { configPayloadFindings, type ConfigText } from '../analyze/unpack/index.js';
import { imageCheckKey, runImageChecks, type HistoryStep, type ImageCheck } from '../analyze/image-check.js';
import { assembleReport, configSummary, verdictInput } from './report.js';
import type { Detectors } from '../analyze/detectors.js';
import { resolveLimits, type Limits } from '../config/limits.js';
import { BlobCache, cacheRoot } from '../image/cache.js';
import { openImageSource } from '../image/open.js';
import type { Layer, PlatformSelector, RegistryResponseObserver, ResolvedImage } from '../image/types.js';
import { hostPlatform, formatPlatform } from '../image/types.js';
import { Transform, type Readable } from 'node:stream';
import { ExpansionBudget, walkLayer, type LayerVisitor, type WalkResult } from '../layers/walk.js';
import { LayerIdentities } from '../layers/identity.js';
import { LayerReadError } from '../image/errors.js';
import { silentProgress, type Progress } from '../progress/progress.js';
import type { ImageConfigSummary, Report } from '../model/index.js';
import type { AdvisoryDb } from '../vuln/db.js';
import type { DetonationStageOptions, DetonationStageResult } from './detonation.js';
import type { VulnerabilityResult } from '../vuln/stage.js';
import type { VerdictRules } from '../verdict/index.js';
import type { IgnoreList } from '../verdict/ignore.js';
import { decideVerdict } from '../verdict/verdict.js';

export interface ScanOptions {
  /** Undefined: the host's platform, but an archive holding a single image of another platform is still scanned. */
  platform?: PlatformSelector;
  limits?: Partial<Limits>;
  analyzers?: readonly Analyzer[];
  /** Image-level checks run after the merge (config, history, file modes, correlations); default `defaultImageChecks`. */
  imageChecks?: readonly ImageCheck[];
  /** Cache root (blobs and layer results); defaults to the XDG cache dir. */
  cacheDir?: string;
  /** Skip the layer-result cache (blobs are still cached: they are verified by digest). */
  noLayerCache?: boolean;
  insecureRegistries?: string[];
  progress?: Progress;
  /**
   * The vulnerability stage: the opened advisory DB, or null with the reason it is unavailable (the report then
   * says so). Absent: vulnerabilities are not part of this scan at all (library use, tests of other stages).
   */
  vulnerabilities?: { db: AdvisoryDb | null; unavailable?: string };
  /** The dynamic stage: run each image in this sandbox after the static stage. Absent: static only. */
  detonation?: Omit<DetonationStageOptions, 'progress' | 'analyzers'>;
  /** What the verdict, decided once after every stage, is judged by: the rules (default: the shipped ones) and an ignore file. */
  verdict?: { rules?: VerdictRules; ignore?: IgnoreList | null };
  /** Per-layer results kept elsewhere than the on-disk cache, by the same keys (a worker's: the results store). */
  layerResults?: LayerResultStore;
  /**
   * Sees the images the reference resolved to before any is analysed; only those it returns are scanned (a worker
   * drops an image already scanned at its digest, or one too large).
   */
  selectImages?: (images: ResolvedImage[]) => Promise<ResolvedImage[]>;
  /** Sees every registry response (a worker honours rate-limit headers for every worker sharing its store). */
  onRegistryResponse?: RegistryResponseObserver;
  /** Told when each image enters a stage (a worker knows which of its jobs has a sandbox running). */
  onStage?: (stage: ScanStage, image: ResolvedImage) => void;
}

export type ScanStage = 'static' | 'vulnerabilities' | 'detonation';

/**
 * What the static stage needs of a layer-result cache: `LayerResultCache`'s get and put. A store shared by many
 * machines also keeps which diffID a walk found for each blob (`confirms`, `record`, as `LayerIdentities` does on one
 * machine), so that its results stand for a layer of any image whose blob digest it knows, without a download.
 */
export interface LayerResultStore {
  get(diffId: string, analyzerKey: string): Promise<LayerResult | null>;
  put(result: LayerResult): Promise<unknown>;
  confirms?(layer: Layer): Promise<boolean>;
  record?(blobDigest: string, diffId: string): Promise<unknown>;
}

/** Whether results kept under `layer.diffId` stand for this layer: the shared store's word if it keeps identities. */
function confirmer(options: ScanOptions, identities: LayerIdentities): (layer: Layer) => Promise<boolean> {
  return options.layerResults?.confirms?.bind(options.layerResults) ?? ((layer) => identities.confirms(layer));
}

/** The static stage for one reference: resolve → per-layer analysis (cached) → merge → report, per platform. */
export async function scanReference(reference: string, options: ScanOptions = {}): Promise<Report[]> {
  if (!options.analyzers) {
    // The full static stage, YARA rules included, as the CLI runs it; built once per process.
    const detectors = await defaultDetectors();
    options = { ...options, analyzers: detectors.analyzers, imageChecks: options.imageChecks ?? detectors.imageChecks };
  }
  const limits = resolveLimits(options.limits);
  const root = options.cacheDir ?? cacheRoot();
  const progress = options.progress ?? silentProgress;
  const source = await openImageSource(reference, {
    limits,
    cache: new BlobCache(root),
    insecureRegistries: options.insecureRegistries ?? [],
    platformExplicit: options.platform !== undefined,
    progress,
    ...(options.onRegistryResponse ? { onRegistryResponse: options.onRegistryResponse } : {}),
  });
  try {
    const resolved = await source.resolve(options.platform ?? hostPlatform());
    const images = options.selectImages ? await options.selectImages(resolved) : resolved;
    const reports: Report[] = [];
    for (const image of images) {
      const started = Date.now();
      const report = await scanImage(image, { ...options, limits, cacheDir: root, progress });
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      const vulns = options.vulnerabilities?.db ? `, ${report.vulnerabilities.length} vulnerabilities` : '';
      progress.log(`${image.reference} (${formatPlatform(image.platform)}): ${report.packages.length} packages in ${image.layers.length} layers${vulns}, ${seconds}s`);
      reports.push(report);
    }
    return reports;
  } finally {
    await source.close();
  }
}

export type ResolvedScanOptions = ScanOptions & { limits: Limits; cacheDir: string; progress: Progress };

/** Every stage over one resolved image, each returning its own result, then the one verdict step; then the report. */
async function scanImage(image: ResolvedImage, options: ResolvedScanOptions): Promise<Report> {
  options.onStage?.('static', image);
  const found = await staticStage(image, options);
  let vulnerabilities: VulnerabilityResult | undefined;
  if (options.vulnerabilities) {
    options.onStage?.('vulnerabilities', image);
    const { matchVulnerabilities } = await import('../vuln/stage.js');
    vulnerabilities = matchVulnerabilities(found, options.vulnerabilities.db, options.vulnerabilities.unavailable);
  }
  let detonation: DetonationStageResult | undefined;
  if (options.detonation) {
    options.onStage?.('detonation', image);
    const { runDetonationStage } = await import('./detonation.js');
    detonation = await runDetonationStage(image, { ...options.detonation, analyzers: options.analyzers ?? defaultAnalyzers, progress: options.progress });
  }
  const stages = { image, static: found, ...(vulnerabilities ? { vulnerabilities } : {}), ...(detonation ? { detonation } : {}) };
  const rules = options.verdict?.rules ?? (await loadDefaultVerdictRules());
  const judgement = decideVerdict(verdictInput(stages), { rules, ignore: options.verdict?.ignore ?? null });
  return assembleReport({ ...stages, judgement });
}

/**
 * The static stage for one image: per-layer analysis (cached per layer diffID), the merge, the image checks. A
 * summary of an image whose every layer is confirmed comes from the image cache without reading a layer.
 */
export async function staticStage(image: ResolvedImage, options: ResolvedScanOptions): Promise<StaticSummary> {
  const checks = options.imageChecks ?? defaultImageChecks;
  // Image checks read the config, so the config digest is part of the key as well as the layers.
  const key = `${analyzerKey(options.analyzers ?? defaultAnalyzers)}|${imageCheckKey(checks)}|${image.configDigest}`;
  const diffIds = image.layers.map((l) => l.diffId);
  const cache = options.noLayerCache ? null : new ImageSummaryCache(options.cacheDir);
  const identities = new LayerIdentities(options.cacheDir);
  if (cache && (await allConfirmed(image, confirmer(options, identities)))) {
    const cached = await cache.get(diffIds, key);
    if (cached) return cached;
  }
  const { layers, merged } = await analyzeImage(image, options, identities);
  const config = configSummary(image);
  const history = historySteps(image);
  const fromConfig = await configPayloadFindings(configTexts(config, history), options.analyzers ?? defaultAnalyzers, {
    maxNestedArchiveDepth: options.limits.maxNestedArchiveDepth,
    maxNestedArchiveBytes: options.limits.maxNestedArchiveBytes,
  });
  const checked = runImageChecks(checks, {
    config,
    history,
    layers,
    files: merged.files,
    removed: merged.removed,
    packages: merged.packages,
    findings: [...merged.findings, ...fromConfig.findings],
  });
  const summary = summarise(layers, { ...merged, findings: checked.findings, notices: [...merged.notices, ...fromConfig.notices, ...checked.notices] });
  await cache?.put(diffIds, key, summary);
  return summary;
}

/** True when every layer's claimed diffID is confirmed for the bytes at hand (see `LayerIdentities.confirms`). */
async function allConfirmed(image: ResolvedImage, confirms: (layer: Layer) => Promise<boolean>): Promise<boolean> {
  for (const layer of image.layers) if (!(await confirms(layer))) return false;
  return true;
}

/** The commands and values of the config that a payload may be encoded in: entrypoint with command, ENV values, build steps. */
function configTexts(config: ImageConfigSummary, history: readonly HistoryStep[]): ConfigText[] {
  const texts: ConfigText[] = [];
  const command = [...config.entrypoint, ...config.cmd].join(' ');
  if (command) texts.push({ where: 'config.Entrypoint/Cmd', text: command });
  for (const env of config.env) {
    const eq = env.indexOf('=');
    texts.push({ where: `config.Env ${(eq < 0 ? env : env.slice(0, eq)).slice(0, 64)}`, text: eq < 0 ? '' : env.slice(eq + 1) });
  }
  for (const step of history) if (step.createdBy) texts.push({ where: `history step ${step.step}`, text: step.createdBy, step: step.step, layer: step.layer });
  return texts.filter((t) => t.text !== '');
}

/** The config's build history, each step tied to the layer it produced (steps marked `empty_layer` made none). */
export function historySteps(image: ResolvedImage): HistoryStep[] {
  let layer = 0;
  return (image.config.history ?? []).map((h, step) => ({
    step,
    createdBy: h.created_by ?? '',
    layer: h.empty_layer ? null : layer < image.layers.length ? layer++ : null,
  }));
}

async function loadDefaultVerdictRules(): Promise<VerdictRules> {
  const { loadVerdictRules } = await import('../verdict/index.js');
  return loadVerdictRules();
}

let defaultDetectorsPromise: Promise<Detectors> | undefined;
function defaultDetectors(): Promise<Detectors> {
  defaultDetectorsPromise ??= import('../analyze/detectors.js').then((m) => m.createDetectors());
  return defaultDetectorsPromise;
}

/** How many layers ahead blobs are fetched while the current layer is analysed (registry pulls overlap analysis). */
const PREFETCH_LAYERS = 3;

/**
 * Per-layer results (from the cache where possible) and the merged view of one image. A cached result is used only
 * for a layer whose diffID a walk established for the very blob the image names (`LayerIdentities`); each distinct
 * blob is read once however often the image lists it, and all reads together are bounded by the image's budget.
 */
export async function analyzeImage(
  image: ResolvedImage,
  options: ResolvedScanOptions,
  identities = new LayerIdentities(options.cacheDir),
): Promise<{ layers: LayerResult[]; merged: MergedImage }> {
  const analyzers = options.analyzers ?? defaultAnalyzers;
  const key = analyzerKey(analyzers);
  const cache: LayerResultStore | null = options.noLayerCache ? null : (options.layerResults ?? new LayerResultCache(options.cacheDir));
  const label = formatPlatform(image.platform);
  const sameBlob = (l: Layer) => `${l.digest}\u0000${l.diffId}`;
  const distinct = image.layers.filter((l, i) => image.layers.findIndex((other) => sameBlob(other) === sameBlob(l)) === i);
  const results = new Map<string, LayerResult>();
  const confirms = confirmer(options, identities);
  for (const layer of distinct) {
    const cached = cache && (await confirms(layer)) ? await cache.get(layer.diffId, key) : null;
    if (cached) results.set(sameBlob(layer), cached);
  }
  const pending = distinct.filter((l) => !results.has(sameBlob(l)));
  const fetched = new Map<number, Promise<void>>();
  const prefetch = (from: number) => {
    for (const layer of pending.slice(from, from + PREFETCH_LAYERS)) {
      if (!layer.prefetch || fetched.has(layer.index)) continue;
      const p = layer.prefetch();
      p.catch(() => {}); // surfaced by open() when the layer's turn comes
      fetched.set(layer.index, p);
    }
  };
  const budget = new ExpansionBudget(options.limits);
  for (const [n, layer] of pending.entries()) {
    prefetch(n);
    await fetched.get(layer.index)?.catch(() => {});
    const blob = await layer.open();
    const { result, diffId } = await analyzeLayer(layer, blob, analyzers, options.limits, options.progress, `${label} layer ${layer.index + 1}/${image.layers.length}`, budget);
    results.set(sameBlob(layer), result);
    if (diffId) {
      await identities.record(layer.digest, diffId);
      await cache?.record?.(layer.digest, diffId);
    }
    await cache?.put(result);
  }
  const layers = image.layers.map((l) => results.get(sameBlob(l))!);
  return { layers, merged: mergeLayers(layers) };
}

/**
 * Streams one layer once through every analyzer that wants its files. `diffId` is set when the walk read the whole
 * layer and verified it (a layer that broke a limit gives a partial result and an error notice instead).
 */
export async function analyzeLayer(
  layer: Layer,
  blob: Readable,
  analyzers: readonly Analyzer[],
  limits: Limits,
  progress: Progress,
  label: string,
  imageBudget?: ExpansionBudget,
): Promise<{ result: LayerResult; diffId?: string }> {
  const analysis = new LayerAnalysis(analyzers, layer.diffId, {
    maxNestedArchiveDepth: limits.maxNestedArchiveDepth,
    maxNestedArchiveBytes: limits.maxNestedArchiveBytes,
  });
  const task = progress.task(label, layer.size);
  let compressedSeen = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      compressedSeen += chunk.length;
      task.update(compressedSeen);
      cb(null, chunk);
    },
  });
  blob.on('error', (err) => counter.destroy(err));
  let pendingWanted: Analyzer[] = [];
  const visitor: LayerVisitor = {
    entry(header) {
      analysis.addEntry(header);
      pendingWanted = analysis.wanted(header);
      return pendingWanted.length > 0;
    },
    content: (header, content) => analysis.analyze(header, content, pendingWanted),
    whiteout: (path) => analysis.addWhiteout(path),
    opaqueDir: (dir) => analysis.addOpaqueDir(dir),
    notice: (n) => analysis.addNotice(n),
  };
  let walked: WalkResult;
  try {
    walked = await walkLayer(blob.pipe(counter), { limits, compressedSize: layer.size, expectedDiffId: layer.diffId, ...(imageBudget ? { imageBudget } : {}) }, visitor);
  } catch (err) {
    task.finish('failed');
    await analysis.drain();
    if (!(err instanceof LayerReadError)) throw err;
    analysis.addNotice({ level: 'error', message: `layer ${layer.index} (${layer.digest}) could not be read completely: ${err.message}` });
    return { result: analysis.result() };
  }
  await analysis.drain();
  analysis.setTarBytes(walked.tarBytes);
  task.finish(`${walked.entries} entries`);
  return { result: analysis.result(), diffId: walked.diffId };
}
