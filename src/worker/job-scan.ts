/**
 * One job's scan: the pipeline `detonate scan` runs (src/scan/scan.ts), with what a worker adds through the scan's
 * hooks: per-layer results and layer identities from the store (a layer analysed by any worker is not analysed,
 * or even downloaded, again), the resolved images checked against the store first (an image already scanned at its
 * digest is linked, not scanned again; one larger than the job allows is skipped), and the registry's responses
 * watched for rate limits. What to record is returned; the worker records it with the job's completion.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Analyzer } from '../analyze/analyzer.js';
import type { ImageCheck } from '../analyze/image-check.js';
import type { LayerResult } from '../analyze/runner.js';
import type { Limits } from '../config/limits.js';
import { DigestMismatchError } from '../image/errors.js';
import { formatPlatform, parsePlatform, type Layer, type PlatformSelector, type RegistryResponseObserver, type ResolvedImage } from '../image/types.js';
import type { Report } from '../model/index.js';
import { silentProgress, type Progress } from '../progress/progress.js';
import { scanReference, type LayerResultStore, type ScanOptions } from '../scan/scan.js';
import type { ScanJob } from '../store/queue.js';
import type { Store, UnfinishedImage } from '../store/index.js';
import type { AdvisoryDb } from '../vuln/db.js';
import type { VerdictRules } from '../verdict/index.js';
import type { IgnoreList } from '../verdict/ignore.js';
import { retryingStore } from '../store/retry.js';
import type { LayerSource } from './metrics.js';

/** What every scan of a worker runs with, prepared once (as `detonate scan` prepares it). */
export interface ScanPipeline {
  analyzers: readonly Analyzer[];
  imageChecks: readonly ImageCheck[];
  /** Absent: vulnerabilities are not matched (`--no-vulns`). */
  vulnerabilities?: { db: AdvisoryDb | null; unavailable?: string };
  /** The sandbox, when this worker detonates; each job gives its own timeout. */
  detonation?: Omit<NonNullable<ScanOptions['detonation']>, 'timeoutMs'>;
  verdict: { rules: VerdictRules; ignore: IgnoreList | null };
  /** `rulesDigest()` of the analyzers, checks, rules and ignore entries. */
  rulesDigest: string;
  /** `judgingDigest()` of the rules and ignore entries (the stored scans' match fingerprints). */
  judgingDigest: string;
  insecureRegistries: string[];
  limits?: Partial<Limits>;
  /** Where each job gets a private cache directory (blobs), removed when the job ends. */
  jobsDir: string;
}

export interface LinkedImage {
  reference: string;
  digest: string;
  platform: string;
  scanId: number;
}

export interface SkippedImage {
  image: Required<UnfinishedImage>;
  reason: string;
}

export interface JobScanResult {
  reports: Report[];
  linked: LinkedImage[];
  skipped: SkippedImage[];
}

/** Another job is scanning the same image right now: this job waits and then links to that scan. */
export class ImageBeingScanned extends Error {
  constructor(readonly image: string) {
    super(`${image} is being scanned by another job`);
    this.name = 'ImageBeingScanned';
  }
}

/** Where a job's scan stands, for the failed scan's stage and image when it throws. */
export interface JobScanState {
  stage: 'resolve' | 'analyze' | 'detonate';
  /** The images the reference resolved to (empty before). */
  images: Required<UnfinishedImage>[];
}

const compressedSize = (image: ResolvedImage) => image.layers.reduce((sum, l) => sum + l.size, 0);

/**
 * The store's layer results and layer identities, shaped as the static stage wants them; its failures are misses.
 * `counted` hears of each layer result taken from the store and each one analysed here (the layer dedupe's rate).
 */
export function storeLayerResults(store: Store, log: (line: string) => void, counted: (source: LayerSource) => void = () => {}): LayerResultStore {
  let warned = false;
  const warn = (err: unknown) => {
    if (!warned) log(`warning: the store's layer results are unavailable (${(err as Error).message}); layers are analysed here`);
    warned = true;
  };
  return {
    async get(diffId: string, analyzerKey: string): Promise<LayerResult | null> {
      const result = await store.getLayerResult(diffId, analyzerKey).catch((err: unknown) => (warn(err), null));
      if (result) counted('store');
      return result;
    },
    put(result: LayerResult) {
      counted('analysed');
      return store.putLayerResult(result).catch(warn);
    },
    async confirms(layer: Layer): Promise<boolean> {
      const known = await store.layerDiffIdOf(layer.digest).catch((err: unknown) => (warn(err), undefined));
      if (known === undefined) return false;
      if (known !== layer.diffId) throw new DigestMismatchError(layer.diffId, known, `layer ${layer.index} (${layer.digest}) diffID`);
      return true;
    },
    record: (blobDigest: string, diffId: string) => store.recordLayerBlob(blobDigest, diffId).catch(warn),
  };
}

export interface JobScanContext {
  pipeline: ScanPipeline;
  store: Store;
  layerResults: LayerResultStore;
  /** The advisory DB's build date, as reports record it (null without one). */
  advisoryDbBuiltAt: string | null;
  onRegistryResponse?: RegistryResponseObserver;
  progress?: Progress;
  state: JobScanState;
  /** Ends a detonation in progress (the job was released): the scan then throws. */
  signal?: AbortSignal;
  /** Claims an image for this job while it scans it (false: another running job has it). */
  claim(digest: string, platform: string): Promise<boolean>;
}

export async function scanJob(job: ScanJob, context: JobScanContext): Promise<JobScanResult> {
  const { pipeline, store } = context;
  const platform: PlatformSelector | undefined = job.platform === undefined ? undefined : job.platform === 'all' ? 'all' : parsePlatform(job.platform);
  const detonate = !job.staticOnly;
  if (detonate && !pipeline.detonation) throw new Error('this worker has no sandbox for a job that asks for detonation');
  const linked: LinkedImage[] = [];
  const skipped: SkippedImage[] = [];
  const selectImages = async (images: ResolvedImage[]): Promise<ResolvedImage[]> => {
    context.state.images = images.map((i) => ({ reference: i.reference, digest: i.digest, platform: formatPlatform(i.platform) }));
    context.state.stage = 'analyze';
    const keep: ResolvedImage[] = [];
    for (const image of images) {
      const platformText = formatPlatform(image.platform);
      const size = compressedSize(image);
      if (job.maxImageSizeBytes !== undefined && size > job.maxImageSizeBytes) {
        skipped.push({ image: { reference: image.reference, digest: image.digest, platform: platformText }, reason: `the image's layers are ${size} bytes, over the job's limit of ${job.maxImageSizeBytes}` });
        continue;
      }
      // claim first, then look: the job that holds the claim records its scan and drops the claim in one transaction
      if (!(await retryingStore(() => context.claim(image.digest, platformText)))) throw new ImageBeingScanned(`${image.reference} (${platformText}, ${image.digest})`);
      const key = { digest: image.digest, platform: platformText, rulesDigest: pipeline.rulesDigest, advisoryDbBuiltAt: context.advisoryDbBuiltAt, detonated: detonate };
      const scanId = await retryingStore(() => store.findDoneScan(key));
      if (scanId !== null) linked.push({ reference: image.reference, digest: image.digest, platform: platformText, scanId });
      else keep.push(image);
    }
    return keep;
  };
  const cacheDir = await mkdtemp(join(pipeline.jobsDir, `${process.pid}-`));
  try {
    const reports = await scanReference(job.reference, {
      ...(platform ? { platform } : {}),
      progress: context.progress ?? silentProgress,
      insecureRegistries: pipeline.insecureRegistries,
      cacheDir,
      ...(pipeline.limits ? { limits: pipeline.limits } : {}),
      analyzers: pipeline.analyzers,
      imageChecks: pipeline.imageChecks,
      ...(pipeline.vulnerabilities ? { vulnerabilities: pipeline.vulnerabilities } : {}),
      ...(detonate && pipeline.detonation ? { detonation: { ...pipeline.detonation, timeoutMs: job.detonateTimeoutMs, ...(context.signal ? { signal: context.signal } : {}) } } : {}),
      verdict: pipeline.verdict,
      layerResults: context.layerResults,
      selectImages,
      onStage: (stage) => {
        context.state.stage = stage === 'detonation' ? 'detonate' : 'analyze';
      },
      ...(context.onRegistryResponse ? { onRegistryResponse: context.onRegistryResponse } : {}),
    });
    return { reports, linked, skipped };
  } finally {
    await rm(cacheDir, { recursive: true, force: true }).catch(() => {});
  }
}
