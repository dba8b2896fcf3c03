import { BinaryFormatError } from './errors.js';

/**
 * Bounds-checked reads over a Buffer in one byte order. Every read throws a `BinaryFormatError` rather than
 * returning garbage or letting a RangeError escape; 64-bit sizes and offsets must fit in a JS number.
 */
export class ByteView {
  constructor(
    readonly buf: Buffer,
    readonly littleEndian: boolean,
  ) {}

  get length(): number {
    return this.buf.length;
  }

  check(offset: number, length: number, what: string): void {
    checkRange(this.buf.length, offset, length, what);
  }

  u8(offset: number, what = 'byte'): number {
    this.check(offset, 1, what);
    return this.buf[offset]!;
  }

  u16(offset: number, what = 'u16'): number {
    this.check(offset, 2, what);
    return this.littleEndian ? this.buf.readUInt16LE(offset) : this.buf.readUInt16BE(offset);
  }

  u32(offset: number, what = 'u32'): number {
    this.check(offset, 4, what);
    return this.littleEndian ? this.buf.readUInt32LE(offset) : this.buf.readUInt32BE(offset);
  }

  /** A 64-bit size or offset; refuses values a JS number cannot hold exactly. */
  u64(offset: number, what = 'u64'): number {
    this.check(offset, 8, what);
    const high = this.littleEndian ? this.buf.readUInt32LE(offset + 4) : this.buf.readUInt32BE(offset);
    // Below 2^21 in the high word the value is at most 2^53 - 1 (safe); above it, BigInt only to word the error.
    if (high >= 0x200000) throw new BinaryFormatError('too-large', `${what} is too large (${this.u64Big(offset, what)})`);
    const low = this.littleEndian ? this.buf.readUInt32LE(offset) : this.buf.readUInt32BE(offset + 4);
    return high * 0x100000000 + low;
  }

  /**
   * A 64-bit virtual address. Addresses only serve to map pointers back to file offsets (every such read is
   * bounds-checked again), so precision beyond 2^53 does not matter and is not an error.
   */
  address64(offset: number, what = 'address'): number {
    this.check(offset, 8, what);
    const high = this.littleEndian ? this.buf.readUInt32LE(offset + 4) : this.buf.readUInt32BE(offset);
    const low = this.littleEndian ? this.buf.readUInt32LE(offset) : this.buf.readUInt32BE(offset + 4);
    // One rounding of the exact value, as Number(bigint) does: high * 2^32 is exact in a double.
    return high * 0x100000000 + low;
  }

  /** A pointer-sized word: 4 or 8 bytes. */
  word(offset: number, size: 4 | 8, what = 'word'): number {
    return size === 8 ? this.address64(offset, what) : this.u32(offset, what);
  }

  bytes(offset: number, length: number, what = 'bytes'): Buffer {
    this.check(offset, length, what);
    return this.buf.subarray(offset, offset + length);
  }

  /** A NUL-terminated string of at most `maxLength` bytes (a missing terminator ends at the limit or the buffer's end). */
  cString(offset: number, maxLength: number, what = 'string'): string {
    this.check(offset, 0, what);
    const end = Math.min(this.buf.length, offset + maxLength);
    let i = offset;
    while (i < end && this.buf[i] !== 0) i++;
    return this.buf.toString('latin1', offset, i);
  }

  /** A fixed-width, NUL-padded name field (ELF has none; PE and Mach-O section names are like this). */
  fixedString(offset: number, width: number, what = 'name'): string {
    const raw = this.bytes(offset, width, what);
    const nul = raw.indexOf(0);
    return raw.toString('latin1', 0, nul < 0 ? width : nul);
  }

  private u64Big(offset: number, what: string): bigint {
    this.check(offset, 8, what);
    return this.littleEndian ? this.buf.readBigUInt64LE(offset) : this.buf.readBigUInt64BE(offset);
  }
}

/** Throws unless `[offset, offset + length)` lies inside a buffer of `size` bytes. */
export function checkRange(size: number, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new BinaryFormatError('out-of-bounds', `${what}: invalid offset ${offset} or length ${length}`);
  }
  if (offset > size || length > size - offset) {
    throw new BinaryFormatError(offset >= size ? 'out-of-bounds' : 'truncated', `${what} (${length} bytes at ${offset}) runs past the end of the file (${size} bytes)`);
  }
}
