/** Finding titles from `{field}` templates: values are rendered as bounded, printable text, never evaluated. */
import { printable } from '../analyze/threats/evidence.js';
import { fieldFor } from './compile.js';
import type { EventKind, EventView, FieldValue } from './types.js';
import { MAX_TITLE_CHARS, MAX_TITLE_VALUE_CHARS } from './limits.js';

/** `{field}`, or `{field|other}`: the first of them that has a value. */
const PLACEHOLDER = /\{([a-z0-9_.]+(?:\|[a-z0-9_.]+)*)\}/g;

export type Template = (event: EventView, run: EventView) => string;

function empty(v: FieldValue | undefined): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

function render(v: FieldValue): string {
  if (v === null || empty(v)) return '?';
  if (typeof v === 'number') return String(Math.round(v * 100) / 100);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return v;
  return v.join(' ');
}

/** Throws (naming the field) when a placeholder is not a field readable from rules `on: kind`. */
export function compileTemplate(text: string, kind: EventKind): Template {
  const parts: (string | { name: string; run: boolean }[])[] = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    const choices = m[1]!.split('|').map((name) => {
      const field = fieldFor(name, kind);
      return { name: field.name, run: field.kind === 'run' && kind !== 'run' };
    });
    parts.push(text.slice(last, m.index), choices);
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return (event, run) => {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') {
        out += p;
        continue;
      }
      const values = p.map((c) => (c.run ? run : event).values[c.name]);
      out += printable(render(values.find((v) => !empty(v)) ?? null), MAX_TITLE_VALUE_CHARS);
    }
    return out.length > MAX_TITLE_CHARS ? `${out.slice(0, MAX_TITLE_CHARS)}…` : out;
  };
}
