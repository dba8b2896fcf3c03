// Bundles the CLI into dist/bin/ (ESM, split so that renderers, the registry client and progress bars still load
// only when used). Module loading was most of a cached re-scan's time: one bundle starts ~50 ms faster than the
// ~80 modules tsc emits. Native addons stay external and load from node_modules.
import { build, buildSync } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

rmSync('dist/bin', { recursive: true, force: true });
await build({
  entryPoints: { detonate: 'src/cli/main.ts' },
  outdir: 'dist/bin',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // pg-native: pg's optional libpq binding, which Detonate does not use (pg requires it only when asked for)
  external: ['better-sqlite3', 'zstd-napi', '@litko/yara-x', 'pg-native'],
  // bundled CommonJS dependencies call require(); give ESM chunks one
  banner: { js: "import { createRequire as __detonateCreateRequire } from 'node:module'; const require = __detonateCreateRequire(import.meta.url);" },
  sourcemap: true,
  logLevel: 'warning',
});

// The HTML report's script (src/report/html/client/), bundled here so the installed CLI reads it and needs no
// esbuild at run time. The options are the ones the run-from-source path uses: tsc has just emitted them.
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { BUILT_CLIENT_FILE, bundleClientScript } = await import('../dist/src/report/html/client-bundle.js');
writeFileSync(join(root, BUILT_CLIENT_FILE), bundleClientScript(buildSync, root));
