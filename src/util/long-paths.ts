/**
 * Paths below a directory that may be longer than one syscall takes. The kernel refuses a path of PATH_MAX (4,096)
 * bytes or more in any single call (ENAMETOOLONG), yet a tree may be far deeper: an image may name a file 4,096
 * characters down, and the host's prefix (the run dir) comes on top. Node has no openat, so an open directory
 * stands in for its path: `/proc/self/fd/<n>/<rest>` reaches whatever is below it in one short path. Such anchors
 * are opened every SEGMENT_BYTES of names, at places that depend only on the names above them (siblings share
 * them), and a few are kept open.
 *
 * A handed-out path is resolved by the kernel like any other: a link met on the way is followed. Callers hand in
 * components they checked (lstat, one at a time, as rootfs.ts does) or walked themselves, exactly as they would
 * `join` them; each anchor is opened with O_NOFOLLOW|O_DIRECTORY, so an anchor is never a link.
 */
import { constants, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_LONG_PATH_ANCHORS } from './limits.js';

/** Longest path handed out as it is (bytes): room is left for a name (NAME_MAX, 255) that a caller appends. */
const DIRECT_MAX_BYTES = 3584;
/** Bytes of names between two anchors (every name is at most 255, so a segment always holds one). */
const SEGMENT_BYTES = 2048;
const ANCHOR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** Errors `removeTree` retries, as `fs.rm`'s maxRetries does (something still letting go of the tree). */
const RETRYABLE = new Set(['EBUSY', 'EMFILE', 'ENFILE', 'ENOTEMPTY', 'EPERM']);

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

export class LongPaths {
  /** Prefix (names joined with `/`; the root is '') → its open directory, least recently used first. */
  private readonly anchors = new Map<string, FileHandle>();

  constructor(readonly root: string) {}

  /**
   * A path for `parts` (names below the root, no `.`, `..` or `/` in them) short enough for one syscall. Valid
   * until the next call on this object that opens anchors (keep at most two in use at once) or `reset()`.
   */
  async path(parts: readonly string[]): Promise<string> {
    const direct = join(this.root, ...parts);
    if (Buffer.byteLength(direct) <= DIRECT_MAX_BYTES) return direct;
    let base = await this.anchor('', this.root);
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < parts.length; i++) {
      const size = Buffer.byteLength(parts[i]!) + 1;
      if (bytes + size > SEGMENT_BYTES && i > start) {
        base = await this.anchor(parts.slice(0, i).join('/'), `${base}/${parts.slice(start, i).join('/')}`);
        start = i;
        bytes = 0;
      }
      bytes += size;
    }
    return start === parts.length ? base : `${base}/${parts.slice(start).join('/')}`;
  }

  /**
   * Removes whatever is at `parts` (a whole tree, depth first, never following a link; nothing there is fine),
   * then drops every anchor: one may have been below it.
   */
  async remove(parts: readonly string[]): Promise<void> {
    try {
      await this.removeAt([...parts]);
    } finally {
      await this.reset();
    }
  }

  /** Closes every anchor. Call it after anything below the root was removed or replaced: an anchor may be stale. */
  async reset(): Promise<void> {
    const handles = [...this.anchors.values()];
    this.anchors.clear();
    await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
  }

  private async anchor(key: string, openPath: string): Promise<string> {
    let handle = this.anchors.get(key);
    if (handle) {
      this.anchors.delete(key);
    } else {
      handle = await fs.open(openPath, ANCHOR_FLAGS);
    }
    this.anchors.set(key, handle);
    while (this.anchors.size > MAX_LONG_PATH_ANCHORS) {
      const [oldest, h] = this.anchors.entries().next().value!;
      this.anchors.delete(oldest);
      await h.close().catch(() => undefined);
    }
    return `/proc/self/fd/${handle.fd}`;
  }

  private async removeAt(parts: string[]): Promise<void> {
    let st;
    try {
      st = await fs.lstat(await this.path(parts));
    } catch (err) {
      if (errno(err) === 'ENOENT') return;
      throw err;
    }
    if (!st.isDirectory()) {
      await fs.unlink(await this.path(parts)).catch((err: unknown) => {
        if (errno(err) !== 'ENOENT') throw err;
      });
      return;
    }
    for (const name of await fs.readdir(await this.path(parts))) {
      parts.push(name);
      await this.removeAt(parts);
      parts.pop();
    }
    await fs.rmdir(await this.path(parts)).catch((err: unknown) => {
      if (errno(err) !== 'ENOENT') throw err;
    });
  }
}

/**
 * `rm -rf path` for trees of any depth (`fs.rm` builds every path in full and fails past PATH_MAX): never follows
 * a link, and a missing path is fine. Retries up to `maxRetries` times on the errors `fs.rm` retries.
 */
export async function removeTree(path: string, options: { maxRetries?: number } = {}): Promise<void> {
  const retries = options.maxRetries ?? 0;
  for (let attempt = 0; ; attempt++) {
    try {
      await new LongPaths(path).remove([]);
      return;
    } catch (err) {
      if (attempt >= retries || !RETRYABLE.has(errno(err) ?? '')) throw err;
      await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
    }
  }
}
