import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readRegularFile } from './regular-file.js';

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
