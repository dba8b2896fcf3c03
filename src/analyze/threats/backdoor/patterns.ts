import { z } from 'zod';
import { DataFileError, loadDataFile, parseDataFile } from '../../../config/data-file.js';
import { MAX_BACKDOOR_ANCHORS_PER_PATTERN, MAX_BACKDOOR_LINE_REACH_CHARS, MAX_BACKDOOR_PREFILTER_POSITIONS } from '../../limits.js';

/** One compiled pattern of `rules/backdoor-patterns.yaml` (see the file's header for the meaning of each field). */
export interface TextPattern {
  rule: string;
  title: string;
  attack: string[];
  scope: 'any' | 'persistence';
  anchor: RegExp;
  /** Index into `PatternSet.prefilters` of what must occur in the text for `anchor` to match; undefined: always run. */
  prefilter?: number;
  window: number;
  all: RegExp[];
  any: RegExp[];
  endpoint?: RegExp;
}

export interface PatternSet {
  patterns: TextPattern[];
  /** The distinct prefilters, case-insensitive, each sticky: tried where `anyPrefilter` matched. */
  prefilters: RegExp[];
  /** Every prefilter in one expression, so a text is scanned once for all of them. */
  anyPrefilter?: RegExp;
}

const PatternSchema = z.strictObject({
  rule: z.string().regex(/^backdoor\/[a-z0-9]+(-[a-z0-9]+)*$/),
  title: z.string().min(1),
  attack: z.array(z.string().regex(/^T\d{4}(\.\d{3})?$/)).min(1),
  scope: z.enum(['any', 'persistence']).default('any'),
  flags: z.string().regex(/^[imsu]*$/).default(''),
  anchor: z.string().min(1),
  prefilter: z.string().min(1).optional(),
  window: z.number().int().min(0).max(4000).default(0),
  all: z.array(z.string().min(1)).default([]),
  any: z.array(z.string().min(1)).default([]),
  endpoint: z.string().min(1).optional(),
});
const FileSchema = z.strictObject({ patterns: z.array(PatternSchema).min(1) });

/** Parses and compiles the pattern file; errors name the file and the pattern (by position and rule). */
export function parsePatterns(text: string, fileName: string): PatternSet {
  return compilePatterns(parseDataFile(fileName, text, FileSchema).data, fileName);
}

function compilePatterns(file: z.infer<typeof FileSchema>, fileName: string): PatternSet {
  const prefilterSources: string[] = [];
  const patterns = file.patterns.map((p, i): TextPattern => {
    const fail = (field: string, message: string) => new DataFileError(`${fileName}: patterns.${i} (${p.rule}) ${field}: ${message}`);
    const compile = (source: string, field: string, flags: string): RegExp => {
      try {
        return new RegExp(source, flags);
      } catch (err) {
        throw fail(field, err instanceof Error ? err.message : String(err));
      }
    };
    let prefilter: number | undefined;
    if (p.prefilter !== undefined) {
      if (compile(`${p.prefilter}|`, 'prefilter', '').exec('')!.length > 1) throw fail('prefilter', 'capturing groups are not allowed, use (?:…)');
      prefilter = prefilterSources.indexOf(p.prefilter);
      if (prefilter < 0) prefilter = prefilterSources.push(p.prefilter) - 1;
    }
    return {
      rule: p.rule,
      title: p.title,
      attack: p.attack,
      scope: p.scope,
      anchor: compile(p.anchor, 'anchor', `g${p.flags}`),
      ...(prefilter !== undefined ? { prefilter } : {}),
      window: p.window,
      all: p.all.map((s, j) => compile(s, `all.${j}`, p.flags)),
      any: p.any.map((s, j) => compile(s, `any.${j}`, p.flags)),
      endpoint: p.endpoint === undefined ? undefined : compile(p.endpoint, 'endpoint', p.flags),
    };
  });
  return {
    patterns,
    prefilters: prefilterSources.map((source) => new RegExp(source, 'iy')),
    ...(prefilterSources.length > 0 ? { anyPrefilter: new RegExp(prefilterSources.map((source) => `(${source})`).join('|'), 'gi') } : {}),
  };
}

let shipped: PatternSet | undefined;

export function backdoorPatterns(): PatternSet {
  if (!shipped) {
    const loaded = loadDataFile('backdoor-patterns.yaml', FileSchema);
    shipped = compilePatterns(loaded.data, loaded.file);
  }
  return shipped;
}

export interface PatternHit {
  pattern: TextPattern;
  offset: number;
  host?: string;
  port?: number;
  url?: string;
}

/**
 * Which prefilters of `set` occur in `text`, in one pass: the combined expression finds the first position where any
 * occurs, then each prefilter not yet seen is tried there, and the search goes on from the next character (so no
 * occurrence hides inside another's match).
 */
export function prefiltersPresent(text: string, set: PatternSet): boolean[] {
  const present = set.prefilters.map(() => false);
  const any = set.anyPrefilter;
  if (!any) return present;
  let missing = present.length;
  let positions = 0;
  any.lastIndex = 0;
  for (let m = any.exec(text); m !== null && missing > 0; m = any.exec(text)) {
    // Hostile repetition: stop looking and let every pattern run (their own work is capped).
    if (++positions > MAX_BACKDOOR_PREFILTER_POSITIONS) return present.map(() => true);
    for (let i = 0; i < present.length; i++) {
      if (present[i]) continue;
      const re = set.prefilters[i]!;
      re.lastIndex = m.index;
      if (re.test(text)) {
        present[i] = true;
        missing--;
      }
    }
    any.lastIndex = m.index + 1;
  }
  return present;
}

/** Runs the patterns over `text`; one hit per pattern rule and line. */
export function matchPatterns(text: string, set: PatternSet, persistence: boolean): PatternHit[] {
  const hits: PatternHit[] = [];
  const seen = new Set<string>();
  const present = prefiltersPresent(text, set);
  for (const pattern of set.patterns) {
    if (pattern.scope === 'persistence' && !persistence) continue;
    if (pattern.prefilter !== undefined && !present[pattern.prefilter]) continue;
    pattern.anchor.lastIndex = 0;
    let anchors = 0;
    for (const m of text.matchAll(pattern.anchor)) {
      if (++anchors > MAX_BACKDOOR_ANCHORS_PER_PATTERN) break;
      // An anchor may start on the delimiter before a command (`(?:^|\s)nc`): the finding is where the command is.
      const at = m.index + (m[0].length - m[0].trimStart().length);
      const lineStart = Math.max(text.lastIndexOf('\n', at - 1) + 1, at - MAX_BACKDOOR_LINE_REACH_CHARS);
      const nl = text.indexOf('\n', m.index + m[0].length);
      const lineEnd = Math.min(nl < 0 ? text.length : nl, m.index + m[0].length + MAX_BACKDOOR_LINE_REACH_CHARS);
      const key = `${pattern.rule}@${lineStart}`;
      if (seen.has(key)) continue;
      const window = text.slice(Math.max(0, lineStart - pattern.window), Math.min(text.length, lineEnd + pattern.window));
      if (!pattern.all.every((re) => re.test(window))) continue;
      if (pattern.any.length > 0 && !pattern.any.some((re) => re.test(window))) continue;
      seen.add(key);
      const hit: PatternHit = { pattern, offset: at };
      const endpoint = pattern.endpoint?.exec(window);
      const groups = endpoint?.groups;
      if (groups) {
        const host = groups.host ?? groups.host2;
        const port = Number(groups.port ?? groups.port2);
        if (host) hit.host = host;
        if (Number.isInteger(port) && port > 0 && port < 65536) hit.port = port;
        if (groups.url) hit.url = groups.url;
      }
      hits.push(hit);
    }
  }
  return hits.sort((a, b) => a.offset - b.offset);
}
