/** An image's page: its current report (verdict, findings, vulnerabilities, what its detonation did), its tags, and the images built on its malicious layers. */
import type { Finding, Report, RunRecord, Vulnerability } from '../../model/index.js';
import { useApi } from './api.js';
import { imageHref } from './router.js';

/** Rows of a long list shown at once; the whole report is one link away. */
const SHOWN_ROWS = 200;

interface ImagePageData {
  report: Report;
  references: Array<{ reference: string; pulls: number | null; firstSeen: string; lastSeen: string }>;
  checkedAgainst: string[];
  sharingMaliciousLayers: Array<{ digest: string; platform: string; references: string[]; layers: string[] }>;
}

const isRun = (b: Report['behavior']): b is RunRecord => b !== null && typeof b === 'object' && 'processes' in b;

function Table<T>({ name, head, rows, cells }: { name: string; head: string[]; rows: readonly T[]; cells: (row: T) => unknown[] }) {
  if (rows.length === 0) return <p class="empty">None.</p>;
  return (
    <div class="scroll">
      <table data-table={name}>
        <thead><tr>{head.map((h) => <th>{h}</th>)}</tr></thead>
        <tbody>{rows.slice(0, SHOWN_ROWS).map((r) => <tr>{cells(r).map((c) => <td>{String(c ?? '')}</td>)}</tr>)}</tbody>
      </table>
      {rows.length > SHOWN_ROWS ? <p class="muted">{rows.length - SHOWN_ROWS} more in the report's JSON.</p> : null}
    </div>
  );
}

export function ImagePage({ digest, platform }: { digest: string; platform: string }) {
  const path = `api/images/${encodeURIComponent(digest)}?platform=${encodeURIComponent(platform)}`;
  const { data, error } = useApi<ImagePageData>(path);
  if (!data) return error ? <p class="error">{error}</p> : <p class="muted">Loading…</p>;
  const { report } = data;
  const run = isRun(report.behavior) ? report.behavior : null;
  return (
    <section class="image">
      <h2>{data.references[0]?.reference ?? digest}</h2>
      <p class="muted mono">{digest} ({platform}) · <a href={path}>the whole report (JSON)</a></p>
      <section class={report.verdict.malicious ? 'card verdict malicious' : 'card verdict'} data-section="verdict">
        <div class="verdict-label">{report.verdict.malicious ? 'MALICIOUS' : 'NOT MALICIOUS'}</div>
        <p class="summary">{report.verdict.summary}</p>
        {report.verdict.categories.length ? <p>Categories: {report.verdict.categories.join(', ')}</p> : null}
      </section>
      <section class="card" data-section="tags">
        <h3>Tags ({data.references.length})</h3>
        <Table name="tags" head={['reference', 'pulls', 'first seen', 'last seen']} rows={data.references}
          cells={(r) => [r.reference, r.pulls === null ? 'unknown' : r.pulls.toLocaleString('en-US'), r.firstSeen.slice(0, 10), r.lastSeen.slice(0, 10)]} />
        {data.checkedAgainst.length ? <p class="muted">Checked unchanged against the advisory DB builds {data.checkedAgainst.join(', ')}.</p> : null}
      </section>
      <section class="card" data-section="findings">
        <h3>Findings ({report.findings.length})</h3>
        <Table name="findings" head={['category', 'severity', 'title', 'where']} rows={report.findings} cells={(f: Finding) => [f.category, f.severity, f.title, f.path ?? '']} />
      </section>
      <section class="card" data-section="vulnerabilities">
        <h3>Vulnerabilities ({report.vulnerabilities.length})</h3>
        <Table name="vulnerabilities" head={['id', 'package', 'installed', 'fixed in', 'severity']} rows={report.vulnerabilities}
          cells={(v: Vulnerability) => [v.id, v.package, v.installedVersion, v.fixedVersion ?? 'no fix', v.severity]} />
      </section>
      <section class="card" data-section="detonation">
        <h3>Detonation</h3>
        {!run ? <p class="empty">Not run.</p> : (
          <>
            <h4>Processes ({run.processes.length})</h4>
            <Table name="processes" head={['pid', 'parent', 'program', 'arguments']} rows={run.processes} cells={(p) => [p.pid, p.ppid, p.exe ?? '', p.argv.join(' ')]} />
            <h4>DNS ({run.dns.length})</h4>
            <Table name="dns" head={['name', 'type']} rows={run.dns} cells={(d) => [d.name, d.type]} />
            <h4>Connections ({run.connections.length})</h4>
            <Table name="connections" head={['to', 'port', 'host', 'protocol']} rows={run.connections} cells={(c) => [c.dst, c.port, c.host ?? '', c.protocol]} />
          </>
        )}
      </section>
      <section class="card" data-section="sharing">
        <h3>Images built on its malicious layers ({data.sharingMaliciousLayers.length})</h3>
        {data.sharingMaliciousLayers.length === 0 ? <p class="empty">None.</p> : (
          <ul class="hits">{data.sharingMaliciousLayers.map((o) => <li><a href={imageHref(o)}>{o.references[0] ?? o.digest}</a> <span class="muted mono">{o.layers.join(', ')}</span></li>)}</ul>
        )}
      </section>
    </section>
  );
}
