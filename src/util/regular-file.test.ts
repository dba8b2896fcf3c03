import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openRegularFileBeneath, readRegularFile } from './regular-file.js';

describe('reading a file a hostile image may have planted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'detonate-regular-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'file'), 'hello world');
  symlinkSync(join(dir, 'file'), join(dir, 'link'));
  mkdirSync(join(dir, 'dir'));
  execFileSync('mkfifo', [join(dir, 'fifo')]);

  it('reads a regular file, at most the bytes asked for', async () => {
    expect((await readRegularFile(join(dir, 'file'), 5))?.toString()).toBe('hello');
    expect((await readRegularFile(join(dir, 'file'), 1000))?.toString()).toBe('hello world');
  });

  it('never follows a link, never blocks on a FIFO, and says null for anything that is not a regular file', async () => {
    expect(await readRegularFile(join(dir, 'link'), 100)).toBeNull();
    expect(await readRegularFile(join(dir, 'fifo'), 100)).toBeNull();
    expect(await readRegularFile(join(dir, 'dir'), 100)).toBeNull();
    expect(await readRegularFile(join(dir, 'missing'), 100)).toBeNull();
  });
});

describe('opening a file beneath a directory a hostile layout may have planted links in', () => {
  const root = mkdtempSync(join(tmpdir(), 'detonate-beneath-'));
  const outside = mkdtempSync(join(tmpdir(), 'detonate-outside-'));
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });
  mkdirSync(join(root, 'blobs/sha256'), { recursive: true });
  writeFileSync(join(root, 'blobs/sha256/abc'), 'blob');
  writeFileSync(join(outside, 'secret'), 'not yours');
  mkdirSync(join(outside, 'sha256'));
  writeFileSync(join(outside, 'sha256/abc'), 'not yours either');
  symlinkSync(join(outside, 'secret'), join(root, 'index.json'));
  symlinkSync(outside, join(root, 'linked'));
  mkdirSync(join(root, 'deep'));
  symlinkSync(join(outside, 'sha256'), join(root, 'deep/sha256'));
  execFileSync('mkfifo', [join(root, 'fifo')]);

  const read = async (rel: string): Promise<string | undefined> => {
    const opened = await openRegularFileBeneath(root, rel);
    if (!opened) return undefined;
    try {
      return (await opened.handle.readFile()).toString();
    } finally {
      await opened.handle.close();
    }
  };

  it('opens a regular file at any depth', async () => {
    expect(await read('blobs/sha256/abc')).toBe('blob');
    expect((await openRegularFileBeneath(root, 'blobs/sha256/abc'))?.size).toBe(4);
  });

  it('follows no link at the end or on the way, refuses .. and never blocks on a FIFO', async () => {
    expect(await read('index.json')).toBeUndefined();
    expect(await read('linked/secret')).toBeUndefined();
    expect(await read('deep/sha256/abc')).toBeUndefined();
    expect(await read('blobs/../index.json')).toBeUndefined();
    expect(await read('fifo')).toBeUndefined();
    expect(await read('blobs')).toBeUndefined();
    expect(await read('missing/file')).toBeUndefined();
  });
});
