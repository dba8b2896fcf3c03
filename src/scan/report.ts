import type { ResolvedImage } from '../image/types.js';
import { formatPlatform } from '../image/types.js';
import type { StaticSummary } from '../analyze/summary.js';
import type { ImageConfigSummary, Report, ScanNotice } from '../model/index.js';
import type { VulnerabilityResult } from '../vuln/stage.js';
import type { Judgement, VerdictInput } from '../verdict/verdict.js';
import type { DetonationStageResult } from './detonation.js';
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

/** What the stages returned for one image: the report is assembled from these, and only here. */
export interface StageResults {
  image: ResolvedImage;
  static: StaticSummary;
  /** Absent: vulnerabilities were not part of this scan. */
  vulnerabilities?: VulnerabilityResult;
  /** Absent: static only. */
  detonation?: DetonationStageResult;
  judgement: Judgement;
}

/** The verdict step's input from the stages' results. */
export function verdictInput(stages: Omit<StageResults, 'judgement'>): VerdictInput {
  const vulns = stages.vulnerabilities;
  return {
    findings: [...stages.static.findings, ...(vulns?.findings ?? [])],
    droppedFindings: stages.detonation?.droppedFindings ?? [],
    vulnerabilities: vulns?.vulnerabilities ?? [],
    run: stages.detonation?.run ?? null,
    notices: stageNotices(stages),
    vulnerabilitiesChecked: Boolean(vulns?.advisoryDb),
  };
}

function stageNotices(stages: Omit<StageResults, 'judgement'>): ScanNotice[] {
  return [...stages.static.notices, ...(stages.vulnerabilities?.notices ?? []), ...(stages.detonation?.notices ?? [])];
}

/** The report every renderer takes, from the stages' results and the verdict decided over them. */
export function assembleReport(stages: StageResults): Report {
  const { image, static: found, judgement } = stages;
  const notices = [...stageNotices(stages), ...judgement.notices];
  return {
    schemaVersion: 1,
    tool: { name: 'detonate', version: toolVersion(), advisoryDb: stages.vulnerabilities?.advisoryDb ?? null },
    image: {
      reference: image.reference,
      digest: image.digest,
      configDigest: image.configDigest,
      platform: formatPlatform(image.platform),
      os: found.os,
      layers: image.layers.map((l, i) => ({
        index: l.index,
        diffId: l.diffId,
        ...(l.digest !== l.diffId ? { digest: l.digest } : {}),
        mediaType: l.mediaType,
        size: l.size,
        ...(l.createdBy !== undefined ? { createdBy: l.createdBy } : {}),
        entries: found.layerStats[i]?.entries ?? 0,
        whiteouts: found.layerStats[i]?.whiteouts ?? 0,
      })),
      config: configSummary(image),
      files: found.files,
    },
    packages: found.packages,
    vulnerabilities: judgement.vulnerabilities,
    findings: judgement.findings,
    behavior: stages.detonation?.run ?? null,
    verdict: judgement.verdict,
    ...(judgement.suppressed ? { suppressed: judgement.suppressed } : {}),
    notices,
    scannedAt: new Date().toISOString(),
  };
}
