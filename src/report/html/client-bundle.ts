/**
 * How the HTML report's client (./client/, TypeScript for the browser with its own tsconfig.client.json) becomes
 * the one script html.ts inlines: an esbuild bundle into a single IIFE. `npm run build` calls this from
 * scripts/bundle.mjs (through tsc's output in dist/src/) and writes BUILT_CLIENT_FILE; ./client.ts calls it when
 * Detonate runs from source. The same options both ways give the same bytes, so the same CSP hash.
 */
import { join } from 'node:path';
import type { buildSync } from 'esbuild';

/** Where the build leaves the bundled script, relative to the package root: beside the CLI bundle. */
export const BUILT_CLIENT_FILE = 'dist/bin/html-client.js';
const ENTRY = 'src/report/html/client/main.ts';

/** Bundles the client from the sources under `root` (the package root). Needs esbuild, so only at build time or from source. */
export function bundleClientScript(build: typeof buildSync, root: string): string {
  const result = build({
    entryPoints: [join(root, ENTRY)],
    // paths in the bundle's comments are relative to this: the same script wherever the command runs from
    absWorkingDir: root,
    tsconfig: join(root, 'tsconfig.client.json'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    legalComments: 'none',
    write: false,
    logLevel: 'silent',
  });
  const script = result.outputFiles[0]?.text;
  if (script === undefined) throw new Error('esbuild produced no bundle of the HTML report\'s script');
  return script;
}
