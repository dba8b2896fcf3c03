import type { VersionComparator } from '../model.js';
import { compareCodeUnits, compareDigitRuns, isDigitCode, isZeroRun } from './text.js';
import { MAX_MAVEN_PARSED_VERSION_CHARS } from '../limits.js';

/**
 * Maven versions, ordered like `org.apache.maven.artifact.versioning.ComparableVersion` (Maven 3.9).
 *
 * The lower-cased version is cut into items at `.` and `-` and wherever digits and letters meet. Numbers compare
 * numerically; words are qualifiers ranked `alpha` (`a` before a digit) < `beta` (`b`) < `milestone` (`m`) < `rc`
 * (= `cr`) < `snapshot` < release (`""` = `ga` = `final` = `release`) < `sp` < any other word (alphabetically). A
 * `-`, or a change between letters and digits, opens a nested list, so `1-1` < `1.1` and `1.0.0.x` < `1.0.0-x`
 * never equal. Trailing "null" items (0, the release qualifier, empty lists) are dropped: `1.0.0` = `1` = `1-ga`.
 * Between kinds: number > list > word, and a number beats a missing item unless it is 0.
 */

type Item = { kind: 'number'; digits: string } | { kind: 'word'; rank: string } | { kind: 'list'; items: Item[] };

/** Known qualifiers in order; the index (as a string) is the comparable rank. */
const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const RELEASE_RANK = String(QUALIFIERS.indexOf(''));
const ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };

/**
 * Rank strings compare as plain strings, exactly like Maven's `comparableQualifier`: `"0"`…`"6"` for the known
 * qualifiers, `"7-<word>"` for any other word (after all known ones, alphabetically among themselves).
 */
function qualifierRank(word: string, followedByDigit: boolean): string {
  let w = word;
  if (followedByDigit && w.length === 1) {
    if (w === 'a') w = 'alpha';
    else if (w === 'b') w = 'beta';
    else if (w === 'm') w = 'milestone';
  }
  w = ALIASES[w] ?? w;
  const i = QUALIFIERS.indexOf(w);
  return i >= 0 ? String(i) : `${QUALIFIERS.length}-${w}`;
}

function makeItem(isDigit: boolean, text: string): Item {
  return isDigit ? { kind: 'number', digits: text } : { kind: 'word', rank: qualifierRank(text, false) };
}

function isNullItem(item: Item): boolean {
  switch (item.kind) {
    case 'number':
      return isZeroRun(item.digits);
    case 'word':
      return item.rank === RELEASE_RANK;
    case 'list':
      return item.items.length === 0;
  }
}

/** Drops trailing null items, looking past (but keeping) non-empty nested lists. */
function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    const item = list[i];
    if (!item) continue;
    if (isNullItem(item)) list.splice(i, 1);
    else if (item.kind !== 'list') break;
  }
}

/** Parses like `ComparableVersion.parseVersion`; never fails (every string is some Maven version). */
export function parseMavenVersion(version: string): Item[] {
  const text = version.toLowerCase();
  const root: Item[] = [];
  let list = root;
  const lists: Item[][] = [root];
  const openList = (): void => {
    const next: Item[] = [];
    list.push({ kind: 'list', items: next });
    list = next;
    lists.push(next);
  };
  let isDigit = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e /* . */ || c === 0x2d /* - */) {
      list.push(i === start ? { kind: 'number', digits: '0' } : makeItem(isDigit, text.slice(start, i)));
      start = i + 1;
      if (c === 0x2d) openList();
    } else if (isDigitCode(c)) {
      if (!isDigit && i > start) {
        // a word followed by digits: `rc1` is `rc-1`, `a1` is `alpha-1`
        if (list.length > 0) openList();
        list.push({ kind: 'word', rank: qualifierRank(text.slice(start, i), true) });
        start = i;
        openList();
      }
      isDigit = true;
    } else {
      if (isDigit && i > start) {
        list.push(makeItem(true, text.slice(start, i)));
        start = i;
        openList();
      }
      isDigit = false;
    }
  }
  if (text.length > start) {
    // a trailing word after a dot is treated like one after a hyphen: 1.0.0.X1 < 1.0.0-X2
    if (!isDigit && list.length > 0) openList();
    list.push(makeItem(isDigit, text.slice(start)));
  }
  for (let i = lists.length - 1; i >= 0; i--) normalize(lists[i] ?? []);
  return root;
}

/** Compares two non-list items (either may be missing), or says which lists to descend into. */
function compareScalars(l: Item | null, r: Item | null): number {
  if (l === null && r === null) return 0;
  if (l === null) return -compareScalars(r, null);
  switch (l.kind) {
    case 'number':
      if (r === null) return isZeroRun(l.digits) ? 0 : 1;
      return r.kind === 'number' ? compareDigitRuns(l.digits, r.digits) : 1;
    case 'word':
      if (r === null) return compareCodeUnits(l.rank, RELEASE_RANK);
      return r.kind === 'word' ? compareCodeUnits(l.rank, r.rank) : -1;
    case 'list':
      // only reached for list vs number/word; lists against lists or nothing are walked by compareLists
      return r?.kind === 'number' ? -1 : 1;
  }
}

/**
 * Compares two item lists (`null` = a missing item) without recursion, so that a version with a million nested
 * lists (`1-1-1-…`) cannot exhaust the stack.
 */
function compareLists(left: Item[], right: Item[]): number {
  interface Frame {
    left: Item[] | null;
    right: Item[] | null;
    index: number;
  }
  const stack: Frame[] = [{ left, right, index: 0 }];
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    const length = Math.max(frame.left?.length ?? 0, frame.right?.length ?? 0);
    if (frame.index >= length) {
      stack.pop();
      continue;
    }
    const l = frame.left?.[frame.index] ?? null;
    const r = frame.right?.[frame.index] ?? null;
    frame.index++;
    const lList = l?.kind === 'list' ? l.items : null;
    const rList = r?.kind === 'list' ? r.items : null;
    if ((lList && (rList || r === null)) || (rList && l === null)) {
      stack.push({ left: lList, right: rList, index: 0 });
      continue;
    }
    const order = compareScalars(l, r);
    if (order !== 0) return order;
  }
  return 0;
}

export function compareMavenVersions(a: string, b: string): number {
  if (a.length <= MAX_MAVEN_PARSED_VERSION_CHARS && b.length <= MAX_MAVEN_PARSED_VERSION_CHARS) return compareLists(parseMavenVersion(a), parseMavenVersion(b));
  const order = compareLists(parseMavenVersion(a.slice(0, MAX_MAVEN_PARSED_VERSION_CHARS)), parseMavenVersion(b.slice(0, MAX_MAVEN_PARSED_VERSION_CHARS)));
  return order !== 0 ? order : compareCodeUnits(a, b);
}

/** A plausible Maven version: starts with a letter or digit, contains a digit, only `[A-Za-z0-9._+-]`. */
export function isValidMavenVersion(version: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(version) && /\d/.test(version);
}

export const mavenVersions: VersionComparator = {
  scheme: 'maven',
  compare: compareMavenVersions,
  valid: isValidMavenVersion,
};
