import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeOciArchive, type EntrySpec, type LayerSpec } from '../support/image-builder.js';
import { debianImage } from '../support/debian-image.js';
import { openImageSource } from '../../src/image/open.js';
import { BlobCache } from '../../src/image/cache.js';
import { resolveLimits, type Limits } from '../../src/config/limits.js';
import { materialiseRootfs, readRootfsFile, RootfsError, type MaterialiseOptions } from '../../src/detonate/rootfs.js';
import type { ResolvedImage } from '../../src/image/types.js';

let work: string;
let n = 0;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'detonate-rootfs-'));
});
// coreutils' rm: it walks by directory fds, so the deep trees below go too
afterAll(() => execFileSync('rm', ['-rf', '--one-file-system', work]));

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

async function openImage(archive: string, limits: Limits): Promise<{ image: ResolvedImage; close: () => Promise<void> }> {
  const source = await openImageSource(`oci-archive:${archive}`, { limits, cache: new BlobCache(join(work, 'cache')), insecureRegistries: [], platformExplicit: false });
  const [image] = await source.resolve({ os: 'linux', architecture: 'amd64' });
  return { image: image!, close: () => source.close() };
}

/** Builds an image from `layers`, materialises it in `<jail>/rootfs`, and returns the jail for outside checks. */
async function materialise(layers: LayerSpec[], options: Omit<Partial<MaterialiseOptions>, 'limits'> & { limits?: Partial<Limits> } = {}) {
  const id = `case${n++}`;
  const archive = join(work, `${id}.tar`);
  await writeOciArchive(archive, { layers });
  const jail = join(work, id);
  const rootfs = join(jail, 'rootfs');
  mkdirSync(rootfs, { recursive: true });
  mkdirSync(join(jail, 'outside'));
  const limits = resolveLimits(options.limits);
  const { image, close } = await openImage(archive, limits);
  try {
    const result = await materialiseRootfs(image, rootfs, { ...options, limits }).then(
      (r) => ({ ok: true as const, r }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    return { ...result, jail, rootfs };
  } finally {
    await close();
  }
}

/** Everything under `dir`, never following links (readdir's `recursive` follows them: into the host, here). */
function tree(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${d.name}` : d.name;
    out.push(rel);
    if (d.isDirectory()) out.push(...tree(join(dir, d.name), rel));
  }
  return out.sort();
}

/** What the jail holds outside the rootfs: the untouched `outside` dir, the rootfs dir itself. */
function outsideRootfs(jail: string): string[] {
  return tree(jail).filter((p) => !p.startsWith('rootfs/'));
}

/*
 * Deep paths: 16 names of 254 characters make a 4,079-character directory, and its `flag` a 4,084-character path.
 * The layer walker takes it (under the 4,096 limit), but with the rootfs dir in front it is past PATH_MAX, the
 * most one syscall takes: nothing here reaches it by its full path, so the checks go down with `cd -P` one name at
 * a time, as a program in the container would, and list with find (which walks by directory fds).
 */
const DEEP_NAMES = Array.from({ length: 16 }, (_, i) => `${String(i).padStart(2, '0')}${'d'.repeat(252)}`);
const DEEP_DIR = DEEP_NAMES.join('/');
const DEEP_FILE = `${DEEP_DIR}/flag`;

/** Runs `script` (sh) in `root`/`dir`, reached one name at a time. */
function inDeepDir(root: string, dir: string, script: string): string {
  const chain = 'cd -P "$0" || exit 1; for c; do cd -P "$c" || exit 1; done; eval "$SCRIPT"';
  return execFileSync('sh', ['-c', chain, root, ...dir.split('/').filter(Boolean)], { env: { ...process.env, SCRIPT: script }, encoding: 'utf8' });
}

/** Every path under `dir`, relative, sorted; links are not followed. */
function listing(dir: string, maxDepth = 64): string[] {
  return execFileSync('find', [dir, '-mindepth', '1', '-maxdepth', String(maxDepth), '-printf', '%P\\n'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\n')
    .filter(Boolean)
    .sort();
}

describe('materialiseRootfs with paths deeper than one syscall takes', () => {
  it('materialises a 4,084-character path, with links, modes, whiteouts and opaque dirs that deep', async () => {
    expect(DEEP_FILE).toHaveLength(4084);
    const deepUnder = (top: string): string => `${top}/${DEEP_NAMES.slice(1).join('/')}`;
    const res = await materialise([
      { entries: [
        { name: DEEP_FILE, content: 'deep secret\n', mode: 0o755 },
        { name: `${DEEP_DIR}/link`, type: 'symlink', linkname: 'flag' },
        { name: `${DEEP_DIR}/hard`, type: 'link', linkname: DEEP_FILE },
        { name: 'shallow-hard', type: 'link', linkname: DEEP_FILE },
        { name: `${DEEP_DIR}/ro`, type: 'directory', mode: 0o555 },
        { name: `${DEEP_DIR}/ro/inner`, content: 'written before its parent became read-only' },
        { name: `${deepUnder('victim')}/file`, content: 'whited out later' },
        { name: `${deepUnder('opq')}/file`, content: 'hidden by an opaque dir later' },
      ] },
      { entries: [
        { name: `${DEEP_DIR}/link`, content: 'was a link\n' },
        { name: `${DEEP_DIR}/later`, content: 'from the second layer\n' },
        { name: '.wh.victim', content: '' },
        { name: 'opq/.wh..wh..opq', content: '' },
        { name: 'opq/new', content: 'n' },
      ] },
    ]);
    expect(res.ok, res.ok ? '' : String(res.error)).toBe(true);
    if (!res.ok) return;
    expect(res.r.notices).toEqual([]);
    expect(Buffer.byteLength(`${res.rootfs}/${DEEP_FILE}`)).toBeGreaterThan(4095);
    expect(inDeepDir(res.rootfs, DEEP_DIR, 'cat flag link later ro/inner')).toBe('deep secret\nwas a link\nfrom the second layer\nwritten before its parent became read-only');
    expect(inDeepDir(res.rootfs, DEEP_DIR, 'stat -c "%a %h %F" flag hard link ro')).toBe('755 3 regular file\n755 3 regular file\n644 1 regular file\n555 2 directory\n');
    expect(statSync(join(res.rootfs, 'shallow-hard')).ino).toBe(Number(inDeepDir(res.rootfs, DEEP_DIR, 'stat -c %i flag')));
    expect((await readRootfsFile(res.rootfs, DEEP_FILE, 1024))?.toString()).toBe('deep secret\n');
    expect((await readRootfsFile(res.rootfs, `/${DEEP_DIR}/ro/../link`, 1024))?.toString()).toBe('was a link\n');
    const all = listing(res.rootfs, 64);
    expect(all.filter((p) => !p.startsWith(DEEP_NAMES[0]!))).toEqual(['opq', 'opq/new', 'shallow-hard']);
    expect(all.filter((p) => p.startsWith(`${DEEP_DIR}/`)).map((p) => p.slice(DEEP_DIR.length + 1))).toEqual(['flag', 'hard', 'later', 'link', 'ro', 'ro/inner']);
  });

  it('leaves out a name longer than 255 bytes, which Linux cannot store, with a notice, and materialises the rest', async () => {
    const long = 'n'.repeat(256);
    const wide = '\u00e9'.repeat(128); // 128 characters, 256 bytes
    const res = await materialise([
      { entries: [
        { name: `dir/${long}/f`, content: 'x' },
        { name: `dir/${wide}`, content: 'x' },
        { name: 'x', type: 'symlink', linkname: `/${'m'.repeat(300)}` },
        { name: 'x/y', content: 'through a link to a long name' },
        { name: 'ok', content: 'kept' },
      ] },
      { entries: [{ name: `dir/.wh.${'w'.repeat(300)}`, content: '' }, { name: `${long}/.wh..wh..opq`, content: '' }, { name: 'dir/later', content: 'l' }] },
    ]);
    expect(res.ok, res.ok ? '' : String(res.error)).toBe(true);
    if (!res.ok) return;
    expect(listing(res.rootfs)).toEqual(['dir', 'dir/later', 'ok', 'x']);
    expect(readFileSync(join(res.rootfs, 'ok'), 'utf8')).toBe('kept');
    const leftOut = res.r.notices.filter((x) => /255 bytes/.test(x.message));
    expect(leftOut.map((x) => x.path).sort()).toEqual([`dir/${long}/f`, `dir/${wide}`, 'x/y'].sort());
    expect(res.r.skipped.map((x) => x.path).sort()).toEqual([`dir/${long}/f`, `dir/${wide}`, 'x/y'].sort());
  });

  it('keeps the symlink guards 4,000 characters down: planted links resolve inside the rootfs, never on the host', async () => {
    // 4,055 characters: with a link and a file name below it, past PATH_MAX behind the rootfs dir
    const D = `${DEEP_NAMES.slice(0, 15).join('/')}/${'e'.repeat(230)}`;
    const host = join(work, `host-dir-${randomBytes(4).toString('hex')}`);
    mkdirSync(host, { mode: 0o755 });
    writeFileSync(join(host, 'victim'), 'host file\n', { mode: 0o644 });
    const name = `k${randomBytes(4).toString('hex')}`;
    const res = await materialise([
      { entries: [
        { name: `${D}/a`, type: 'symlink', linkname: '/tmp' },
        { name: `${D}/u`, type: 'symlink', linkname: '../'.repeat(40) },
        { name: `${D}/h`, type: 'symlink', linkname: host },
        { name: `${D}/f`, type: 'symlink', linkname: join(host, 'victim') },
        { name: `${D}/d`, type: 'directory', mode: 0o700 },
      ] },
      { entries: [
        { name: `${D}/a/${name}`, content: 'through an absolute link' },
        { name: `${D}/u/${name}`, content: 'through a climbing link' },
        { name: `${D}/h/${name}`, content: 'through a link to a host dir' },
        { name: `${D}/f`, content: 'replaces the link, not its target\n' },
        { name: `${D}/h/.wh.victim`, content: '' },
        { name: `${D}/h/.wh..wh..opq`, content: '' },
        { name: `${D}/l`, type: 'link', linkname: '/etc/hostname' },
        { name: `${D}/d`, type: 'symlink', linkname: host },
      ] },
    ]);
    expect(res.ok, res.ok ? '' : String(res.error)).toBe(true);
    if (!res.ok) return;
    expect(Buffer.byteLength(`${res.rootfs}/${D}/a/${name}`)).toBeGreaterThan(4095);
    expect(readFileSync(join(res.rootfs, 'tmp', name), 'utf8')).toBe('through an absolute link');
    expect(readFileSync(join(res.rootfs, name), 'utf8')).toBe('through a climbing link');
    expect(readFileSync(join(res.rootfs, host, name), 'utf8')).toBe('through a link to a host dir');
    expect(inDeepDir(res.rootfs, D, 'cat f; [ -L d ] && readlink d; ls')).toBe(`replaces the link, not its target\n${host}\na\nd\nf\nh\nu\n`);
    expect(existsSync(join('/tmp', name))).toBe(false);
    expect(readdirSync(host)).toEqual(['victim']);
    expect(readFileSync(join(host, 'victim'), 'utf8')).toBe('host file\n');
    expect(statSync(host).mode & 0o7777).toBe(0o755);
    expect(res.r.notices.some((x) => x.path === `${D}/l` && /hardlink/.test(x.message))).toBe(true);
    expect(listing(res.jail, 1)).toEqual(['outside', 'rootfs']);
    expect(readdirSync(join(res.jail, 'outside'))).toEqual([]);
  });
});

describe('materialiseRootfs with hostile layers', () => {
  it('drops names that climb out, keeps absolute names inside, and writes nothing outside the rootfs', async () => {
    const canary = `detonate-canary-${randomBytes(6).toString('hex')}`;
    const res = await materialise([{
      entries: [
        { name: `../../${canary}`, content: 'escaped' },
        { name: '../../etc/passwd', content: 'evil\n' },
        { name: '/etc/passwd', content: 'root:x:0:0::/root:/bin/sh\n' },
        { name: 'a/b/../../../../outside/planted', content: 'x' },
        { name: './usr/bin/../bin/tool', content: 'ok', mode: 0o755 },
      ],
    }]);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(tree(res.rootfs)).toEqual(['etc', 'etc/passwd', 'usr', 'usr/bin', 'usr/bin/tool']);
    expect(readFileSync(join(res.rootfs, 'etc/passwd'), 'utf8')).toBe('root:x:0:0::/root:/bin/sh\n');
    expect(statSync(join(res.rootfs, 'usr/bin/tool')).mode & 0o777).toBe(0o755);
    expect(res.r.notices.filter((x) => /unsafe name/.test(x.message))).toHaveLength(3);
    expect(outsideRootfs(res.jail)).toEqual(['outside', 'rootfs']);
    expect(existsSync(join(work, canary))).toBe(false);
    expect(existsSync(join(tmpdir(), canary))).toBe(false);
  });

  it('resolves a symlink planted in one layer inside the rootfs when a later layer writes through it', async () => {
    const name = `detonate-canary-${randomBytes(6).toString('hex')}`;
    const res = await materialise([
      { entries: [
        { name: 'evil', type: 'symlink', linkname: '/tmp' },
        { name: 'up', type: 'symlink', linkname: '../../../../..' },
        { name: 'loop', type: 'symlink', linkname: 'loop/x' },
      ] },
      { entries: [
        { name: `evil/${name}`, content: 'through an absolute link' },
        { name: `up/outside/${name}`, content: 'through a climbing link' },
      ] },
      { entries: [{ name: 'loop/y', content: 'never' }, { name: 'after-loop', content: 'still here' }] },
    ]);
    // the entry through the loop is left out with a notice; the rest is materialised and the image can run
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(res.r.skipped).toContainEqual(expect.objectContaining({ path: 'loop/y', message: expect.stringMatching(/too many levels of symbolic links/) }));
    expect(readFileSync(join(res.rootfs, 'after-loop'), 'utf8')).toBe('still here');
    expect(readlinkSync(join(res.rootfs, 'evil'))).toBe('/tmp');
    expect(readFileSync(join(res.rootfs, 'tmp', name), 'utf8')).toBe('through an absolute link');
    expect(readFileSync(join(res.rootfs, 'outside', name), 'utf8')).toBe('through a climbing link');
    expect(existsSync(join('/tmp', name))).toBe(false);
    expect(readdirSync(join(res.jail, 'outside'))).toEqual([]);
    expect(outsideRootfs(res.jail)).toEqual(['outside', 'rootfs']);
  });

  it('makes hardlinks only to files already in the rootfs', async () => {
    const res = await materialise([{
      entries: [
        { name: 'stolen-abs', type: 'link', linkname: '/etc/shadow' },
        { name: 'stolen-rel', type: 'link', linkname: '../../../etc/shadow' },
        { name: 'dirlink', type: 'link', linkname: 'bin' },
        { name: 'bin/sh', content: 'shell', mode: 0o755 },
        { name: 'bin/bash', type: 'link', linkname: 'bin/sh' },
        { name: 'self', type: 'link', linkname: 'self' },
      ],
    }]);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(tree(res.rootfs)).toEqual(['bin', 'bin/bash', 'bin/sh']);
    expect(statSync(join(res.rootfs, 'bin/bash')).ino).toBe(statSync(join(res.rootfs, 'bin/sh')).ino);
    expect(res.r.hardlinks).toBe(1);
    const skipped = res.r.notices.filter((x) => /hardlink/.test(x.message)).map((x) => x.path).sort();
    expect(skipped).toEqual(['dirlink', 'self', 'stolen-abs', 'stolen-rel']);
    if (existsSync('/etc/shadow')) {
      const host = statSync('/etc/shadow');
      for (const p of tree(res.rootfs)) {
        const st = lstatSync(join(res.rootfs, p));
        expect(st.dev === host.dev && st.ino === host.ino).toBe(false);
      }
    }
  });

  it('applies whiteouts and opaque dirs to lower layers only, and ignores whiteouts of . and ..', async () => {
    const res = await materialise([
      { entries: [
        { name: 'etc/motd', content: 'hello' },
        { name: 'opt/d/f1', content: 'lower' },
        { name: 'opt/d/sub/f3', content: 'lower' },
        { name: 'keep/x', content: 'kept' },
      ] },
      { entries: [
        { name: 'opt/d/f2', content: 'same layer, before the marker' },
        { name: 'opt/d/sub', type: 'directory' },
        { name: 'opt/d/.wh..wh..opq', content: '' },
        { name: 'etc/.wh.motd', content: '' },
        { name: 'keep/.wh...', content: '' },
        { name: 'keep/.wh..', content: '' },
        { name: '.wh...', content: '' },
        { name: 'new/file', content: 'n' },
        { name: 'new/.wh.file', content: '' },
      ] },
    ]);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(tree(res.rootfs)).toEqual(['etc', 'keep', 'keep/x', 'new', 'new/file', 'opt', 'opt/d', 'opt/d/f2', 'opt/d/sub']);
    expect(res.r.notices.filter((x) => /whiteout of .* ignored/.test(x.message))).toHaveLength(3);
    expect(outsideRootfs(res.jail)).toEqual(['outside', 'rootfs']);
  });

  it('stops at the disk budget before writing the file that breaks it', async () => {
    const res = await materialise(
      [{ entries: [{ name: 'small', content: Buffer.alloc(1000) }, { name: 'huge', content: Buffer.alloc(2 * 1024 * 1024) }] }],
      { diskBudgetBytes: 1024 * 1024 },
    );
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error).toBeInstanceOf(RootfsError);
    expect(String(res.error)).toMatch(/1048576-byte disk budget \(huge is 2097152 bytes/);
    expect(existsSync(join(res.rootfs, 'huge'))).toBe(false);
  });

  it('stops at the entry limit, and leaves out an entry past the path length limit', async () => {
    const many: EntrySpec[] = Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, content: 'x' }));
    const tooMany = await materialise([{ entries: many }], { maxEntries: 10 });
    expect(tooMany.ok).toBe(false);
    if (!tooMany.ok) expect(String(tooMany.error)).toMatch(/more than 10 entries/);

    const long = `${'a'.repeat(30)}/${'b'.repeat(30)}`;
    const tooLong = await materialise(
      [{ entries: [{ name: 'l', type: 'symlink', linkname: `/${long}` }] }, { entries: [{ name: `l/${'c'.repeat(10)}`, content: 'x' }] }],
      { limits: { maxPathLength: 64 } },
    );
    // one entry that resolves too long is left out with a notice; the image still runs
    expect(tooLong.ok).toBe(true);
    if (!tooLong.ok) return;
    expect(tooLong.r.skipped).toEqual([expect.objectContaining({ path: `l/${'c'.repeat(10)}`, message: expect.stringMatching(/left out of the sandbox: the path resolves .* to more than 64 characters/) })]);
    expect(tree(tooLong.rootfs)).toEqual([...long.split('/').map((_, i, a) => a.slice(0, i + 1).join('/')), 'l']);
    expect(outsideRootfs(tooLong.jail)).toEqual(['outside', 'rootfs']);
  });

  it('keeps modes (setuid included, read-only dirs applied last), skips special files, and never chmods through a link', async () => {
    const outside = join(work, `host-dir-${randomBytes(4).toString('hex')}`);
    mkdirSync(outside, { mode: 0o755 });
    const res = await materialise([
      { entries: [
        { name: 'ro', type: 'directory', mode: 0o555 },
        { name: 'ro/inner', content: 'written after its parent became read-only', mode: 0o644 },
        { name: 'usr/bin/su', content: 'suid', mode: 0o4755 },
        { name: 'd', type: 'directory', mode: 0o700 },
        { name: 'dev/fifo', type: 'fifo' as EntrySpec['type'] },
      ] },
      { entries: [{ name: 'd', type: 'symlink', linkname: outside }] },
    ]);
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    expect(statSync(join(res.rootfs, 'ro')).mode & 0o7777).toBe(0o555);
    expect(readFileSync(join(res.rootfs, 'ro/inner'), 'utf8')).toMatch(/read-only/);
    expect(statSync(join(res.rootfs, 'usr/bin/su')).mode & 0o7777).toBe(0o4755);
    expect(lstatSync(join(res.rootfs, 'd')).isSymbolicLink()).toBe(true);
    expect(statSync(outside).mode & 0o7777).toBe(0o755);
    expect(existsSync(join(res.rootfs, 'dev/fifo'))).toBe(false);
    expect(res.r.notices.some((x) => x.path === 'dev/fifo' && /special file/.test(x.message))).toBe(true);
  });

  it.skipIf(!isRoot)('shifts ownership onto the sandbox id range, keeping setuid bits', async () => {
    const res = await materialise(
      [{ entries: [{ name: 'usr/bin/su', content: 'suid', mode: 0o4755 }, { name: 'link', type: 'symlink', linkname: 'usr' }] }],
      { ownership: { uid: 100000, gid: 100000, size: 65536 } },
    );
    expect(res.ok).toBe(true);
    if (!res.ok) return;
    const su = statSync(join(res.rootfs, 'usr/bin/su'));
    expect([su.uid, su.gid, su.mode & 0o7777]).toEqual([100000, 100000, 0o4755]);
    expect(lstatSync(join(res.rootfs, 'link')).uid).toBe(100000);
    expect(statSync(join(res.rootfs, 'usr')).uid).toBe(100000);
    expect(statSync(res.rootfs).uid).toBe(100000);
  });

  it('refuses a target that is not an empty directory of ours', async () => {
    const archive = join(work, 'tiny.tar');
    await writeOciArchive(archive, { layers: [{ entries: [{ name: 'f', content: 'x' }] }] });
    const limits = resolveLimits();
    const { image, close } = await openImage(archive, limits);
    try {
      const full = mkdtempSync(join(work, 'full-'));
      mkdirSync(join(full, 'x'));
      await expect(materialiseRootfs(image, full, { limits })).rejects.toThrow(/not empty/);
      await expect(materialiseRootfs(image, join(work, 'missing'), { limits })).rejects.toThrow(/not usable/);
    } finally {
      await close();
    }
  });

  it('reads files of the rootfs through links without leaving it', async () => {
    const res = await materialise([{ entries: [
      { name: 'etc/passwd', type: 'symlink', linkname: '/../../../../etc/real-passwd' },
      { name: 'etc/real-passwd', content: 'app:x:1000:1000::/home/app:/bin/sh\n' },
      { name: 'etc/group', type: 'symlink', linkname: '/etc/hostname-not-there' },
    ] }]);
    expect(res.ok).toBe(true);
    expect((await readRootfsFile(res.rootfs, 'etc/passwd', 1024))?.toString()).toMatch(/^app:x:1000/);
    expect(await readRootfsFile(res.rootfs, '/etc/group', 1024)).toBeNull();
    expect((await readRootfsFile(res.rootfs, 'etc/passwd', 3))?.toString()).toBe('app');
  });
});

describe('materialiseRootfs with a real Debian image', () => {
  it('materialises every layer with exec bits and links intact', async () => {
    const deb = await debianImage();
    const limits = resolveLimits();
    const { image, close } = await openImage(deb.archive, limits);
    const rootfs = mkdtempSync(join(work, 'debian-'));
    try {
      const started = Date.now();
      const result = await materialiseRootfs(image, rootfs, { limits });
      const seconds = (Date.now() - started) / 1000;
      console.log(`debian rootfs: ${result.files} files, ${result.directories} dirs, ${result.symlinks} symlinks, ${result.hardlinks} hardlinks, ${result.bytes} bytes in ${seconds.toFixed(1)}s`);
      expect(result.files).toBeGreaterThan(5000);
      const python = statSync(join(rootfs, 'usr/bin/python3'));
      expect(python.isFile() && (python.mode & 0o111) === 0o111).toBe(true);
      expect(lstatSync(join(rootfs, 'bin')).isSymbolicLink()).toBe(true);
      expect(readlinkSync(join(rootfs, 'bin'))).toBe('usr/bin');
      expect(statSync(join(rootfs, 'srv/app/node_modules/pkg-7/index.js')).isFile()).toBe(true);
      expect(readFileSync(join(rootfs, 'etc/passwd'), 'utf8')).toMatch(/^root:x:0:0:/);
    } finally {
      await close();
      rmSync(rootfs, { recursive: true, force: true });
    }
  }, 300_000);
});
