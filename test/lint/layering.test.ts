/**
 * The layering rules `npm run lint` checks (.dependency-cruiser.cjs): each one fails on a tree that breaks it, so a
 * new cycle or an upward import cannot land unnoticed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repoRoot } from '../support/paths.js';

let tree: string;

function write(files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(tree, path)), { recursive: true });
    writeFileSync(join(tree, path), text);
  }
}

function cruise(): { code: number | null; output: string } {
  const r = spawnSync(process.execPath, [join(repoRoot, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs'), '--config', join(repoRoot, '.dependency-cruiser.cjs'), 'src'], {
    cwd: tree,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
}

beforeAll(() => {
  tree = mkdtempSync(join(tmpdir(), 'detonate-layering-'));
  write({
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } }),
    'package.json': JSON.stringify({ type: 'module' }),
    'src/model/report.ts': 'export interface Report { id: string }\n',
    'src/image/source.ts': "import type { Report } from '../model/report.js';\nexport const source = (r: Report) => r.id;\n",
    'src/scan/scan.ts': "import { source } from '../image/source.js';\nexport const scan = source;\n",
  });
});
afterAll(() => rmSync(tree, { recursive: true, force: true }));

describe('the layering lint', () => {
  it('passes a tree that keeps the floors', () => {
    const r = cruise();
    expect(r.output).toMatch(/no dependency violations found/);
    expect(r.code).toBe(0);
  });

  it.each([
    ['an upward import (image → scan)', { 'src/image/upward.ts': "import { scan } from '../scan/scan.js';\nexport const up = scan;\n" }, 'no-upward-import-from-image'],
    ['an import cycle', { 'src/layers/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n", 'src/layers/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n" }, 'no-circular'],
    ['model/ importing a stage', { 'src/model/bad.ts': "import { source } from '../image/source.js';\nexport const bad = source;\n" }, 'model-imports-nothing'],
    ['model/ importing a package', { 'src/model/fs.ts': "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n" }, 'model-imports-nothing'],
    ['a helper importing a stage', { 'src/util/bad.ts': "import { scan } from '../scan/scan.js';\nexport const bad = scan;\n" }, 'foundations-import-no-stage'],
    ['production code importing a test helper', { 'test/support/helper.ts': 'export const helper = 1;\n', 'src/analyze/bad.ts': "import { helper } from '../../test/support/helper.js';\nexport const bad = helper;\n" }, 'src-never-imports-test'],
    [
      "a runtime's folder imported from outside runtime/",
      { 'src/detonate/runtime/runc/runtime.ts': 'export class RuncRuntime {}\n', 'src/detonate/session.ts': "import { RuncRuntime } from './runtime/runc/runtime.js';\nexport const runtime = new RuncRuntime();\n" },
      'runtime-seam',
    ],
  ])('fails on %s, naming the rule', (_name, files, rule) => {
    write(files);
    try {
      const r = cruise();
      expect(r.code).not.toBe(0);
      expect(r.output).toContain(`error ${rule}:`);
    } finally {
      for (const path of Object.keys(files)) rmSync(join(tree, path), { force: true });
    }
  });
});
