import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readObjectMembers, type Member } from './json-members.js';

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(join(tmpdir(), 'detonate-members-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function members(content: string | Buffer, max = 1024 * 1024): Promise<{ members: Member[]; error?: string }> {
  const path = join(tmp, `m${Math.random().toString(36).slice(2)}.json`);
  await fs.writeFile(path, content);
  const out: Member[] = [];
  try {
    for await (const m of readObjectMembers(path, max)) out.push(m);
    return { members: out };
  } catch (err) {
    return { members: out, error: (err as Error).message };
  }
}

describe('streamed JSON object members', () => {
  it('reads values of every kind, with braces and escaped quotes inside strings, after a byte order mark', async () => {
    const value = { a: { s: 'x}]"{[\\', n: [1, { b: null }] }, 'k\\"ey': 'v', num: -1.5e3, t: true, n: null, u: 'ü€' };
    const { members: got, error } = await members(`\uFEFF${JSON.stringify(value, null, 2)}`);
    expect(error).toBeUndefined();
    expect(Object.fromEntries(got.map((m) => [m.key, 'value' in m ? m.value : m.skipped]))).toEqual(value);
  });

  it('reads members that span many read chunks', async () => {
    const big: Record<string, unknown> = {};
    for (let i = 0; i < 300; i++) big[`pkg${i}`] = { [`CVE-2024-${i}`]: { description: 'd'.repeat(9000 + i), releases: { bookworm: { status: 'open' } } } };
    const { members: got, error } = await members(JSON.stringify(big));
    expect(error).toBeUndefined();
    expect(got).toHaveLength(300);
    expect(got[299]).toEqual({ key: 'pkg299', value: big.pkg299 });
  });

  it('skips an oversized or malformed value and goes on; broken structure stops with the byte offset', async () => {
    const { members: got, error } = await members('{"a": [1, 2], "big": "' + 'x'.repeat(200) + '", "bad": tru, "c": {}}', 100);
    expect(error).toBeUndefined();
    expect(got).toEqual([
      { key: 'a', value: [1, 2] },
      { key: 'big', skipped: 'value is 202 bytes, over the 100 bytes limit' },
      { key: 'bad', skipped: expect.stringMatching(/^not valid JSON/) },
      { key: 'c', value: {} },
    ]);
    expect((await members('[1, 2]')).error).toBe('not a JSON object of members: expected { at byte 0');
    expect((await members('')).error).toBe('not a JSON object of members: empty file at byte 0');
    expect((await members('{"a": 1} {"b": 2}')).error).toBe('not a JSON object of members: data after the object at byte 9');
    const truncated = await members('{"a": 1, "b": {"c": [');
    expect(truncated.members).toEqual([{ key: 'a', value: 1 }]);
    expect(truncated.error).toMatch(/not closed \(truncated file\?\)/);
  });
});
