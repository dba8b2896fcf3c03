import { promises as fs } from 'node:fs';
import { listZip, newZipBudget, readZipEntry, ZipFormatError, type ZipEntry } from '../../util/zip.js';
import { FeedInputError, errorMessage, formatBytes, type Notice } from './common.js';

/**
 * Reads a ZIP archive on disk entry by entry (OSV's per-ecosystem `all.zip`, hundreds of MB): only the central
 * directory and one entry at a time are in memory. `src/util/zip.ts` works on a Buffer holding the whole archive, so
 * this reads the directory from the end of the file, hands it to `listZip` as a small archive of its own (a copy of
 * the directory followed by a zip64 end record pointing at offset 0, so every entry keeps its real file offset), and
 * gives each entry's bytes to `readZipEntry`, which does the bomb checks (declared size, ratio, running total, CRC).
 */

export interface ZipFileLimits {
  maxEntries: number;
  maxDirectoryBytes: number;
  maxEntryBytes: number;
  maxTotalBytes: number;
  maxRatio: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const ZIP64_EOCD_SIZE = 56;
const ZIP64_LOCATOR_SIZE = 20;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;

interface Directory {
  entries: number;
  size: number;
  offset: number;
  /** Bytes prepended to the archive (offsets in the archive are relative to its own start). */
  base: number;
}

async function readAt(handle: fs.FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  if (got !== length) throw new FeedInputError(`archive truncated: ${length} bytes at offset ${position} not available`);
  return buf;
}

function safeU64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FeedInputError('archive declares an impossible size or offset');
  return Number(v);
}

async function findDirectory(handle: fs.FileHandle, fileSize: number): Promise<Directory> {
  const tailLength = Math.min(fileSize, EOCD_SIZE + MAX_COMMENT + ZIP64_LOCATOR_SIZE + ZIP64_EOCD_SIZE);
  const tailStart = fileSize - tailLength;
  const tail = await readAt(handle, tailStart, tailLength);
  for (let at = tail.length - EOCD_SIZE; at >= 0; at--) {
    if (tail[at] !== 0x50 || tail.readUInt32LE(at) !== SIG_EOCD) continue;
    if (at + EOCD_SIZE + tail.readUInt16LE(at + 20) > tail.length) continue;
    let entries = tail.readUInt16LE(at + 10);
    let size = tail.readUInt32LE(at + 12);
    let offset = tail.readUInt32LE(at + 16);
    let endOfDirectory = tailStart + at;
    const locator = at - ZIP64_LOCATOR_SIZE;
    if (locator >= 0 && tail.readUInt32LE(locator) === SIG_ZIP64_LOCATOR) {
      const declared = safeU64(tail, locator + 8);
      // the declared offset ignores prepended data; the record normally sits just before the locator
      for (const position of [declared, tailStart + locator - ZIP64_EOCD_SIZE]) {
        if (position < 0 || position + ZIP64_EOCD_SIZE > tailStart + locator) continue;
        const record = await readAt(handle, position, ZIP64_EOCD_SIZE);
        if (record.readUInt32LE(0) !== SIG_ZIP64_EOCD) continue;
        entries = safeU64(record, 32);
        size = safeU64(record, 40);
        offset = safeU64(record, 48);
        endOfDirectory = position;
        break;
      }
    }
    const base = endOfDirectory - size - offset;
    if (base < 0) throw new FeedInputError('archive directory does not fit before its end record');
    return { entries, size, offset, base };
  }
  throw new FeedInputError('not a ZIP archive (no end-of-directory record)');
}

/** The directory bytes followed by a zip64 end record and locator describing them as starting at offset 0. */
function standaloneDirectory(directory: Buffer, entries: number): Buffer {
  const record = Buffer.alloc(ZIP64_EOCD_SIZE);
  record.writeUInt32LE(SIG_ZIP64_EOCD, 0);
  record.writeBigUInt64LE(BigInt(ZIP64_EOCD_SIZE - 12), 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(entries), 24);
  record.writeBigUInt64LE(BigInt(entries), 32);
  record.writeBigUInt64LE(BigInt(directory.length), 40);
  record.writeBigUInt64LE(0n, 48);
  const locator = Buffer.alloc(ZIP64_LOCATOR_SIZE);
  locator.writeUInt32LE(SIG_ZIP64_LOCATOR, 0);
  locator.writeBigUInt64LE(BigInt(directory.length), 8);
  locator.writeUInt32LE(1, 16);
  const end = Buffer.alloc(EOCD_SIZE);
  end.writeUInt32LE(SIG_EOCD, 0);
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([directory, record, locator, end]);
}

/** Lists the entries of the archive at `path` (offsets are file offsets). Throws FeedInputError. */
export async function listZipFile(handle: fs.FileHandle, limits: ZipFileLimits): Promise<ZipEntry[]> {
  const { size: fileSize } = await handle.stat();
  const dir = await findDirectory(handle, fileSize);
  if (dir.entries > limits.maxEntries) throw new FeedInputError(`archive declares ${dir.entries} entries (limit ${limits.maxEntries})`);
  if (dir.size > limits.maxDirectoryBytes) throw new FeedInputError(`archive directory is ${formatBytes(dir.size)} (limit ${formatBytes(limits.maxDirectoryBytes)})`);
  if (dir.base + dir.offset + dir.size > fileSize) throw new FeedInputError('archive directory lies outside the file (truncated download?)');
  const directory = await readAt(handle, dir.base + dir.offset, dir.size);
  try {
    const entries = listZip(standaloneDirectory(directory, dir.entries), { maxEntries: limits.maxEntries });
    for (const e of entries) e.localHeaderOffset += dir.base;
    return entries;
  } catch (err) {
    if (err instanceof ZipFormatError) throw new FeedInputError(`damaged archive: ${err.message}`);
    throw err;
  }
}

/**
 * The entries of the archive whose name `wanted` accepts, expanded one at a time. A damaged or oversized entry is
 * reported through `notice` and skipped; a damaged directory throws FeedInputError.
 */
export async function* readZipFileEntries(path: string, limits: ZipFileLimits, wanted: (name: string) => boolean, notice: Notice): AsyncGenerator<{ name: string; data: Buffer }> {
  const handle = await fs.open(path, 'r');
  try {
    const { size: fileSize } = await handle.stat();
    const entries = await listZipFile(handle, limits);
    const budget = newZipBudget();
    const zipLimits = { maxEntries: limits.maxEntries, maxEntryBytes: limits.maxEntryBytes, maxTotalBytes: limits.maxTotalBytes, maxRatio: limits.maxRatio, ratioCheckAfterBytes: 1024 * 1024 };
    for (const entry of entries) {
      if (entry.isDirectory || !wanted(entry.name)) continue;
      try {
        // checked before reading: readZipEntry checks them again on the bytes
        if (entry.uncompressedSize > limits.maxEntryBytes) {
          throw new FeedInputError(`expands to ${formatBytes(entry.uncompressedSize)}, over the ${formatBytes(limits.maxEntryBytes)} limit`);
        }
        if (entry.compressedSize > limits.maxEntryBytes + 1024) throw new FeedInputError(`is ${formatBytes(entry.compressedSize)} compressed, over the limit`);
        // one read for the local header, name, a usual extra field and the data; a second only for a long extra field
        const guess = Math.min(fileSize - entry.localHeaderOffset, LOCAL_SIZE + Buffer.byteLength(entry.name) + 256 + entry.compressedSize);
        if (guess < LOCAL_SIZE) throw new FeedInputError('local header lies outside the archive');
        let bytes = await readAt(handle, entry.localHeaderOffset, guess);
        if (bytes.readUInt32LE(0) !== SIG_LOCAL) throw new FeedInputError('bad local header');
        const length = LOCAL_SIZE + bytes.readUInt16LE(26) + bytes.readUInt16LE(28) + entry.compressedSize;
        if (length > bytes.length) bytes = await readAt(handle, entry.localHeaderOffset, length);
        const data = readZipEntry(bytes, { ...entry, localHeaderOffset: 0 }, zipLimits, budget);
        yield { name: entry.name, data };
      } catch (err) {
        if (err instanceof ZipFormatError && err.code === 'too-large' && budget.expandedBytes + entry.uncompressedSize > limits.maxTotalBytes) {
          notice(`archive expands beyond ${formatBytes(limits.maxTotalBytes)}; the remaining entries are skipped`);
          return;
        }
        if (err instanceof ZipFormatError || err instanceof FeedInputError) notice(`${entry.name.slice(0, 200)}: ${errorMessage(err)}; skipped`);
        else throw err;
      }
    }
  } finally {
    await handle.close();
  }
}
