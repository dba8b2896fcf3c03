import { closeSync, createReadStream, fstatSync, openSync, readSync, type BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { posix } from 'node:path';
import { ImageError } from '../errors.js';
import { parsePaxRecords, TAR_BLOCK, tarChecksumOk, tarMemberName, tarMemberType, tarNumber, tarString, type TarMemberType } from '../../util/tar-header.js';
import { MAX_ARCHIVE_LINK_HOPS, MAX_ARCHIVE_MEMBERS, MAX_ARCHIVE_METADATA_RECORD_BYTES } from '../limits.js';

/** One member of an image archive: where its bytes are in the archive file. */
export interface ArchiveMember {
  name: string;
  type: TarMemberType;
  offset: number;
  size: number;
  linkname?: string;
}

const BLOCK = TAR_BLOCK;

/** A numeric header field; a malformed one is a corrupt archive. */
function readOctal(buf: Buffer, start: number, len: number): number {
  const n = tarNumber(buf, start, len);
  if (n === undefined) throw new ImageError(`archive has a corrupt tar header (bad number "${tarString(buf, start, len).trim()}")`);
  return n;
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
        if (!tarChecksumOk(header)) {
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
          if (typeflag === 'L') longName = tarString(data, 0, size);
          else if (typeflag === 'K') longLink = tarString(data, 0, size);
          else if (typeflag === 'x') pax = parsePaxRecords(data);
          offset = next;
          continue;
        }
        const rawName = tarMemberName(header, pax, longName);
        const rawLink = pax.linkpath ?? longLink ?? tarString(header, 157, 100);
        const realSize = pax.size ? Number(pax.size) : size;
        longName = longLink = undefined;
        pax = {};
        const type = tarMemberType(typeflag);
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
