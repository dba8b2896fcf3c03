import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LongPaths, removeTree } from './long-paths.js';

/** 24 names of 250 characters: 6,023 bytes, half again what one syscall takes. */
const NAMES = Array.from({ length: 24 }, (_, i) => `${String(i).padStart(2, '0')}${'x'.repeat(248)}`);

/** Makes `dir`/NAMES… with mkdir -p's walk by directory fds (no single path that long). */
function makeDeep(dir: string, names: readonly string[]): void {
  execFileSync('sh', ['-c', 'cd -P "$0" || exit 1; for c; do mkdir "$c" && cd -P "$c" || exit 1; done', dir, ...names]);
}

function readDeep(dir: string, names: readonly string[], file: string): string {
  const chain = 'cd -P "$0" || exit 1; for c; do cd -P "$c" || exit 1; done; cat -- "$FILE"';
  return execFileSync('sh', ['-c', chain, dir, ...names], { env: { ...process.env, FILE: file }, encoding: 'utf8' });
}

const openFds = (): number => readdirSync('/proc/self/fd').length;

describe('paths deeper than one syscall takes', () => {
  const work = mkdtempSync(join(tmpdir(), 'detonate-long-paths-'));
  afterAll(() => execFileSync('rm', ['-rf', '--one-file-system', work]));

  it('hands out short paths as they are and deep ones through directory fds, and reaches the deep file', async () => {
    const root = mkdtempSync(join(work, 'reach-'));
    makeDeep(root, NAMES);
    const fds = openFds();
    const paths = new LongPaths(root);
    expect(await paths.path(['a', 'b'])).toBe(join(root, 'a', 'b'));
    const deep = await paths.path([...NAMES, 'file']);
    expect(deep).toMatch(/^\/proc\/self\/fd\/\d+\//);
    expect(Buffer.byteLength(deep)).toBeLessThan(4096 - 256);
    await fs.writeFile(deep, 'deep\n');
    expect(readDeep(root, NAMES, 'file')).toBe('deep\n');
    // far more deep places than anchors kept open: they stay reachable, and no descriptor leaks
    const tree = (i: number): string[] => [`t${i}`, ...NAMES.slice(0, 15)];
    for (let i = 0; i < 100; i++) {
      for (let depth = 1; depth <= 16; depth++) await fs.mkdir(await paths.path(tree(i).slice(0, depth)));
      await fs.writeFile(await paths.path([...tree(i), 'f']), `${i}`);
    }
    expect(await fs.readFile(await paths.path([...tree(0), 'f']), 'utf8')).toBe('0');
    expect(readDeep(root, tree(99), 'f')).toBe('99');
    expect(openFds() - fds).toBeLessThanOrEqual(64);
    await paths.reset();
    expect(openFds()).toBe(fds);
  });

  it('never opens an anchor through a link: a link where a directory was checked fails, it is not followed', async () => {
    const root = mkdtempSync(join(work, 'link-'));
    const outside = mkdtempSync(join(work, 'outside-'));
    makeDeep(root, NAMES.slice(0, 7));
    // the first anchor below the root is the directory the first 2,048 bytes end in, NAMES[7]: make it a link out
    execFileSync('sh', ['-c', 'cd -P "$0" || exit 1; for c; do cd -P "$c" || exit 1; done; ln -s "$TARGET" "$LINK"', root, ...NAMES.slice(0, 7)], {
      env: { ...process.env, TARGET: outside, LINK: NAMES[7]! },
    });
    mkdirSync(join(outside, ...NAMES.slice(8, 16)), { recursive: true });
    const paths = new LongPaths(root);
    await expect(paths.path([...NAMES.slice(0, 16), 'file'])).rejects.toMatchObject({ code: expect.stringMatching(/^(ELOOP|ENOTDIR)$/) });
    expect(readdirSync(outside)).toEqual([NAMES[8]]);
    await paths.reset();
  });

  it('removes a tree of any depth without following the links in it', async () => {
    const root = mkdtempSync(join(work, 'remove-'));
    const outside = mkdtempSync(join(work, 'kept-'));
    writeFileSync(join(outside, 'keep'), 'kept');
    makeDeep(root, NAMES);
    mkdirSync(join(root, NAMES[0]!, 'side'));
    const paths = new LongPaths(root);
    await fs.writeFile(await paths.path([...NAMES, 'file']), 'x');
    await fs.symlink(outside, await paths.path([...NAMES, 'link-out']));
    await fs.symlink(outside, await paths.path([NAMES[0]!, 'side', 'link-out']));
    symlinkSync(outside, join(root, 'top-link'));
    mkdirSync(join(root, 'plain'));
    await paths.remove([NAMES[0]!, NAMES[1]!]);
    expect(readdirSync(join(root, NAMES[0]!)).sort()).toEqual(['side']);
    await removeTree(root);
    expect(readdirSync(work)).not.toContain(root.slice(work.length + 1));
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('kept');
    await removeTree(join(work, 'missing'));
  });
});
