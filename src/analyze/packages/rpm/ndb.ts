/**
 * A reader of rpm's own "ndb" package database (`Packages.db`, SUSE since 15.3 / openSUSE), laid out as in rpm's
 * `lib/backend/ndb/rpmpkg.c`. All integers are little-endian.
 * - bytes 0–31: magic `RpmP`, version 0, generation, number of slot pages, next package index.
 * - the slot pages (4096 bytes each, the first starting after the 32-byte header): 16-byte slots
 *   `Slot`, package index, block offset, block count. A block is 16 bytes; offset 0 marks a free slot.
 * - each package is a blob at `block offset × 16`: head `BlbS`, package index, generation, length; then the
 *   header blob; then a tail (adler32, length, `BlbE`).
 */
import { ProblemLog } from './problems.js';

const DB_MAGIC = 0x506d7052; // "RpmP"
const SLOT_MAGIC = 0x746f6c53; // "Slot"
const BLOB_MAGIC = 0x53626c42; // "BlbS"
const HEADER_BYTES = 32;
const SLOT_BYTES = 16;
const BLOCK_BYTES = 16;
const SLOT_PAGE_BYTES = 4096;
const BLOB_HEAD_BYTES = 16;

export class NdbError extends Error {}

export function looksLikeNdb(file: Buffer): boolean {
  return file.length >= HEADER_BYTES && file.readUInt32LE(0) === DB_MAGIC;
}

/**
 * Calls `visit` with every package header blob of an ndb `Packages.db` until it returns false; returns the
 * problems met. Throws `NdbError` when the file is not one.
 */
export function forEachNdbBlob(file: Buffer, visit: (blob: Buffer) => boolean): ProblemLog {
  if (!looksLikeNdb(file)) throw new NdbError('not an rpm ndb database (bad magic)');
  const version = file.readUInt32LE(4);
  if (version !== 0) throw new NdbError(`unsupported ndb version ${version}`);
  const slotPages = file.readUInt32LE(12);
  if (slotPages === 0) throw new NdbError('ndb header names no slot pages');
  if (slotPages * SLOT_PAGE_BYTES > file.length) {
    throw new NdbError(`ndb header names ${slotPages} slot pages but the file has ${file.length} bytes`);
  }
  const firstDataBlock = (slotPages * SLOT_PAGE_BYTES) / BLOCK_BYTES;
  const fileBlocks = Math.floor(file.length / BLOCK_BYTES);
  const problems = new ProblemLog();

  for (let at = HEADER_BYTES; at < slotPages * SLOT_PAGE_BYTES; at += SLOT_BYTES) {
    if (file.readUInt32LE(at) !== SLOT_MAGIC) {
      problems.add(`slot at byte ${at} has no slot magic`);
      continue;
    }
    const packageIndex = file.readUInt32LE(at + 4);
    const blockOffset = file.readUInt32LE(at + 8);
    const blockCount = file.readUInt32LE(at + 12);
    if (blockOffset === 0) continue; // free slot
    if (packageIndex === 0 || blockOffset < firstDataBlock || blockCount === 0 || blockOffset + blockCount > fileBlocks) {
      problems.add(`slot for package ${packageIndex} points outside the data area`);
      continue;
    }
    const blobStart = blockOffset * BLOCK_BYTES;
    const blobLimit = (blockOffset + blockCount) * BLOCK_BYTES;
    if (blobStart + BLOB_HEAD_BYTES > blobLimit || file.readUInt32LE(blobStart) !== BLOB_MAGIC) {
      problems.add(`package ${packageIndex}: no blob at its block offset`);
      continue;
    }
    if (file.readUInt32LE(blobStart + 4) !== packageIndex) {
      problems.add(`package ${packageIndex}: blob belongs to another package`);
      continue;
    }
    const length = file.readUInt32LE(blobStart + 12);
    if (blobStart + BLOB_HEAD_BYTES + length > blobLimit) {
      problems.add(`package ${packageIndex}: blob of ${length} bytes overruns its ${blockCount} blocks`);
      continue;
    }
    if (!visit(file.subarray(blobStart + BLOB_HEAD_BYTES, blobStart + BLOB_HEAD_BYTES + length))) break;
  }
  return problems;
}
