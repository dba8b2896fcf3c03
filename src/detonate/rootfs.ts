/**
 * Materialises an image's root filesystem on disk for the detonation stage, from the same streaming layer walker
 * as the static stage (decompression, bombs, path normalisation, whiteout names).
 *
 * Safety model: the target directory is new, empty and ours, and nothing but this code writes into it until the
 * sandbox starts, so checks made with lstat cannot be raced. Every write goes to `<resolved parent>/<name>`, where
 * the parent is resolved one component at a time with lstat: a symlink met on the way is followed *inside the
 * rootfs* (an absolute target restarts at the rootfs, `..` stops at it), the way containerd and Docker apply
 * layers in a chroot, so `evil -> /tmp` then `evil/x` lands in `<dir>/tmp/x`. The last component is never followed:
 * whatever is there is removed first and files are created with O_CREAT|O_EXCL|O_NOFOLLOW.
 *
 * Depth: an image may name a file up to `maxPathLength` (4,096) characters deep, which with the rootfs dir in
 * front is past what one syscall takes (PATH_MAX). Host paths go through `LongPaths` (src/util/long-paths.ts):
 * directory fds stand in for the part above, so any path the static stage accepts is materialised. What Linux
 * cannot hold at all (a name over 255 bytes, a path that resolves through links past the limit) is left out with
 * a notice (`skipped`), and the image still runs.
 *
 * Modes are kept as the image has them, setuid and setgid included: the sample runs in a user namespace (runc:
 * files are owned by the unprivileged host range, see `ownership`) or under gVisor's own kernel, where those bits
 * grant nothing on the host. Host users are kept out by the bundle directory (0700, see bundle.ts), which also
 * keeps them away from setuid files owned by real root when `ownership` maps image root to host root.
 */
import { constants, promises as fs } from 'node:fs';
import type { Limits } from '../config/limits.js';
import { LongPaths } from '../util/long-paths.js';
import { DEFAULT_ROOTFS_DISK_BUDGET_BYTES, MAX_ROOTFS_LINK_HOPS, MAX_ROOTFS_NOTICES } from './limits.js';
import { readRegularFile } from '../util/regular-file.js';
import { ImageError } from '../image/errors.js';
import type { ResolvedImage } from '../image/types.js';
import type { FileHeader } from '../model/index.js';
import { ExpansionBudget, walkLayer, type LayerVisitor } from '../layers/walk.js';
import { silentProgress, type Progress } from '../progress/progress.js';
import type { ScanNotice } from '../model/index.js';

/** Host ids the image's ids are shifted onto: image uid N becomes host uid `uid + N` (N < size, else `uid + 65534`). */
export interface RootfsOwnership {
  uid: number;
  gid: number;
  size: number;
}

export interface MaterialiseOptions {
  /** The walker's limits (bombs, entries per layer, path length). */
  limits: Limits;
  /** Disk budget: the sum of all regular files written, over all layers. Default 4 GiB. */
  diskBudgetBytes?: number;
  /** Most entries over all layers (files, dirs, links, whiteouts). Default `limits.maxLayerEntries`. */
  maxEntries?: number;
  /**
   * Chown every entry onto this id range (needs root). runc with a user namespace needs the range of its uid
   * mapping (e.g. 100000/65536) or the sample cannot read its own files; gVisor wants {0, 0, 2^32-1} (image ids
   * kept). Absent: everything belongs to the calling user.
   */
  ownership?: RootfsOwnership;
  progress?: Progress;
}

export interface MaterialiseResult {
  /** Regular files written (hardlinks not counted). */
  files: number;
  directories: number;
  symlinks: number;
  hardlinks: number;
  /** Bytes of regular file content written (what the disk budget counts). */
  bytes: number;
  notices: ScanNotice[];
  /** The notices about entries left out because Linux cannot hold them: the run's report carries these. */
  skipped: ScanNotice[];
}

/** Longest name Linux stores (NAME_MAX, bytes): no runtime can create a longer one. */
const NAME_MAX_BYTES = 255;
/** Longest path one syscall takes, with its NUL (PATH_MAX): also the bound on a symlink's target. */
const PATH_MAX_BYTES = 4096;

/** The rootfs could not be materialised (a limit, an unusable target dir, an I/O failure); stops the detonation. */
export class RootfsError extends ImageError {
  constructor(message: string, hint?: string) {
    super(message, hint);
    this.name = 'RootfsError';
  }
}

/** One entry Linux cannot hold as the image names it: it is left out with a notice and the rest materialised. */
export class SkippedEntryError extends RootfsError {
  constructor(message: string) {
    super(message);
    this.name = 'SkippedEntryError';
  }
}

function overlongName(name: string): string | undefined {
  const bytes = Buffer.byteLength(name);
  return bytes > NAME_MAX_BYTES
    ? `left out of the sandbox: the name ${JSON.stringify(`${name.slice(0, 40)}…`)} is ${bytes} bytes, over Linux's 255 bytes (NAME_MAX); no runtime can create it`
    : undefined;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

export interface ResolveOptions {
  /**
   * Create missing components as directories (called with a host path for it, valid until the next call that
   * opens a path, and the resolved components).
   */
  mkdir?: (abs: string, parts: string[]) => Promise<void>;
  /** Every component, the last included, must be a directory. */
  directory?: boolean;
  /** Longest resolved path (relative to the root) accepted. */
  maxPathLength?: number;
}

/**
 * Resolves `path` (relative to `root`, any form) component by component with lstat, following symlinks as if
 * `root` were `/`. Returns the resolved components (the last may not exist), or null when a component on the way
 * is missing (without `mkdir`) or is not a directory. Never looks outside `root`. Throws `SkippedEntryError` for a
 * path Linux cannot hold (a name over 255 bytes, a resolved path over `maxPathLength`).
 */
export async function resolveInRoot(root: string | LongPaths, path: string, options: ResolveOptions = {}): Promise<string[] | null> {
  if (typeof root === 'string') {
    const paths = new LongPaths(root);
    try {
      return await resolveInRoot(paths, path, options);
    } finally {
      await paths.reset();
    }
  }
  const segments = (p: string): string[] => p.split('/').filter((s) => s !== '' && s !== '.').reverse();
  const queue = segments(path);
  const out: string[] = [];
  let hops = 0;
  let length = 0;
  while (queue.length > 0) {
    const c = queue.pop()!;
    if (c === '..') {
      const dropped = out.pop();
      if (dropped !== undefined) length -= dropped.length + 1;
      continue;
    }
    const last = queue.length === 0;
    length += c.length + 1;
    if (options.maxPathLength !== undefined && length > options.maxPathLength) {
      throw new SkippedEntryError(`left out of the sandbox: the path resolves (through the image's links) to more than ${options.maxPathLength} characters`);
    }
    const long = overlongName(c);
    if (long) throw new SkippedEntryError(long);
    const abs = await root.path([...out, c]);
    let st;
    try {
      st = await fs.lstat(abs);
    } catch (err) {
      if (errno(err) !== 'ENOENT') throw err;
      if (options.mkdir) {
        out.push(c);
        await options.mkdir(abs, [...out]);
        continue;
      }
      if (last) {
        out.push(c);
        return out;
      }
      return null;
    }
    if (st.isSymbolicLink()) {
      if (++hops > MAX_ROOTFS_LINK_HOPS) {
        // a symlink loop the image planted: that one entry cannot exist; the rest of the image still runs
        throw new SkippedEntryError(`left out of the sandbox: too many levels of symbolic links resolving it in the image (a symlink loop)`);
      }
      const target = await fs.readlink(abs);
      length -= c.length + 1;
      if (target.startsWith('/')) {
        out.length = 0;
        length = 0;
      }
      queue.push(...segments(target));
      continue;
    }
    if (!st.isDirectory() && (!last || options.directory)) return null;
    out.push(c);
  }
  return out;
}

/**
 * Reads a regular file of a materialised rootfs (`etc/passwd`), resolving links inside the rootfs and reading at
 * most `maxBytes`. Null when it does not exist or is not a regular file.
 */
export async function readRootfsFile(root: string, path: string, maxBytes: number): Promise<Buffer | null> {
  const paths = new LongPaths(root);
  try {
    const parts = await resolveInRoot(paths, path).catch((err: unknown) => {
      if (err instanceof SkippedEntryError) return null;
      throw err;
    });
    if (!parts || parts.length === 0) return null;
    return await readRegularFile(await paths.path(parts), maxBytes);
  } finally {
    await paths.reset();
  }
}

class Extractor {
  readonly result: MaterialiseResult = { files: 0, directories: 0, symlinks: 0, hardlinks: 0, bytes: 0, notices: [], skipped: [] };
  layer = 0;
  /** Host paths below the rootfs, however deep. */
  readonly paths: LongPaths;
  /** Resolved paths this layer created or changed: whiteouts and opaque markers only hide what lower layers made. */
  private layerPaths = new Set<string>();
  /** Image path of a parent → its resolved components; cleared whenever something is removed. */
  private dirCache = new Map<string, string[]>();
  /** Directory modes, applied at the end so that a read-only directory does not stop later writes into it. */
  private dirModes = new Map<string, number>();
  private entries = 0;
  private suppressed = 0;
  private skippedSuppressed = 0;
  private readonly budget: number;
  private readonly maxEntries: number;

  constructor(
    root: string,
    private readonly options: MaterialiseOptions,
  ) {
    this.paths = new LongPaths(root);
    this.budget = options.diskBudgetBytes ?? DEFAULT_ROOTFS_DISK_BUDGET_BYTES;
    this.maxEntries = options.maxEntries ?? options.limits.maxLayerEntries;
  }

  startLayer(index: number): void {
    this.layer = index;
    this.layerPaths = new Set();
  }

  notice(level: ScanNotice['level'], message: string, path?: string): void {
    if (this.result.notices.length >= MAX_ROOTFS_NOTICES) {
      this.suppressed++;
      return;
    }
    this.result.notices.push({ level, message, layer: this.layer, ...(path !== undefined ? { path } : {}) });
  }

  /** An entry left out because Linux cannot hold it: a notice, also kept in `skipped` for the run's report. */
  skip(message: string, path: string): void {
    this.notice('warning', message, path);
    if (this.result.skipped.length < MAX_ROOTFS_NOTICES) this.result.skipped.push({ level: 'warning', message, layer: this.layer, path });
    else this.skippedSuppressed++;
  }

  private count(): void {
    if (++this.entries > this.maxEntries) {
      throw new RootfsError(`the image has more than ${this.maxEntries} entries over all its layers`, 'a hostile image, or raise the entry limit');
    }
  }

  private hostId(id: number | undefined, base: number, size: number): number {
    const n = id ?? 0;
    return base + (n >= 0 && n < size ? n : Math.min(65534, size - 1));
  }

  private async chown(parts: string[], header?: FileHeader): Promise<void> {
    const own = this.options.ownership;
    if (!own) return;
    await fs.lchown(await this.paths.path(parts), this.hostId(header?.uid, own.uid, own.size), this.hostId(header?.gid, own.gid, own.size));
  }

  private async resolveParent(parts: string[]): Promise<string[] | null> {
    const key = parts.join('/');
    const cached = this.dirCache.get(key);
    if (cached) return cached;
    const resolved = await resolveInRoot(this.paths, key, {
      directory: true,
      maxPathLength: this.options.limits.maxPathLength,
      mkdir: async (abs, made) => {
        await fs.mkdir(abs, 0o755);
        await this.chown(made);
        this.layerPaths.add(made.join('/'));
      },
    });
    if (resolved) this.dirCache.set(key, resolved);
    return resolved;
  }

  /** Removes whatever is at `parts` (never following it); a directory stays when `keepDir`. Returns whether a dir remains. */
  private async clear(parts: string[], keepDir: boolean): Promise<boolean> {
    const abs = await this.paths.path(parts);
    let st;
    try {
      st = await fs.lstat(abs);
    } catch (err) {
      if (errno(err) === 'ENOENT') return false;
      throw err;
    }
    if (st.isDirectory()) {
      if (keepDir) return true;
      await this.paths.remove(parts);
    } else {
      await fs.unlink(abs);
    }
    this.dirCache.clear();
    return false;
  }

  async entry(header: FileHeader, body: AsyncIterable<Buffer>): Promise<void> {
    this.count();
    const parts = header.path.split('/');
    for (const part of parts) {
      const long = overlongName(part);
      if (long) throw new SkippedEntryError(long);
    }
    const name = parts.pop()!;
    const parent = await this.resolveParent(parts);
    if (!parent) {
      this.notice('warning', 'a parent of this entry is not a directory; entry skipped', header.path);
      return;
    }
    const rel = [...parent, name];
    const key = rel.join('/');
    if (key.length > this.options.limits.maxPathLength) {
      throw new SkippedEntryError(`left out of the sandbox: the path resolves (through the image's links) to more than ${this.options.limits.maxPathLength} characters`);
    }
    switch (header.type) {
      case 'directory':
        if (!(await this.clear(rel, true))) await fs.mkdir(await this.paths.path(rel), 0o755);
        await this.chown(rel, header);
        this.dirModes.set(key, header.mode & 0o7777);
        this.result.directories++;
        break;
      case 'file':
        await this.writeFile(rel, header, body);
        break;
      case 'symlink': {
        const target = header.linkname ?? '';
        if (target === '' || target.length > this.options.limits.maxPathLength || Buffer.byteLength(target) >= PATH_MAX_BYTES || target.includes('\u0000')) {
          this.notice('warning', 'symlink with an empty or overlong target skipped', header.path);
          return;
        }
        await this.clear(rel, false);
        await fs.symlink(target, await this.paths.path(rel));
        await this.chown(rel, header);
        this.result.symlinks++;
        break;
      }
      case 'hardlink':
        if (!(await this.hardlink(rel, header))) return;
        break;
      default:
        this.notice('warning', 'device node, fifo or other special file skipped', header.path);
        return;
    }
    this.layerPaths.add(key);
  }

  private async writeFile(rel: string[], header: FileHeader, body: AsyncIterable<Buffer>): Promise<void> {
    if (this.result.bytes + header.size > this.budget) {
      throw new RootfsError(
        `the image's files need more than the ${this.budget}-byte disk budget (${header.path} is ${header.size} bytes, ${this.result.bytes} written before it)`,
        'a hostile or very large image; raise the detonation disk budget to run it',
      );
    }
    this.result.bytes += header.size;
    await this.clear(rel, false);
    const fh = await fs.open(await this.paths.path(rel), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      let written = 0;
      for await (const chunk of body) {
        written += chunk.length;
        if (written > header.size) throw new RootfsError(`tar entry ${header.path} is longer than its header says`);
        let offset = 0;
        while (offset < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, offset, chunk.length - offset);
          offset += bytesWritten;
        }
      }
      const own = this.options.ownership;
      // chown clears setuid/setgid, so it goes first
      if (own) await fh.chown(this.hostId(header.uid, own.uid, own.size), this.hostId(header.gid, own.gid, own.size));
      await fh.chmod(header.mode & 0o7777);
    } finally {
      await fh.close();
    }
    this.result.files++;
  }

  private async hardlink(rel: string[], header: FileHeader): Promise<boolean> {
    const targetPath = header.linkname ?? '';
    const tparts = targetPath.split('/');
    const tname = tparts.pop()!;
    const tparent = tname && !overlongName(tname) ? await this.resolveExisting(tparts.join('/')) : null;
    const target = tparent ? [...tparent, tname] : null;
    let ok = false;
    if (target !== null && target.join('/') !== rel.join('/')) {
      try {
        ok = !(await fs.lstat(await this.paths.path(target))).isDirectory();
      } catch (err) {
        if (errno(err) !== 'ENOENT') throw err;
      }
    }
    if (!ok) {
      this.notice('warning', `hardlink to ${JSON.stringify(targetPath.slice(0, 200))} skipped: no such file earlier in the image`, header.path);
      return false;
    }
    await this.clear(rel, false);
    await fs.link(await this.paths.path(target!), await this.paths.path(rel));
    this.result.hardlinks++;
    return true;
  }

  /** An existing directory of the rootfs, resolved; null when there is none (nothing Linux could hold is there either). */
  private async resolveExisting(dir: string): Promise<string[] | null> {
    try {
      return await resolveInRoot(this.paths, dir, { directory: true });
    } catch (err) {
      if (err instanceof SkippedEntryError) return null;
      throw err;
    }
  }

  async whiteout(path: string): Promise<void> {
    this.count();
    const parts = path.split('/');
    const name = parts.pop()!;
    if (name === '' || name === '.' || name === '..' || parts.some((p) => p === '' || p === '.' || p === '..')) {
      this.notice('warning', `whiteout of ${JSON.stringify(path.slice(0, 200))} ignored: not a name in the image`, path);
      return;
    }
    if (overlongName(name)) return;
    const parent = await this.resolveExisting(parts.join('/'));
    if (!parent) return;
    const rel = [...parent, name];
    if (this.layerPaths.has(rel.join('/'))) return;
    await this.paths.remove(rel);
    this.dirCache.clear();
  }

  async opaqueDir(dir: string): Promise<void> {
    this.count();
    const parts = await this.resolveExisting(dir);
    if (!parts) return;
    try {
      if (!(await fs.lstat(await this.paths.path(parts))).isDirectory()) return;
    } catch (err) {
      if (errno(err) === 'ENOENT') return;
      throw err;
    }
    await this.purge(parts);
    this.dirCache.clear();
  }

  /** Removes everything under `parts` that this layer did not make. */
  private async purge(parts: string[]): Promise<void> {
    for (const child of await fs.readdir(await this.paths.path(parts), { withFileTypes: true })) {
      const cparts = [...parts, child.name];
      if (!this.layerPaths.has(cparts.join('/'))) await this.paths.remove(cparts);
      else if (child.isDirectory()) await this.purge(cparts);
    }
  }

  /** Applies directory modes, deepest first, to paths that are still real directories (no link on the way). */
  async finish(): Promise<void> {
    const realDir = new Map<string, boolean>();
    const isRealDir = async (key: string): Promise<boolean> => {
      const known = realDir.get(key);
      if (known !== undefined) return known;
      const slash = key.lastIndexOf('/');
      let ok = slash < 0 || (await isRealDir(key.slice(0, slash)));
      if (ok) {
        try {
          ok = (await fs.lstat(await this.paths.path(key.split('/')))).isDirectory();
        } catch {
          ok = false;
        }
      }
      realDir.set(key, ok);
      return ok;
    };
    const keys = [...this.dirModes.keys()].sort((a, b) => b.split('/').length - a.split('/').length);
    for (const key of keys) {
      if (await isRealDir(key)) await fs.chmod(await this.paths.path(key.split('/')), this.dirModes.get(key)!);
    }
    if (this.suppressed > 0) {
      this.result.notices.push({ level: 'warning', message: `${this.suppressed} more rootfs notices were left out` });
    }
    if (this.skippedSuppressed > 0) {
      this.result.skipped.push({ level: 'warning', message: `${this.skippedSuppressed} more entries were left out of the sandbox (Linux cannot hold them)` });
    }
  }
}

async function checkTarget(dir: string, ownership: RootfsOwnership | undefined): Promise<void> {
  let st;
  try {
    st = await fs.lstat(dir);
  } catch (err) {
    throw new RootfsError(`rootfs directory ${dir} is not usable: ${(err as Error).message}`);
  }
  if (!st.isDirectory()) throw new RootfsError(`rootfs directory ${dir} is not a directory (or is a symlink)`);
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new RootfsError(`rootfs directory ${dir} is not owned by this user`, 'give an empty directory this process created');
  }
  if ((await fs.readdir(dir)).length > 0) throw new RootfsError(`rootfs directory ${dir} is not empty`, 'give an empty directory this process created');
  if (ownership && typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new RootfsError('shifting rootfs ownership onto another id range needs root', 'run detonation as root');
  }
}

/**
 * Applies the image's layers in order into `dir` (empty, owned by us). Throws `RootfsError` when a limit is hit
 * or the target is unusable, and the walker's `ImageError`s for unreadable layers; `dir` is then partly filled and
 * the caller removes it. Suspicious but harmless entries (unsafe names, special files, dangling hardlinks) become
 * notices.
 */
export async function materialiseRootfs(image: ResolvedImage, dir: string, options: MaterialiseOptions): Promise<MaterialiseResult> {
  await checkTarget(dir, options.ownership);
  const progress = options.progress ?? silentProgress;
  const x = new Extractor(dir, options);
  await fs.chmod(dir, 0o755);
  if (options.ownership) await fs.chown(dir, options.ownership.uid, options.ownership.gid);
  const wrap = async (path: string, op: () => Promise<void>): Promise<void> => {
    try {
      await op();
    } catch (err) {
      if (err instanceof SkippedEntryError) {
        x.skip(err.message, path);
        return;
      }
      if (err instanceof ImageError) throw err;
      throw new RootfsError(`cannot materialise ${JSON.stringify(path.slice(0, 200))} of layer ${x.layer}: ${(err as Error).message}`);
    }
  };
  const visitor: LayerVisitor = {
    entry: () => true,
    content: () => Promise.resolve(),
    stream: (header, body) => wrap(header.path, () => x.entry(header, body)),
    whiteout: (path) => wrap(path, () => x.whiteout(path)),
    opaqueDir: (path) => wrap(path, () => x.opaqueDir(path)),
    notice: (n) => x.notice(n.level, n.message, n.path),
  };
  const budget = new ExpansionBudget(options.limits);
  try {
    for (const [i, layer] of image.layers.entries()) {
      // a layer applied again right after itself changes nothing: each entry is written again, each whiteout finds
      // its target gone, each opaque directory holds only what the layer itself put there
      const previous = image.layers[i - 1];
      if (previous && previous.digest === layer.digest && previous.diffId === layer.diffId) continue;
      x.startLayer(layer.index);
      const task = progress.task(`rootfs layer ${layer.index + 1}/${image.layers.length}`);
      const blob = await layer.open();
      try {
        await walkLayer(
          blob,
          { limits: options.limits, compressedSize: layer.size, expectedDiffId: layer.diffId, imageBudget: budget, onProgress: (n) => task.update(n) },
          visitor,
        );
      } catch (err) {
        task.finish('failed');
        blob.destroy();
        throw err;
      }
      task.finish();
    }
    await wrap('', () => x.finish());
  } finally {
    await x.paths.reset();
  }
  return x.result;
}
