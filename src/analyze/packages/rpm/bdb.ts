/**
 * A reader of Berkeley DB hash files, enough for rpm's legacy `Packages` database (RHEL/CentOS ≤ 8, Amazon
 * Linux 2, SLES ≤ 15.2). It walks the file page by page, without using the hash function: every key/value pair
 * sits on a hash page, either inline or, when large, on a chain of overflow pages. rpm's values are header blobs.
 *
 * Layout (all integers in the file's byte order, which the metadata page's magic reveals):
 * - page 0, the metadata page: magic 0x061561 at 12, page size at 20, encryption algorithm at 24, page type 8 at
 *   25, flags at 26 (bit 0: pages carry a checksum), last page number at 32.
 * - every page starts with a 26-byte header: next page at 16, entry count at 20, high free offset at 22, type
 *   at 25 (13 hash, 2 unsorted hash, 7 overflow); with checksums a 6-byte checksum area follows it.
 * - a hash page's header is followed by `entries` 2-byte offsets of its items, alternately key and value. Items
 *   are packed from the end of the page, so an item ends where the previous one in the index starts. An item's
 *   first byte is its kind: 1 inline data, 3 a reference to overflow pages (page number at 4, total length at 8).
 * - an overflow page holds `high free offset` bytes of data after its header and names the next page.
 *
 * Every page visit is bounded: each overflow page may be used once, so a hostile file that links chains into
 * loops or shares them between items costs at most one pass over the file.
 */

import { ProblemLog } from './problems.js';

const HASH_MAGIC = 0x061561;
const BTREE_MAGIC = 0x053162;
const PAGE_HEADER_BYTES = 26;
const CHECKSUM_BYTES = 6;
const METAFLAG_CHECKSUM = 0x01;

const PAGE_HASH_UNSORTED = 2;
const PAGE_OVERFLOW = 7;
const PAGE_HASH_META = 8;
const PAGE_HASH = 13;

const ITEM_KEYDATA = 1;
const ITEM_OFFPAGE = 3;
const OFFPAGE_ITEM_BYTES = 12;

export class BdbError extends Error {}

/**
 * Calls `visit` with every value stored in a Berkeley DB hash file, in file order, until it returns false.
 * Returns the items that could not be read (broken chains, offsets outside the page); the rest are still visited.
 * Throws `BdbError` when the file is not one it can read.
 */
export function forEachBdbHashValue(file: Buffer, visit: (value: Buffer) => boolean): ProblemLog {
  if (file.length < 512) throw new BdbError(`file of ${file.length} bytes is too small for a Berkeley DB`);
  let littleEndian: boolean;
  if (file.readUInt32LE(12) === HASH_MAGIC) littleEndian = true;
  else if (file.readUInt32BE(12) === HASH_MAGIC) littleEndian = false;
  else if (file.readUInt32LE(12) === BTREE_MAGIC || file.readUInt32BE(12) === BTREE_MAGIC) {
    throw new BdbError('Berkeley DB btree file, not the hash file rpm uses for Packages');
  } else throw new BdbError('not a Berkeley DB hash file (bad magic)');

  const u16 = (at: number) => (littleEndian ? file.readUInt16LE(at) : file.readUInt16BE(at));
  const u32 = (at: number) => (littleEndian ? file.readUInt32LE(at) : file.readUInt32BE(at));

  const pageSize = u32(20);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) throw new BdbError(`invalid page size ${pageSize}`);
  if (file[25] !== PAGE_HASH_META) throw new BdbError(`metadata page has type ${file[25]}, not hash metadata`);
  if (file[24] !== 0) throw new BdbError('encrypted Berkeley DB files cannot be read');
  const overhead = PAGE_HEADER_BYTES + ((file[26]! & METAFLAG_CHECKSUM) !== 0 ? CHECKSUM_BYTES : 0);

  // Every whole page of the file is looked at, whatever the metadata says: its last-page number may be stale.
  const pageCount = Math.floor(file.length / pageSize);
  const lastPage = u32(32);
  const problems = new ProblemLog();
  if (pageCount < lastPage + 1) problems.add(`file is truncated: metadata names ${lastPage + 1} pages, the file holds ${pageCount}`);

  const usedOverflowPages = new Uint8Array(pageCount);

  const readOverflow = (firstPage: number, totalLength: number): Buffer | string => {
    if (totalLength > file.length) return `overflow item claims ${totalLength} bytes, more than the file`;
    const chunks: Buffer[] = [];
    let remaining = totalLength;
    let page = firstPage;
    while (remaining > 0) {
      if (page === 0 || page >= pageCount) return `overflow chain leads to page ${page}, outside the file`;
      if (usedOverflowPages[page]) return `overflow page ${page} is used twice (loop or shared chain)`;
      usedOverflowPages[page] = 1;
      const start = page * pageSize;
      if (file[start + 25] !== PAGE_OVERFLOW) return `page ${page} in an overflow chain has type ${file[start + 25]}`;
      const onPage = u16(start + 22);
      if (onPage > pageSize - overhead) return `overflow page ${page} claims ${onPage} bytes`;
      const take = Math.min(onPage, remaining);
      if (take === 0) return `overflow page ${page} holds no data`;
      chunks.push(file.subarray(start + overhead, start + overhead + take));
      remaining -= take;
      page = u32(start + 16);
    }
    return Buffer.concat(chunks, totalLength);
  };

  for (let page = 1; page < pageCount; page++) {
    const start = page * pageSize;
    const type = file[start + 25];
    if (type !== PAGE_HASH && type !== PAGE_HASH_UNSORTED) continue;
    const entries = u16(start + 20);
    if (overhead + entries * 2 > pageSize) {
      problems.add(`hash page ${page} claims ${entries} entries`);
      continue;
    }
    const indexEnd = overhead + entries * 2;
    const itemOffset = (i: number) => u16(start + overhead + i * 2);
    // Pairs: index 2k is a key, 2k+1 its value. A value ends where its key (the item before it) starts.
    for (let key = 0; key + 1 < entries; key += 2) {
      const valueOffset = itemOffset(key + 1);
      const valueEnd = itemOffset(key);
      if (valueOffset < indexEnd || valueEnd > pageSize || valueOffset >= valueEnd) {
        problems.add(`hash page ${page} item ${key + 1} lies outside the page`);
        continue;
      }
      const kind = file[start + valueOffset];
      if (kind === ITEM_KEYDATA) {
        if (!visit(file.subarray(start + valueOffset + 1, start + valueEnd))) return problems;
      } else if (kind === ITEM_OFFPAGE) {
        if (valueOffset + OFFPAGE_ITEM_BYTES > valueEnd) {
          problems.add(`hash page ${page} item ${key + 1} is a truncated overflow reference`);
          continue;
        }
        const value = readOverflow(u32(start + valueOffset + 4), u32(start + valueOffset + 8));
        if (typeof value === 'string') problems.add(value);
        else if (!visit(value)) return problems;
      }
      // Duplicate-key items (kinds 2 and 4) are never written by rpm; they are skipped.
    }
  }
  return problems;
}

/** Whether the bytes look like a Berkeley DB file (hash or btree magic at offset 12, either byte order). */
export function looksLikeBdb(file: Buffer): boolean {
  if (file.length < 16) return false;
  return [HASH_MAGIC, BTREE_MAGIC].some((magic) => file.readUInt32LE(12) === magic || file.readUInt32BE(12) === magic);
}
