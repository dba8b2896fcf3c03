/** Glob and regex compilation for conditions, and the checks that keep them linear on hostile input. */
import { MAX_MATCHED_DOMAIN_LABELS } from './limits.js';

/** `*` within a path segment, `**` across segments (`/**\/` also matches a single `/`), `?` one character but `/`. */
export function globToRegExp(glob: string): RegExp {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      i++;
      const atSegmentStart = i === 1 || glob[i - 2] === '/';
      if (glob[i + 1] === '/' && atSegmentStart) {
        i++;
        out += '(?:[\\s\\S]*/)?';
      } else {
        out += '[\\s\\S]*';
      }
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(out + '$');
}

/**
 * Why a pattern could backtrack badly, or undefined when it is fine: a quantified group that itself holds a
 * quantifier or an alternation (`(a+)+`, `(a|ab)*`), and backreferences, are refused. Input is also capped in length.
 */
export function unsafeRegexReason(source: string): string | undefined {
  // Per open group: does it contain a quantifier / an alternation?
  const stack: { quantified: boolean; alternation: boolean }[] = [{ quantified: false, alternation: false }];
  const isQuantifier = (i: number): boolean => {
    const c = source[i];
    return c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(source.slice(i)));
  };
  // `?`, `{n}` and `{0,1}` repeat at most once: an optional group cannot backtrack exponentially.
  const repeats = (i: number): boolean => {
    const c = source[i];
    if (c === '*' || c === '+') return true;
    const m = c === '{' ? /^\{(\d+)(,(\d*))?\}/.exec(source.slice(i)) : null;
    if (!m) return false;
    return m[2] !== undefined && (m[3] === '' || Number(m[3]) > 1);
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const n = source[i + 1] ?? '';
      if (/[1-9]/.test(n) || n === 'k') return 'backreferences are not allowed';
      i++;
      if (isQuantifier(i + 1)) stack.at(-1)!.quantified = true;
    } else if (c === '[') {
      for (i++; i < source.length && source[i] !== ']'; i++) if (source[i] === '\\') i++;
      if (isQuantifier(i + 1)) stack.at(-1)!.quantified = true;
    } else if (c === '(') {
      stack.push({ quantified: false, alternation: false });
    } else if (c === ')') {
      const group = stack.length > 1 ? stack.pop()! : { quantified: false, alternation: false };
      const outer = stack.at(-1)!;
      if (repeats(i + 1)) {
        if (group.quantified) return 'a repeated group contains a repetition (nested quantifiers backtrack exponentially)';
        if (group.alternation) return 'a repeated group contains an alternation (write a character class, or repeat outside the group)';
      }
      if (isQuantifier(i + 1) || group.quantified) outer.quantified = true;
      if (group.alternation) outer.alternation = true;
    } else if (c === '|') {
      stack.at(-1)!.alternation = true;
    } else if (isQuantifier(i + 1)) {
      stack.at(-1)!.quantified = true;
    }
  }
  return undefined;
}

/** Lower-cased names: matches an entry or any subdomain of one. */
export function domainMatcher(entries: readonly string[]): (name: string) => boolean {
  const set = new Set(entries.map((e) => e.trim().toLowerCase().replace(/\.$/, '')).filter((e) => e.length > 0));
  return (name) => {
    let n = name.toLowerCase();
    if (n.endsWith('.')) n = n.slice(0, -1);
    for (let labels = 0; n.length > 0 && labels < MAX_MATCHED_DOMAIN_LABELS; labels++) {
      if (set.has(n)) return true;
      const dot = n.indexOf('.');
      if (dot < 0) return false;
      n = n.slice(dot + 1);
    }
    return false;
  };
}
