import { constants, inflateRawSync, inflateSync } from 'node:zlib';
import { looksLikeTar } from '../../util/tar-buffer.js';
import { looksLikeZip } from '../../util/zip.js';
import type { ContentKind, UnpackBudget } from './types.js';
import { MAX_PAYLOAD_BYTES, MAX_UNPACK_RATIO, UNPACK_RATIO_CHECK_AFTER_BYTES } from '../limits.js';

/** What some bytes are, from their first bytes (and the tar header's magic). */
export function sniff(content: Buffer): ContentKind {
  if (content.length >= 3 && content[0] === 0x1f && content[1] === 0x8b && content[2] === 0x08) return 'gzip';
  if (content.length >= 4 && content.readUInt32BE(0) === 0x7f454c46) return 'elf';
  if (content.length >= 2 && content[0] === 0x4d && content[1] === 0x5a) return 'pe';
  if (looksLikeZip(content)) return 'zip';
  if (looksLikeTar(content)) return 'tar';
  if (content.length >= 2 && content[0] === 0x78 && [0x01, 0x5e, 0x9c, 0xda].includes(content[1]!) && (content.readUInt16BE(0) % 31 === 0)) return 'zlib';
  if (content.length >= 2 && content[0] === 0x23 && content[1] === 0x21) return 'script';
  return looksLikeCode(content) ? 'text' : 'data';
}

/** Printable text (at least 95% of the first 1 KiB) with something of a command or program in it. */
export function looksLikeCode(content: Buffer): boolean {
  const head = content.subarray(0, 1024);
  if (head.length < 8) return false;
  let printable = 0;
  for (const b of head) if ((b >= 0x20 && b < 0x7f) || b === 0x09 || b === 0x0a || b === 0x0d) printable++;
  if (printable / head.length < 0.95) return false;
  return /[ /;|&$(={]/.test(head.toString('latin1'));
}

/** A gzip member's header: where the deflate data starts and the original name, if it records one. */
function gzipHeader(data: Buffer): { dataAt: number; name?: string } | undefined {
  if (data.length < 10 || data[0] !== 0x1f || data[1] !== 0x8b || data[2] !== 0x08) return undefined;
  const flags = data[3]!;
  let at = 10;
  if (flags & 0x04) {
    if (at + 2 > data.length) return undefined;
    at += 2 + data.readUInt16LE(at);
  }
  let name: string | undefined;
  if (flags & 0x08) {
    const end = data.indexOf(0, at);
    if (end < 0) return undefined;
    name = data.subarray(at, Math.min(end, at + 255)).toString('latin1');
    at = end + 1;
  }
  if (flags & 0x10) {
    const end = data.indexOf(0, at);
    if (end < 0) return undefined;
    at = end + 1;
  }
  if (flags & 0x02) at += 2;
  return at <= data.length ? { dataAt: at, ...(name ? { name } : {}) } : undefined;
}

/**
 * Inflates gzip or zlib data within the budget: stops at the end of the (first) compressed stream whatever follows
 * it, keeps what a truncated stream gave, and refuses a bomb (over the ratio or the size bounds) with a note.
 */
export function inflateBounded(data: Buffer, format: 'gzip' | 'zlib', budget: UnpackBudget): { bytes: Buffer; name?: string } | undefined {
  const limit = Math.min(MAX_PAYLOAD_BYTES, budget.bytesLeft);
  if (limit <= 0) return undefined;
  const options = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: limit };
  let bytes: Buffer;
  let name: string | undefined;
  try {
    if (format === 'gzip') {
      const header = gzipHeader(data);
      if (!header) return undefined;
      name = header.name;
      bytes = inflateRawSync(data.subarray(header.dataAt), options);
    } else {
      bytes = inflateSync(data, options);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') budget.notes.push(`${format} data expands past ${limit} bytes; not unpacked`);
    return undefined;
  }
  if (bytes.length > UNPACK_RATIO_CHECK_AFTER_BYTES && bytes.length / Math.max(1, data.length) > MAX_UNPACK_RATIO) {
    budget.notes.push(`${format} data expands more than ${MAX_UNPACK_RATIO}x (a decompression bomb); not unpacked`);
    return undefined;
  }
  return { bytes, ...(name !== undefined ? { name } : {}) };
}

/** Takes `size` bytes from the budget; false (and a note, once) when the budget cannot pay for them. */
export function charge(budget: UnpackBudget, size: number): boolean {
  if (budget.payloadsLeft <= 0 || size > budget.bytesLeft) {
    if (!budget.notes.some((n) => n.startsWith('unpacking stopped'))) budget.notes.push('unpacking stopped at the per-file limit of payloads or bytes');
    return false;
  }
  budget.payloadsLeft--;
  budget.bytesLeft -= size;
  return true;
}

/**
 * A member or target path as the detectors see it: no leading `./` or `/`, no `..` steps. Only ever a name, never
 * written.
 */
export function memberPath(name: string): string {
  return name
    .split('/')
    .filter((part) => part !== '' && part !== '.' && part !== '..')
    .join('/');
}

/** `a/b/c.tar.gz` → `c.tar.gz`. */
export function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}
