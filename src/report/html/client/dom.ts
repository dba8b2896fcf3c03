/**
 * Building the page: elements made with createElement and filled with text nodes only, so no string from a report
 * is ever parsed as markup (the page's CSP and Trusted Types would refuse any HTML-parsing sink anyway).
 */
import { arr, isObj, str, visible, visibleMultiline } from './text.js';

/**
 * Attributes by name. The names are always literals of this script; values from a report only ever go into plain
 * text attributes. `null`, `undefined` and `false` leave the attribute out, `true` sets it empty. Event handlers go
 * through addEventListener, never through an attribute.
 */
export type Attrs = Readonly<Record<string, string | number | boolean | null | undefined>> | null;

function setAttrs(el: Element, attrs: Attrs | undefined): void {
  if (!attrs) return;
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
}

/** Appends children: nodes as they are, arrays flattened, anything else as visible text; null, undefined and false are skipped. */
export function add(el: Node, child: unknown): void {
  if (child === undefined || child === null || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) add(el, c);
    return;
  }
  if (child instanceof Node) {
    el.appendChild(child);
    return;
  }
  el.appendChild(document.createTextNode(visible(child)));
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: unknown[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  add(el, children);
  return el;
}

const SVGNS = 'http://www.w3.org/2000/svg';
export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs?: Attrs, ...children: unknown[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVGNS, tag);
  setAttrs(el, attrs);
  add(el, children);
  return el;
}

export function pre(text: unknown, attrs?: Attrs): HTMLPreElement {
  const el = h('pre', attrs);
  el.textContent = visibleMultiline(text);
  return el;
}
/** Network bytes as the sinkhole wrote them (printable, with escapes): a line break after each escaped newline. */
export function bytesPre(text: unknown, attrs?: Attrs): HTMLPreElement {
  const el = h('pre', attrs);
  el.textContent = visibleMultiline(str(text).replace(/\\\\|\\n/g, (m) => (m === '\\n' ? '\\n\n' : m)));
  return el;
}
export const code = (text: unknown): HTMLElement => h('code', null, text);
export const sevBadge = (sev: string): HTMLElement => h('span', { class: 'sev sev-' + sev }, sev);
export const empty = (text: string): HTMLElement => h('p', { class: 'empty' }, text);

/** A definition list; pairs whose value is undefined, null or '' are left out. */
export function facts(pairs: readonly (readonly [string, unknown])[]): HTMLDListElement {
  const dl = h('dl', { class: 'facts' });
  for (const [label, value] of pairs) {
    if (value === undefined || value === null || value === '') continue;
    dl.appendChild(h('dt', null, label));
    dl.appendChild(h('dd', null, value));
  }
  return dl;
}

/** A value of free-form evidence: objects as nested facts, arrays as lists, strings as text. */
export function valueNode(v: unknown, depth: number): HTMLElement {
  if (depth > 6) return code(str(v));
  if (Array.isArray(v)) {
    if (v.length === 0) return h('span', { class: 'muted' }, '(none)');
    if (v.every((x) => !isObj(x) && !Array.isArray(x))) {
      return h('span', { class: 'chips' }, v.map((x) => h('span', { class: 'chip mono' }, str(x))));
    }
    return h('ol', null, v.map((x) => h('li', null, valueNode(x, depth + 1))));
  }
  if (isObj(v)) {
    const keys = Object.keys(v);
    if (keys.length === 0) return h('span', { class: 'muted' }, '{}');
    return facts(keys.map((k) => [k, valueNode(v[k], depth + 1)] as const));
  }
  if (typeof v === 'string' && (v.includes('\n') || v.length > 160)) return pre(v);
  return code(str(v));
}

/** A command line, argument by argument. */
export const argvNode = (argv: unknown): HTMLElement => h('span', { class: 'proc argv' }, arr(argv).map((a) => h('span', { class: 'arg mono' }, str(a))));

/** A section of one image's report; `data-section` names it without the image's prefix. */
export function card(id: string, title: string, count?: number): HTMLElement {
  const heading = h('h3', null, title, count === undefined ? null : ' (' + count + ')');
  return h('section', { class: 'card', id, 'data-section': id.replace(/^r\d+-/, '') }, heading);
}
