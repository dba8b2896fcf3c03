/** The results API (src/web/server.ts), from the browser: the same origin, JSON only; or a static export's files (./static-api.ts). */
import { useEffect, useState } from 'preact/hooks';
import { isStaticExport, staticApi } from './static-api.js';

export class ApiError extends Error {}

/** The answer to `path` (`api/…`): from the server that serves the site, or from the files of a static export. */
export async function api<T>(path: string): Promise<T> {
  if (isStaticExport()) return (await staticApi(path)) as T;
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  const body = (await response.json().catch(() => ({}))) as { error?: unknown };
  if (!response.ok) throw new ApiError(typeof body.error === 'string' ? body.error : `the server answered ${response.status}`);
  return body as T;
}

/** What the API answers: the store's own types (type-only: nothing of the store is bundled). */
export type { ImageHit as Hit, Page } from '../../store/search.js';

/** Loads `path` whenever it changes: the result, the error, or null while waiting (never the answer to an earlier path). */
export function useApi<T>(path: string | null): { data: T | null; error: string | null } {
  const [state, setState] = useState<{ path: string | null; data: T | null; error: string | null }>({ path: null, data: null, error: null });
  useEffect(() => {
    if (path === null) return;
    let live = true;
    setState({ path, data: null, error: null });
    api<T>(path).then((data) => live && setState({ path, data, error: null }), (err: Error) => live && setState({ path, data: null, error: err.message }));
    return () => {
      live = false;
    };
  }, [path]);
  // the render that follows a change of path comes before the effect above: it must not show the last path's answer
  return state.path === path ? { data: state.data, error: state.error } : { data: null, error: null };
}
