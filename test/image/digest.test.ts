import { describe, expect, it } from 'vitest';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { digestOf, VerifyingStream } from '../../src/image/digest.js';

async function drain(data: Buffer, digest: string, size?: number): Promise<number> {
  let n = 0;
  await pipeline(Readable.from([data.subarray(0, 3), data.subarray(3)]), new VerifyingStream(digest, size), new Writable({ write(c, _e, cb) { n += c.length; cb(); } }));
  return n;
}

describe('VerifyingStream', () => {
  const data = Buffer.from('hello, layer');
  it('passes bytes through when digest and size match', async () => {
    expect(await drain(data, digestOf(data), data.length)).toBe(data.length);
  });
  it('rejects a digest mismatch', async () => {
    await expect(drain(data, digestOf('other'), data.length)).rejects.toThrow(/digest mismatch/);
  });
  it('rejects truncated and oversized streams', async () => {
    await expect(drain(data, digestOf(data), data.length + 5)).rejects.toThrow(/truncated/);
    await expect(drain(data, digestOf(data), 4)).rejects.toThrow(/larger than its declared size/);
  });
});
