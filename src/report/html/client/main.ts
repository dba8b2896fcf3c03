/**
 * The HTML report's script (bundled into one IIFE that html.ts inlines, see ../client.ts): reads the reports from
 * the page's JSON data element and draws the page. Every string in a report may come from a hostile image; dom.ts
 * shows them as text only.
 */
import { renderAggregatePage } from './aggregate.js';
import { empty, h } from './dom.js';
import { isMalicious, renderReport } from './report.js';
import { isObj, obj, str, visible } from './text.js';

function readData(): unknown {
  const data = document.getElementById('detonate-data');
  try {
    return JSON.parse(data?.textContent ?? '[]');
  } catch {
    return [];
  }
}

function main(): void {
  const data = readData();
  const root = document.getElementById('app');
  if (!root) return;
  // `report --aggregate --format html` writes `{ aggregate: figures }`; a scan's reports are a list
  if (isObj(data) && isObj(data.aggregate)) {
    renderAggregatePage(root, data.aggregate);
    document.documentElement.setAttribute('data-ready', 'true');
    return;
  }
  const reports = (Array.isArray(data) ? data : [data]).filter(isObj);
  const tool = obj(reports[0]?.tool);
  const malicious = reports.filter(isMalicious).length;
  root.appendChild(h('header', { class: 'top' }, h('h1', null, 'Detonate report'),
    h('span', { class: 'meta' }, reports.length + (reports.length === 1 ? ' image' : ' images') + (reports.length > 1 ? ', ' + malicious + ' malicious' : '')),
    tool.version ? h('span', { class: 'meta' }, 'detonate ' + str(tool.version)) : null));
  if (reports.length > 1) {
    root.appendChild(h('nav', { class: 'images' }, reports.map((r, i) => {
      const img = obj(r.image);
      return h('a', { href: '#r' + i }, (isMalicious(r) ? '\u26a0 ' : '') + str(img.reference || 'image ' + (i + 1)));
    })));
  }
  const m = h('main');
  if (reports.length === 0) m.appendChild(empty('No images in this report.'));
  reports.forEach((r, i) => m.appendChild(renderReport(r, i)));
  root.appendChild(m);
  root.appendChild(h('footer', null, 'Every name, path, argument and byte shown here comes from the scanned image and is shown as text. ' +
    'Invisible and control characters are shown as escapes (\\x1b, \\u202e).'));
  const only = reports.length === 1 ? reports[0] : undefined;
  if (only && isObj(only.image)) document.title = 'Detonate: ' + visible(only.image.reference);
  document.documentElement.setAttribute('data-ready', 'true');
}

main();
