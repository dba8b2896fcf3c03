/**
 * OSV advisories (https://ossf.github.io/osv-schema/) in every shape they are published in:
 * - one record per `.json` file (an OSV export directory, golang/vulndb `data/osv/`), or a JSON array of records;
 * - JSON Lines, one record per line (`.jsonl` / `.ndjson`), streamed line by line;
 * - the OSV project's per-ecosystem `all.zip` dumps (`https://osv-vulnerabilities.storage.googleapis.com/<Ecosystem>/all.zip`),
 *   read entry by entry;
 * - YAML records (pypa/advisory-database `vulns/**.yaml`).
 */
import type { AdvisoryRecord, FeedImporter } from '../model.js';
import { looksLikeZip } from '../../util/zip.js';
import { FeedInputError, errorMessage, formatBytes, parseJson, parseYaml, readBoundedFile, readHead, readLines, type Notice } from './common.js';
import { resolveFeedLimits, type FeedLimits } from './limits.js';
import { osvToRecords, type OsvConversion } from './osv-record.js';
import { readZipFileEntries } from './zip-file.js';

const OSV_ID = /"id"\s*:\s*"[A-Za-z][A-Za-z0-9]*-[^"]{1,200}"/;
const OSV_FIELD = /"(?:modified|affected|aliases|schema_version|upstream|withdrawn|published|details)"\s*:/;

/** The first bytes of a file look like an OSV JSON record (or a JSON array / line of them). */
export function looksLikeOsvJson(head: string): boolean {
  const start = head.replace(/^\uFEFF/, '').trimStart();
  return (start.startsWith('{') || start.startsWith('[')) && OSV_ID.test(head) && OSV_FIELD.test(head);
}

function looksLikeOsvYaml(head: string): boolean {
  return /^id:[ \t]*\S+/m.test(head) && /^(?:affected|modified|aliases|schema_version|upstream):/m.test(head);
}

type Shape = 'zip' | 'lines' | 'yaml' | 'json';

function shapeOf(path: string, head: Buffer): Shape {
  const lower = path.toLowerCase();
  if (looksLikeZip(head) || lower.endsWith('.zip')) return 'zip';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return 'lines';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return 'yaml';
  return 'json';
}

/** Records of a JSON value holding one OSV record or an array of them. */
function fromJsonValue(value: unknown, where: string, how: OsvConversion, notice: Notice): AdvisoryRecord[] {
  if (!Array.isArray(value)) return osvToRecords(value, where, how, notice);
  return value.flatMap((item, i) => osvToRecords(item, `${where}[${i}]`, how, notice));
}

export function createOsvImporter(overrides: Partial<FeedLimits> = {}, source = 'osv', name = 'osv'): FeedImporter {
  const limits = resolveFeedLimits(overrides);
  const how: OsvConversion = { source, maxSplitAffected: limits.maxSplitAffected };

  async function* readLinesOf(path: string, notice: Notice): AsyncGenerator<AdvisoryRecord> {
    for await (const line of readLines(path, limits.maxRecordBytes)) {
      if ('tooLong' in line) {
        notice(`line ${line.number}: ${formatBytes(line.tooLong)}, over the ${formatBytes(limits.maxRecordBytes)} record limit; skipped`);
        continue;
      }
      if (line.text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line.text);
      } catch (err) {
        notice(`line ${line.number}: not valid JSON (${errorMessage(err).slice(0, 200)}); skipped`);
        continue;
      }
      yield* osvToRecords(value, `line ${line.number}`, how, notice);
    }
  }

  async function* readZip(path: string, notice: Notice): AsyncGenerator<AdvisoryRecord> {
    const zipLimits = {
      maxEntries: limits.maxZipEntries,
      maxDirectoryBytes: limits.maxZipDirectoryBytes,
      maxEntryBytes: limits.maxRecordBytes,
      maxTotalBytes: limits.maxZipExpandedBytes,
      maxRatio: limits.maxZipRatio,
    };
    const wanted = (entry: string) => entry.toLowerCase().endsWith('.json');
    for await (const entry of readZipFileEntries(path, zipLimits, wanted, notice)) {
      const where = entry.name.slice(0, 200);
      let value: unknown;
      try {
        value = JSON.parse(entry.data.toString('utf8'));
      } catch (err) {
        notice(`${where}: not valid JSON (${errorMessage(err).slice(0, 200)}); skipped`);
        continue;
      }
      yield* fromJsonValue(value, where, how, notice);
    }
  }

  return {
    name,
    detect(path: string, head: Buffer): boolean {
      const lower = path.toLowerCase();
      if (looksLikeZip(head)) return lower.endsWith('.zip');
      const start = head.toString('utf8');
      if (lower.endsWith('.yaml') || lower.endsWith('.yml')) return looksLikeOsvYaml(start);
      if (lower.endsWith('.json') || lower.endsWith('.jsonl') || lower.endsWith('.ndjson')) return looksLikeOsvJson(start);
      return false;
    },
    async *read(path: string, notice: Notice): AsyncGenerator<AdvisoryRecord> {
      let shape: Shape;
      try {
        shape = shapeOf(path, await readHead(path, 4));
        if (shape === 'zip') {
          yield* readZip(path, notice);
          return;
        }
        if (shape === 'lines') {
          yield* readLinesOf(path, notice);
          return;
        }
        if (shape === 'yaml') {
          const value = parseYaml((await readBoundedFile(path, Math.min(limits.maxYamlBytes, limits.maxRecordBytes))).toString('utf8'), limits.maxYamlAliases);
          yield* fromJsonValue(value, 'record', how, notice);
          return;
        }
        const body = (await readBoundedFile(path, limits.maxWholeFileBytes)).toString('utf8');
        let value: unknown;
        try {
          value = parseJson(body);
        } catch (err) {
          // JSON Lines saved as .json
          const newline = body.indexOf('\n');
          const firstLine = (newline < 0 ? body : body.slice(0, newline)).trim();
          if (body.includes('\n{') && firstLine.startsWith('{') && firstLine.endsWith('}')) {
            yield* readLinesOf(path, notice);
            return;
          }
          throw err;
        }
        yield* fromJsonValue(value, 'record', how, notice);
      } catch (err) {
        if (err instanceof FeedInputError || (err as NodeJS.ErrnoException).code !== undefined) {
          notice(`${errorMessage(err)}; file skipped`);
          return;
        }
        throw err;
      }
    },
  };
}

/** OSV JSON, JSON Lines, YAML and `all.zip` dumps; records have `source: "osv"`. */
export const osvImporter: FeedImporter = createOsvImporter();
