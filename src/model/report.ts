/**
 * The report contract (DESIGN.md §3). Every renderer (json, table, cyclonedx, spdx, …) takes a `Report`.
 * Extend only; never rename or remove a field without bumping `schemaVersion`.
 */
import type { FindingCategory } from './categories.js';
import type { PackageType } from './ecosystems.js';
import type { RunRecord, RunFailure } from './run.js';
import type { Severity, VulnerabilitySeverity } from './severity.js';

export interface Package {
  name: string;
  version: string;
  type: PackageType;
  /** Package URL (https://github.com/package-url/purl-spec). */
  purl: string;
  /** Index of the layer that introduced this package (as installed now). */
  layer: number;
  /** Paths (no leading slash) of the files the package was read from. */
  paths: string[];
  /** Source package name where the format has one (dpkg `Source:`, rpm `SOURCERPM`, apk origin). */
  sourceName?: string;
  sourceVersion?: string;
  arch?: string;
  licenses?: string[];
  /** Maven group id, npm scope folded into name, etc. are expressed in `name` + `purl`; this is for extras. */
  metadata?: Record<string, string | string[] | boolean | number>;
}

export interface Finding {
  category: FindingCategory;
  severity: Severity;
  title: string;
  source: 'static' | 'dynamic';
  rule: string;
  path?: string;
  layer?: number;
  removedInLayer?: number | null;
  sha256?: string;
  attack?: string[];
  evidence?: Record<string, unknown>;
  /**
   * Set when the finding is in a payload unpacked from the file at `path` (an archive member, a decoded blob, the
   * program a self-extracting script carries): how it was got out, step by step, outermost first.
   */
  payload?: PayloadOrigin;
}

/** How one step of unpacking got a payload out of what held it. */
export interface DecodeStep {
  method: DecodeMethod;
  /** Where in the holder the step's input starts, and how long it is (bytes; characters for text decodings). */
  offset?: number;
  length?: number;
  /** A format the step recognised (`gzexe`, `makeself`, `shar`, `heredoc` …). */
  format?: string;
  /** The archive member, heredoc target or file name the payload had. */
  name?: string;
  /** What the holder hands the decoded bytes to (`sh`, `eval`, `python -c` …), when the text says. */
  feeds?: string;
}

export const DECODE_METHODS = ['base64', 'hex', 'escapes', 'gzip', 'zlib', 'tar', 'zip', 'self-extracting', 'heredoc', 'uudecode'] as const;
export type DecodeMethod = (typeof DECODE_METHODS)[number];

export interface PayloadOrigin {
  steps: DecodeStep[];
  /** The payload's own digest and size. */
  sha256: string;
  size: number;
}

export interface OsInfo {
  /** os-release ID, e.g. `debian`, `alpine`, `ubuntu`, `rhel`. */
  id: string;
  /** VERSION_ID, e.g. `12`, `3.19.1`. */
  versionId?: string;
  versionCodename?: string;
  prettyName?: string;
  /** `ID_LIKE` split on spaces. */
  idLike?: string[];
}

export interface LayerInfo {
  index: number;
  /** sha256 of the uncompressed tar (from the image config's rootfs.diff_ids). */
  diffId: string;
  /** Digest of the blob as stored (compressed) where it differs from diffId. */
  digest?: string;
  mediaType?: string;
  /** Size of the blob in bytes, as stored. */
  size: number;
  createdBy?: string;
  /** Regular files, directories, links … this layer adds or replaces. */
  entries?: number;
  /** Paths this layer deletes (whiteouts) and opaque directories it resets. */
  whiteouts?: number;
}

export interface ImageConfigSummary {
  user: string;
  entrypoint: string[];
  cmd: string[];
  env: string[];
  exposedPorts: string[];
  labels: Record<string, string>;
  workingDir?: string;
  created?: string;
  architecture?: string;
  os?: string;
}

export interface ImageSection {
  reference: string;
  digest: string;
  /** Digest of the image config blob (the image ID Docker shows). */
  configDigest?: string;
  platform: string;
  os?: OsInfo | null;
  layers: LayerInfo[];
  config: ImageConfigSummary;
  /** Totals over the merged filesystem. */
  files?: { count: number; bytes: number; removed: number };
}

export interface Vulnerability {
  /** The CVE where one exists, else the advisory's own id. */
  id: string;
  /** Every other id of the same advisory (DSA-, DLA-, GHSA-, GO-, PYSEC-, RUSTSEC-, …). */
  aliases: string[];
  /** The installed package's own name (the binary package for OS packages). */
  package: string;
  purl: string;
  installedVersion: string;
  /** The first version that fixes it; null while there is no fix. */
  fixedVersion: string | null;
  severity: VulnerabilitySeverity;
  /** Where the severity came from: `cvss:3.1`, `cvss:4.0`, `ghsa`, `debian-urgency`, … */
  severitySource?: string;
  cvss?: { score: number; vector: string } | null;
  /** The advisory that matched (DSA-…, GHSA-…, GO-…). */
  source: string;
  layer: number;
  title?: string;
  /** The distro decided not to fix it (Debian <no-dsa>, <ignored>, <postponed>). */
  wontFix?: boolean;
}

export interface ScanNotice {
  level: 'warning' | 'error';
  message: string;
  path?: string;
  layer?: number;
}

/** A finding or vulnerability an ignore file suppressed (the ignore file's entry says why and until when). */
export interface SuppressedItem {
  finding?: Finding;
  vulnerability?: Vulnerability;
  reason: string;
  /** ISO date after which the entry no longer applies. */
  expires?: string;
  /** Where the entry is: `file:line`. */
  ignoredBy: string;
}

/** One piece of the evidence behind the verdict, strongest first. */
export interface VerdictEvidence {
  category: FindingCategory;
  severity: Severity;
  source: 'static' | 'dynamic';
  rule: string;
  title: string;
  path?: string;
}

/** One verdict per image (DESIGN §3): decided once, after every stage, by src/verdict. */
export interface Verdict {
  malicious: boolean;
  categories: FindingCategory[];
  vulnerabilities: { critical: number; high: number; moderate: number; low: number; unknown: number };
  summary: string;
  /** The strongest findings behind `malicious` and the summary (at most five). */
  evidence?: VerdictEvidence[];
}

/** The advisory DB a scan matched against. `stale` when older than its refresh interval (7 days). */
export interface AdvisoryDbInfo {
  builtAt: string;
  sources: string[];
  stale?: boolean;
}

export interface Report {
  schemaVersion: 1;
  tool: {
    name: 'detonate';
    version: string;
    /** The advisory DB used; null when vulnerabilities were not checked. `stale` when older than 7 days. */
    advisoryDb?: AdvisoryDbInfo | null;
  };
  image: ImageSection;
  packages: Package[];
  vulnerabilities: Vulnerability[];
  findings: Finding[];
  /** null: not detonated (`--static-only`). */
  behavior: null | RunRecord | RunFailure;
  verdict: Verdict;
  /** What an ignore file suppressed: kept out of findings, vulnerabilities and the verdict, listed here. */
  suppressed?: SuppressedItem[];
  /** Problems met during the scan that did not stop it (unreadable package DB, skipped huge file, …). */
  notices?: ScanNotice[];
  scannedAt?: string;
}
