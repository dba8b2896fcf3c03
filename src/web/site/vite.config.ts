/**
 * Builds the results site (this folder) into dist/site/: `npm run build`, or vite's `build()` with this file from a
 * test (into a folder of its own). Everything it needs is bundled: the pages fetch nothing but the API of the server that serves them,
 * or a static export's data files.
 *
 * One classic script (an IIFE, loaded with `defer`), not an ES module: a page opened from disk (a static export,
 * file://) may run classic scripts beside it, but a module script there is a cross-origin request the browser refuses.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

const classicScript: Plugin = {
  name: 'detonate-classic-script',
  enforce: 'post',
  transformIndexHtml: (html) => html.replace(/<script type="module" crossorigin /g, '<script defer ').replace(/ crossorigin(?=[ >])/g, ''),
};

export default defineConfig({
  root: here,
  base: './',
  logLevel: 'warn',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  plugins: [classicScript],
  build: {
    outDir: fileURLToPath(new URL('../../../dist/site/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2020',
    chunkSizeWarningLimit: 2000,
    modulePreload: false,
    cssCodeSplit: false,
    rollupOptions: { output: { format: 'iife', inlineDynamicImports: true } },
  },
});
