/**
 * Normalises a path from a layer tar into the image's namespace: no leading `/` or `./`, no `.` segments, `..`
 * resolved; the root itself (`/`, `./`) is the empty string. Returns null when the path climbs out of the root
 * (`../../etc/passwd`): such entries can never be part of a container's filesystem and are reported, not followed.
 */
export function normaliseLayerPath(raw: string): string | null {
  if (raw.includes('\u0000')) return null;
  const out: string[] = [];
  for (const segment of raw.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0) return null;
      out.pop();
      continue;
    }
    out.push(segment);
  }
  return out.join('/');
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
