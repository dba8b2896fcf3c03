import type { ResolvedImage } from '../image/types.js';
import { formatPlatform } from '../image/types.js';
import type { StaticSummary } from '../analyze/summary.js';
import type { ImageConfigSummary, Report } from '../model/index.js';
import { toolVersion } from '../version.js';

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

/**
 * Joins what was resolved and what the static stage found into the report object every renderer takes. The
 * other stages add to it, and its verdict is decided once, after all of them (`scanReference`).
 */
export function buildReport(image: ResolvedImage, merged: StaticSummary): Report {
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
    verdict: { malicious: false, categories: [], vulnerabilities: { critical: 0, high: 0, moderate: 0, low: 0, unknown: 0 }, summary: '' },
    notices: merged.notices,
    scannedAt: new Date().toISOString(),
  };
}
