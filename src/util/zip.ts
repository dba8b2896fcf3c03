import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from './limits.js';

/**
 * A small ZIP reader over a Buffer, for archives found inside images (Java archives, Python eggs, archives the
 * threat detectors look into). It reads the central directory, then single entries on request; it never
 * extracts to disk. Every count, size and offset comes from the file and is checked before use, so a hostile
 * archive yields a `ZipFormatError`, not a hang, a crash or a huge allocation.
 */

/** Running total of bytes expanded from one archive (and, if the caller wishes, the archives nested in it). */
export interface ZipBudget {
  expandedBytes: number;
}

export function newZipBudget(): ZipBudget {
  return { expandedBytes: 0 };
}

export type ZipErrorCode =
  | 'not-zip'
  | 'truncated'
  | 'malformed'
  | 'too-many-entries'
  | 'too-large'
  | 'ratio'
  | 'unsupported'
  | 'corrupt-data';

export class ZipFormatError extends Error {
  override readonly name = 'ZipFormatError';
  constructor(
    readonly code: ZipErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ZipEntry {
  /** Path inside the archive as stored (`/`-separated; directories end with `/`). Not sanitised: never use it to write files. */
  name: string;
  /** 0 stored, 8 deflate; others are listed but cannot be read. */
  method: number;
  flags: number;
  compressedSize: number;
  uncompressedSize: number;
  crc32: number;
  /** Absolute offset of the entry's local header in the buffer (any prepended data already accounted for). */
  localHeaderOffset: number;
  isDirectory: boolean;
  encrypted: boolean;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
const CENTRAL_SIZE = 46;
const LOCAL_SIZE = 30;
const MAX_COMMENT = 0xffff;
const SATURATED32 = 0xffffffff;
const SATURATED16 = 0xffff;

/** Cheap test of the first bytes: a local header or an empty archive. Archives with data prepended (self-extracting, launcher scripts) do not pass, but `listZip` reads them. */
export function looksLikeZip(buf: Buffer): boolean {
  return buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && ((buf[2] === 3 && buf[3] === 4) || (buf[2] === 5 && buf[3] === 6));
}

function limitsOf(limits: Partial<ZipLimits> | undefined): ZipLimits {
  const out: ZipLimits = { ...DEFAULT_ZIP_LIMITS };
  for (const key of Object.keys(out) as (keyof ZipLimits)[]) {
    const v = limits?.[key];
    if (typeof v === 'number' && !Number.isNaN(v)) out[key] = v;
  }
  return out;
}

function inFile(buf: Buffer, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset > buf.length || length > buf.length - offset) {
    throw new ZipFormatError('truncated', `${what} (${length} bytes at ${offset}) lies outside the archive (${buf.length} bytes)`);
  }
}

function u64(buf: Buffer, offset: number, what: string): number {
  const v = buf.readBigUInt64LE(offset);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ZipFormatError('too-large', `${what} is too large (${v})`);
  return Number(v);
}

interface Directory {
  entries: number;
  size: number;
  offset: number;
  /** Where the end record (or the zip64 end record) starts: the directory ends just before it. */
  endOffset: number;
}

function findEndOfDirectory(buf: Buffer): Directory {
  if (buf.length < EOCD_SIZE) throw new ZipFormatError('not-zip', 'too short to be a ZIP archive');
  const lowest = Math.max(0, buf.length - EOCD_SIZE - MAX_COMMENT);
  for (let at = buf.length - EOCD_SIZE; at >= lowest; at--) {
    if (buf[at] !== 0x50 || buf.readUInt32LE(at) !== SIG_EOCD) continue;
    const commentLength = buf.readUInt16LE(at + 20);
    if (at + EOCD_SIZE + commentLength > buf.length) continue;
    const dir: Directory = {
      entries: buf.readUInt16LE(at + 10),
      size: buf.readUInt32LE(at + 12),
      offset: buf.readUInt32LE(at + 16),
      endOffset: at,
    };
    const locator = at - 20;
    if (locator >= 0 && buf.readUInt32LE(locator) === SIG_ZIP64_LOCATOR) {
      const recordAt = u64(buf, locator + 8, 'zip64 end record offset');
      // The locator's offset ignores prepended data; if it does not point at the record, look just before the locator.
      const candidates = [recordAt, locator - 56];
      for (const r of candidates) {
        if (r >= 0 && r + 56 <= locator && buf.readUInt32LE(r) === SIG_ZIP64_EOCD) {
          return { entries: u64(buf, r + 32, 'zip64 entry count'), size: u64(buf, r + 40, 'zip64 directory size'), offset: u64(buf, r + 48, 'zip64 directory offset'), endOffset: r };
        }
      }
      if (dir.entries === SATURATED16 || dir.size === SATURATED32 || dir.offset === SATURATED32) {
        throw new ZipFormatError('malformed', 'zip64 end-of-directory record not found');
      }
    }
    return dir;
  }
  throw new ZipFormatError('not-zip', 'no end-of-central-directory record');
}

/**
 * Lists the entries of a ZIP archive from its central directory (zip64 included). Throws `ZipFormatError`
 * when the archive declares more than `limits.maxEntries` entries or its directory lies outside the buffer.
 */
export function listZip(buf: Buffer, limits?: Partial<ZipLimits>): ZipEntry[] {
  const lim = limitsOf(limits);
  const dir = findEndOfDirectory(buf);
  if (dir.entries > lim.maxEntries) throw new ZipFormatError('too-many-entries', `archive declares ${dir.entries} entries (limit ${lim.maxEntries})`);
  if (dir.entries * CENTRAL_SIZE > dir.size) throw new ZipFormatError('malformed', `central directory of ${dir.size} bytes cannot hold ${dir.entries} entries`);

  // Data prepended to the archive (a launcher script, a self-extractor stub) shifts every offset by `base`.
  let base = dir.endOffset - dir.size - dir.offset;
  if (base < 0) throw new ZipFormatError('malformed', 'central directory offset and size do not fit before its end record');
  if (base > 0 && dir.offset + 4 <= buf.length && buf.readUInt32LE(dir.offset) === SIG_CENTRAL) base = 0;
  const start = base + dir.offset;
  inFile(buf, start, dir.size, 'central directory');
  const end = start + dir.size;

  const entries: ZipEntry[] = [];
  let at = start;
  for (let i = 0; i < dir.entries; i++) {
    if (at + CENTRAL_SIZE > end) throw new ZipFormatError('truncated', `central directory ends after ${i} of ${dir.entries} entries`);
    if (buf.readUInt32LE(at) !== SIG_CENTRAL) throw new ZipFormatError('malformed', `bad central directory signature at entry ${i}`);
    const flags = buf.readUInt16LE(at + 8);
    const method = buf.readUInt16LE(at + 10);
    const crc = buf.readUInt32LE(at + 16);
    let compressedSize = buf.readUInt32LE(at + 20);
    let uncompressedSize = buf.readUInt32LE(at + 24);
    const nameLength = buf.readUInt16LE(at + 28);
    const extraLength = buf.readUInt16LE(at + 30);
    const commentLength = buf.readUInt16LE(at + 32);
    let localHeaderOffset = buf.readUInt32LE(at + 42);
    const variable = nameLength + extraLength + commentLength;
    if (at + CENTRAL_SIZE + variable > end) throw new ZipFormatError('truncated', `central directory entry ${i} runs past the directory`);
    const name = buf.toString('utf8', at + CENTRAL_SIZE, at + CENTRAL_SIZE + nameLength);

    if (compressedSize === SATURATED32 || uncompressedSize === SATURATED32 || localHeaderOffset === SATURATED32) {
      // Zip64 extended information: the saturated fields, in this order, in extra field 0x0001.
      let extra = at + CENTRAL_SIZE + nameLength;
      const extraEnd = extra + extraLength;
      let found = false;
      while (extra + 4 <= extraEnd) {
        const id = buf.readUInt16LE(extra);
        const size = buf.readUInt16LE(extra + 2);
        const dataEnd = extra + 4 + size;
        if (dataEnd > extraEnd) break;
        if (id === 0x0001) {
          let p = extra + 4;
          const next = (what: string) => {
            if (p + 8 > dataEnd) throw new ZipFormatError('malformed', `zip64 field ${what} missing in entry ${name}`);
            const v = u64(buf, p, what);
            p += 8;
            return v;
          };
          if (uncompressedSize === SATURATED32) uncompressedSize = next('uncompressed size');
          if (compressedSize === SATURATED32) compressedSize = next('compressed size');
          if (localHeaderOffset === SATURATED32) localHeaderOffset = next('local header offset');
          found = true;
          break;
        }
        extra = dataEnd;
      }
      if (!found) throw new ZipFormatError('malformed', `entry ${name} has saturated sizes but no zip64 field`);
    }

    entries.push({
      name,
      method,
      flags,
      compressedSize,
      uncompressedSize,
      crc32: crc,
      localHeaderOffset: base + localHeaderOffset,
      isDirectory: name.endsWith('/'),
      encrypted: (flags & 1) !== 0,
    });
    at += CENTRAL_SIZE + variable;
  }
  return entries;
}

/**
 * The expanded bytes of one entry (for stored entries, a view into `buf`: do not modify it). Checks the entry's
 * declared size against `maxEntryBytes`, its ratio against `maxRatio`, the running `budget` (if given) against
 * `maxTotalBytes`, caps inflation at the declared size, and verifies the size and CRC-32 of what comes out.
 */
export function readZipEntry(buf: Buffer, entry: ZipEntry, limits?: Partial<ZipLimits>, budget?: ZipBudget): Buffer {
  const lim = limitsOf(limits);
  if (entry.encrypted) throw new ZipFormatError('unsupported', `${entry.name} is encrypted`);
  if (entry.uncompressedSize > lim.maxEntryBytes) throw new ZipFormatError('too-large', `${entry.name} expands to ${entry.uncompressedSize} bytes (limit ${lim.maxEntryBytes})`);
  if (budget && budget.expandedBytes + entry.uncompressedSize > lim.maxTotalBytes) {
    throw new ZipFormatError('too-large', `reading ${entry.name} would expand the archive beyond ${lim.maxTotalBytes} bytes`);
  }
  if (entry.uncompressedSize > lim.ratioCheckAfterBytes && entry.uncompressedSize > entry.compressedSize * lim.maxRatio) {
    throw new ZipFormatError('ratio', `${entry.name} expands ${Math.round(entry.uncompressedSize / Math.max(1, entry.compressedSize))}:1 (limit ${lim.maxRatio}:1)`);
  }

  const at = entry.localHeaderOffset;
  inFile(buf, at, LOCAL_SIZE, `local header of ${entry.name}`);
  if (buf.readUInt32LE(at) !== SIG_LOCAL) throw new ZipFormatError('malformed', `bad local header signature for ${entry.name}`);
  const dataStart = at + LOCAL_SIZE + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
  inFile(buf, dataStart, entry.compressedSize, `data of ${entry.name}`);
  const raw = buf.subarray(dataStart, dataStart + entry.compressedSize);

  let out: Buffer;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.uncompressedSize) throw new ZipFormatError('malformed', `stored entry ${entry.name} has different compressed and expanded sizes`);
    out = raw;
  } else if (entry.method === 8) {
    try {
      out = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new ZipFormatError('corrupt-data', `${entry.name} expands beyond its declared ${entry.uncompressedSize} bytes`);
      throw new ZipFormatError('corrupt-data', `${entry.name}: ${(err as Error).message}`);
    }
  } else {
    throw new ZipFormatError('unsupported', `${entry.name} uses compression method ${entry.method}`);
  }
  if (out.length !== entry.uncompressedSize) throw new ZipFormatError('corrupt-data', `${entry.name} expanded to ${out.length} bytes, not the declared ${entry.uncompressedSize}`);
  if (crc32(out) !== entry.crc32) throw new ZipFormatError('corrupt-data', `${entry.name} fails its CRC-32 check`);
  if (budget) budget.expandedBytes += out.length;
  return out;
}

export interface ZipInput {
  name: string;
  data: Buffer | string;
  /** Deflate the entry (default) or store it. */
  compress?: boolean;
}

/**
 * Builds a ZIP archive in memory (stored or deflated entries, UTF-8 names, no zip64): for tests and fixtures of
 * every reader of archives, so they need no binary files checked in.
 */
export function writeZip(inputs: readonly ZipInput[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const input of inputs) {
    const data = Buffer.isBuffer(input.data) ? input.data : Buffer.from(input.data);
    const compress = input.compress ?? true;
    const body = compress ? deflateRawSync(data) : data;
    const name = Buffer.from(input.name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(LOCAL_SIZE);
    local.writeUInt32LE(SIG_LOCAL, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x800, 6);
    local.writeUInt16LE(compress ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(CENTRAL_SIZE);
    central.writeUInt32LE(SIG_CENTRAL, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x800, 8);
    central.writeUInt16LE(compress ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += LOCAL_SIZE + name.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(EOCD_SIZE);
  end.writeUInt32LE(SIG_EOCD, 0);
  end.writeUInt16LE(inputs.length, 8);
  end.writeUInt16LE(inputs.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}
