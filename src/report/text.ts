/**
 * Text for the terminal: making untrusted strings safe to print, measuring them in columns, cutting and wrapping.
 *
 * Everything in a report can come from the image (package names, layer commands, file paths), so an image could
 * carry escape sequences that rewrite the terminal, or bidirectional overrides that make text read differently from
 * what it is. `terminalSafe` shows such characters as visible escapes instead.
 */

/** Characters that are shown escaped: C0/C1 controls, DEL, bidi controls, zero-width characters and the BOM. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;
const LINE_BREAKS_AND_TABS = /[\t\n\v\f\r]+/g;

function escapeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One line of printable text: line breaks and tabs become a space, other control characters visible escapes. */
export function terminalSafe(text: string): string {
  return text.replace(LINE_BREAKS_AND_TABS, ' ').replace(UNSAFE, escapeChar);
}

const COMBINING = /\p{Mn}|\p{Me}/u;

function isWide(code: number): boolean {
  return (
    (code >= 0x1100 && code <= 0x115f) ||
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) ||
    (code >= 0xac00 && code <= 0xd7a3) ||
    (code >= 0xf900 && code <= 0xfaff) ||
    (code >= 0xfe30 && code <= 0xfe4f) ||
    (code >= 0xff00 && code <= 0xff60) ||
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1f64f) ||
    (code >= 0x1f900 && code <= 0x1f9ff) ||
    (code >= 0x20000 && code <= 0x3fffd)
  );
}

function charWidth(char: string): number {
  if (COMBINING.test(char)) return 0;
  return isWide(char.codePointAt(0) ?? 0) ? 2 : 1;
}

/** Columns `text` takes on a terminal (wide East Asian characters and emoji count 2, combining marks 0). */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char);
  return width;
}

/** `text` cut to at most `max` columns, with `…` marking the cut. */
export function truncate(text: string, max: number): string {
  if (max <= 0) return '';
  if (displayWidth(text) <= max) return text;
  let out = '';
  let width = 0;
  for (const char of text) {
    const w = charWidth(char);
    if (width + w > max - 1) break;
    out += char;
    width += w;
  }
  return `${out}…`;
}

/** Pads `text` with spaces to `width` columns (on the left for right-aligned text). */
export function pad(text: string, width: number, align: 'left' | 'right' = 'left'): string {
  const fill = ' '.repeat(Math.max(0, width - displayWidth(text)));
  return align === 'right' ? fill + text : text + fill;
}

/** Word-wraps `text` to lines of at most `width` columns; words longer than a line are cut across lines. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  let lineWidth = 0;
  const flush = (): void => {
    lines.push(line);
    line = '';
    lineWidth = 0;
  };
  for (const word of text.split(' ').filter((w) => w.length > 0)) {
    let rest = word;
    let restWidth = displayWidth(rest);
    if (lineWidth > 0 && lineWidth + 1 + restWidth > width) flush();
    if (lineWidth > 0) {
      line += ' ';
      lineWidth += 1;
    }
    while (restWidth > width - lineWidth && width - lineWidth > 0) {
      let head = '';
      let headWidth = 0;
      for (const char of rest) {
        const w = charWidth(char);
        if (headWidth + w > width - lineWidth) break;
        head += char;
        headWidth += w;
      }
      if (head.length === 0) break;
      line += head;
      flush();
      rest = rest.slice(head.length);
      restWidth = displayWidth(rest);
    }
    line += rest;
    lineWidth += restWidth;
  }
  if (line.length > 0 || lines.length === 0) lines.push(line);
  return lines;
}

export { formatBytes } from '../util/format.js';
