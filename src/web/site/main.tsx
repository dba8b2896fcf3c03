/**
 * The results site: search, image pages, listings and the dashboard over `detonate serve`'s API. Routes live in the
 * URL's hash, so the pages are static files any server (or `detonate export`) can serve. Every string from an image
 * is rendered by Preact as text; nothing is parsed as HTML.
 */
import { render } from 'preact';
import { STYLES } from '../../report/html/styles.js';
import { DashboardPage } from './dashboard.js';
import { ImagePage } from './image.js';
import { FailedPage, IndicatorPage, MaliciousPage, SearchPage } from './lists.js';
import { useRoute } from './router.js';

const LINKS: ReadonlyArray<readonly [string, string]> = [['#/', 'Search'], ['#/malicious', 'Malicious images'], ['#/failed', 'Failed scans'], ['#/dashboard', 'Dashboard']];

function App() {
  const route = useRoute();
  const here = '#' + route.path;
  let page;
  if (route.path.startsWith('/image/')) page = <ImagePage digest={decodeURIComponent(route.path.slice('/image/'.length))} platform={route.query.get('platform') ?? 'linux/amd64'} />;
  else if (route.path.startsWith('/indicator/')) {
    const [kind = '', value = ''] = route.path.slice('/indicator/'.length).split('/').map(decodeURIComponent);
    page = <IndicatorPage kind={kind} value={value} route={route} />;
  } else if (route.path === '/malicious') page = <MaliciousPage route={route} />;
  else if (route.path === '/failed') page = <FailedPage route={route} />;
  else if (route.path === '/dashboard') page = <DashboardPage />;
  else page = <SearchPage route={route} />;
  return (
    <>
      <header class="top">
        <h1>Detonate results</h1>
        <nav class="site">{LINKS.map(([href, label]) => <a href={href} class={href === here ? 'here' : undefined}>{label}</a>)}</nav>
      </header>
      <main>{page}</main>
      <footer>Every name, path, argument and byte shown here comes from a scanned image and is shown as text.</footer>
    </>
  );
}

// the HTML report's stylesheet, adopted (no inline <style>: the page's CSP allows only its own files)
const sheet = new CSSStyleSheet();
sheet.replaceSync(STYLES);
document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
render(<App />, document.getElementById('app')!);
