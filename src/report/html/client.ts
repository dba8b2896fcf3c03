/**
 * The HTML report's script, as the one string html.ts inlines and allows by its hash. Its sources are the
 * TypeScript modules in ./client/ (browser code), bundled by ./client-bundle.ts:
 * - the built CLI (dist/bin/, or tsc's dist/src/) reads the script `npm run build` bundled, so it needs neither
 *   esbuild nor the client's sources at run time;
 * - run from source (tsx, vitest: this module is a `.ts` file) a build may be missing or stale, so the sources are
 *   bundled when this module first loads, with esbuild's synchronous API (esbuild is a devDependency, present
 *   wherever the sources are). This module loads only when an HTML report is rendered.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BUILT_CLIENT_FILE, bundleClientScript } from './client-bundle.js';

function bundleFromSource(): string {
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  return bundleClientScript(esbuild.buildSync, fileURLToPath(new URL('../../../', import.meta.url)));
}

function readBuilt(): string {
  // the package root seen from a chunk in dist/bin/, then from dist/src/report/html/
  for (const root of ['../../', '../../../../']) {
    try {
      return readFileSync(new URL(root + BUILT_CLIENT_FILE, import.meta.url), 'utf8');
    } catch {
      // try the next location
    }
  }
  throw new Error(`the HTML report's script (${BUILT_CLIENT_FILE}) was not found next to the program; rebuild with \`npm run build\``);
}

export const CLIENT_SCRIPT: string = import.meta.url.endsWith('.ts') ? bundleFromSource() : readBuilt();
