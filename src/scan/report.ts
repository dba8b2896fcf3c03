import type { ResolvedImage } from '../image/types.js';
import { formatPlatform } from '../image/types.js';
import type { StaticSummary } from '../analyze/summary.js';
import type { Finding, ImageConfigSummary, OsInfo, Package, Report, RunFailure, RunRecord, ScanNotice } from '../model/index.js';
import { isMaliciousPackageFinding, isVulnerabilityStageNotice, type VulnerabilityResult } from '../vuln/stage.js';
import { isIgnoreNotice } from '../verdict/ignore.js';
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
  const { image, static: found } = stages;
  return judgedReport(
    {
      toolVersion: toolVersion(),
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
      behavior: stages.detonation?.run ?? null,
      noticesBefore: stages.static.notices,
      noticesAfter: stages.detonation?.notices ?? [],
      scannedAt: new Date().toISOString(),
    },
    stages.vulnerabilities,
    stages.judgement,
  );
}

/** What a report holds besides the vulnerability stage's and the verdict step's parts. */
interface ImagePart {
  toolVersion: string;
  image: Report['image'];
  packages: Package[];
  behavior: Report['behavior'];
  /** The stages' notices that come before the vulnerability stage's (the static stage's) and after (the detonation's). */
  noticesBefore: ScanNotice[];
  noticesAfter: ScanNotice[];
  scannedAt: string | undefined;
}

/** The one place a report is put together: the image's part, the vulnerability stage's and the verdict step's. */
function judgedReport(part: ImagePart, vulnerabilities: VulnerabilityResult | undefined, judgement: Judgement): Report {
  return {
    schemaVersion: 1,
    tool: { name: 'detonate', version: part.toolVersion, advisoryDb: vulnerabilities?.advisoryDb ?? null },
    image: part.image,
    packages: part.packages,
    vulnerabilities: judgement.vulnerabilities,
    findings: judgement.findings,
    behavior: part.behavior,
    verdict: judgement.verdict,
    ...(judgement.suppressed ? { suppressed: judgement.suppressed } : {}),
    notices: [...part.noticesBefore, ...(vulnerabilities?.notices ?? []), ...part.noticesAfter, ...judgement.notices],
    ...(part.scannedAt !== undefined ? { scannedAt: part.scannedAt } : {}),
  };
}

/**
 * A stored report taken apart again into what its stages returned, for judging it anew against another advisory DB
 * without the image (`detonate rematch`): the inverse of `assembleReport`. The findings the verdict step and the
 * vulnerability stage made (behaviour and correlation findings, malicious packages) are left out, since judging again
 * makes them again; the ones the ignore file suppressed are put back, since judging again applies it again.
 */
export interface StoredStages {
  part: ImagePart;
  inventory: { packages: readonly Package[]; os: OsInfo | null };
  /** The static stage's findings (layers, image checks). */
  staticFindings: Finding[];
  /** Findings on the files the sample dropped. */
  droppedFindings: Finding[];
  run: RunRecord | RunFailure | null;
}

export function storedStages(report: Report): StoredStages {
  const all = [...report.findings, ...(report.suppressed ?? []).flatMap((s) => (s.finding ? [s.finding] : []))];
  const madeByJudging = (f: Finding) => f.evidence?.correlation === true || isMaliciousPackageFinding(f);
  const kept = all.filter((f) => !madeByJudging(f));
  const dropped = kept.filter((f) => f.source === 'dynamic' && f.evidence?.droppedAtRuntime === true);
  return {
    part: {
      toolVersion: report.tool.version,
      image: report.image,
      packages: report.packages,
      behavior: report.behavior,
      // which of the rest were the static stage's and which the detonation's is not kept: all go first
      noticesBefore: (report.notices ?? []).filter((n) => !isVulnerabilityStageNotice(n) && !isIgnoreNotice(n)),
      noticesAfter: [],
      scannedAt: report.scannedAt,
    },
    inventory: { packages: report.packages, os: report.image.os ?? null },
    // behaviour findings (dynamic, not on a dropped file) come from the run record again
    staticFindings: kept.filter((f) => f.source === 'static'),
    droppedFindings: dropped,
    run: report.behavior,
  };
}

/** The verdict step's input for a stored report matched again: its stages' results with the new vulnerability result. */
export function storedVerdictInput(stored: StoredStages, vulnerabilities: VulnerabilityResult): VerdictInput {
  return {
    findings: [...stored.staticFindings, ...vulnerabilities.findings],
    droppedFindings: stored.droppedFindings,
    vulnerabilities: vulnerabilities.vulnerabilities,
    run: stored.run,
    notices: [...stored.part.noticesBefore, ...vulnerabilities.notices],
    vulnerabilitiesChecked: Boolean(vulnerabilities.advisoryDb),
  };
}

/**
 * The report of a stored image matched again: its own image part (tool version, scan time, packages, run record and
 * static findings as stored) with the new vulnerability result and the verdict decided over them.
 */
export function reassembleReport(stored: StoredStages, vulnerabilities: VulnerabilityResult, judgement: Judgement): Report {
  return judgedReport(stored.part, vulnerabilities, judgement);
}
