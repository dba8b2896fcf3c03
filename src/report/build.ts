import type { ResolvedImage } from '../image/types.js';
import { formatPlatform } from '../image/types.js';
import type { StaticSummary } from '../analyze/summary.js';
import type { Finding, FindingCategory, ImageConfigSummary, Report } from './model.js';
import { toolVersion } from '../version.js';

const MALICIOUS: ReadonlySet<FindingCategory> = new Set(['cryptominer', 'backdoor', 'windows-malware', 'malware', 'malicious-package']);

export function configSummary(image: ResolvedImage): ImageConfigSummary {
  const c = image.config.config ?? {};
  return {
    user: c.User ?? '',
    entrypoint: c.Entrypoint ?? [],
    cmd: c.Cmd ?? [],
    env: c.Env ?? [],
    exposedPorts: Object.keys(c.ExposedPorts ?? {}),
    labels: c.Labels ?? {},
    ...(c.WorkingDir ? { workingDir: c.WorkingDir } : {}),
    ...(image.config.created ? { created: image.config.created } : {}),
    ...(image.config.architecture ? { architecture: image.config.architecture } : {}),
    ...(image.config.os ? { os: image.config.os } : {}),
  };
}

/** Joins what was resolved and what the static stage found into the one report object every renderer takes. */
export function buildReport(image: ResolvedImage, merged: StaticSummary): Report {
  const categories = [...new Set(merged.findings.map((f) => f.category))].sort();
  const malicious = categories.some((c) => MALICIOUS.has(c));
  const osName = merged.os?.prettyName ?? (merged.os ? `${merged.os.id} ${merged.os.versionId ?? ''}`.trim() : 'unknown OS');
  return {
    schemaVersion: 1,
    tool: { name: 'detonate', version: toolVersion(), advisoryDb: null },
    image: {
      reference: image.reference,
      digest: image.digest,
      configDigest: image.configDigest,
      platform: formatPlatform(image.platform),
      os: merged.os,
      layers: image.layers.map((l, i) => ({
        index: l.index,
        diffId: l.diffId,
        ...(l.digest !== l.diffId ? { digest: l.digest } : {}),
        mediaType: l.mediaType,
        size: l.size,
        ...(l.createdBy !== undefined ? { createdBy: l.createdBy } : {}),
        entries: merged.layerStats[i]?.entries ?? 0,
        whiteouts: merged.layerStats[i]?.whiteouts ?? 0,
      })),
      config: configSummary(image),
      files: merged.files,
    },
    packages: merged.packages,
    vulnerabilities: [],
    findings: merged.findings,
    behavior: null,
    verdict: {
      malicious,
      categories,
      vulnerabilities: { critical: 0, high: 0, moderate: 0, low: 0, unknown: 0 },
      summary: `${osName}, ${merged.packages.length} packages in ${image.layers.length} layers${categories.length ? `; findings: ${categories.join(', ')}` : ''}.`,
    },
    notices: merged.notices,
    scannedAt: new Date().toISOString(),
  };
}

const SEVERITY_RANK: Record<Finding['severity'], number> = { critical: 4, high: 3, moderate: 2, low: 1, info: 0 };

/** Adds later stages' findings (detonation) to the verdict: categories, `malicious`, and the run's strongest evidence in the summary. */
export function applyFindingsToVerdict(report: Report, findings: readonly Finding[]): void {
  if (findings.length === 0) return;
  const categories = new Set([...report.verdict.categories, ...findings.map((f) => f.category)]);
  report.verdict.categories = [...categories].sort();
  report.verdict.malicious = report.verdict.categories.some((c) => MALICIOUS.has(c));
  const strongest = [...findings].filter((f) => f.source === 'dynamic' && f.severity !== 'info').sort((a, b) => SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity])[0];
  if (strongest) report.verdict.summary = `${report.verdict.summary.replace(/\.$/, '')}; when run: ${strongest.title.replace(/\.$/, '')}.`;
}
