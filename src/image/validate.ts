/**
 * Small structural checks for manifests, indexes and configs. Hand-written instead of a schema library because
 * they run on every scan and a schema library's load time (~80 ms) was most of a cached re-scan.
 * Each check returns the problem as `path: message`, or throws it through `fail`.
 */
export class ShapeError extends Error {}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function fail(path: string, message: string): never {
  throw new ShapeError(`${path || '(root)'}: ${message}`);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function objectAt(v: unknown, path: string): Record<string, unknown> {
  if (!isObject(v)) fail(path, 'expected an object');
  return v;
}

export function stringAt(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, 'expected a string');
  return v;
}

export function optionalString(v: unknown, path: string): string | undefined {
  return v === undefined || v === null ? undefined : stringAt(v, path);
}

export function arrayAt(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) fail(path, 'expected an array');
  return v;
}

export function optionalStringArray(v: unknown, path: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  return arrayAt(v, path).map((item, i) => stringAt(item, `${path}.${i}`));
}

export function optionalStringRecord(v: unknown, path: string): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  const o = objectAt(v, path);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) out[k] = stringAt(val, `${path}.${k}`);
  return out;
}

export function sizeAt(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(path, 'expected a non-negative integer size');
  return v;
}

/**
 * Why `JSON.parse` refused a file, without its content: V8 quotes the text around the error, and a layout file may be
 * a link to a host file whose first bytes must never reach a message. Keeps the position when V8 gives one.
 */
export function jsonErrorWithoutContent(err: unknown): string {
  const position = /at position (\d+)/.exec(err instanceof Error ? err.message : '');
  return position ? ` (at byte ${position[1]})` : '';
}
