export type Compression = 'gzip' | 'zstd' | 'bzip2' | 'xz' | 'none';

/** Layer compression from the first bytes (media types lie; magic numbers do not). eStargz is gzip. */
export function detectCompression(head: Buffer): Compression {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'BZh') return 'bzip2';
  if (head.length >= 6 && head[0] === 0xfd && head.toString('latin1', 1, 6) === '7zXZ\u0000') return 'xz';
  return 'none';
}
