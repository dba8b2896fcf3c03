/**
 * The runtime seam (README "Architecture", issue 12): nothing outside src/detonate/runtime/ names a runtime, uses
 * what a runtime's folder declares, or branches on a runtime's name (test/support/runtime-seam.ts says how each is
 * recognised). The names come from the registry, so a new runtime is covered by being registered. The import half
 * of the seam is a dependency-cruiser rule (`runtime-seam`, .dependency-cruiser.cjs, test/lint/layering.test.ts).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRuntimes, RUNTIME_NAMES } from '../../src/detonate/runtime/index.js';
import { repoRoot } from '../support/paths.js';
import { seamViolations } from '../support/runtime-seam.js';

describe('the runtime seam', () => {
  it("holds in src/: nothing outside src/detonate/runtime/ names a runtime, uses a runtime's folder or branches on a runtime's name", async () => {
    // every word that names a registered runtime: its name and its state dir's (runsc's, for gVisor)
    const names = [...new Set((await createRuntimes()).flatMap((r) => [r.name, basename(r.stateDir)]))];
    expect(names).toEqual(expect.arrayContaining([...RUNTIME_NAMES]));
    const found = seamViolations({ root: repoRoot, names }).map((v) => `${v.at}: ${v.message}`);
    expect(found, found.join('\n')).toEqual([]);
  }, 120_000);

  describe('on a tree that breaks it', () => {
    let tree: string;
    const files: Record<string, string> = {
      'src/detonate/runtime/runtime.ts': [
        'export type RuntimeName = string;',
        'export interface Runtime { readonly name: RuntimeName; run(): void }',
      ].join('\n'),
      'src/detonate/runtime/registry.ts': [
        "import type { Runtime, RuntimeName } from './runtime.js';",
        "export async function createRuntime(name: RuntimeName): Promise<Runtime | undefined> {",
        "  return name === 'runc' ? (await import('./runc/index.js')).createRuntime() : undefined;",
        '}',
      ].join('\n'),
      // a barrel that lets a runtime's class out: using it outside is still using the folder
      'src/detonate/runtime/index.ts': "export * from './runtime.js';\nexport * from './registry.js';\nexport { RuncRuntime } from './runc/index.js';\n",
      'src/detonate/runtime/runc/index.ts': [
        "import type { Runtime } from '../runtime.js';",
        "export class RuncRuntime implements Runtime { readonly name = 'runc'; run(): void {} }",
        'export const createRuntime = (): Runtime => new RuncRuntime();',
      ].join('\n'),
      'src/detonate/session.ts': [
        "import { createRuntime, RuncRuntime, type Runtime, type RuntimeName } from './runtime/index.js'; // FOLDER-IMPORT",
        'export interface Context { runtime: RuntimeName }',
        '/** Under runc the trace starts after `runc init`: documentation may say so. */',
        'export async function prepare(runtime: Runtime, ctx: Context): Promise<string> {',
        "  const help = 'sandbox runtime (auto: gVisor when installed, else hardened runc)';",
        '  const same = await createRuntime(ctx.runtime);',
        "  if (runtime.name === 'runc') return help; // NAME-BRANCH",
        "  if (runtime instanceof RuncRuntime) return 'x'; // FOLDER-USE",
        '  switch (ctx.runtime) { default: break } // SWITCH',
        "  if (ctx.runtime !== same?.name) return ''; // CONTEXT-BRANCH",
        '  const init = /(^|\\/)runc$/; // REGEX',
        '  const dir = `${ctx.runtime}/runsc`; // TEMPLATE',
        '  return String(init) + dir;',
        '}',
        'export function isRuncInit(): boolean { return false } // DECLARED',
      ].join('\n'),
    };

    beforeAll(() => {
      tree = mkdtempSync(join(tmpdir(), 'detonate-seam-'));
      for (const [path, text] of Object.entries(files)) {
        mkdirSync(dirname(join(tree, path)), { recursive: true });
        writeFileSync(join(tree, path), `${text}\n`);
      }
    });
    afterAll(() => rmSync(tree, { recursive: true, force: true }));

    it('names each breach at its line, and lets documentation, prose and lookups by name be', () => {
      const lines = files['src/detonate/session.ts']!.split('\n');
      const at = (marker: string): string => `src/detonate/session.ts:${lines.findIndex((l) => l.includes(marker)) + 1}`;
      const found = seamViolations({ root: tree, names: ['gvisor', 'runc', 'runsc'] });
      expect(found.map((v) => `${v.at} ${v.message}`).sort()).toEqual(
        [
          `${at('FOLDER-IMPORT')} uses RuncRuntime, which belongs to src/detonate/runtime/runc/index.ts (reach a runtime through the registry and the Runtime interface)`,
          `${at('NAME-BRANCH')} branches on the runtime's name: runtime.name === 'runc'`,
          `${at('NAME-BRANCH')} names the runtime "runc" in "runc"`,
          `${at('FOLDER-USE')} uses RuncRuntime, which belongs to src/detonate/runtime/runc/index.ts (reach a runtime through the registry and the Runtime interface)`,
          `${at('SWITCH')} branches on the runtime's name: switch (ctx.runtime)`,
          `${at('CONTEXT-BRANCH')} branches on the runtime's name: ctx.runtime !== same?.name`,
          `${at('REGEX')} reads a runtime's words: /(^|\\/)runc$/ names "runc"`,
          `${at('TEMPLATE')} names the runtime "runsc" in "/runsc"`,
          `${at('DECLARED')} declares isRuncInit, named after the runtime "runc"`,
        ].sort(),
      );
      // inside runtime/ anything goes: the registry compares names and the folder names itself
      expect(found.filter((v) => v.at.startsWith('src/detonate/runtime/'))).toEqual([]);
    }, 60_000);
  });
});
