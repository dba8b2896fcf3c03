import { Command, InvalidArgumentError } from 'commander';
import type { ChangedImage, RematchSummary } from '../rematch/rematch.js';
import type { ChangeItem, ChangeListing, ImageChange, ListedChange } from '../store/rematch.js';
import { progressFor } from './progress.js';
import { loadIgnore, loadRules } from './scan.js';
import { STORE_OPTION_HELP, storeLocationOf } from './store.js';

/** How many images `rematch --list` shows when `--limit` is not given. */
const LISTED_BY_DEFAULT = 100;

interface RematchFlags {
  store?: string;
  json?: boolean;
  dryRun?: boolean;
  since?: Date;
  list?: boolean;
  limit: number;
  db?: string;
  verdictRules: string[];
  ignoreFile?: string;
  quiet?: boolean;
}

function parseDate(text: string): Date {
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(date.getTime())) throw new InvalidArgumentError(`"${text}" is not a date: write YYYY-MM-DD or an ISO date-time`);
  return date;
}

function parseCount(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`"${text}" is not a positive whole number`);
  return n;
}

const verdictWord = (malicious: boolean, categories: readonly string[]) => `${malicious ? 'malicious' : 'not malicious'}${categories.length ? ` (${categories.join(', ')})` : ''}`;

function itemCounts(items: readonly ChangeItem[]): string {
  const parts: string[] = [];
  const n = (change: ChangeItem['change'], kind: ChangeItem['kind']) => items.filter((i) => i.change === change && i.kind === kind).length;
  const vulns = [n('added', 'vulnerability') && `+${n('added', 'vulnerability')}`, n('removed', 'vulnerability') && `-${n('removed', 'vulnerability')}`].filter(Boolean);
  if (vulns.length) parts.push(`${vulns.join(' ')} vulnerabilities`);
  const revised = n('changed', 'vulnerability');
  if (revised) parts.push(`${revised} revised (severity or fix)`);
  const mal = [n('added', 'malicious-package') && `+${n('added', 'malicious-package')}`, n('removed', 'malicious-package') && `-${n('removed', 'malicious-package')}`].filter(Boolean);
  if (mal.length) parts.push(`${mal.join(' ')} malicious packages`);
  return parts.join(', ') || 'no vulnerability came or went';
}

/** One line per changed image: what came and went, and the verdict when it changed. */
export function changeLine(image: { reference: string; platform: string }, change: ImageChange): string {
  const verdict = change.before.malicious !== change.after.malicious || change.before.categories.join() !== change.after.categories.join()
    ? `; verdict ${verdictWord(change.before.malicious, change.before.categories)} → ${verdictWord(change.after.malicious, change.after.categories)}`
    : '';
  return `${image.reference} (${image.platform}): ${itemCounts(change.items)}${verdict}`;
}

export function summaryText(s: RematchSummary): string {
  const lines = [
    `${s.dryRun ? 'dry run: nothing recorded; ' : ''}matched against the advisory DB built ${s.advisoryDbBuiltAt}`,
    `images      ${s.images} (latest done scan of each)`,
    `re-matched  ${s.rematched}: ${s.changed} changed, ${s.unchanged} unchanged${s.unchangedByFingerprint ? ` (${s.unchangedByFingerprint} known from their packages' matches alone)` : ''}${s.recordedByOther ? `; ${s.recordedByOther} recorded by another rematch first` : ''}`,
    `skipped     ${s.skipped} (already matched against this DB)`,
    `vulns       +${s.vulnerabilitiesAdded} -${s.vulnerabilitiesRemoved}${s.vulnerabilitiesRevised ? ` ~${s.vulnerabilitiesRevised} revised` : ''}${s.maliciousPackagesAdded || s.maliciousPackagesRemoved ? `; malicious packages +${s.maliciousPackagesAdded} -${s.maliciousPackagesRemoved}` : ''}`,
    `verdicts    ${s.verdictsChanged} changed${s.becameMalicious ? `, ${s.becameMalicious} now malicious` : ''}`,
    `time        ${s.seconds.toFixed(1)} s (${s.imagesPerMinute} images/min)`,
  ];
  return `${lines.join('\n')}\n`;
}

const fixWords = (fixed: string | null) => (fixed ? `fixed in ${fixed}` : 'no fix');

function itemLine(i: ChangeItem): string {
  if (i.change === 'changed' && i.previous) {
    const severity = i.previous.severity === i.severity ? i.severity : `${i.previous.severity} → ${i.severity}`;
    const fix = i.previous.fixedVersion === i.fixedVersion ? '' : `, ${fixWords(i.previous.fixedVersion)} → ${fixWords(i.fixedVersion)}`;
    return `  ~ ${i.id} ${i.package} ${i.installedVersion} (${severity}${fix})`;
  }
  const fix = i.change === 'added' && i.kind === 'vulnerability' ? `, ${fixWords(i.fixedVersion)}` : '';
  return `  ${i.change === 'added' ? '+' : '-'} ${i.id} ${i.package} ${i.installedVersion} (${i.kind === 'malicious-package' ? 'malicious package' : i.severity}${fix})`;
}

export function listingText(listing: ChangeListing): string {
  if (!listing.advisoryDbBuiltAt) return 'no changes recorded yet: run detonate rematch after detonate db update\n';
  const out = [`${listing.total} image(s) changed when matched against the advisory DB built ${listing.advisoryDbBuiltAt}${listing.changes.length < listing.total ? ` (showing ${listing.changes.length})` : ''}`];
  for (const c of listing.changes) {
    const items = [...c.added, ...c.removed, ...c.changed];
    out.push(changeLine(c, { before: c.before, after: c.after, items }));
    for (const i of items) out.push(itemLine(i));
  }
  return `${out.join('\n')}\n`;
}

export function rematchCommand(): Command {
  return new Command('rematch')
    .description('after `detonate db update`: match every stored image again against the new advisory DB (no pull), judge it again, record what changed')
    .option('--store <where>', STORE_OPTION_HELP)
    .option('--json', 'print JSON (for scripts)')
    .option('--dry-run', 'match and judge, but record nothing')
    .option('--since <date>', 'only images whose latest scan finished on or after DATE (YYYY-MM-DD or ISO date-time)', parseDate)
    .option('--list', 'list the changes the latest rematch recorded (those against the newest advisory DB build)')
    .option('--limit <n>', `with --list: at most N images (default ${LISTED_BY_DEFAULT})`, parseCount, LISTED_BY_DEFAULT)
    .option('--db <path>', 'advisory DB to match against (default: the one in the cache dir)')
    .option('--verdict-rules <dir>', 'add behaviour/verdict rules from DIR, as the scans used (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--ignore-file <file>', 'suppress findings and vulnerabilities listed in FILE (default: ./.detonateignore.yaml when it exists)')
    .option('-q, --quiet', 'no progress output')
    .action(async (flags: RematchFlags) => {
      const location = await storeLocationOf(flags.store);
      if (flags.list) {
        const { openStore } = await import('../store/index.js');
        const { listLatestChanges } = await import('../store/rematch.js');
        const store = await openStore(location, { poolSize: 1 });
        try {
          const listing = await listLatestChanges(store.pool, flags.limit);
          process.stdout.write(flags.json ? `${JSON.stringify(listing, null, 2)}\n` : listingText(listing));
        } finally {
          await store.close();
        }
        return;
      }
      const rules = await loadRules(flags);
      const ignore = await loadIgnore(flags);
      const { openAdvisoryDb } = await import('./scan.js');
      const { db, unavailable } = await openAdvisoryDb(flags.db);
      if (!db) throw new Error(`rematch needs the advisory DB: run \`detonate db update\` first (${unavailable ?? 'none found'})`);
      const progress = await progressFor(flags.quiet ?? false);
      const [{ openStore }, { rematchStore }] = await Promise.all([import('../store/index.js'), import('../rematch/rematch.js')]);
      const store = await openStore(location, { poolSize: 4 });
      const changed: ChangedImage[] = [];
      // one line per changed image: on a terminal through the progress output (it keeps the bar intact)
      const say = process.stdout.isTTY && !flags.quiet ? (line: string) => progress.log(line) : (line: string) => process.stdout.write(`${line}\n`);
      try {
        const summary = await rematchStore(store, {
          db, rules, ignore, dryRun: flags.dryRun ?? false, progress,
          ...(flags.since ? { since: flags.since } : {}),
          onChange: (c) => {
            if (flags.json) changed.push(c);
            else say(changeLine(c, c.change));
          },
        });
        progress.stop();
        process.stdout.write(flags.json ? `${JSON.stringify({ ...summary, changes: changed.map(changeJson) }, null, 2)}\n` : summaryText(summary));
      } finally {
        progress.stop();
        await store.close();
        db.close();
      }
    });
}

function changeJson(c: ChangedImage): Omit<ListedChange, 'advisoryDbBuiltAt' | 'previousAdvisoryDbBuiltAt' | 'recordedAt' | 'scanId'> & { scanId: number | null } {
  return {
    scanId: c.scanId, previousScanId: c.previousScanId, reference: c.reference, digest: c.digest, platform: c.platform,
    before: c.change.before, after: c.change.after,
    added: c.change.items.filter((i) => i.change === 'added'), removed: c.change.items.filter((i) => i.change === 'removed'),
    changed: c.change.items.filter((i) => i.change === 'changed'),
  };
}
