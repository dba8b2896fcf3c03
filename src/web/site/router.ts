/** Routes live in the URL's hash (`#/image/sha256:…?platform=linux/amd64`): the site is static files any server can serve. */
import { useEffect, useState } from 'preact/hooks';

/** The route: the hash's path and query, e.g. `#/image/sha256:…?platform=linux/amd64`. */
export interface Route {
  path: string;
  query: URLSearchParams;
}

export function currentRoute(): Route {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?', 2);
  return { path: path || '/', query: new URLSearchParams(query ?? '') };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(currentRoute);
  useEffect(() => {
    const changed = () => setRoute(currentRoute());
    window.addEventListener('hashchange', changed);
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return route;
}

export function imageHref(hit: { digest: string; platform: string }): string {
  return `#/image/${encodeURIComponent(hit.digest)}?platform=${encodeURIComponent(hit.platform)}`;
}

