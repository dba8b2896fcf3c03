/**
 * `--format html`: one self-contained file a person opens offline. The reports go in as JSON data, and a small
 * inline script draws the page from it with createElement / textContent only, so no string from the image is ever
 * parsed as markup. A Content-Security-Policy allows that one script and one stylesheet by hash and nothing else
 * (no network, no other script, no inline handlers): even an escaping bug could not run injected script.
 */
import { createHash } from 'node:crypto';
import { CLIENT_SCRIPT } from './html/client.js';
import { STYLES } from './html/styles.js';
import { orderReport } from './json.js';
import type { AggregateReport, Report } from '../model/index.js';

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * JSON safe inside a `<script type="application/json">` element: `<` `>` `&` escaped so no `</script>` or `<!--`
 * can end or change the element, and U+2028/2029 escaped so the text stays valid in any JavaScript context.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function checkInline(name: string, text: string, closing: RegExp): void {
  // The inline code is ours, but a stray closing tag in it would break the page: fail loudly in tests, not for users.
  if (closing.test(text) || /<!--/.test(text)) throw new Error(`the HTML report's inline ${name} contains a sequence that ends its element early`);
}

export function renderHtml(reports: readonly Report[]): string {
  return page('Detonate report', reports.map(orderReport));
}

/** `report --aggregate --format html`: the state of the registry, drawn by the same script with its charts. */
export function renderAggregateHtml(figures: AggregateReport): string {
  return page('Detonate: the state of the registry', { aggregate: figures });
}

function page(title: string, content: unknown): string {
  checkInline('script', CLIENT_SCRIPT, /<\/script/i);
  checkInline('stylesheet', STYLES, /<\/style/i);
  const data = jsonForScript(content);
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(CLIENT_SCRIPT)}`,
    `style-src ${sha256(STYLES)}`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    // the script only ever uses DOM APIs that take text; any HTML-parsing sink (innerHTML, …) throws
    "require-trusted-types-for 'script'",
    "trusted-types 'none'",
  ].join('; ');
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${csp}">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="generator" content="detonate">',
    `<title>${title}</title>`,
    `<style>${STYLES}</style>`,
    '</head>',
    '<body>',
    '<noscript><p>This report is drawn by a small script in this file; allow JavaScript to read it. Its data is in the JSON data element at the end of the file.</p></noscript>',
    '<div id="app"></div>',
    `<script type="application/json" id="detonate-data">${data}</script>`,
    `<script>${CLIENT_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
