import { closeSync, createReadStream, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { posix } from 'node:path';
import { ImageError } from '../errors.js';
import { MAX_ARCHIVE_LINK_HOPS, MAX_ARCHIVE_MEMBERS, MAX_ARCHIVE_METADATA_RECORD_BYTES } from '../limits.js';

/** One member of an image archive: where its bytes are in the archive file. */
export interface ArchiveMember {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  offset: number;
  size: number;
  linkname?: string;
}

const BLOCK = 512;

function readString(buf: Buffer, start: number, len: number): string {
  const slice = buf.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul < 0 ? slice.length : nul).toString('utf8');
}

function readOctal(buf: Buffer, start: number, len: number): number {
  const field = buf.subarray(start, start + len);
  // GNU base-256 encoding for large sizes
  if (field[0]! & 0x80) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = readString(buf, start, len).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new ImageError(`archive has a corrupt tar header (bad number "${text}")`);
  return parseInt(text, 8);
}

function checksumOk(header: Buffer): boolean {
  let stored: number;
  try {
    stored = readOctal(header, 148, 8);
  } catch {
    return false;
  }
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  return sum === stored;
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(data.subarray(pos, space).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0 || pos + len > data.length) break;
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

function normaliseMemberName(name: string): string {
  return posix.normalize(name.replace(/^\.?\/+/, '')).replace(/\/+$/, '');
}

/**
 * Index of an image archive (docker save, oci-archive): reads only the 512-byte headers and seeks over the data, so
 * a multi-gigabyte archive is indexed in milliseconds and its layers are later streamed straight from the file.
 */
export class TarIndex {
  private constructor(
    readonly path: string,
    private readonly members: Map<string, ArchiveMember>,
    /** The archive file as it was indexed (device, inode, times): the identity its layers' digests are remembered by. */
    readonly stat: BigIntStats,
  ) {}

  static async open(path: string): Promise<TarIndex> {
    // Synchronous reads: indexing touches only a few 512-byte headers, and thread-pool round trips for each were
    // a measurable part of a cached re-scan.
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ImageError(`cannot open archive ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    try {
      const stat = fstatSync(fd, { bigint: true });
      const fileSize = Number(stat.size);
      const members = new Map<string, ArchiveMember>();
      const header = Buffer.alloc(BLOCK);
      let offset = 0;
      let longName: string | undefined;
      let longLink: string | undefined;
      let pax: Record<string, string> = {};
      let zeroBlocks = 0;
      while (offset + BLOCK <= fileSize) {
        const bytesRead = readSync(fd, header, 0, BLOCK, offset);
        if (bytesRead < BLOCK) break;
        if (header.every((b) => b === 0)) {
          if (++zeroBlocks >= 2) break;
          offset += BLOCK;
          continue;
        }
        zeroBlocks = 0;
        if (!checksumOk(header)) {
          if (members.size === 0) throw new ImageError(`${path} is not a tar archive`, 'pass a file made by `docker save`, `skopeo copy … docker-archive:` or `oci-archive:`');
          throw new ImageError(`${path} has a corrupt tar header at byte ${offset}`, 'the archive is damaged; re-create it');
        }
        const typeflag = String.fromCharCode(header[156]!);
        const size = readOctal(header, 124, 12);
        const dataOffset = offset + BLOCK;
        if (dataOffset + size > fileSize) {
          throw new ImageError(`${path} is truncated: a member needs ${size} bytes at ${dataOffset} but the file has ${fileSize}`, 'the archive was cut short; re-create it');
        }
        const next = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
        if (typeflag === 'L' || typeflag === 'K' || typeflag === 'x' || typeflag === 'g') {
          if (size > MAX_ARCHIVE_METADATA_RECORD_BYTES) throw new ImageError(`${path} has an oversized tar metadata record (${size} bytes)`);
          const data = Buffer.alloc(size);
          readSync(fd, data, 0, size, dataOffset);
          if (typeflag === 'L') longName = readString(data, 0, size);
          else if (typeflag === 'K') longLink = readString(data, 0, size);
          else if (typeflag === 'x') pax = parsePax(data);
          offset = next;
          continue;
        }
        const prefix = readString(header, 345, 155);
        const baseName = readString(header, 0, 100);
        const rawName = pax.path ?? longName ?? (prefix ? `${prefix}/${baseName}` : baseName);
        const rawLink = pax.linkpath ?? longLink ?? readString(header, 157, 100);
        const realSize = pax.size ? Number(pax.size) : size;
        longName = longLink = undefined;
        pax = {};
        const type: ArchiveMember['type'] =
          typeflag === '0' || typeflag === '\0' || typeflag === '7' ? 'file'
            : typeflag === '5' ? 'directory'
              : typeflag === '2' ? 'symlink'
                : typeflag === '1' ? 'hardlink'
                  : 'other';
        const name = normaliseMemberName(rawName);
        if (members.size >= MAX_ARCHIVE_MEMBERS) throw new ImageError(`${path} has more than ${MAX_ARCHIVE_MEMBERS} members`, 'this is not an image archive, or a hostile one');
        members.set(name, { name, type, offset: dataOffset, size: realSize, ...(rawLink ? { linkname: rawLink } : {}) });
        offset = next;
      }
      return new TarIndex(path, members, stat);
    } finally {
      closeSync(fd);
    }
  }

  /** The archive file's identity now (device, inode, size, times): `stat` unless the file was changed since it was indexed. */
  currentStat(): Promise<BigIntStats> {
    return stat(this.path, { bigint: true });
  }

  /** The member named `name`, following symlinks and hardlinks inside the archive (bounded). */
  get(name: string): ArchiveMember | undefined {
    let current = this.members.get(normaliseMemberName(name));
    for (let hops = 0; current && hops < MAX_ARCHIVE_LINK_HOPS; hops++) {
      if (current.type === 'file') return current;
      if (current.type !== 'symlink' && current.type !== 'hardlink') return undefined;
      const target = current.type === 'symlink' ? posix.join(posix.dirname(current.name), current.linkname ?? '') : current.linkname ?? '';
      current = this.members.get(normaliseMemberName(target));
    }
    return undefined;
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  names(): string[] {
    return [...this.members.keys()];
  }

  async read(name: string, maxBytes: number): Promise<Buffer> {
    const m = this.get(name);
    if (!m) throw new ImageError(`archive ${this.path} has no ${name}`);
    if (m.size > maxBytes) throw new ImageError(`${name} in ${this.path} is ${m.size} bytes, over the ${maxBytes}-byte limit`);
    return this.readAt(m.offset, m.size);
  }

  private readAt(offset: number, length: number): Buffer {
    const fd = openSync(this.path, 'r');
    try {
      const buf = Buffer.alloc(length);
      const n = readSync(fd, buf, 0, length, offset);
      return n === length ? buf : buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  }

  /** The first `n` bytes of a member (fewer if it is shorter), e.g. to sniff its compression. */
  async head(name: string, n: number): Promise<Buffer> {
    const m = this.get(name);
    if (!m) throw new ImageError(`archive ${this.path} has no ${name}`);
    return this.readAt(m.offset, Math.min(n, m.size));
  }

  stream(name: string): Readable {
    const m = this.get(name);
    if (!m) throw new ImageError(`archive ${this.path} has no ${name}`);
    if (m.size === 0) return Readable.from([]);
    return createReadStream(this.path, { start: m.offset, end: m.offset + m.size - 1, highWaterMark: 1024 * 1024 });
  }
}
