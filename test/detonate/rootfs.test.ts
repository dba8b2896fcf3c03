import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
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
afterAll(() => rmSync(work, { recursive: true, force: true }));

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
      { entries: [{ name: 'loop/y', content: 'never' }] },
    ]);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error).toBeInstanceOf(RootfsError);
    expect(String(res.error)).toMatch(/too many levels of symbolic links/);
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

  it('stops at the entry limit and at the path length limit', async () => {
    const many: EntrySpec[] = Array.from({ length: 20 }, (_, i) => ({ name: `f${i}`, content: 'x' }));
    const tooMany = await materialise([{ entries: many }], { maxEntries: 10 });
    expect(tooMany.ok).toBe(false);
    if (!tooMany.ok) expect(String(tooMany.error)).toMatch(/more than 10 entries/);

    const long = `${'a'.repeat(30)}/${'b'.repeat(30)}`;
    const tooLong = await materialise(
      [{ entries: [{ name: 'l', type: 'symlink', linkname: `/${long}` }] }, { entries: [{ name: `l/${'c'.repeat(10)}`, content: 'x' }] }],
      { limits: { maxPathLength: 64 } },
    );
    expect(tooLong.ok).toBe(false);
    if (!tooLong.ok) expect(String(tooLong.error)).toMatch(/resolves to more than 64 characters/);
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
