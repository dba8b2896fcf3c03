/**
 * The dynamic stage of a scan: run the image in the sandbox (src/detonate), pass the files it dropped through the
 * static detectors, turn what it did into findings with the behaviour rules (src/verdict), and put `behavior` and
 * the findings into the report; the verdict is decided after every stage (src/verdict/verdict.ts). A run that
 * cannot be done is recorded in the report (`behavior: {error}`), never lost: the static results stand.
 */
import type { Analyzer } from '../analyze/analyzer.js';
import { mergeLayers } from '../analyze/merge.js';
import { analyzeLayerFiles } from '../analyze/runner.js';
import type { ResolvedImage } from '../image/types.js';
import { formatPlatform, hostPlatform } from '../image/types.js';
import type { Progress } from '../progress/progress.js';
import type { Behavior, Finding, Report } from '../model/index.js';
import type { DetonationResult, DroppedFile } from '../detonate/session.js';
import type { Runtime } from '../detonate/runtime/runtime.js';
import { readRegularFile } from '../util/regular-file.js';

/** Evaluates behaviour rules over a run (src/verdict's `VerdictRules`). */
export interface BehaviorRules {
  evaluateBehavior(result: DetonationResult): Finding[];
}

export interface DetonationStageOptions {
  runtime: Runtime;
  timeoutMs: number;
  /** Parent of each run's private work dir; every parent must let others traverse it (runc's mapped root). */
  workDir: string;
  /** The static detectors, run again over the files the sample dropped. */
  analyzers: readonly Analyzer[];
  rules?: BehaviorRules;
  progress: Progress;
}

export const DEFAULT_DETONATION_WORK_DIR = '/var/lib/detonate/runs';
/** Bytes of stdout and of stderr the report keeps. */
const REPORT_OUTPUT_BYTES = 4096;
/** Bytes read of one dropped file for the static detectors (the session already bounds count and total). */
const MAX_DROPPED_FILE_BYTES = 32 * 1024 * 1024;

/** Why this image cannot be run on this host, or undefined when it can. */
export function unrunnableReason(image: ResolvedImage): string | undefined {
  const host = hostPlatform();
  if (image.platform.os !== 'linux') return `it is a ${image.platform.os} image; only Linux images are detonated`;
  if (image.platform.architecture !== host.architecture) {
    return `it is built for ${formatPlatform(image.platform)} and this host runs ${formatPlatform(host)} (no emulation in the sandbox)`;
  }
  return undefined;
}

/** Runs `image` in the sandbox and folds the outcome into `report` (changed in place and returned). */
export async function detonateIntoReport(image: ResolvedImage, report: Report, options: DetonationStageOptions): Promise<Report> {
  const notices = (report.notices ??= []);
  const cannot = unrunnableReason(image);
  if (cannot) {
    report.behavior = { error: `not detonated: ${cannot}` };
    notices.push({ level: 'warning', message: `detonation skipped: ${cannot}` });
    return report;
  }
  const { detonateImage } = await import('../detonate/session.js');
  let dropped: Finding[] = [];
  let result: DetonationResult;
  try {
    result = await detonateImage(image, {
      runtime: options.runtime,
      timeoutMs: options.timeoutMs,
      workDir: options.workDir,
      progress: options.progress,
      inspectDropped: async (files) => {
        dropped = await analyseDroppedFiles(files, options.analyzers);
      },
    });
  } catch (err) {
    const e = err as Error & { hint?: string };
    const hint = e.hint && !e.message.includes(e.hint) ? ` (${e.hint})` : '';
    const missing = /executable "?([^"\s]+)"? (?:in PATH|file not found)|exec: "?([^"\s:]+)"?: (?:executable file )?not found/.exec(e.message);
    // An image that ships no runnable entrypoint (a data or base image) is a property of the image, not our failure.
    const message = missing
      ? `not run: the image's program "${missing[1] ?? missing[2]}" is not in the image, so its entrypoint cannot start`
      : `detonation failed: ${e.message.replace(/\s*\n\s*/g, ' ')}${hint}`;
    report.behavior = { error: message };
    notices.push({ level: missing ? 'warning' : 'error', message });
    options.progress.log(`${image.reference}: ${message}`);
    return report;
  }
  report.behavior = behaviorForReport(result);
  notices.push(...(result.notices ?? []));
  if (result.trace && !result.trace.complete) {
    notices.push({ level: 'warning', message: `the behaviour record is incomplete: ${result.trace.notes.join('; ')}` });
  }
  // Paths in findings are relative to the image root, as the static stage writes them.
  const findings = [...(options.rules?.evaluateBehavior(result) ?? []), ...dropped].map((f) => (f.path ? { ...f, path: f.path.replace(/^\/+/, '') } : f));
  report.findings.push(...findings);
  options.progress.log(
    `${image.reference}: ran ${(result.durationMs / 1000).toFixed(1)} s under ${result.sandbox}` +
      `${result.timedOut ? ' (stopped at the deadline)' : ` (exit ${result.exitCode ?? '?'})`}: ` +
      `${result.processes.length} processes, ${result.dns.length} DNS names, ${result.connections.length} connections, ${findings.length} findings`,
  );
  return report;
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

/** The report's `behavior`: the contract's fields plus what the run measured; the sinkhole's raw records stay out. */
export function behaviorForReport(r: DetonationResult): Behavior {
  const stdout = clip(r.output.stdout, REPORT_OUTPUT_BYTES);
  const stderr = clip(r.output.stderr, REPORT_OUTPUT_BYTES);
  return {
    sandbox: r.sandbox,
    durationMs: r.durationMs,
    exitCode: r.exitCode,
    timedOut: r.timedOut,
    ...(r.killedBy ? { killedBy: r.killedBy } : {}),
    processes: r.processes.map((p) => ({ pid: p.pid, ppid: p.ppid, exe: p.exe, argv: p.argv, startMs: p.startMs })),
    files: r.files.map((f) => ({
      op: f.op, path: f.path, pid: f.pid,
      ...(f.to !== undefined ? { to: f.to } : {}),
      ...(f.mode !== undefined ? { mode: f.mode } : {}),
      ...(f.error ? { error: f.error } : {}),
      ...(f.atMs !== undefined ? { atMs: f.atMs } : {}),
    })),
    dns: r.dns.map((d) => ({ name: d.name, type: d.type, pid: d.pid, ...(d.atMs !== undefined ? { atMs: d.atMs } : {}) })),
    connections: r.connections.map((c) => {
      const details = c.details as Record<string, unknown> | undefined;
      return {
        proto: c.proto, dst: c.dst, port: c.port,
        ...(c.host ? { host: c.host } : {}),
        firstBytes: c.firstBytes, protocol: c.protocol,
        ...(c.pid !== undefined ? { pid: c.pid } : {}),
        ...(c.atMs !== undefined ? { atMs: c.atMs } : {}),
        ...(details ? { details } : {}),
      };
    }),
    kills: (r.kills ?? []).map((k) => ({ pid: k.pid, target: k.target, signal: k.signal, ...(k.targetExe ? { targetExe: k.targetExe } : {}) })),
    ...(r.dropped ? { dropped: r.dropped.map((d) => ({ path: d.path, size: d.size, mode: d.mode, sha256: d.sha256 })) } : {}),
    ...(r.trace ? { trace: { complete: r.trace.complete, traceBytes: r.trace.traceBytes, omitted: { ...r.trace.omitted }, notes: [...r.trace.notes] } } : {}),
    cpu: r.cpu,
    memory: r.memory,
    pids: r.pids,
    limitsHit: r.limitsHit,
    series: r.series.map((s) => ({ t: s.t, cpuSeconds: s.cpuSeconds, memoryBytes: s.memoryBytes, pids: s.pids })),
    output: { stdout: stdout.text, stderr: stderr.text, truncated: r.output.truncated || stdout.cut || stderr.cut },
    timings: r.timings,
  };
}
