/**
 * Opening a file that a hostile image or sample may have planted: only ever a regular file, never through a symlink
 * (O_NOFOLLOW), never blocking on a FIFO (O_NONBLOCK), and never reading more than asked.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
/** What `open` says when the path is missing, a link, or a FIFO/socket nobody serves: not a regular file here. */
const NOT_HERE = new Set(['ENOENT', 'ELOOP', 'ENOTDIR', 'ENXIO']);

/**
 * Runs `use` on `path` when it is a regular file; undefined when it is not one (missing, a link, a FIFO, a device,
 * a directory). Other errors (permissions, I/O) are thrown.
 */
export async function withRegularFile<T>(path: string, use: (handle: FileHandle, size: number) => Promise<T>): Promise<T | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    if (NOT_HERE.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
  try {
    const st = await handle.stat();
    return st.isFile() ? await use(handle, st.size) : undefined;
  } finally {
    await handle.close();
  }
}

/** Reads up to `length` bytes from the start of an open file (fewer when it is shorter). */
export async function readHead(handle: FileHandle, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(buffer, got, length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buffer.subarray(0, got);
}

/** The first `maxBytes` of `path` when it is a regular file, else null. */
export async function readRegularFile(path: string, maxBytes: number): Promise<Buffer | null> {
  return (await withRegularFile(path, (handle, size) => readHead(handle, Math.min(size, maxBytes)))) ?? null;
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/**
 * Opens `relPath` beneath the directory `root` without following a symlink anywhere on the way: each directory is
 * opened relative to its parent's descriptor (through /proc/self/fd, as openat(2) with O_NOFOLLOW would), so a
 * link planted at any depth, or swapped in while the path is walked, leads nowhere. Resolves to the open file and
 * its size when it is a regular file, undefined when it is missing or not one; the caller closes the handle.
 */
export async function openRegularFileBeneath(root: string, relPath: string): Promise<{ handle: FileHandle; size: number } | undefined> {
  const parts = relPath.split('/').filter((p) => p !== '' && p !== '.');
  const name = parts.pop();
  if (name === undefined || name === '..' || parts.includes('..')) return undefined;
  let dir: FileHandle;
  try {
    dir = await open(root, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    if (NOT_HERE.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  }
  try {
    for (const part of parts) {
      const next = await open(`/proc/self/fd/${dir.fd}/${part}`, DIR_FLAGS);
      await dir.close();
      dir = next;
    }
    const handle = await open(`/proc/self/fd/${dir.fd}/${name}`, OPEN_FLAGS);
    const st = await handle.stat();
    if (st.isFile()) return { handle, size: st.size };
    await handle.close();
    return undefined;
  } catch (err) {
    if (NOT_HERE.has((err as NodeJS.ErrnoException).code ?? '')) return undefined;
    throw err;
  } finally {
    await dir.close();
  }
}
