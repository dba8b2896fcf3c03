/**
 * The ignore file (`--ignore-file`, default `.detonateignore.yaml`), as Trivy's `.trivyignore.yaml` and VEX
 * statements: each entry names what it covers (a finding rule, a path, a package, a vulnerability id), why, and
 * until when. Covered findings and vulnerabilities move to `report.suppressed` and out of the verdict; an expired
 * entry no longer applies, and the report says so. Format: docs/ignore.md.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { DataFileError, parseDataFile } from '../config/data-file.js';
import type { Finding, ScanNotice, SuppressedItem, Vulnerability } from '../model/index.js';
import { globToRegExp } from './patterns.js';
import { MAX_IGNORE_FILE_BYTES } from './limits.js';

export const DEFAULT_IGNORE_FILE = '.detonateignore.yaml';
const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

const entrySpec = z.strictObject({
  rule: z.string().min(1).optional(),
  path: z.string().min(1).optional(),
  package: z.string().min(1).optional(),
  vulnerability: z.string().min(1).optional(),
  reason: z.string().trim().min(1, 'say why (reason) this is not a problem here'),
  expires: z.union([z.string().regex(DATE, 'a date: YYYY-MM-DD (or an ISO date-time)'), z.date()]).optional(),
});
const fileSpec = z.strictObject({ ignore: z.array(entrySpec).optional() }).nullable();

export interface IgnoreEntry {
  rule?: string;
  path?: string;
  package?: string;
  vulnerability?: string;
  reason: string;
  /** As written (`2025-06-30`); the entry applies through the end of that day (UTC). */
  expires?: string;
  /** `file:line` of the entry. */
  where: string;
}

/** A notice the ignore step writes (an expired entry): what a stored report's notices hold of it. */
export function isIgnoreNotice(notice: ScanNotice): boolean {
  return EXPIRED_ENTRY.test(notice.message);
}
const EXPIRED_ENTRY = /: the ignore entry for .* expired on \S+ and no longer applies/s;

export interface IgnoreList {
  file: string;
  entries: IgnoreEntry[];
}

/** Reads and validates an ignore file; a mistake is a DataFileError naming file:line. */
export function loadIgnoreFile(file: string): IgnoreList {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DataFileError(`${file}: cannot read the ignore file: ${(err as Error).message}`);
  }
  if (text.length > MAX_IGNORE_FILE_BYTES) throw new DataFileError(`${file}: the ignore file is larger than ${MAX_IGNORE_FILE_BYTES} bytes`);
  return parseIgnoreFile(file, text);
}

export function parseIgnoreFile(file: string, text: string): IgnoreList {
  const doc = parseDataFile(file, text, fileSpec);
  const entries = (doc.data?.ignore ?? []).map((e, i): IgnoreEntry => {
    const line = doc.lineOf(['ignore', i]);
    const where = `${file}${line ? `:${line}` : ''}`;
    if (!e.rule && !e.path && !e.package && !e.vulnerability) {
      throw new DataFileError(`${where}: an ignore entry needs at least one of rule, path, package or vulnerability`);
    }
    if (e.vulnerability && (e.rule || e.path)) {
      throw new DataFileError(`${where}: an entry covers either findings (rule, path) or vulnerabilities (vulnerability), not both; split it in two`);
    }
    const expires = e.expires instanceof Date ? e.expires.toISOString().slice(0, 10) : e.expires;
    if (expires !== undefined && !Number.isFinite(expiryTime(expires))) throw new DataFileError(`${where}: expires: ${expires} is not a date`);
    return {
      ...(e.rule ? { rule: e.rule } : {}),
      ...(e.path ? { path: e.path } : {}),
      ...(e.package ? { package: e.package } : {}),
      ...(e.vulnerability ? { vulnerability: e.vulnerability } : {}),
      reason: e.reason.trim(),
      ...(expires ? { expires } : {}),
      where,
    };
  });
  return { file, entries };
}

/** The moment an entry stops applying: the end of its day when only a date is given. */
function expiryTime(expires: string): number {
  return /^\d{4}-\d{2}-\d{2}$/.test(expires) ? Date.parse(`${expires}T23:59:59.999Z`) : Date.parse(expires);
}

function expired(entry: IgnoreEntry, now: Date): boolean {
  return entry.expires !== undefined && expiryTime(entry.expires) < now.getTime();
}

/** purl without qualifiers and subpath; without its version too when `versioned` is false. */
function purlBase(purl: string, versioned: boolean): string {
  const base = purl.split(/[?#]/)[0]!;
  if (versioned) return base;
  const at = base.lastIndexOf('@');
  return at > base.lastIndexOf('/') ? base.slice(0, at) : base;
}

function packageMatches(want: string, name: string | undefined, purl: string | undefined): boolean {
  if (!want.startsWith('pkg:')) return name !== undefined && name === want;
  if (!purl) return false;
  const versioned = want.split(/[?#]/)[0]!.lastIndexOf('@') > want.lastIndexOf('/');
  return purlBase(purl, versioned).toLowerCase() === purlBase(want, versioned).toLowerCase();
}

interface CompiledEntry {
  entry: IgnoreEntry;
  rule?: RegExp;
  path?: RegExp;
}

function compile(entry: IgnoreEntry): CompiledEntry {
  return {
    entry,
    ...(entry.rule ? { rule: globToRegExp(entry.rule) } : {}),
    ...(entry.path ? { path: globToRegExp(entry.path.replace(/^\/+/, '')) } : {}),
  };
}

function coversFinding(c: CompiledEntry, f: Finding): boolean {
  const e = c.entry;
  if (e.vulnerability) return false;
  if (c.rule && !c.rule.test(f.rule)) return false;
  if (c.path && !(f.path !== undefined && c.path.test(f.path.replace(/^\/+/, '')))) return false;
  if (e.package) {
    const ev = f.evidence ?? {};
    const name = typeof ev.package === 'string' ? ev.package : undefined;
    const purl = typeof ev.purl === 'string' ? ev.purl : undefined;
    if (!packageMatches(e.package, name, purl)) return false;
  }
  return true;
}

function coversVulnerability(c: CompiledEntry, v: Vulnerability): boolean {
  const e = c.entry;
  if (e.rule || e.path) return false;
  if (e.vulnerability) {
    const id = e.vulnerability.toLowerCase();
    if (v.id.toLowerCase() !== id && !v.aliases.some((a) => a.toLowerCase() === id)) return false;
  }
  if (e.package && !packageMatches(e.package, v.package, v.purl)) return false;
  return true;
}

function suppressed(entry: IgnoreEntry, item: { finding: Finding } | { vulnerability: Vulnerability }): SuppressedItem {
  return { ...item, reason: entry.reason, ...(entry.expires ? { expires: entry.expires } : {}), ignoredBy: entry.where };
}

/** What an ignore file is applied to, and what it gives back. */
export interface Ignorable {
  findings: Finding[];
  vulnerabilities: Vulnerability[];
}

/**
 * Takes what `list` covers out of `findings` and `vulnerabilities` into `suppressed` (the first entry that covers an
 * item names it), with a notice for every expired entry.
 */
export function applyIgnoreList(items: Ignorable, list: IgnoreList, now = new Date()): Ignorable & { suppressed: SuppressedItem[]; notices: ScanNotice[] } {
  const live: CompiledEntry[] = [];
  const dead: CompiledEntry[] = [];
  for (const entry of list.entries) (expired(entry, now) ? dead : live).push(compile(entry));
  const out: SuppressedItem[] = [];
  let { findings, vulnerabilities } = items;
  if (live.length > 0) {
    findings = findings.filter((f) => {
      const hit = live.find((c) => coversFinding(c, f));
      if (hit) out.push(suppressed(hit.entry, { finding: f }));
      return !hit;
    });
    vulnerabilities = vulnerabilities.filter((v) => {
      const hit = live.find((c) => coversVulnerability(c, v));
      if (hit) out.push(suppressed(hit.entry, { vulnerability: v }));
      return !hit;
    });
  }
  const notices: ScanNotice[] = [];
  for (const c of dead) {
    const n = findings.filter((f) => coversFinding(c, f)).length + vulnerabilities.filter((v) => coversVulnerability(c, v)).length;
    const what = c.entry.vulnerability ?? c.entry.rule ?? c.entry.path ?? c.entry.package;
    const message =
      `${c.entry.where}: the ignore entry for ${what} expired on ${c.entry.expires} and no longer applies` +
      (n > 0 ? ` (${n === 1 ? 'the item it covered is' : `the ${n} items it covered are`} reported again)` : '');
    if (!notices.some((x) => x.message === message)) notices.push({ level: 'warning', message });
  }
  return { findings, vulnerabilities, suppressed: out, notices };
}
