/**
 * The normalised rows of a report, for search: packages, vulnerabilities, findings and indicators. Pure functions
 * of the report; the report itself is stored whole and exact beside them.
 *
 * Every string comes from a hostile image. PostgreSQL's text holds neither NUL nor a lone surrogate, and an index
 * entry is at most about 2.7 kB: strings are cleaned (U+FFFD) and cut to a bound here, so that no image can make
 * its own scan impossible to record.
 */
import { MALICIOUS_CATEGORIES, type Finding, type Report, type RunFailure, type RunRecord } from '../model/index.js';
import { INDEXED_TEXT_BYTES, SHOWN_TEXT_BYTES } from './limits.js';

const UNREPRESENTABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** `text` as PostgreSQL's text can hold it, at most `maxBytes` UTF-8 bytes (cut on a character boundary). */
export function storableText(text: string, maxBytes: number = INDEXED_TEXT_BYTES): string {
  const clean = text.replace(UNREPRESENTABLE, '\uFFFD');
  if (Buffer.byteLength(clean) <= maxBytes) return clean;
  let bytes = 0;
  let out = '';
  for (const ch of clean) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > maxBytes - 3) break; // room for the ellipsis
    bytes += size;
    out += ch;
  }
  return `${out}…`;
}

export interface PackageRow {
  name: string;
  version: string;
  type: string;
  purl: string;
  layer: number;
}

export interface VulnerabilityRow {
  id: string;
  aliases: string[];
  package: string;
  installed_version: string;
  fixed_version: string | null;
  severity: string;
  purl: string;
}

export interface FindingRow {
  category: string;
  severity: string;
  source: string;
  rule: string;
  title: string;
  path: string | null;
  sha256: string | null;
}

export type IndicatorKind = 'domain' | 'ip' | 'pool' | 'wallet' | 'sha256';

export interface IndicatorRow {
  kind: IndicatorKind;
  value: string;
}

/** One layer of the image; `malicious`: it holds strong evidence (high or critical) of a malicious category. */
export interface LayerRow {
  layer: number;
  diff_id: string;
  malicious: boolean;
}

export interface ReportRows {
  packages: PackageRow[];
  vulnerabilities: VulnerabilityRow[];
  findings: FindingRow[];
  indicators: IndicatorRow[];
  layers: LayerRow[];
}

const t = (text: string, maxBytes?: number) => storableText(text, maxBytes);
const optional = (text: string | undefined | null, maxBytes?: number) => (text === undefined || text === null ? null : t(text, maxBytes));

export function reportRows(report: Report): ReportRows {
  return {
    packages: report.packages.map((p) => ({ name: t(p.name), version: t(p.version), type: t(p.type), purl: t(p.purl, 2 * INDEXED_TEXT_BYTES), layer: p.layer })),
    vulnerabilities: report.vulnerabilities.map((v) => ({
      id: t(v.id),
      aliases: v.aliases.map((a) => t(a, 256)),
      package: t(v.package),
      installed_version: t(v.installedVersion),
      fixed_version: optional(v.fixedVersion),
      severity: t(v.severity),
      purl: t(v.purl, SHOWN_TEXT_BYTES),
    })),
    findings: report.findings.map((f) => ({
      category: t(f.category),
      severity: t(f.severity),
      source: t(f.source),
      rule: t(f.rule),
      title: t(f.title, SHOWN_TEXT_BYTES),
      path: optional(f.path, SHOWN_TEXT_BYTES),
      sha256: optional(f.sha256),
    })),
    indicators: indicatorsOf(report),
    layers: layersOf(report),
  };
}

function layersOf(report: Report): LayerRow[] {
  const malicious = new Set(
    report.findings
      .filter((f) => MALICIOUS_CATEGORIES.has(f.category) && (f.severity === 'high' || f.severity === 'critical') && typeof f.layer === 'number')
      .map((f) => f.layer),
  );
  return report.image.layers.map((l) => ({ layer: l.index, diff_id: t(l.diffId), malicious: malicious.has(l.index) }));
}

const isRun = (behavior: Report['behavior']): behavior is RunRecord => behavior !== null && !('error' in (behavior as RunRecord | RunFailure));

/** `host` without a scheme, a trailing dot or case; `stratum+tcp://Pool.Example:3333/x` → `pool.example:3333`. */
function hostPart(text: string): string {
  return dnsName(text.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/[/?#].*$/, ''));
}

/** A name the sample looked up, as the sinkhole presents it, without a trailing dot or case. Not a URL: `/`, `?` and `#` are bytes a label may hold. */
function dnsName(name: string): string {
  return name.replace(/\.$/, '').toLowerCase();
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * What the scan saw that can be looked up elsewhere: names the sample looked up or contacted (domain), addresses it
 * connected to directly (ip; the sinkhole's own address is not one), mining pools (host:port) and wallets from the
 * sandbox and from the files, and SHA-256 of flagged and dropped files.
 */
export function indicatorsOf(report: Report): IndicatorRow[] {
  const seen = new Map<string, IndicatorRow>();
  const add = (kind: IndicatorKind, raw: unknown, normalise: (text: string) => string = kind === 'domain' || kind === 'pool' ? hostPart : (text) => text.trim()) => {
    if (typeof raw !== 'string') return;
    const value = storableText(normalise(raw));
    if (!value) return;
    seen.set(`${kind}\u0000${value}`, { kind, value });
  };
  const run = isRun(report.behavior) ? report.behavior : null;
  if (run) {
    for (const q of run.dns) add('domain', q.name, dnsName);
    for (const c of run.connections) {
      if (c.host) {
        // the name it was resolved from, or the Host or SNI it sent: a name, not a URL (an HTTP Host header may carry a port)
        const name = dnsName(c.host).replace(/:\d+$/, '');
        add(IPV4.test(name) || name.includes(':') ? 'ip' : 'domain', name, dnsName);
      }
      if (c.dst && c.dst !== run.sinkAddress) add('ip', c.dst);
      if (c.protocol === 'stratum') {
        add('pool', `${c.host ?? c.dst}:${c.port}`, dnsName);
        add('wallet', (c.details as { wallet?: unknown } | undefined)?.wallet);
      }
    }
    for (const d of run.dropped ?? []) add('sha256', d.sha256);
  }
  for (const f of report.findings) addFindingIndicators(f, add);
  return [...seen.values()];
}

function addFindingIndicators(f: Finding, add: (kind: IndicatorKind, raw: unknown) => void): void {
  if (f.sha256) add('sha256', f.sha256);
  const e = f.evidence ?? {};
  if (typeof e.walletType === 'string') add('wallet', e.address);
  if (f.category !== 'cryptominer') return;
  if (Array.isArray(e.pools)) for (const p of e.pools) add('pool', p);
  if (typeof e.host === 'string') add('pool', typeof e.port === 'number' ? `${e.host}:${e.port}` : e.host);
}
