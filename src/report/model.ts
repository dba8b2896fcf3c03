/**
 * The report contract (DESIGN.md §3). Every renderer (json, table, cyclonedx, spdx, …) takes a `Report`.
 * Extend only; never rename or remove a field without bumping `schemaVersion`.
 */

export type PackageType = 'deb' | 'apk' | 'rpm' | 'npm' | 'pypi' | 'gem' | 'golang' | 'maven' | 'nuget' | 'cargo';

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

/** Every finding category and severity of the contract (DESIGN §3), for validation and help texts. */
export const FINDING_CATEGORIES = [
  'cryptominer',
  'hacking-tool',
  'backdoor',
  'windows-malware',
  'malware',
  'malicious-package',
  'secret',
  'misconfiguration',
  'windows-pe',
  'suspicious',
] as const;
export type FindingCategory = (typeof FINDING_CATEGORIES)[number];
export const SEVERITIES = ['critical', 'high', 'moderate', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

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

export type VulnerabilitySeverity = 'critical' | 'high' | 'moderate' | 'low' | 'unknown';

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

/** One process the sample ran (`behavior.processes`). */
export interface ObservedProcess {
  pid: number;
  ppid: number;
  exe: string;
  argv: string[];
  /** Ms since the container's first process started. */
  startMs: number;
}

/** A signal sent by a process of the sample. */
export interface ObservedKill {
  pid: number;
  target: number;
  signal: string;
  /** The target's program, when it was a process of the sample's tree. */
  targetExe?: string;
}

/** A file the sample left behind, read back before teardown. */
export interface ObservedDroppedFile {
  /** Path inside the container. */
  path: string;
  size: number;
  /** Permission bits as left by the sample. */
  mode: number;
  sha256: string;
}

/** A file operation of the sample (`behavior.files`). `error` set: the attempt failed (it still shows intent). */
export interface ObservedFileOp {
  op: 'write' | 'create' | 'delete' | 'chmod' | 'rename';
  path: string;
  pid: number;
  /** rename: the new name. */
  to?: string;
  /** chmod: the new permission bits. */
  mode?: number;
  /** The errno name (EROFS, EACCES, ENOSPC …) of an attempt that failed. */
  error?: string;
  /** When it first happened: ms since the container's first process started (the clock of `startMs`). */
  atMs?: number;
}

export interface ObservedDnsQuery {
  name: string;
  type: string;
  pid: number | null;
  /** When it was first asked: ms since the container's first process started. */
  atMs?: number;
}

export interface ObservedConnection {
  proto: 'tcp' | 'udp';
  dst: string;
  port: number;
  /** The name it was resolved from, or the HTTP Host / TLS SNI the sample sent. */
  host?: string;
  /** The first bytes the sample sent, as readable text (escapes for the rest). */
  firstBytes: string;
  protocol: 'stratum' | 'http' | 'tls' | 'ssh' | 'irc' | 'smtp' | 'unknown';
  pid?: number;
  /** When it was opened: ms since the container's first process started. */
  atMs?: number;
  /** What the sinkhole drew out: HTTP requests, TLS SNI and ALPN, stratum login (wallet, agent), banners. */
  details?: Record<string, unknown>;
}

/**
 * How complete the syscall record behind `processes`, `files`, `kills` (and the connect attempts in
 * `connections`) is. The lists are bounded; a sample that floods one kind of record cannot push the rest out, but
 * what they leave out is counted here, so a reader knows the record is not the whole story.
 */
export interface BehaviorTrace {
  /** false when something below was left out or lost, or no syscall trace was taken. */
  complete: boolean;
  /** Bytes of syscall trace read (streamed through a pipe while the sample ran; never stored). */
  traceBytes: number;
  /** Records seen but not listed, per list; `events`: calls the monitor could not place. */
  omitted: { processes: number; files: number; connections: number; kills: number; events: number };
  /** Why the record is incomplete, a sentence each. */
  notes: string[];
}

/**
 * `behavior` of the report contract: what the image did when run in the sandbox. Beyond DESIGN §3 (extensions):
 * `killedBy`, `kills`, `dropped`, `pids`, `limitsHit`, `series`, `output`, `timings`, `trace`, the `rename` op,
 * failed attempts (`error`), and the ssh/irc/smtp protocols.
 */
export interface Behavior {
  sandbox: 'gvisor' | 'runc';
  durationMs: number;
  exitCode: number | null;
  timedOut: boolean;
  /** What ended the run when a limit did: the deadline, the memory limit, the pids limit. */
  killedBy?: 'deadline' | 'memory' | 'pids';
  processes: ObservedProcess[];
  files: ObservedFileOp[];
  dns: ObservedDnsQuery[];
  connections: ObservedConnection[];
  /** Signals sent by the sample's processes. */
  kills: ObservedKill[];
  /** Files the sample left in its writable layer, as read back before teardown (the static detectors ran on them). */
  dropped?: ObservedDroppedFile[];
  /** How complete the syscall record is; absent when no syscall monitor ran. */
  trace?: BehaviorTrace;
  cpu: { seconds: number; peakCores: number };
  memory: { peakBytes: number };
  pids: { peak: number };
  limitsHit: { oomKills: number; pidsLimitHits: number; diskFull?: boolean };
  /** Cgroup samples over the run, one a second: `t` ms since start. */
  series: { t: number; cpuSeconds: number; memoryBytes: number; pids: number }[];
  /** The start of the sample's stdout and stderr. */
  output: { stdout: string; stderr: string; truncated: boolean };
  timings: { setupMs: number; firstExecMs?: number; teardownMs: number };
}

/** `behavior` when the image could not be run: why. */
export interface BehaviorError {
  error: string;
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

export interface Report {
  schemaVersion: 1;
  tool: {
    name: 'detonate';
    version: string;
    /** The advisory DB used; null when vulnerabilities were not checked. `stale` when older than 7 days. */
    advisoryDb?: { builtAt: string; sources: string[]; stale?: boolean } | null;
  };
  image: ImageSection;
  packages: Package[];
  vulnerabilities: Vulnerability[];
  findings: Finding[];
  /** null: not detonated (`--static-only`). */
  behavior: null | Behavior | BehaviorError;
  verdict: {
    malicious: boolean;
    categories: FindingCategory[];
    vulnerabilities: { critical: number; high: number; moderate: number; low: number; unknown: number };
    summary: string;
    /** The strongest findings behind `malicious` and the summary (at most five). */
    evidence?: VerdictEvidence[];
  };
  /** What an ignore file suppressed: kept out of findings, vulnerabilities and the verdict, listed here. */
  suppressed?: SuppressedItem[];
  /** Problems met during the scan that did not stop it (unreadable package DB, skipped huge file, …). */
  notices?: ScanNotice[];
  scannedAt?: string;
}
