/**
 * The results site's built files (src/web/site/, built by Vite into dist/site/ by `npm run build`), held in memory:
 * a handful of files, served by name only, so no request path ever reaches the file system.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SiteFile {
  body: Buffer;
  type: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png',
};

/**
 * Where the built site is: `$DETONATE_SITE_DIR` when set (another build of the site, or a test's), else where the
 * build left it, beside the CLI bundle (dist/bin/ → dist/site/) or from source (src/web/ → dist/site/); undefined
 * when not built.
 */
export function builtSiteDir(): string | undefined {
  const chosen = process.env.DETONATE_SITE_DIR;
  if (chosen) {
    if (!existsSync(join(chosen, 'index.html'))) throw new Error(`DETONATE_SITE_DIR=${chosen} holds no index.html: point it at a built site (npm run build makes dist/site/)`);
    return chosen;
  }
  for (const rel of ['../site/', '../../dist/site/', '../../../dist/site/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  return undefined;
}

/** The site's files by URL path (`/` and `/assets/…`). */
export function loadSite(dir: string): Map<string, SiteFile> {
  const files = new Map<string, SiteFile>();
  const add = (urlPath: string, file: string) => files.set(urlPath, { body: readFileSync(file), type: TYPES[extname(file)] ?? 'application/octet-stream' });
  add('/', join(dir, 'index.html'));
  const assets = join(dir, 'assets');
  if (existsSync(assets)) for (const name of readdirSync(assets)) add(`/assets/${name}`, join(assets, name));
  return files;
}
