/**
 * Values from the report as text. Every value comes from JSON a hostile image may have shaped, so nothing here
 * trusts a type: the helpers take `unknown` and fall back to empty text.
 */

/** A JSON object of the report, read field by field. */
export type Rec = Record<string, unknown>;

// Control, bidi and invisible characters are shown as escapes so that a name cannot hide or reorder what is
// displayed around it. Matching control characters is the point of these two:
// eslint-disable-next-line no-control-regex
const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
// eslint-disable-next-line no-control-regex
const HIDDEN_LINE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

function escapeChar(c: string): string {
  if (c === '\n') return '\\n';
  if (c === '\t') return '\\t';
  if (c === '\r') return '\\r';
  const code = c.charCodeAt(0);
  return code < 0x100 ? '\\x' + code.toString(16).padStart(2, '0') : '\\u' + code.toString(16).padStart(4, '0');
}

export function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
/** One line of text, every hidden character (line breaks too) as an escape. */
export const visible = (v: unknown): string => str(v).replace(HIDDEN_LINE, escapeChar);
/** Text that keeps its line breaks and tabs. */
export const visibleMultiline = (v: unknown): string => str(v).replace(HIDDEN, escapeChar);

export const isObj = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The object, or an empty one for anything else. */
export const obj = (v: unknown): Rec => (isObj(v) ? v : {});
export const arr = (v: unknown): readonly unknown[] => (Array.isArray(v) ? v : []);
export const objs = (v: unknown): Rec[] => arr(v).filter(isObj);
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export function bytes(v: unknown): string {
  let n = num(v);
  if (n === null) return '';
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
}
export function ms(v: unknown): string {
  const n = num(v);
  if (n === null) return '';
  return n < 1000 ? Math.round(n) + ' ms' : (n / 1000).toFixed(n < 10000 ? 2 : 1) + ' s';
}
export function octal(v: unknown): string {
  const n = num(v);
  return n === null ? '' : '0' + (n & 4095).toString(8);
}
/** A path of the image, with the leading slash the report leaves out. */
export function slash(p: unknown): string {
  const s = str(p);
  return s === '' || s.charAt(0) === '/' ? s : '/' + s;
}

/** The value if it is one of `list` (a severity order), else `unknown`. */
export const sevOf = (v: unknown, list: readonly string[]): string => (typeof v === 'string' && list.includes(v) ? v : 'unknown');
/** Position in `order`, most severe first; anything else after all of them. */
export function sevRank(v: string, order: readonly string[]): number {
  const i = order.indexOf(v);
  return i < 0 ? order.length : i;
}
