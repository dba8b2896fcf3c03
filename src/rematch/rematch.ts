/**
 * `detonate rematch`: after `detonate db update`, every image in the results store is matched again against the new
 * advisory DB without pulling it, and judged again. Its input is each image's latest done scan: the stored report
 * holds the whole inventory (Debian source packages, paths, the OS) that matching needs, and the findings and run
 * record that judging needs; the normalised rows do not (scan_packages has no source package). The new report comes
 * from scan/report.ts's one assembly path; it is recorded as a new done scan (`rematch_of` the one it re-used), with
 * a change row when vulnerabilities came or went or the verdict changed.
 *
 * Most images come through unchanged, and those cost little: a page of images is read as their match keys and match
 * fingerprints (src/vuln/fingerprint.ts), not their reports. Each distinct key is matched once per DB; an image whose
 * fingerprint under the new DB is the one it has would be matched and judged to the same result, so its scan is only
 * marked as checked against the new DB (scan_checks). The others (a fingerprint changed, or a scan stored without
 * one) have their report read, matched and judged again, and get a new scan.
 *
 * Either way "the latest scan of an image was matched against the current DB" holds for every image afterwards: a
 * second rematch skips it, and a worker asked to scan it again with the same versions links to it. Work goes in
 * batches: one keyset-paged read, matching and judging in-process, one transaction of multi-row writes; the next
 * batch is read and judged while the last one is written. Two rematches at once record nothing twice: the store's
 * one-done-scan-per-versions index and scan_checks' key turn the later insert into nothing.
 */
import type { Report } from '../model/index.js';
import { orderReport } from '../report/json.js';
import { reassembleReport, storedStages, storedVerdictInput } from '../scan/report.js';
import type { Store } from '../store/store.js';
import type pg from 'pg';
import { latestDoneScans, newestDoneScanId, recordChecks, recordRematches, storedReports, type ImageChange, type LatestScan, type RecordedRematch, type Rematched } from '../store/rematch.js';
import { judgingDigest } from '../store/keys.js';
import { dbMatchFingerprint, reportMatchSummary } from '../vuln/fingerprint.js';
import { decideVerdict } from '../verdict/verdict.js';
import type { VerdictRules } from '../verdict/types.js';
import type { IgnoreList } from '../verdict/ignore.js';
import type { AdvisoryDb } from '../vuln/db.js';
import { matchVulnerabilities } from '../vuln/stage.js';
import { silentProgress, type Progress } from '../progress/progress.js';
import { imageChange } from './compare.js';

/** Scans read, judged and written together: one query and one transaction each. */
export const SCANS_PER_BATCH = 500;

export interface RematchOptions {
  db: AdvisoryDb;
  /** What the verdict is judged by again (the rules and ignore file a scan would use). */
  rules: VerdictRules;
  ignore: IgnoreList | null;
  /** Match and judge, but record nothing. */
  dryRun?: boolean;
  /** Only images whose latest scan finished at or after this. */
  since?: Date;
  batchSize?: number;
  progress?: Progress;
  /** Each image whose result changed, as it is recorded (or found, in a dry run). */
  onChange?: (change: ChangedImage) => void;
  now?: Date;
}

export interface ChangedImage {
  reference: string;
  digest: string;
  platform: string;
  /** The new scan's id; null in a dry run. */
  scanId: number | null;
  previousScanId: number;
  change: ImageChange;
}

export interface RematchSummary {
  advisoryDbBuiltAt: string;
  dryRun: boolean;
  /** Images read: their latest done scan. */
  images: number;
  /** Images matched again and recorded (in a dry run: that would be). */
  rematched: number;
  changed: number;
  unchanged: number;
  /** Of the unchanged, those their match fingerprint showed unchanged: no report read, the scan marked as checked. */
  unchangedByFingerprint: number;
  /** Images whose latest scan already used this advisory DB. */
  skipped: number;
  /** Images another rematch running at the same time recorded first. */
  recordedByOther: number;
  vulnerabilitiesAdded: number;
  vulnerabilitiesRemoved: number;
  /** Vulnerabilities that still apply with another severity or fix. */
  vulnerabilitiesRevised: number;
  maliciousPackagesAdded: number;
  maliciousPackagesRemoved: number;
  /** Images whose verdict (malicious or its categories) changed. */
  verdictsChanged: number;
  /** Of those, images that became malicious. */
  becameMalicious: number;
  seconds: number;
  imagesPerMinute: number;
  /** Where the time went: reading pages, matching and judging in-process, writing batches (reads and writes overlap the judging). */
  timings: { readSeconds: number; judgeSeconds: number; writeSeconds: number };
}

interface Judged {
  scan: LatestScan;
  rematched: Rematched;
}

/** One page's work: images matched again in full, and images their fingerprint shows unchanged. */
interface Batch {
  judged: Judged[];
  unchanged: LatestScan[];
}

/** Matches every stored image's latest done scan again against `options.db` and records what changed. */
export async function rematchStore(store: Store, options: RematchOptions): Promise<RematchSummary> {
  const started = Date.now();
  const builtAt = options.db.status().builtAt;
  const batchSize = options.batchSize ?? SCANS_PER_BATCH;
  const progress = options.progress ?? silentProgress;
  const summary: RematchSummary = {
    advisoryDbBuiltAt: builtAt, dryRun: options.dryRun ?? false, images: 0, rematched: 0, changed: 0, unchanged: 0, unchangedByFingerprint: 0, skipped: 0, recordedByOther: 0,
    vulnerabilitiesAdded: 0, vulnerabilitiesRemoved: 0, vulnerabilitiesRevised: 0, maliciousPackagesAdded: 0, maliciousPackagesRemoved: 0, verdictsChanged: 0, becameMalicious: 0,
    seconds: 0, imagesPerMinute: 0, timings: { readSeconds: 0, judgeSeconds: 0, writeSeconds: 0 },
  };
  const timed = <T>(key: keyof RematchSummary['timings'], work: Promise<T>): Promise<T> => {
    const t = Date.now();
    return work.finally(() => (summary.timings[key] += (Date.now() - t) / 1000));
  };
  // one connection reads and one writes for the whole run: judging holds the event loop for a while, and a pool
  // connecting meanwhile could time out
  const reader = await store.pool.connect();
  let writer: pg.PoolClient | undefined;
  try {
    writer = await store.pool.connect();
    const upToId = await newestDoneScanId(reader);
    const total = await countImages(reader, upToId, options.since);
    const task = progress.task(`rematch against the advisory DB built ${builtAt}`, total);
    const read = (afterId: number) => timed('readSeconds', latestDoneScans(reader, { afterId, upToId, limit: batchSize, advisoryDbBuiltAt: builtAt, ...(options.since ? { since: options.since } : {}) }));
    const write = writer;

    const judging = judgingDigest({ verdictRules: options.rules, ignore: options.ignore });
    // an ignore entry that expires can change a verdict with nothing else changed: then every image is judged again
    const byFingerprint = !options.ignore?.entries.some((e) => e.expires);
    let page = await read(0);
    let writing: Promise<void> = Promise.resolve();
    for (;;) {
      let started = Date.now();
      const { full, unchanged } = sortPage(page.scans, options.db, byFingerprint ? judging : null, summary);
      summary.timings.judgeSeconds += (Date.now() - started) / 1000;
      const reports = timed('readSeconds', storedReports(reader, full.map((s) => s.id)));
      reports.catch(() => {}); // awaited below
      const next = page.nextAfterId === null ? null : read(page.nextAfterId);
      next?.catch(() => {}); // awaited below
      const stored = await reports;
      started = Date.now();
      const batch: Batch = { judged: await judgeBatch(full, stored, judging, options), unchanged };
      summary.timings.judgeSeconds += (Date.now() - started) / 1000;
      await writing;
      writing = options.dryRun ? Promise.resolve(countAll(batch, summary, options)) : timed('writeSeconds', recordBatch(write, batch, builtAt, summary, options));
      writing.catch(() => {}); // awaited at the next turn or the end
      task.update(summary.images, `${summary.images} images, ${summary.changed} changed`);
      if (!next) break;
      page = await next;
    }
    await writing;
    task.finish(`${summary.rematched} re-matched, ${summary.changed} changed, ${summary.skipped} skipped`);
  } finally {
    reader.release();
    writer?.release();
  }
  summary.seconds = (Date.now() - started) / 1000;
  summary.imagesPerMinute = summary.seconds > 0 ? Math.round(((summary.rematched + summary.recordedByOther) / summary.seconds) * 60) : 0;
  return summary;
}

async function countImages(db: pg.PoolClient, upToId: number, since: Date | undefined): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(DISTINCT (image_digest, platform))::int AS n FROM scans
      WHERE status = 'done' AND id <= $1 AND ($2::timestamptz IS NULL OR finished_at >= $2::timestamptz)`,
    [upToId, since ?? null],
  );
  return rows[0]?.n ?? 0;
}

/** Scans judged between two turns of the event loop (so that the next page's read and the last batch's write go on). */
const JUDGED_PER_TURN = 25;

/**
 * Sorts a page: scans already matched against this DB are counted as skipped; those whose fingerprint under it is
 * theirs are unchanged (`judging` null: none is taken as unchanged unread); the rest are matched again in full.
 */
function sortPage(scans: readonly LatestScan[], db: AdvisoryDb, judging: string | null, summary: RematchSummary): { full: LatestScan[]; unchanged: LatestScan[] } {
  const full: LatestScan[] = [];
  const unchanged: LatestScan[] = [];
  for (const scan of scans) {
    summary.images++;
    if (scan.matched) summary.skipped++;
    else if (judging !== null && scan.match && dbMatchFingerprint(db, scan.match.keys, judging) === scan.match.fingerprint) unchanged.push(scan);
    else full.push(scan);
  }
  return { full, unchanged };
}

/** Matches and judges these scans' stored reports in-process. */
async function judgeBatch(scans: readonly LatestScan[], reports: ReadonlyMap<number, string>, judging: string, options: RematchOptions): Promise<Judged[]> {
  const out: Judged[] = [];
  for (const [n, scan] of scans.entries()) {
    if (n % JUDGED_PER_TURN === JUDGED_PER_TURN - 1) await new Promise((resolve) => setImmediate(resolve));
    const text = reports.get(scan.id);
    if (text === undefined) continue; // deleted since the page was read
    const before = JSON.parse(text) as Report;
    const after = rematchReport(before, options);
    out.push({
      scan,
      rematched: { sourceId: scan.id, report: after, reportJson: JSON.stringify(orderReport(after)), change: imageChange(before, after), match: reportMatchSummary(after, judging) },
    });
  }
  return out;
}

/** One stored report matched against `options.db` and judged again: the report a scan would make with that DB. */
export function rematchReport(before: Report, options: Pick<RematchOptions, 'db' | 'rules' | 'ignore' | 'now'>): Report {
  const stored = storedStages(before);
  const vulnerabilities = matchVulnerabilities(stored.inventory, options.db, undefined, options.now);
  const judgement = decideVerdict(storedVerdictInput(stored, vulnerabilities), { rules: options.rules, ignore: options.ignore, ...(options.now ? { now: options.now } : {}) });
  return reassembleReport(stored, vulnerabilities, judgement);
}

/** Records one batch in one transaction and counts what it recorded. */
async function recordBatch(client: pg.PoolClient, batch: Batch, builtAt: string, summary: RematchSummary, options: RematchOptions): Promise<void> {
  const { judged } = batch;
  if (judged.length === 0 && batch.unchanged.length === 0) return;
  let created: RecordedRematch[];
  let checked: number[];
  await client.query('BEGIN');
  try {
    created = await recordRematches(client, judged.map((j) => j.rematched));
    checked = await recordChecks(client, batch.unchanged.map((s) => s.id), builtAt);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
  const ids = new Map(created.map((c) => [c.sourceId, c.scanId]));
  for (const j of judged) {
    const scanId = ids.get(j.scan.id);
    if (scanId === undefined) summary.recordedByOther++;
    else count(j, scanId, summary, options);
  }
  countUnchanged(checked.length, summary);
  summary.recordedByOther += batch.unchanged.length - checked.length;
}

function countAll(batch: Batch, summary: RematchSummary, options: RematchOptions): void {
  for (const j of batch.judged) count(j, null, summary, options);
  countUnchanged(batch.unchanged.length, summary);
}

function countUnchanged(n: number, summary: RematchSummary): void {
  summary.rematched += n;
  summary.unchanged += n;
  summary.unchangedByFingerprint += n;
}

function count(j: Judged, scanId: number | null, summary: RematchSummary, options: RematchOptions): void {
  summary.rematched++;
  const change = j.rematched.change;
  if (!change) {
    summary.unchanged++;
    return;
  }
  summary.changed++;
  for (const item of change.items) {
    if (item.change === 'changed') summary.vulnerabilitiesRevised++;
    else summary[`${item.kind === 'vulnerability' ? 'vulnerabilities' : 'maliciousPackages'}${item.change === 'added' ? 'Added' : 'Removed'}`]++;
  }
  if (change.before.malicious !== change.after.malicious || change.before.categories.join() !== change.after.categories.join()) {
    summary.verdictsChanged++;
    if (change.after.malicious && !change.before.malicious) summary.becameMalicious++;
  }
  options.onChange?.({ reference: j.scan.reference, digest: j.scan.digest, platform: j.scan.platform, scanId, previousScanId: j.scan.id, change });
}
