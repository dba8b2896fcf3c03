/**
 * Builds the results site (this folder) into dist/site/: `npm run build`, or `buildSite()` (src/web/site-build.ts)
 * from a test. Everything it needs is bundled: the pages fetch nothing but the API of the server that serves them.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: fileURLToPath(new URL('../../../dist/site/', import.meta.url)), emptyOutDir: true, target: 'es2020', chunkSizeWarningLimit: 2000, modulePreload: false },
});
