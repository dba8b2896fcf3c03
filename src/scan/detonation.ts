/**
 * The dynamic stage of a scan: run the image in the sandbox (src/detonate) and pass the files it dropped through the
 * static detectors. It returns the run record (the report's `behavior`) and the findings on dropped files; the
 * behaviour rules judge the record in the verdict step, with everything else (src/verdict). A run that cannot be
 * done is recorded (`{ error }`), never lost: the static results stand.
 */
import type { Analyzer } from '../analyze/analyzer.js';
import { mergeLayers } from '../analyze/merge.js';
import { analyzeLayerFiles } from '../analyze/runner.js';
import type { ResolvedImage } from '../image/types.js';
import { formatPlatform, hostPlatform } from '../image/types.js';
import type { Progress } from '../progress/progress.js';
import type { Finding, RunFailure, RunRecord, ScanNotice } from '../model/index.js';
import type { DetonationResult, DroppedFile } from '../detonate/session.js';
import { runtimeFailureOf, type Runtime } from '../detonate/runtime/runtime.js';
import { MAX_DROPPED_FILE_BYTES, MAX_REPORTED_OUTPUT_BYTES } from '../detonate/limits.js';
import { readRegularFile } from '../util/regular-file.js';

export interface DetonationStageOptions {
  runtime: Runtime;
  timeoutMs: number;
  /** Parent of each run's private work dir; every parent must let others traverse it (runc's mapped root). */
  workDir: string;
  /** The static detectors, run again over the files the sample dropped. */
  analyzers: readonly Analyzer[];
  progress: Progress;
  /** Ends the run early; the stage then throws (an interrupted run is no record of the image), see `DetonateOptions.signal`. */
  signal?: AbortSignal;
}

/** What the dynamic stage returns for one image. */
export interface DetonationStageResult {
  /** The report's `behavior`: the run record, or why the image was not run. */
  run: RunRecord | RunFailure;
  /** The static detectors' findings on the files the sample dropped (`source: dynamic`). */
  droppedFindings: Finding[];
  notices: ScanNotice[];
}

export const DEFAULT_DETONATION_WORK_DIR = '/var/lib/detonate/runs';

/** Why this image cannot be run on this host, or undefined when it can. */
export function unrunnableReason(image: ResolvedImage): string | undefined {
  const host = hostPlatform();
  if (image.platform.os !== 'linux') return `it is a ${image.platform.os} image; only Linux images are detonated`;
  if (image.platform.architecture !== host.architecture) {
    return `it is built for ${formatPlatform(image.platform)} and this host runs ${formatPlatform(host)} (no emulation in the sandbox)`;
  }
  return undefined;
}

/** Runs `image` in the sandbox: its run record, or why it could not be run. */
export async function runDetonationStage(image: ResolvedImage, options: DetonationStageOptions): Promise<DetonationStageResult> {
  const cannot = unrunnableReason(image);
  if (cannot) {
    return { run: { error: `not detonated: ${cannot}` }, droppedFindings: [], notices: [{ level: 'warning', message: `detonation skipped: ${cannot}` }] };
  }
  const { detonateImage, DetonationInterrupted } = await import('../detonate/session.js');
  let droppedFindings: Finding[] = [];
  let result: DetonationResult;
  try {
    result = await detonateImage(image, {
      runtime: options.runtime,
      timeoutMs: options.timeoutMs,
      workDir: options.workDir,
      progress: options.progress,
      ...(options.signal ? { signal: options.signal } : {}),
      inspectDropped: async (files) => {
        droppedFindings = await analyseDroppedFiles(files, options.analyzers);
      },
    });
  } catch (err) {
    if (err instanceof DetonationInterrupted) throw err;
    const e = err as Error & { hint?: string };
    const hint = e.hint && !e.message.includes(e.hint) ? ` (${e.hint})` : '';
    const failure = runtimeFailureOf(err);
    const missing = failure?.kind === 'entrypoint-missing' ? failure.program : undefined;
    // An image that ships no runnable entrypoint (a data or base image) is a property of the image, not our failure.
    const message = missing !== undefined
      ? `not run: the image's program "${missing}" is not in the image, so its entrypoint cannot start`
      : `detonation failed: ${e.message.replace(/\s*\n\s*/g, ' ')}${hint}`;
    options.progress.log(`${image.reference}: ${message}`);
    return { run: { error: message }, droppedFindings: [], notices: [{ level: missing !== undefined ? 'warning' : 'error', message }] };
  }
  const notices: ScanNotice[] = [...(result.notices ?? [])];
  if (result.trace && !result.trace.complete) {
    notices.push({ level: 'warning', message: `the behaviour record is incomplete: ${result.trace.notes.join('; ')}` });
  }
  options.progress.log(
    `${image.reference}: ran ${(result.durationMs / 1000).toFixed(1)} s under ${result.sandbox}` +
      `${result.timedOut ? ' (stopped at the deadline)' : ` (exit ${result.exitCode ?? '?'})`}: ` +
      `${result.processes.length} processes, ${result.dns.length} DNS names, ${result.connections.length} connections, ${droppedFindings.length} findings on dropped files`,
  );
  return { run: runRecordOf(result), droppedFindings, notices };
}

/** The static detectors over what the sample wrote: findings on those files are dynamic (the image did not ship them). */
export async function analyseDroppedFiles(files: readonly DroppedFile[], analyzers: readonly Analyzer[]): Promise<Finding[]> {
  const inputs: { header: { path: string; type: 'file'; size: number; mode: number }; content: Buffer }[] = [];
  for (const file of files) {
    // a planted link or FIFO is never followed or opened for long
    const content = await readRegularFile(file.hostPath, MAX_DROPPED_FILE_BYTES).catch(() => null);
    if (!content) continue;
    inputs.push({ header: { path: file.path.replace(/^\/+/, ''), type: 'file', size: content.length, mode: file.mode }, content });
  }
  if (inputs.length === 0) return [];
  const layer = await analyzeLayerFiles(analyzers, 'sha256:dropped-at-runtime', inputs);
  return mergeLayers([layer]).findings.map((f) => {
    const { layer: _layer, removedInLayer: _removed, ...rest } = f;
    return { ...rest, source: 'dynamic' as const, evidence: { ...f.evidence, droppedAtRuntime: true } };
  });
}


function clip(text: string, max: number): { text: string; cut: boolean } {
  return text.length > max ? { text: text.slice(0, max), cut: true } : { text, cut: false };
}

/**
 * The run record of a detonation: the session's result without what only the session needs (the sinkhole's raw
 * records, the runtime's log), its lists as they are, its output cut to what the report keeps.
 */
export function runRecordOf(r: DetonationResult): RunRecord {
  const { sinkhole: _sinkhole, network, runtimeLog: _log, notices: _notices, output, ...record } = r;
  const stdout = clip(output.stdout, MAX_REPORTED_OUTPUT_BYTES);
  const stderr = clip(output.stderr, MAX_REPORTED_OUTPUT_BYTES);
  return {
    ...record,
    output: { stdout: stdout.text, stderr: stderr.text, truncated: output.truncated || stdout.cut || stderr.cut },
    sinkAddress: network.sinkAddress,
  };
}
