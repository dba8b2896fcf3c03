import { secretFingerprint } from '../evidence.js';
import { secretRules, type SecretRule, type SecretRuleSet } from './rules.js';
import { hasValidGithubChecksum, isBasicAuthBase64, looksLikeReference, pemBody, shannonEntropy } from './validate.js';
import { MAX_SECRETS_PER_TEXT, MAX_SECRET_CANDIDATES_PER_RULE, MAX_SECRET_KEYWORD_POSITIONS } from '../../limits.js';

/** Where a text comes from: a file (its path and candidate kinds) or an image string (ENV value, history step). */
export interface SecretScanTarget {
  /** The file's path; absent for ENV values and history commands (rules restricted to paths then never apply). */
  path?: string;
  /** Bit set of `Kind`; 0 for text that is not a file (rules restricted to kinds then never apply). */
  kinds: number;
}

export interface SecretMatch {
  rule: SecretRule;
  /** Offset (in characters of the scanned text) and length of the secret itself. */
  offset: number;
  length: number;
  fingerprint: string;
  /** What kind of key or token, from the rule's label group (`RSA`, `OPENSSH` …); never part of the secret. */
  label?: string;
}

function ruleApplies(rule: SecretRule, target: SecretScanTarget): boolean {
  if (rule.paths && (target.path === undefined || !rule.paths.test(target.path))) return false;
  if (rule.skipPaths && target.path !== undefined && rule.skipPaths.test(target.path)) return false;
  if (rule.kinds !== 0 && (target.kinds & rule.kinds) === 0) return false;
  return true;
}

/** Whether a value is a placeholder or documented example (`${TOKEN}`, `<password>`, `changeme`, `xxxxx` …). */
export function isPlaceholderSecret(value: string, set: SecretRuleSet = secretRules()): boolean {
  return isPlaceholder(value, set.placeholders);
}

function isPlaceholder(value: string, placeholders: readonly string[]): boolean {
  const lower = value.toLowerCase();
  if (placeholders.some((p) => lower.includes(p))) return true;
  // One repeated character (`aaaaaaaa`, `00000000`) is a filler, not a secret.
  return /^(.)\1*$/s.test(value);
}

/** The value as fingerprinted, or undefined when the candidate is not a secret after all. */
function acceptedSecret(rule: SecretRule, value: string, set: SecretRuleSet): string | undefined {
  if (isPlaceholder(value, set.placeholders)) return undefined;
  let normalised = value;
  if (rule.normalize === 'pem') {
    const body = pemBody(value);
    if (body === undefined) return undefined;
    normalised = body;
  }
  if (rule.entropy !== undefined && shannonEntropy(normalised) < rule.entropy) return undefined;
  switch (rule.validate) {
    case 'github-checksum':
      if (!hasValidGithubChecksum(value)) return undefined;
      break;
    case 'basic-auth-base64':
      if (!isBasicAuthBase64(value)) return undefined;
      break;
    case 'not-path':
      if (looksLikeReference(value)) return undefined;
      break;
    default:
      break;
  }
  return normalised;
}

/** A secret found near the match (the AWS secret key next to its key id), as [offset, length, fingerprinted value]. */
function nearSecret(rule: SecretRule, text: string, start: number, end: number, set: SecretRuleSet): [number, number, string] | undefined {
  const near = rule.near!;
  const from = Math.max(0, start - near.window);
  const window = text.slice(from, Math.min(text.length, end + near.window));
  const re = new RegExp(near.regex.source, near.regex.flags.includes('d') ? near.regex.flags : `${near.regex.flags}d`);
  let examined = 0;
  for (let m = re.exec(window); m !== null && examined < MAX_SECRET_CANDIDATES_PER_RULE; m = re.exec(window), examined++) {
    if (m[0].length === 0) {
      re.lastIndex++;
      continue;
    }
    const group = m.length > 1 ? 1 : 0;
    const span = m.indices?.[group];
    const value = m[group];
    if (!span || value === undefined) continue;
    if (!near.secret) return [from + span[0], value.length, value];
    const accepted = acceptedSecret(rule, value, set);
    if (accepted !== undefined) return [from + span[0], value.length, accepted];
  }
  return undefined;
}

const keywordSearches = new WeakMap<readonly SecretRule[], Map<string, RegExp>>();

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** One case-insensitive expression for every keyword of `rules`, memoised per rule set and selection. */
function keywordSearch(rules: readonly SecretRule[], all: readonly SecretRule[]): RegExp {
  let bySelection = keywordSearches.get(all);
  if (!bySelection) keywordSearches.set(all, (bySelection = new Map()));
  const keywords = [...new Set(rules.flatMap((r) => r.keywords))];
  const key = keywords.join('\n');
  let re = bySelection.get(key);
  if (!re) bySelection.set(key, (re = new RegExp(keywords.map(escapeRegExp).join('|'), 'gi')));
  return re;
}

/** Characters whose lower case is ASCII although they are not (`İ` → `i̇`, Kelvin sign → `k`). */
const LOWERS_TO_ASCII = /[\u0130\u212a]/;

/**
 * The rules' keywords that occur in the lower-cased text, found in one pass: the combined expression finds a position
 * where some keyword starts, every keyword not yet seen is compared there, and the search goes on from the next
 * character (so no keyword hides inside another's match).
 */
function keywordsPresent(text: string, rules: readonly SecretRule[], all: readonly SecretRule[]): Set<string> {
  const keywords = [...new Set(rules.flatMap((r) => r.keywords))];
  if (LOWERS_TO_ASCII.test(text)) {
    const lower = text.toLowerCase();
    return new Set(keywords.filter((k) => lower.includes(k)));
  }
  const present = new Set<string>();
  const search = keywordSearch(rules, all);
  let positions = 0;
  search.lastIndex = 0;
  for (let m = search.exec(text); m !== null && present.size < keywords.length; m = search.exec(text)) {
    // Hostile repetition: stop looking and let every rule run (their own work is capped).
    if (++positions > MAX_SECRET_KEYWORD_POSITIONS) return new Set(keywords);
    for (const k of keywords) {
      if (!present.has(k) && text.slice(m.index, m.index + k.length).toLowerCase() === k) present.add(k);
    }
    search.lastIndex = m.index + 1;
  }
  return present;
}

/**
 * Finds secrets in `text` with the rule set (the shipped `rules/secrets.yaml` by default). The same secret found by
 * several rules is reported once, by the earliest rule; results are in text order. Never throws on any input.
 */
export function scanSecrets(text: string, target: SecretScanTarget, set: SecretRuleSet = secretRules()): SecretMatch[] {
  const applicable = set.rules.filter((r) => ruleApplies(r, target));
  if (applicable.length === 0 || text.length === 0) return [];
  const present = keywordsPresent(text, applicable, set.rules);
  const byFingerprint = new Map<string, SecretMatch>();
  for (const rule of applicable) {
    if (!rule.keywords.some((k) => present.has(k))) continue;
    if (rule.requires && !rule.requires.test(text)) continue;
    const re = rule.regex;
    re.lastIndex = 0;
    let examined = 0;
    for (let m = re.exec(text); m !== null && examined < MAX_SECRET_CANDIDATES_PER_RULE; m = re.exec(text), examined++) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const span = m.indices?.[rule.secretGroup];
      const value = m[rule.secretGroup];
      if (!span || value === undefined) continue;
      let found: [number, number, string] | undefined;
      if (rule.near) {
        if (isPlaceholder(value, set.placeholders)) continue;
        const near = nearSecret(rule, text, m.index, m.index + m[0].length, set);
        if (!near) continue;
        if (rule.near.secret) found = near;
      }
      if (!rule.near?.secret) {
        const accepted = acceptedSecret(rule, value, set);
        if (accepted !== undefined) found = [span[0], value.length, accepted];
      }
      if (!found) continue;
      const fingerprint = secretFingerprint(found[2]);
      if (byFingerprint.has(fingerprint)) continue;
      const label = rule.labelGroup !== undefined ? m[rule.labelGroup] : undefined;
      byFingerprint.set(fingerprint, { rule, offset: found[0], length: found[1], fingerprint, ...(label ? { label } : {}) });
      if (byFingerprint.size >= MAX_SECRETS_PER_TEXT) break;
    }
    re.lastIndex = 0;
    if (byFingerprint.size >= MAX_SECRETS_PER_TEXT) break;
  }
  return [...byFingerprint.values()].sort((a, b) => a.offset - b.offset);
}

/** `text` with every secret the rules find replaced by `[redacted]`: for excerpts of commands shown in evidence. */
export function redactSecrets(text: string, target: SecretScanTarget = { kinds: 0 }, set: SecretRuleSet = secretRules()): string {
  const matches = scanSecrets(text, target, set);
  let out = '';
  let at = 0;
  for (const m of matches) {
    if (m.offset < at) continue;
    out += `${text.slice(at, m.offset)}[redacted]`;
    at = m.offset + m.length;
  }
  out += text.slice(at);
  // Credentials in URLs (`https://user:pass@host`) are hidden whatever the rules say.
  return out.replace(/([a-z][a-z0-9+.-]{0,15}:\/\/[^:/@\s]{1,256}:)[^@\s/]{1,512}@/gi, '$1[redacted]@');
}

/** 1-based line of `offset` in `text`. */
export function lineNumberAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}
