/**
 * An image's page: its current report drawn by the HTML report's own renderer (src/report/html/client/report.ts), so
 * the site and the report show an image the same way, plus what only the store knows: every tag that names the
 * image, the advisory DB builds its result was checked against, and the other images built on its malicious layers.
 */
import { useEffect, useRef } from 'preact/hooks';
import type { Report } from '../../model/index.js';
import { renderReport } from '../../report/html/client/report.js';
import { visible, type Rec } from '../../report/html/client/text.js';
import { useApi } from './api.js';
import { imageHref } from './router.js';

/** Rows of the tags table shown at once; the rest are in the JSON. */
const SHOWN_TAGS = 200;

interface ImagePageData {
  report: Report;
  references: Array<{ reference: string; pulls: number | null; firstSeen: string; lastSeen: string }>;
  checkedAgainst: string[];
  sharingMaliciousLayers: Array<{ digest: string; platform: string; references: string[]; layers: string[] }>;
}

/** The report's DOM, built once per report. Its table of contents links to `#r0-…` ids: scrolled to here, since the URL's hash is the route. */
function ReportView({ report }: { report: Report }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el) return;
    el.replaceChildren(renderReport(report as unknown as Rec, 0));
    const jump = (event: MouseEvent) => {
      const link = event.target instanceof Element ? event.target.closest('a[href^="#r0"]') : null;
      if (!link) return;
      event.preventDefault();
      document.getElementById(link.getAttribute('href')!.slice(1))?.scrollIntoView();
    };
    el.addEventListener('click', jump);
    return () => el.removeEventListener('click', jump);
  }, [report]);
  return <div ref={host} data-report="" />;
}

export function ImagePage({ digest, platform }: { digest: string; platform: string }) {
  const path = `api/images/${encodeURIComponent(digest)}?platform=${encodeURIComponent(platform)}`;
  const { data, error } = useApi<ImagePageData>(path);
  if (!data) return error ? <p class="error">{error}</p> : <p class="muted">Loading…</p>;
  return (
    <article class="image-page" data-digest={digest}>
      <p class="muted mono">{digest} ({platform}) · <a href={path}>the whole report (JSON)</a></p>
      <ReportView report={data.report} />
      <section class="card" data-section="tags">
        <h3>Tags naming this image ({data.references.length})</h3>
        <div class="scroll">
          <table class="data" data-table="tags">
            <thead><tr><th>reference</th><th class="num">pulls</th><th>first seen</th><th>last seen</th></tr></thead>
            <tbody>{data.references.slice(0, SHOWN_TAGS).map((r) => (
              <tr><td class="mono">{visible(r.reference)}</td><td class="num">{r.pulls === null ? 'unknown' : r.pulls.toLocaleString('en-US')}</td><td>{r.firstSeen.slice(0, 10)}</td><td>{r.lastSeen.slice(0, 10)}</td></tr>
            ))}</tbody>
          </table>
        </div>
        {data.references.length > SHOWN_TAGS ? <p class="muted">{data.references.length - SHOWN_TAGS} more in the JSON.</p> : null}
        {data.checkedAgainst.length ? <p class="muted">Checked unchanged against the advisory DB builds {data.checkedAgainst.join(', ')}.</p> : null}
      </section>
      <section class="card" data-section="sharing">
        <h3>Other images built on its malicious layers ({data.sharingMaliciousLayers.length})</h3>
        {data.sharingMaliciousLayers.length === 0 ? <p class="empty">None.</p> : (
          <ul class="hits">{data.sharingMaliciousLayers.map((o) => <li><a href={imageHref(o)}>{visible(o.references[0] ?? o.digest)}</a> <span class="muted mono">{o.layers.join(', ')}</span></li>)}</ul>
        )}
      </section>
    </article>
  );
}
