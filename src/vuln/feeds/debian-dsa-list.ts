/**
 * The Debian security tracker's text lists (salsa.debian.org/security-tracker-team/security-tracker, `data/`):
 * `DSA/list`, `DLA/list`, `DTSA/list` (here `DSA-list` …), and `CVE/list`, which share one syntax:
 *
 *   [29 Mar 2023] DSA-5380-1 xorg-server - security update      an advisory: date, id, description
 *   	{CVE-2023-1393}                                          what it fixes (in CVE/list: the DSAs fixing it)
 *   	[bullseye] - xorg-server 2:1.20.11-1+deb11u6              fixed in that release at that version
 *   	[buster] - foo <not-affected> (reason)                    or a marker instead of a version
 *   	- foo 1.2-3 (bug #1234; low)                             no release: unstable (sid); urgency in brackets
 *   	NOTE: …
 *
 * An advisory becomes one record per CVE it names (id = the CVE, the DSA id an alias and the `sourceId`); one without
 * CVEs keeps its own id. vuln-list's JSON copy of these lists (`tracker/DSA/DSA-3714-1.json`, `tracker/CVE/….json`:
 * `{ Header: { Original }, Annotations: [{ Original }] }`) is read by the same parser (`debianVulnListImporter`).
 */
import type { AdvisoryRecord, AffectedPackage, FeedImporter } from '../model.js';
import { FeedInputError, baseName, errorMessage, formatBytes, isObject, isoDate, parseJson, readBoundedFile, readLines, recordsPerCve, text, type Notice } from './common.js';
import { debianEcosystem, debianMarkerStatus, debianUrgency } from './debian-releases.js';
import { MAX_DSA_REFERENCE_CHARS, resolveFeedLimits, type FeedLimits } from './limits.js';

const ADVISORY_HEADER = /^\[([^\]]{1,64})\]\s+((?:DSA|DLA|DTSA)-\d+(?:-\d+)?)\s*(.*)$/;
const CVE_HEADER = /^((?:CVE|TEMP)-[0-9A-Za-z-]{1,64})(?:\s+(.*))?$/;
const REFERENCES = /^\s+\{([^}]*)\}\s*$/;
const PACKAGE = /^\s+(?:\[([A-Za-z0-9-]{1,32})\]\s+)?-\s+(\S+)(?:\s+(<[^>\s]+>|\S+))?(?:\s+\((.*)\))?\s*$/;
const IGNORED_LINE = /^\s+(?:NOTE|TODO|NOT-FOR-US|RESERVED|REJECTED|HELD|STOP)\b/;
const URGENCIES = new Set(['unimportant', 'low', 'medium', 'high']);

interface Block {
  id: string;
  line: number;
  date?: string;
  description?: string;
  references: string[];
  packages: AffectedPackage[];
}

/** The record source of an advisory id: `debian-dsa`, `debian-dla`, `debian-dtsa`, `debian-cve-list`. */
function sourceOf(id: string): string {
  if (id.startsWith('DSA-')) return 'debian-dsa';
  if (id.startsWith('DLA-')) return 'debian-dla';
  if (id.startsWith('DTSA-')) return 'debian-dtsa';
  return 'debian-cve-list';
}

/**
 * Reads the lines of one list, in order; completed advisories come back from `line` (when the next one starts) and
 * from `end`. Lines it cannot read are reported and skipped.
 */
export class DebianListParser {
  private block: Block | null = null;
  private readonly unknownReleases = new Set<string>();

  constructor(
    private readonly notice: Notice,
    private readonly maxSplitAffected: number,
  ) {}

  line(raw: string, number: number): AdvisoryRecord[] {
    const line = raw.trimEnd();
    if (line === '') return [];
    if (!/^\s/.test(line)) {
      const done = this.end();
      const advisory = ADVISORY_HEADER.exec(line);
      const cve = advisory ? null : CVE_HEADER.exec(line);
      if (advisory) {
        const date = isoDate(advisory[1]);
        const description = text(advisory[3]);
        this.block = { id: advisory[2] ?? '', line: number, ...(date ? { date } : {}), ...(description ? { description } : {}), references: [], packages: [] };
      } else if (cve) {
        // CVE/list: `CVE-2021-3450 (description …)` or `[description]`
        const description = text(cve[2]?.replace(/^[([](.*)[)\]]$/, '$1'));
        this.block = { id: cve[1] ?? '', line: number, ...(description ? { description } : {}), references: [] , packages: [] };
      } else {
        this.notice(`line ${number}: not an advisory header: ${JSON.stringify(line.slice(0, 80))}; skipped`);
      }
      return done;
    }
    const block = this.block;
    if (!block) {
      this.notice(`line ${number}: indented line outside any advisory; skipped`);
      return [];
    }
    if (IGNORED_LINE.test(line)) return [];
    const refs = REFERENCES.exec(line);
    if (refs) {
      for (const id of (refs[1] ?? '').split(/\s+/)) if (/^[A-Z]+-[0-9A-Za-z-]+$/.test(id) && id.length <= MAX_DSA_REFERENCE_CHARS) block.references.push(id);
      return [];
    }
    const pkg = PACKAGE.exec(line);
    if (pkg) {
      const entry = this.packageEntry(pkg, number);
      if (entry) block.packages.push(entry);
      return [];
    }
    this.notice(`line ${number}: unrecognised line in ${block.id}: ${JSON.stringify(line.trim().slice(0, 80))}; skipped`);
    return [];
  }

  private packageEntry(m: RegExpExecArray, number: number): AffectedPackage | null {
    const release = m[1] ?? 'sid';
    const name = m[2] ?? '';
    const version = m[3];
    const ecosystem = debianEcosystem(release);
    if (!ecosystem) {
      if (!this.unknownReleases.has(release)) {
        this.unknownReleases.add(release);
        this.notice(`line ${number}: unknown Debian release "${release}"; its lines are skipped`);
      }
      return null;
    }
    let severity: string | undefined;
    for (const part of (m[4] ?? '').split(';')) {
      const word = debianUrgency(part);
      if (word && URGENCIES.has(word)) severity = word;
    }
    const base = { ecosystem, name, ...(severity ? { severity } : {}) };
    if (version === undefined) {
      this.notice(`line ${number}: ${name} has neither a fixed version nor a marker; skipped`);
      return null;
    }
    if (version.startsWith('<')) {
      const status = debianMarkerStatus(version.slice(1, -1));
      if (!status) {
        this.notice(`line ${number}: unknown marker ${version}; skipped`);
        return null;
      }
      return { ...base, status, ranges: [] };
    }
    return { ...base, status: 'affected', ranges: [{ introduced: '0', fixed: version }] };
  }

  end(): AdvisoryRecord[] {
    const block = this.block;
    this.block = null;
    if (!block) return [];
    const source = sourceOf(block.id);
    // CVE/list names every CVE, most of them NOT-FOR-US or RESERVED: only those naming a Debian package are kept.
    // An advisory (DSA…) is kept even without packages (end-of-life notices, key changes): it is part of the list.
    if (source === 'debian-cve-list' && block.packages.length === 0) return [];
    return recordsPerCve(
      {
        source,
        sourceId: block.id,
        ...(block.description ? { summary: block.description } : {}),
        ...(block.date ? { published: block.date } : {}),
        affected: block.packages,
      },
      [block.id, ...block.references],
      block.id,
      this.maxSplitAffected,
    );
  }
}

const LIST_NAMES = new Set(['dsa-list', 'dla-list', 'dtsa-list', 'list']);

export function createDebianDsaListImporter(overrides: Partial<FeedLimits> = {}): FeedImporter {
  const limits = resolveFeedLimits(overrides);
  return {
    name: 'debian-dsa-list',
    detect(path: string, head: Buffer): boolean {
      if (/\.(?:json|ya?ml|zip|gz|txt|md)$/i.test(path)) return false;
      const start = head.toString('utf8');
      const firstLine = start.slice(0, Math.max(0, start.indexOf('\n')));
      if (ADVISORY_HEADER.test(firstLine)) return true;
      // CVE/list: only under its own name, since a CVE id at the start of a line is common
      return LIST_NAMES.has(baseName(path).toLowerCase()) && /^(?:CVE|TEMP)-\S+/.test(firstLine) && /\n\s+\S/.test(start);
    },
    async *read(path: string, notice: Notice): AsyncGenerator<AdvisoryRecord> {
      const parser = new DebianListParser(notice, limits.maxSplitAffected);
      try {
        for await (const line of readLines(path, limits.maxRecordBytes)) {
          if ('tooLong' in line) {
            notice(`line ${line.number}: ${formatBytes(line.tooLong)} long; skipped`);
            continue;
          }
          yield* parser.line(line.text, line.number);
        }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === undefined) throw err;
        notice(`${errorMessage(err)}; the rest of the file is skipped`);
      }
      yield* parser.end();
    },
  };
}

/** vuln-list's JSON copy of one tracker list entry: the same lines, as `Original` fields. */
export function createDebianVulnListImporter(overrides: Partial<FeedLimits> = {}): FeedImporter {
  const limits = resolveFeedLimits(overrides);
  return {
    name: 'debian-vuln-list',
    detect(path: string, head: Buffer): boolean {
      return path.toLowerCase().endsWith('.json') && /^\s*\{\s*"Header"\s*:\s*\{/.test(head.toString('utf8'));
    },
    async *read(path: string, notice: Notice): AsyncGenerator<AdvisoryRecord> {
      let doc: unknown;
      try {
        doc = parseJson((await readBoundedFile(path, limits.maxRecordBytes)).toString('utf8'));
      } catch (err) {
        if (err instanceof FeedInputError || (err as NodeJS.ErrnoException).code !== undefined) {
          notice(`${errorMessage(err)}; file skipped`);
          return;
        }
        throw err;
      }
      const header = isObject(doc) && isObject(doc.Header) ? text(doc.Header.Original) : undefined;
      if (!isObject(doc) || !header) {
        notice('no Header.Original: not a vuln-list tracker entry; file skipped');
        return;
      }
      const parser = new DebianListParser(notice, limits.maxSplitAffected);
      parser.line(header, 1);
      const annotations = Array.isArray(doc.Annotations) ? doc.Annotations : [];
      annotations.forEach((a, i) => {
        const original = isObject(a) ? text(a.Original) : undefined;
        if (original) parser.line(`\t${original}`, i + 2);
      });
      yield* parser.end();
    },
  };
}

export const debianDsaListImporter: FeedImporter = createDebianDsaListImporter();
export const debianVulnListImporter: FeedImporter = createDebianVulnListImporter();
