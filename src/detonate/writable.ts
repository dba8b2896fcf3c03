/**
 * The run's writable layer: one host-side tmpfs per run (its size is the disk limit) under the run dir, holding
 *  - for a root kept as an `overlay` (runc and gVisor), an overlayfs upper and work dir: the container's root is
 *    overlayfs(lower = the materialised rootfs, upper on the tmpfs), mounted on the host side, writable like a
 *    Docker container's root (gVisor's gofer writes it: `--overlay2=none`), so a file dropped anywhere is read back;
 *  - for every runtime, the dirs bind-mounted on /tmp, /var/tmp and /run.
 * A runtime that keeps its root's writes in its own memory (`runtime`) runs on the materialised rootfs, and only what
 * it drops in /tmp, /var/tmp and /run (the binds) is readable here. No shipped runtime does so any more: gVisor did
 * (`--overlay2=root:memory`) until issue 16, and lost every file dropped elsewhere.
 * Whatever the sample wrote stays until `destroy()`, so `collectDropped` can list it after the run.
 * The tmpfs pages count against the memory cgroup of the process that wrote them (the sample, or gVisor's gofer).
 * The sample reads these mounts in /proc/self/mountinfo and df: they carry the names Docker's do (`tmpfs`,
 * `overlay`), the overlay's layers are named relative to the run dir, and the files bind-mounted on /etc live
 * here too (`filesDir`), so no host path, host disk or disk size of the host shows.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, chown, link, lstat, mkdir, opendir, statfs } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { findExecutable, runBounded } from './network/exec.js';
import { readHead, withRegularFile } from '../util/regular-file.js';
import { LongPaths } from '../util/long-paths.js';
import {
  DEFAULT_DROPPED_LIMITS,
  MAX_DROPPED_EXECUTABLE_PEEKS,
  MAX_DROPPED_WALK_DEPTH,
  MOUNT_TIMEOUT_MS,
  type DroppedLimits,
} from './limits.js';

export interface WritableOwner {
  uid: number;
  gid: number;
}

/**
 * Who keeps the writes to the container's root: an `overlay` this layer mounts (its upper layer on the run's tmpfs,
 * read back after the run), or the `runtime` itself (the root is then the materialised rootfs).
 */
export type WritableRoot = 'overlay' | 'runtime';

export interface WritableLayerOptions {
  runDir: string;
  /** The runtime's `sandbox.writableRoot`. */
  root: WritableRoot;
  /** Size of the tmpfs: the sample's disk budget. */
  sizeBytes: number;
  /** The materialised rootfs (the overlay's lower layer). */
  lowerDir: string;
  /** Where the overlay root is mounted (an empty dir). */
  mountPoint: string;
  /** Host ids of the container's root (its user namespace's, else 0). */
  owner: WritableOwner;
}

export interface WritableBind {
  destination: string;
  source: string;
}

export interface DroppedEntry {
  path: string;
  hostPath: string;
  size: number;
  mode: number;
  sha256: string;
}

const BIND_DIRS: readonly { destination: string; name: string; mode: number }[] = [
  { destination: '/tmp', name: 'tmp', mode: 0o1777 },
  { destination: '/var/tmp', name: 'var-tmp', mode: 0o1777 },
  { destination: '/run', name: 'run', mode: 0o755 },
];

export class WritableLayerError extends Error {
  override name = 'WritableLayerError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export function overlayfsAvailable(filesystems = readFileSync('/proc/filesystems', 'utf8')): boolean {
  return filesystems.split('\n').some((l) => l.trim().split(/\s+/).at(-1) === 'overlay');
}

function mountBinary(which: 'mount' | 'umount'): string {
  const bin = findExecutable(which);
  if (!bin) throw new WritableLayerError(`\`${which}\` not found`, 'install util-linux (apt-get install mount)');
  return bin;
}

/** Whether `path` is a mount point in this process's mount namespace. */
export function isMountPoint(path: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): boolean {
  const escaped = path.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
  return mountinfo.split('\n').some((l) => l.split(' ')[4] === escaped);
}

/** `umount`, then a lazy one when something still holds it (the run's processes are dead by then). */
export async function unmount(path: string): Promise<void> {
  if (!isMountPoint(path)) return;
  const bin = mountBinary('umount');
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = await runBounded(bin, [path], { timeoutMs: MOUNT_TIMEOUT_MS });
    if (r.code === 0 || !isMountPoint(path)) return;
    await new Promise((res) => setTimeout(res, 50 * (attempt + 1)));
  }
  const lazy = await runBounded(bin, ['-l', path], { timeoutMs: MOUNT_TIMEOUT_MS });
  if (lazy.code !== 0 && isMountPoint(path)) throw new WritableLayerError(`cannot unmount ${path}: ${lazy.stderr.trim().slice(0, 300)}`);
}

export class WritableLayer {
  readonly captureDir: string;
  readonly upperDir: string | undefined;
  readonly binds: WritableBind[];
  /** Where the bundle's /etc files (resolv.conf, hosts, hostname) go: on the tmpfs, not on the host's disk. */
  readonly filesDir: string;
  /** The container's root path for the bundle. */
  readonly rootPath: string;
  private mounted: string[] = [];

  private constructor(private readonly options: WritableLayerOptions) {
    this.captureDir = join(options.runDir, 'layer');
    this.upperDir = options.root === 'overlay' ? join(this.captureDir, 'diff') : undefined;
    this.binds = BIND_DIRS.map((b) => ({ destination: b.destination, source: join(this.captureDir, 'binds', b.name) }));
    this.filesDir = join(this.captureDir, 'etc');
    this.rootPath = options.root === 'overlay' ? options.mountPoint : options.lowerDir;
  }

  static async create(options: WritableLayerOptions): Promise<WritableLayer> {
    if (!(options.sizeBytes >= 1024 * 1024)) throw new WritableLayerError(`the writable layer must be at least 1 MiB (got ${options.sizeBytes})`);
    // overlayfs takes `,` and `:` as separators in its options
    for (const p of [options.runDir, options.lowerDir]) {
      if (/[,:\\\s]/.test(p)) throw new WritableLayerError(`the work directory path ${JSON.stringify(p)} contains a character overlayfs cannot take (, : \\ or a space)`, 'choose a plain work directory path');
    }
    if (options.root === 'overlay' && !overlayfsAvailable()) {
      throw new WritableLayerError('overlayfs is not available in this kernel (no "overlay" in /proc/filesystems)', 'load it with `modprobe overlay`');
    }
    const layer = new WritableLayer(options);
    try {
      await layer.setup();
    } catch (err) {
      await layer.destroy().catch(() => undefined);
      throw err;
    }
    return layer;
  }

  private async setup(): Promise<void> {
    const { sizeBytes, owner } = this.options;
    const mount = mountBinary('mount');
    await mkdir(this.captureDir, { mode: 0o711 });
    const size = Math.floor(sizeBytes);
    const inodes = Math.max(4096, Math.floor(size / 4096));
    const t = await runBounded(mount, ['-t', 'tmpfs', '-o', `size=${size},nr_inodes=${inodes},mode=0711,nosuid,nodev`, 'tmpfs', this.captureDir], { timeoutMs: MOUNT_TIMEOUT_MS });
    if (t.code !== 0) throw new WritableLayerError(`cannot mount the run's tmpfs on ${this.captureDir}: ${t.stderr.trim().slice(0, 300)}`);
    this.mounted.push(this.captureDir);
    await mkdir(join(this.captureDir, 'binds'), { mode: 0o711 });
    await mkdir(this.filesDir, { mode: 0o755 });
    for (const [i, b] of BIND_DIRS.entries()) {
      const dir = this.binds[i]!.source;
      await mkdir(dir);
      await chown(dir, owner.uid, owner.gid);
      await chmod(dir, b.mode);
    }
    if (this.upperDir) {
      const work = join(this.captureDir, 'work');
      const root = await lstat(this.options.lowerDir);
      await mkdir(this.upperDir);
      await mkdir(work, { mode: 0o700 });
      // overlayfs's root directory takes the upper dir's owner and mode
      await chown(this.upperDir, root.uid, root.gid);
      await chmod(this.upperDir, root.mode & 0o7777);
      // overlayfs shows its options as given: paths relative to the run dir (mount's cwd) keep the host's out of sight
      const runDir = this.options.runDir;
      const opts = `lowerdir=${relative(runDir, this.options.lowerDir)},upperdir=${relative(runDir, this.upperDir)},workdir=${relative(runDir, work)}`;
      const o = await runBounded(mount, ['-t', 'overlay', '-o', opts, 'overlay', this.options.mountPoint], { timeoutMs: MOUNT_TIMEOUT_MS, cwd: runDir });
      if (o.code !== 0) throw new WritableLayerError(`cannot mount the overlay root on ${this.options.mountPoint}: ${o.stderr.trim().slice(0, 300)}`);
      this.mounted.push(this.options.mountPoint);
    }
  }

  /** Whether the tmpfs is (nearly) full: less than 1/256 of it or of its inodes left. */
  async full(): Promise<boolean> {
    const s = await statfs(this.captureDir).catch(() => undefined);
    if (!s || s.blocks === 0) return false;
    const blocksLow = s.bavail <= Math.max(16, s.blocks / 256);
    const inodesLow = s.files > 0 && s.ffree <= Math.max(4, s.files / 256);
    return blocksLow || inodesLow;
  }

  /**
   * What the sample created or changed that is still there: regular files only, bounded, executables and scripts
   * first, at any depth (a file too deep for one syscall is hard-linked to a short name on the same tmpfs, so the
   * analysis can read it). `incomplete` says what the bounds left out.
   */
  async collectDropped(limits: DroppedLimits = DEFAULT_DROPPED_LIMITS): Promise<{ files: DroppedEntry[]; incomplete?: string }> {
    const roots: { host: string; container: string }[] = [];
    if (this.upperDir) roots.push({ host: this.upperDir, container: '/' });
    for (const b of this.binds) roots.push({ host: b.source, container: b.destination });
    const found: FoundFile[] = [];
    const walk: WalkState = { entries: limits.maxEntries, tooDeep: 0, truncated: false, linked: 0, linkDir: join(this.captureDir, 'collected') };
    for (const r of roots) {
      const paths = new LongPaths(r.host);
      try {
        await walkDropped(paths, [], r.container, walk, found);
      } finally {
        await paths.reset();
      }
    }
    let peeks = MAX_DROPPED_EXECUTABLE_PEEKS;
    for (const f of found) if (f.rank > 0 && f.size >= 2 && peeks-- > 0) f.rank = (await looksExecutable(f.hostPath)) ? 1 : 2;
    found.sort((a, b) => a.rank - b.rank || a.path.localeCompare(b.path));
    const out: DroppedEntry[] = [];
    let bytes = 0;
    let over = 0;
    for (const f of found) {
      if (out.length >= limits.maxFiles || bytes + f.size > limits.maxBytes) {
        over++;
        continue;
      }
      const sha256 = await hashFile(f.hostPath, f.size);
      if (sha256 === undefined) continue;
      bytes += f.size;
      out.push({ path: f.path, hostPath: f.hostPath, size: f.size, mode: f.mode, sha256 });
    }
    const missed = [
      walk.truncated ? `the walk stopped after ${limits.maxEntries} entries` : '',
      walk.tooDeep > 0 ? `${walk.tooDeep} directories deeper than ${MAX_DROPPED_WALK_DEPTH} levels were not entered` : '',
      over > 0 ? `${over} files past the limits of ${limits.maxFiles} files or ${limits.maxBytes} bytes were not collected` : '',
    ].filter(Boolean);
    return { files: out, ...(missed.length > 0 ? { incomplete: `not every file the sample left was collected: ${missed.join('; ')}` } : {}) };
  }

  /** Unmounts the overlay, then the tmpfs (which drops everything the sample wrote). Idempotent. */
  async destroy(): Promise<void> {
    const problems: string[] = [];
    while (this.mounted.length > 0) {
      const path = this.mounted.at(-1)!;
      try {
        await unmount(path);
        this.mounted.pop();
      } catch (err) {
        problems.push((err as Error).message);
        break;
      }
    }
    if (problems.length > 0) throw new WritableLayerError(problems.join('; '));
  }

  /** Whether everything this layer mounted is gone (the run dir may be removed then). */
  get unmounted(): boolean {
    return this.mounted.length === 0;
  }
}

interface FoundFile {
  path: string;
  hostPath: string;
  size: number;
  mode: number;
  rank: number;
}

interface WalkState {
  /** Directory entries left to look at. */
  entries: number;
  tooDeep: number;
  truncated: boolean;
  /** Hard links made for files too deep to name, and where. */
  linked: number;
  linkDir: string;
}

/** Walks one root below `paths.root`; `parts` are the names down to the directory being read. */
async function walkDropped(paths: LongPaths, parts: string[], containerDir: string, state: WalkState, out: FoundFile[]): Promise<void> {
  if (state.entries <= 0) {
    state.truncated = true;
    return;
  }
  if (parts.length > MAX_DROPPED_WALK_DEPTH) {
    state.tooDeep++;
    return;
  }
  let dir;
  try {
    dir = await opendir(await paths.path(parts), { bufferSize: 64 });
  } catch {
    return;
  }
  const subdirs: string[] = [];
  try {
    for await (const e of dir) {
      if (--state.entries < 0) {
        state.truncated = true;
        break;
      }
      if (e.isDirectory()) subdirs.push(e.name);
      else if (e.isFile()) {
        const at = await paths.path([...parts, e.name]);
        const st = await lstat(at).catch(() => undefined);
        if (!st?.isFile()) continue;
        const hostPath = at === join(paths.root, ...parts, e.name) ? at : await shortName(at, state);
        if (hostPath === undefined) continue;
        const mode = st.mode & 0o7777;
        out.push({ path: posix.join(containerDir, e.name), hostPath, size: st.size, mode, rank: mode & 0o111 ? 0 : 2 });
      }
      // symlinks, whiteouts (character devices 0/0), devices, FIFOs and sockets are not files the sample dropped
    }
  } finally {
    await dir.close().catch(() => undefined);
  }
  for (const name of subdirs.sort()) await walkDropped(paths, [...parts, name], posix.join(containerDir, name), state, out);
}

/** A short name for a file too deep for one syscall: a hard link on the same tmpfs, where the sample never looks. */
async function shortName(deepPath: string, state: WalkState): Promise<string | undefined> {
  if (state.linked === 0) await mkdir(state.linkDir, { mode: 0o700 }).catch(() => undefined);
  const name = join(state.linkDir, String(state.linked++));
  return link(deepPath, name).then(() => name, () => undefined);
}

/** `#!` or an ELF header: a program even without its x bit. */
async function looksExecutable(path: string): Promise<boolean> {
  const head = await withRegularFile(path, (handle) => readHead(handle, 4)).catch(() => undefined);
  return head !== undefined && (head.subarray(0, 2).toString('latin1') === '#!' || head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46])));
}

/** sha256 of a regular file, reading at most `size` bytes (the size seen by the walk); undefined if it is not one now. */
async function hashFile(path: string, size: number): Promise<string | undefined> {
  const hashed = withRegularFile(path, async (handle, now) => {
    if (now !== size) return undefined;
    const hash = createHash('sha256');
    const buf = Buffer.alloc(Math.min(1024 * 1024, Math.max(1, size)));
    let done = 0;
    while (done < size) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, size - done), done);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      done += bytesRead;
    }
    return hash.digest('hex');
  });
  return hashed.catch(() => undefined);
}
