/** Search and the listings: pages of images (or failed scans) from the API, each image linking to its page. */
import { visible } from '../../report/html/client/text.js';
import { useState } from 'preact/hooks';
import { useApi, type Hit, type Page } from './api.js';
import { imageHref, type Route } from './router.js';

function worst(v: Record<string, number>): string {
  for (const s of ['critical', 'high', 'moderate', 'low']) if ((v[s] ?? 0) > 0) return `${v[s]} ${s}`;
  return 'no known vulnerability';
}

function Hits({ page, hrefFor }: { page: Page<Hit>; hrefFor: (n: number) => string }) {
  if (page.items.length === 0) return <p class="empty">No images.</p>;
  return (
    <>
      <ul class="hits" data-list="images">
        {page.items.map((hit) => (
          <li data-digest={hit.digest}>
            <a href={imageHref(hit)}>{visible(hit.references[0] ?? hit.digest)}</a>
            {hit.references.length > 1 ? <span class="muted"> and {hit.references.length - 1} more tags</span> : null}{' '}
            <span class={hit.malicious ? 'chip sev-critical' : 'chip'}>{hit.malicious ? `malicious: ${hit.categories.join(', ')}` : 'not malicious'}</span>{' '}
            <span class="muted">{worst(hit.vulnerabilities)}; {hit.pulls === null ? 'pulls unknown' : `${hit.pulls.toLocaleString('en-US')} pulls`}; scanned {hit.scannedAt.slice(0, 10)}{hit.detonated ? ', detonated' : ''}</span>
          </li>
        ))}
      </ul>
      <div class="pager">
        {page.page > 1 ? <a href={hrefFor(page.page - 1)}>previous</a> : null}
        <span class="muted">page {page.page}</span>
        {page.more ? <a href={hrefFor(page.page + 1)}>next</a> : null}
      </div>
    </>
  );
}

function Loading({ error }: { error: string | null }) {
  return error ? <p class="error">{error}</p> : <p class="muted">Loading…</p>;
}

const KINDS = ['', 'repository', 'digest', 'package', 'vulnerability', 'indicator'];

export function SearchPage({ route }: { route: Route }) {
  const q = route.query.get('q') ?? '';
  const kind = route.query.get('kind') ?? '';
  const page = Number(route.query.get('page') ?? '1') || 1;
  const [text, setText] = useState(q);
  const [chosen, setChosen] = useState(kind);
  const params = (p: number) => new URLSearchParams({ q, ...(kind ? { kind } : {}), page: String(p) }).toString();
  const result = useApi<Page<Hit> & { kind: string }>(q ? `api/search?${params(page)}` : null);
  return (
    <section class="card">
      <h3>Search</h3>
      <form class="search" onSubmit={(e) => {
        e.preventDefault();
        location.hash = `#/?${new URLSearchParams({ q: text.trim(), ...(chosen ? { kind: chosen } : {}) }).toString()}`;
      }}>
        <input name="q" value={text} maxLength={256} placeholder="repository or tag, digest, package[@version], CVE or alias, pool, wallet, domain, IP, SHA-256" onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        <select name="kind" value={chosen} onChange={(e) => setChosen((e.target as HTMLSelectElement).value)}>
          {KINDS.map((k) => <option value={k}>{k || 'any kind'}</option>)}
        </select>
        <button type="submit">Search</button>
      </form>
      {!q ? <p class="muted">Search every image this store judged.</p> : result.data ? (
        <div data-results-for={q}>
          <p class="muted">as a {result.data.kind}</p>
          <Hits page={result.data} hrefFor={(p) => `#/?${params(p)}`} />
        </div>
      ) : <Loading error={result.error} />}
    </section>
  );
}

const CATEGORIES = ['', 'cryptominer', 'backdoor', 'windows-malware', 'malware', 'malicious-package', 'hacking-tool'];

export function MaliciousPage({ route }: { route: Route }) {
  const category = route.query.get('category') ?? '';
  const page = Number(route.query.get('page') ?? '1') || 1;
  const params = (p: number) => new URLSearchParams({ ...(category ? { category } : {}), page: String(p) }).toString();
  const result = useApi<Page<Hit>>(`api/malicious?${params(page)}`);
  return (
    <section class="card">
      <h3>Malicious images</h3>
      <nav class="toc">{CATEGORIES.map((c) => <a href={`#/malicious${c ? `?category=${c}` : ''}`} class={c === category ? 'here' : undefined}>{c || 'all'}</a>)}</nav>
      {result.data ? <Hits page={result.data} hrefFor={(p) => `#/malicious?${params(p)}`} /> : <Loading error={result.error} />}
    </section>
  );
}

const INDICATOR_NAMES: Readonly<Record<string, string>> = { pool: 'mining pool', wallet: 'wallet', domain: 'domain', ip: 'IP address', sha256: 'file SHA-256' };

/** An indicator's page: every image whose current result names it (`#/indicator/pool/pool.example:3333`). */
export function IndicatorPage({ kind, value, route }: { kind: string; value: string; route: Route }) {
  const page = Number(route.query.get('page') ?? '1') || 1;
  const base = `#/indicator/${encodeURIComponent(kind)}/${encodeURIComponent(value)}`;
  const result = useApi<Page<Hit>>(`api/indicators/${encodeURIComponent(kind)}/${encodeURIComponent(value)}?page=${page}`);
  return (
    <section class="card" data-indicator={kind}>
      <h3>Images that used the {INDICATOR_NAMES[kind] ?? kind} <code>{visible(value)}</code></h3>
      {result.data ? <Hits page={result.data} hrefFor={(p) => `${base}?page=${p}`} /> : <Loading error={result.error} />}
    </section>
  );
}

/** Where an indicator's page is. */
export const indicatorHref = (kind: string, value: string): string => `#/indicator/${encodeURIComponent(kind)}/${encodeURIComponent(value)}`;

interface Failed {
  reference: string;
  status: string;
  stage: string | null;
  reason: string;
  at: string;
}

export function FailedPage({ route }: { route: Route }) {
  const page = Number(route.query.get('page') ?? '1') || 1;
  const result = useApi<Page<Failed>>(`api/failed?page=${page}`);
  if (!result.data) return <Loading error={result.error} />;
  const data = result.data;
  return (
    <section class="card">
      <h3>Scans that failed or were skipped</h3>
      {data.items.length === 0 ? <p class="empty">None.</p> : (
        <div class="scroll">
          <table class="data" data-table="failed">
            <thead><tr><th>reference</th><th>status</th><th>stage</th><th>why</th><th>when</th></tr></thead>
            <tbody>{data.items.map((f) => <tr><td class="mono">{visible(f.reference)}</td><td>{f.status}</td><td>{f.stage ?? ''}</td><td>{visible(f.reason)}</td><td>{f.at.slice(0, 19)}</td></tr>)}</tbody>
          </table>
        </div>
      )}
      <div class="pager">
        {data.page > 1 ? <a href={`#/failed?page=${data.page - 1}`}>previous</a> : null}
        {data.more ? <a href={`#/failed?page=${data.page + 1}`}>next</a> : null}
      </div>
    </section>
  );
}
