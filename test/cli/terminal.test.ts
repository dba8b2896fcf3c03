import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBounded } from '../../src/detonate/network/exec.js';
import { repoRoot } from '../support/paths.js';

/*
 * The CLI as a person sees it in a terminal: run under a pseudo-terminal (util-linux `script`), so stdout and stderr
 * are TTYs, the default format is the table, colour is on and progress draws bars.
 */
const script = ['/usr/bin/script', '/bin/script'].find((p) => existsSync(p));
const example = join(repoRoot, 'examples/example-app.oci.tar');
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/g;

describe.skipIf(!script)(`detonate scan in a terminal${script ? '' : ' (skipped: util-linux `script` not installed)'}`, () => {
  const cache = mkdtempSync(join(tmpdir(), 'detonate-tty-'));
  afterAll(() => rmSync(cache, { recursive: true, force: true }));

  const inTerminal = async (args: string[]): Promise<string> => {
    const command = [process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts'), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const r = await runBounded(script!, ['-qfec', `stty cols 110 rows 50; exec ${command}`, '/dev/null'], {
      cwd: repoRoot,
      env: { ...process.env, TERM: 'xterm-256color', DETONATE_CACHE_DIR: cache, NO_COLOR: '', FORCE_COLOR: '' },
      timeoutMs: 60_000,
    });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    return r.stdout;
  };

  it('shows progress, then the summary first (verdict, behaviour, what the image is), in colour', async () => {
    const out = await inTerminal(['scan', '--static-only', '--no-vulns', `oci-archive:${example}`]);
    expect(out).toMatch(ANSI); // colour and cursor control: it knew it was on a terminal
    const text = out.replace(ANSI, '').replace(/\r/g, '');
    // progress bars for the layers, then the one-line result of the static stage
    expect(text).toMatch(/layer .*\[[█░ ]+\] 100%/);
    expect(text).toMatch(/example-app\.oci\.tar \(linux\/amd64\): 13 packages in 3 layers/);
    const verdict = text.indexOf('  Verdict ');
    expect(verdict).toBeGreaterThan(0);
    expect(text.slice(verdict)).toMatch(/^ {2}Verdict +No malicious content found \(static analysis only\)\./);
    expect(text).toMatch(/ {2}Behavior +not run \(--static-only\)/);
    expect(verdict).toBeLessThan(text.indexOf('Layers (3)'));
    expect(text.indexOf('Layers (3)')).toBeLessThan(text.indexOf('Packages (13)'));
  }, 90_000);

  it('--quiet: the report only, no progress', async () => {
    const text = (await inTerminal(['scan', '--quiet', '--static-only', '--no-vulns', `oci-archive:${example}`])).replace(ANSI, '');
    expect(text).not.toMatch(/\[[█░]+\]/);
    expect(text).not.toMatch(/packages in 3 layers, \d/);
    expect(text).toMatch(/ {2}Verdict /);
  }, 90_000);
});
