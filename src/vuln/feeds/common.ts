import { createReadStream, promises as fs } from 'node:fs';
import { parseDocument } from 'yaml';
import type { AdvisoryRecord } from '../model.js';
import { MAX_DATE_CHARS } from './limits.js';

/** How an importer reports a skipped record or file; importing goes on. */
export type Notice = (message: string) => void;

/** A whole file or record cannot be read (too large, not the format): the importer turns it into a notice. */
export class FeedInputError extends Error {
  override readonly name = 'FeedInputError';
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  return `${n} bytes`;
}

/** The last path component, either separator. */
export function baseName(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i < 0 ? path : path.slice(i + 1);
}

/** A file read whole, refused (FeedInputError) when it is larger than `maxBytes`. */
export async function readBoundedFile(path: string, maxBytes: number): Promise<Buffer> {
  const handle = await fs.open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new FeedInputError(`file is ${formatBytes(size)}, over the ${formatBytes(maxBytes)} limit`);
    const buf = Buffer.alloc(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await handle.read(buf, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === size ? buf : buf.subarray(0, got);
  } finally {
    await handle.close();
  }
}

export type Line = { number: number; text: string } | { number: number; tooLong: number };

/**
 * The lines of a file, streamed: memory stays at one line (at most `maxLineBytes`) plus one read buffer. A longer
 * line is not kept: it comes back as `{ tooLong: bytes }` and reading goes on with the next line.
 */
export async function* readLines(path: string, maxLineBytes: number): AsyncGenerator<Line> {
  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  let parts: Buffer[] = [];
  let length = 0;
  let overflow = false;
  let number = 0;
  const finish = (): Line => {
    number++;
    if (overflow) return { number, tooLong: length };
    const buf = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, length);
    let text = buf.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    return { number, text };
  };
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let start = 0;
    while (start < chunk.length) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline < 0 ? chunk.length : newline;
      if (!overflow && length + (end - start) > maxLineBytes) {
        overflow = true;
        parts = [];
      }
      if (!overflow && end > start) parts.push(chunk.subarray(start, end));
      length += end - start;
      if (newline < 0) break;
      yield finish();
      parts = [];
      length = 0;
      overflow = false;
      start = newline + 1;
    }
  }
  if (length > 0) yield finish();
}

/** The first bytes of a file (for `detect`). */
export async function readHead(path: string, bytes = 4096): Promise<Buffer> {
  const handle = await fs.open(path, 'r');
  try {
    const buf = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buf, 0, bytes, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new FeedInputError(`not valid JSON (${errorMessage(err)})`);
  }
}

/**
 * YAML with the failsafe schema: every scalar stays the string it was written as (so `1.10` stays `1.10`, not the
 * number 1.1, and `2017-10-24` stays text), duplicate keys are tolerated (the last wins), and alias expansion is
 * capped (alias bombs).
 */
export function parseYaml(text: string, maxAliases: number): unknown {
  let doc;
  try {
    doc = parseDocument(text, { schema: 'failsafe', uniqueKeys: false, logLevel: 'silent' });
  } catch (err) {
    throw new FeedInputError(`not valid YAML (${errorMessage(err)})`);
  }
  const first = doc.errors[0];
  if (first) throw new FeedInputError(`not valid YAML (${first.message.split('\n')[0] ?? ''})`);
  try {
    return doc.toJS({ maxAliasCount: maxAliases });
  } catch (err) {
    throw new FeedInputError(`YAML cannot be expanded (${errorMessage(err)})`);
  }
}

// -------------------------------------------------------------------------------------------------------------
// reading untrusted parsed values

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A non-empty trimmed string, or undefined. */
export function text(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

/** The non-empty strings of an array (a single string counts as a one-element list). */
export function texts(v: unknown): string[] {
  if (typeof v === 'string') return text(v) ? [v.trim()] : [];
  if (!Array.isArray(v)) return [];
  const out: string[] = [];
  for (const item of v) {
    const t = text(item);
    if (t !== undefined) out.push(t);
  }
  return out;
}

/** A finite number, or a string holding one (`"9.8"`, `"4.8 (Medium)"`). */
export function numberFrom(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const m = /^\s*(-?\d+(?:\.\d+)?)/.exec(v);
  return m ? Number(m[1]) : undefined;
}

export function unique<T>(items: Iterable<T>): T[] {
  return [...new Set(items)];
}

// -------------------------------------------------------------------------------------------------------------
// identifiers

const CVE_ID = /^CVE-\d{4}-\d{4,}$/;

export function isCveId(id: string): boolean {
  return CVE_ID.test(id);
}

/**
 * The records one advisory becomes. Matching keys advisories by CVE, so an advisory naming CVEs becomes one record
 * per CVE (id = the CVE; the source's own identifiers are its aliases, the other CVEs are not: they are different
 * vulnerabilities fixed together). Without a CVE it keeps `fallbackId`. Past `maxSplitAffected` (CVEs × affected
 * packages) it stays one record: the first CVE is the id, every other identifier an alias.
 */
export function recordsPerCve(
  base: Omit<AdvisoryRecord, 'id' | 'aliases'>,
  identifiers: readonly string[],
  fallbackId: string,
  maxSplitAffected: number,
): AdvisoryRecord[] {
  const ids = unique(identifiers.filter((id) => id !== ''));
  const cves = ids.filter(isCveId);
  const first = cves[0];
  if (first === undefined) return [{ ...base, id: fallbackId, aliases: ids.filter((id) => id !== fallbackId) }];
  if (cves.length === 1 || cves.length * Math.max(1, base.affected.length) > maxSplitAffected) {
    return [{ ...base, id: first, aliases: ids.filter((id) => id !== first) }];
  }
  const others = ids.filter((id) => !isCveId(id));
  return cves.map((cve) => ({ ...base, id: cve, aliases: others }));
}

// -------------------------------------------------------------------------------------------------------------
// dates

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
};

function ymd(year: number, month: number, day: number): string | undefined {
  if (!(month >= 1 && month <= 12 && day >= 1 && day <= 31 && year >= 1970 && year <= 9999)) return undefined;
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * A date as `YYYY-MM-DD` (or the ISO timestamp given): accepts ISO dates and timestamps, `29 Mar 2023` and
 * `August 26th, 2005`; undefined for anything else.
 */
export function isoDate(value: unknown): string | undefined {
  const t = text(value);
  if (t === undefined || t.length > MAX_DATE_CHARS) return undefined;
  if (/^\d{4}-\d{2}-\d{2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(t)) return t;
  let m = /^(\d{1,2})\s+([A-Za-z]+)\.?\s+(\d{4})$/.exec(t);
  if (m) return ymd(Number(m[3]), MONTHS[(m[2] ?? '').slice(0, 3).toLowerCase()] ?? 0, Number(m[1]));
  m = /^([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$/.exec(t);
  if (m) return ymd(Number(m[3]), MONTHS[(m[1] ?? '').slice(0, 3).toLowerCase()] ?? 0, Number(m[2]));
  return undefined;
}
