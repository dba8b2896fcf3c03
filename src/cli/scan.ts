import { Command, Option, InvalidArgumentError } from 'commander';
import { promises as fs } from 'node:fs';
import { scanReference, type ScanOptions } from '../scan/scan.js';
import type { VerdictRules } from '../verdict/index.js';
import type { IgnoreList } from '../verdict/ignore.js';
import type { Progress } from '../progress/progress.js';
import { parsePlatform, type PlatformSelector } from '../image/types.js';
import { FORMATS, renderReports, type ReportFormat } from '../report/render.js';
import { progressFor } from './progress.js';
import { atLeast, FINDING_CATEGORIES, isSeverity, severityWeight, VULNERABILITY_SEVERITIES, type FindingCategory, type Report, type Severity } from '../model/index.js';
import { EXIT, UsageError } from './exit.js';
import { cacheRoot } from '../image/cache.js';
import type { AdvisoryDb } from '../vuln/db.js';
import { chooseRuntime, SANDBOX_CHOICES, type SandboxChoice } from '../detonate/runtime/detect.js';
import { DEFAULT_DETONATE_TIMEOUT_MS } from '../detonate/limits.js';
import type { Detectors } from '../analyze/detectors.js';
import type { ScanRecorder } from './record.js';
import { STORE_OPTION_HELP } from './store.js';

const CATEGORIES: readonly FindingCategory[] = FINDING_CATEGORIES;

export interface FailOn {
  minSeverity?: Severity;
  categories: Set<FindingCategory>;
}

export function parseFailOn(text: string): FailOn {
  const out: FailOn = { categories: new Set() };
  for (const raw of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (isSeverity(raw)) {
      if (!out.minSeverity || severityWeight(raw) < severityWeight(out.minSeverity)) out.minSeverity = raw;
    } else if ((CATEGORIES as readonly string[]).includes(raw)) {
      out.categories.add(raw as FindingCategory);
    } else {
      throw new InvalidArgumentError(`"${raw}" is neither a severity (critical, high, moderate, low) nor a category (${CATEGORIES.join(', ')})`);
    }
  }
  return out;
}

/** True when some finding (or vulnerability count) meets `--fail-on`. */
export function meetsFailOn(report: Report, failOn: FailOn): boolean {
  for (const f of report.findings) {
    if (failOn.categories.has(f.category)) return true;
    if (failOn.minSeverity && atLeast(f.severity, failOn.minSeverity)) return true;
  }
  if (failOn.minSeverity) {
    const counts = report.verdict.vulnerabilities;
    const min = failOn.minSeverity;
    if (VULNERABILITY_SEVERITIES.some((sev) => sev !== 'unknown' && counts[sev] > 0 && atLeast(sev, min))) return true;
  }
  return false;
}

/** `--skip-db-update`: never fetch the advisory DB before a run, as Trivy's flag (also DETONATE_SKIP_DB_UPDATE=1). */
export function skipDbUpdateOption(): Option {
  return new Option('--skip-db-update', 'do not fetch or refresh the advisory DB before scanning (default: fetched when missing or older than a day; also DETONATE_SKIP_DB_UPDATE=1)');
}

const skipDbUpdateByEnv = (): boolean => /^(1|true|yes)$/i.test(process.env.DETONATE_SKIP_DB_UPDATE ?? '');

/** Opens the advisory DB for the whole run; a missing or unusable DB is not fatal: the reports say why. */
export async function openAdvisoryDb(path: string | undefined): Promise<{ db: AdvisoryDb | null; unavailable?: string }> {
  const { AdvisoryDb, AdvisoryDbError, defaultDbPath } = await import('../vuln/db.js');
  try {
    return { db: AdvisoryDb.open(path ?? defaultDbPath(cacheRoot())) };
  } catch (err) {
    if (err instanceof AdvisoryDbError) return { db: null, unavailable: err.message };
    throw err;
  }
}

/**
 * The advisory DB of a scan or a worker: the default one is fetched first when it is missing or due for a refresh
 * (src/vuln/refresh.ts), unless `--skip-db-update`; a DB named with `--db` is used as it is. A refresh that fails is
 * said on `log`, and the run goes on with the DB there is (the reports say when there is none, and why).
 */
export async function advisoryDbForRun(flags: { db?: string; skipDbUpdate?: boolean }, progress: Progress): Promise<{ db: AdvisoryDb | null; unavailable?: string }> {
  let failure: string | undefined;
  if (flags.db === undefined && !flags.skipDbUpdate && !skipDbUpdateByEnv()) {
    const [{ refreshAdvisoryDbIfDue }, { defaultDbPath }, { defaultDownloadDir }] = await Promise.all([import('../vuln/refresh.js'), import('../vuln/db.js'), import('../vuln/update.js')]);
    const root = cacheRoot();
    const outcome = await refreshAdvisoryDbIfDue({ dbPath: defaultDbPath(root), downloadDir: defaultDownloadDir(root), progress });
    if (outcome.action === 'failed') {
      failure = outcome.message;
      progress.log(`warning: ${outcome.message}`);
    } else if (outcome.action === 'updated') progress.log(`advisory DB updated: ${outcome.records} records`);
    else if (outcome.action === 'left') progress.log(`note: the advisory DB is due for a refresh but is left as it is: ${outcome.why}`);
  }
  const opened = await openAdvisoryDb(flags.db);
  return !opened.db && failure ? { db: null, unavailable: `no advisory DB, and fetching one failed: ${failure}` } : opened;
}

/** The detectors for this run; mistakes in the user's rules or hash lists are usage errors that name the file. */
export async function createDetectorsForCli(flags: Pick<ScanFlags, 'rules' | 'hashes' | 'yaraEngine'>): Promise<Detectors> {
  const { createDetectors } = await import('../analyze/detectors.js');
  try {
    return await createDetectors({ ruleDirs: flags.rules, hashLists: flags.hashes, yaraEngine: flags.yaraEngine });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `--detonate-timeout`: `90`, `90s`, `1m30s`, `500ms`, `2m` → milliseconds. */
export function parseDuration(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const parts = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(t);
  if (!t || !parts || parts.slice(1).every((p) => p === undefined)) {
    throw new InvalidArgumentError(`"${text}" is not a duration: write e.g. 60s, 2m, 1m30s or 500ms`);
  }
  const [, h, m, sec, ms] = parts;
  const total = Number(h ?? 0) * 3_600_000 + Number(m ?? 0) * 60_000 + Math.round(Number(sec ?? 0) * 1000) + Number(ms ?? 0);
  if (total <= 0) throw new InvalidArgumentError(`the duration must be positive (got "${text}")`);
  return total;
}

/** The sandbox for this run, checked before any image is pulled: without one the scan cannot be done (exit 2). */
async function prepareDetonation(flags: ScanFlags, progress: Progress): Promise<NonNullable<ScanOptions['detonation']>> {
  const sandbox = await prepareSandbox(flags, progress);
  progress.log(`detonation: ${sandbox.runtime.name} sandbox, up to ${formatSeconds(flags.detonateTimeout)} per image`);
  return { ...sandbox, timeoutMs: flags.detonateTimeout };
}

/**
 * The sandbox runtime and the runs' work directory, checked (root, network tools, a usable runtime), after cleaning
 * up what killed earlier runs left behind. Shared by `scan` and `worker`.
 */
export async function prepareSandbox(flags: Pick<ScanFlags, 'sandbox'>, progress: Progress): Promise<Omit<NonNullable<ScanOptions['detonation']>, 'timeoutMs'>> {
  const hint = 'or skip detonation with --static-only';
  if (process.getuid?.() !== 0) {
    throw new Error(`detonation needs root (network namespaces, cgroups and the sandbox runtime): run detonate as root, ${hint}`);
  }
  const { checkNetworkPrerequisites } = await import('../detonate/network/prerequisites.js');
  const network = checkNetworkPrerequisites();
  if (!network.ok) throw new Error(`${network.message} Run scripts/install.sh to install them, ${hint}.`);
  const { RuntimeError } = await import('../detonate/runtime/runtime.js');
  let runtime;
  try {
    runtime = await chooseRuntime(flags.sandbox);
  } catch (err) {
    if (err instanceof RuntimeError) throw new Error(`${err.message}: ${err.hint ?? hint}`);
    throw err;
  }
  const { DEFAULT_DETONATION_WORK_DIR } = await import('../scan/detonation.js');
  const workDir = process.env.DETONATE_WORK_DIR || DEFAULT_DETONATION_WORK_DIR;
  // What a killed detonate process left behind (namespaces, cgroups, mounts, runtime state); live runs are never touched.
  const { cleanupStaleDetonations } = await import('../detonate/stale.js');
  const stale = await cleanupStaleDetonations({ workDirs: [workDir] });
  if (stale.removed.length > 0) progress.log(`detonation: cleaned up after ${stale.removed.length} interrupted earlier run(s)`);
  for (const f of stale.failed) progress.log(`warning: could not clean up after an earlier run: ${f}`);
  return { runtime, workDir };
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** The behaviour and verdict rules (shipped, plus `--verdict-rules` dirs); a mistake in a rule file is a usage error naming file:line. */
export async function loadRules(flags: Pick<ScanFlags, 'verdictRules'>): Promise<VerdictRules> {
  const verdict = await import('../verdict/index.js');
  try {
    return await verdict.loadVerdictRules({ dirs: flags.verdictRules });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `--ignore-file FILE`, else `.detonateignore.yaml` in the current directory when there is one; a bad file is a usage error naming file:line. */
export async function loadIgnore(flags: Pick<ScanFlags, 'ignoreFile'>): Promise<IgnoreList | null> {
  const { DEFAULT_IGNORE_FILE, loadIgnoreFile } = await import('../verdict/ignore.js');
  let file = flags.ignoreFile;
  if (file === undefined) {
    const exists = await fs.stat(DEFAULT_IGNORE_FILE).then((s) => s.isFile(), () => false);
    if (!exists) return null;
    file = DEFAULT_IGNORE_FILE;
  }
  try {
    return loadIgnoreFile(file);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** `--store`: the store is opened (made and started if it is the private one) before any image is pulled. */
async function openScanRecorder(
  where: string,
  run: { detectors: Detectors; rules: VerdictRules; ignore: IgnoreList | null; detonation: ScanOptions['detonation']; vulnerabilities: { db: AdvisoryDb | null } | undefined; progress: Progress },
): Promise<ScanRecorder> {
  const [{ openRecorder }, { judgingDigest, rulesDigest }] = await Promise.all([import('./record.js'), import('../store/keys.js')]);
  return openRecorder(where, {
    rulesDigest: rulesDigest({ analyzers: run.detectors.analyzers, imageChecks: run.detectors.imageChecks, verdictRules: run.rules, ignore: run.ignore }),
    judgingDigest: judgingDigest({ verdictRules: run.rules, ignore: run.ignore }),
    sandbox: run.detonation?.runtime.name ?? null,
    advisoryDbBuiltAt: () => run.vulnerabilities?.db?.status().builtAt ?? null,
    progress: run.progress,
  });
}

export interface ScanFlags {
  format?: ReportFormat;
  output?: string;
  platform?: string;
  staticOnly?: boolean;
  detonateTimeout: number;
  sandbox: SandboxChoice;
  verdictRules: string[];
  ignoreFile?: string;
  failOn?: FailOn;
  insecureRegistry: string[];
  quiet?: boolean;
  cache: boolean;
  vulns: boolean;
  db?: string;
  skipDbUpdate?: boolean;
  rules: string[];
  hashes: string[];
  yaraEngine: 'auto' | 'yara-x' | 'yara';
  store?: string;
}

export function scanCommand(): Command {
  return new Command('scan')
    .description('static analysis and detonation (a run in a sandbox behind a sinkhole) of each image')
    .argument('<image...>', 'registry reference (nginx:1.25, ghcr.io/o/r@sha256:…, localhost:5000/x:y) | docker-archive:PATH | oci-archive:PATH | oci:DIR[:TAG]')
    .addOption(new Option('--format <format>', 'report format (default: table on a TTY, json otherwise)').choices([...FORMATS]))
    .option('--output <file>', 'write the report to FILE instead of stdout')
    .option('--platform <os/arch[/variant]|all>', "platform to scan (default: the host's); `all` scans every platform")
    .option('--static-only', 'skip detonation')
    .option('--detonate-timeout <duration>', 'wall-clock budget of the run inside the sandbox (e.g. 60s, 2m)', parseDuration, DEFAULT_DETONATE_TIMEOUT_MS)
    .addOption(new Option('--sandbox <runtime>', 'sandbox runtime (auto: gVisor when installed, else hardened runc)').choices([...SANDBOX_CHOICES]).default('auto'))
    .option('--verdict-rules <dir>', 'add behaviour/verdict rules from DIR (YAML, see docs/rules.md; repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--ignore-file <file>', `suppress findings and vulnerabilities listed in FILE (YAML, see docs/ignore.md; default: ./.detonateignore.yaml when it exists)`)
    .option('--fail-on <list>', 'exit 1 when a finding or vulnerability meets a severity (critical|high|moderate|low) or a category', parseFailOn)
    .option('--insecure-registry <host>', 'plain HTTP / unverified TLS for this registry host (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--no-cache', 'analyse every layer again (blobs stay cached: they are verified by digest)')
    .option('--no-vulns', 'skip matching packages against the advisory DB')
    .option('--db <path>', 'advisory DB to match against (default: the one `detonate db update` builds in the cache dir)')
    .addOption(skipDbUpdateOption())
    .option('--rules <dir>', 'add your own YARA rules from DIR (searched recursively; repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--hashes <file>', 'flag files whose SHA-256 is on this list (one digest per line, sha256sum or CSV; repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .addOption(new Option('--yara-engine <engine>', 'YARA engine: YARA-X in-process, the yara CLI, or auto').choices(['auto', 'yara-x', 'yara']).default('auto'))
    .option('--store <where>', `record each report in ${STORE_OPTION_HELP}; --store alone: local`)
    .option('-q, --quiet', 'no progress output')
    .action(async (images: string[], flags: ScanFlags) => {
      let platform: PlatformSelector | undefined;
      if (flags.platform) {
        try {
          platform = flags.platform === 'all' ? 'all' : parsePlatform(flags.platform);
        } catch (err) {
          throw new UsageError((err as Error).message);
        }
      }
      // Rule and ignore files are checked before anything is pulled or run: a mistake there is exit 2 at once.
      const rules = await loadRules(flags);
      const ignore = await loadIgnore(flags);
      const progress = await progressFor(Boolean(flags.quiet));
      let detonation: ScanOptions['detonation'];
      try {
        detonation = flags.staticOnly ? undefined : await prepareDetonation(flags, progress);
      } catch (err) {
        progress.stop();
        throw err;
      }
      const detectors = await createDetectorsForCli(flags);
      for (const n of detectors.notices) progress.log(`note: ${n.message}`);
      const vulnerabilities = flags.vulns ? await advisoryDbForRun(flags, progress) : undefined;
      if (vulnerabilities && !vulnerabilities.db) progress.log(`note: vulnerabilities not checked: ${vulnerabilities.unavailable}`);
      let recorder: ScanRecorder | undefined;
      if (flags.store !== undefined) {
        try {
          recorder = await openScanRecorder(flags.store, { detectors, rules, ignore, detonation, vulnerabilities, progress });
        } catch (err) {
          progress.stop();
          await detectors.close();
          vulnerabilities?.db?.close();
          throw err;
        }
      }
      const reports: Report[] = [];
      // One image that cannot be scanned (a tampered layer, a registry error) is said and the others are still
      // scanned; the run then exits 2 and prints the reports it has. A failed image never gets a report.
      const failed: string[] = [];
      const sayError = (line: string) => (flags.quiet ? process.stderr.write(`${line}\n`) : progress.log(line));
      try {
        for (const image of images) {
          const startedAt = new Date();
          try {
            const scanned = await scanReference(image, {
              platform,
              progress,
              insecureRegistries: flags.insecureRegistry,
              noLayerCache: !flags.cache,
              vulnerabilities,
              analyzers: detectors.analyzers,
              imageChecks: detectors.imageChecks,
              ...(detonation ? { detonation } : {}),
              verdict: { rules, ignore },
            });
            reports.push(...scanned);
            const notRecorded = await recorder?.recordReports(scanned, startedAt);
            if (notRecorded) {
              failed.push(image);
              sayError(`detonate: ${image}: ${notRecorded}`);
            }
          } catch (err) {
            await recorder?.recordFailure(image, err, startedAt);
            if (images.length === 1) throw err;
            failed.push(image);
            sayError(`detonate: ${image}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      } finally {
        await recorder?.close().catch((err: unknown) => progress.log(`warning: closing the results store: ${(err as Error).message}`));
        progress.stop();
        await detectors.close();
        vulnerabilities?.db?.close();
      }
      const format: ReportFormat = flags.format ?? (process.stdout.isTTY && !flags.output ? 'table' : 'json');
      const text = await renderReports(format, reports, { color: Boolean(process.stdout.isTTY) && !flags.output && !process.env.NO_COLOR, width: process.stdout.columns });
      if (flags.output) await fs.writeFile(flags.output, text);
      else process.stdout.write(text);
      if (failed.length > 0) {
        sayError(`detonate: ${failed.length} of ${images.length} images could not be scanned${recorder ? ' or recorded' : ''}: ${failed.join(', ')}`);
        process.exitCode = EXIT.error;
      } else if (flags.failOn && reports.some((r) => meetsFailOn(r, flags.failOn!))) process.exitCode = EXIT.failOnMet;
    });
}
