import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { corpusDir } from '../../test/support/paths.js';
import { ZipFormatError, listZip, looksLikeZip, newZipBudget, readZipEntry, writeZip, type ZipEntry } from './zip.js';

function expectZipError(fn: () => unknown, code: ZipFormatError['code']): void {
  let thrown: unknown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ZipFormatError);
  expect((thrown as ZipFormatError).code).toBe(code);
}

function entry(entries: ZipEntry[], name: string): ZipEntry {
  const e = entries.find((x) => x.name === name);
  if (!e) throw new Error(`no entry ${name}`);
  return e;
}

/** A zip64 archive (every size and offset saturated, real values in zip64 fields) holding `files`, stored. */
function zip64(files: { name: string; data: Buffer }[], declaredEntries?: number): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(45, 4);
    local.writeUInt16LE(name.length, 26);
    parts.push(local, name, f.data);
    const extra = Buffer.alloc(4 + 24);
    extra.writeUInt16LE(1, 0);
    extra.writeUInt16LE(24, 2);
    extra.writeBigUInt64LE(BigInt(f.data.length), 4);
    extra.writeBigUInt64LE(BigInt(f.data.length), 12);
    extra.writeBigUInt64LE(BigInt(offset), 20);
    const c = Buffer.alloc(46);
    c.writeUInt32LE(0x02014b50, 0);
    c.writeUInt16LE(45, 6);
    c.writeUInt32LE(crc32(f.data), 16);
    c.writeUInt32LE(0xffffffff, 20);
    c.writeUInt32LE(0xffffffff, 24);
    c.writeUInt16LE(name.length, 28);
    c.writeUInt16LE(extra.length, 30);
    c.writeUInt32LE(0xffffffff, 42);
    central.push(c, name, extra);
    offset += 30 + name.length + f.data.length;
  }
  const dir = Buffer.concat(central);
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeBigUInt64LE(BigInt(declaredEntries ?? files.length), 24);
  record.writeBigUInt64LE(BigInt(declaredEntries ?? files.length), 32);
  record.writeBigUInt64LE(BigInt(dir.length), 40);
  record.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + dir.length), 8);
  locator.writeUInt32LE(1, 16);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(0xffff, 8);
  end.writeUInt16LE(0xffff, 10);
  end.writeUInt32LE(0xffffffff, 12);
  end.writeUInt32LE(0xffffffff, 16);
  return Buffer.concat([...parts, dir, record, locator, end]);
}

describe('listZip / readZipEntry', () => {
  it('reads stored and deflated entries with UTF-8 names', () => {
    const zip = writeZip([
      { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n' },
      { name: 'stored.txt', data: 'kept as is', compress: false },
      { name: 'dir/', data: '' },
      { name: 'naïve/файл.txt', data: 'unicode' },
    ]);
    expect(looksLikeZip(zip)).toBe(true);
    const entries = listZip(zip);
    expect(entries.map((e) => [e.name, e.method, e.isDirectory])).toEqual([
      ['META-INF/MANIFEST.MF', 8, false],
      ['stored.txt', 0, false],
      ['dir/', 8, true],
      ['naïve/файл.txt', 8, false],
    ]);
    expect(readZipEntry(zip, entry(entries, 'META-INF/MANIFEST.MF')).toString()).toBe('Manifest-Version: 1.0\n');
    expect(readZipEntry(zip, entry(entries, 'stored.txt')).toString()).toBe('kept as is');
    expect(readZipEntry(zip, entry(entries, 'naïve/файл.txt')).toString()).toBe('unicode');
  });

  it('reads a real jar from the peer-scanner corpus, and the jar nested in it', () => {
    const jar = readFileSync(join(corpusDir, 'fixtures/trivy/pkg/dependency/parser/java/jar/testdata/nested.jar'));
    const entries = listZip(jar);
    expect(entries.map((e) => e.name)).toEqual(['META-INF/', 'META-INF/jars/', 'META-INF/jars/nested2.jar', 'META-INF/nested/', 'META-INF/nested/pom.properties']);
    expect(readZipEntry(jar, entry(entries, 'META-INF/nested/pom.properties')).toString()).toContain('artifactId=nested');
    const inner = readZipEntry(jar, entry(entries, 'META-INF/jars/nested2.jar'));
    expect(listZip(inner).map((e) => e.name)).toContain('META-INF/jars/nested3.jar');
  });

  it('reads zip64 archives', () => {
    const zip = zip64([{ name: 'a.txt', data: Buffer.from('first') }, { name: 'b.txt', data: Buffer.from('second') }]);
    const entries = listZip(zip);
    expect(entries.map((e) => [e.name, e.uncompressedSize])).toEqual([['a.txt', 5], ['b.txt', 6]]);
    expect(readZipEntry(zip, entry(entries, 'b.txt')).toString()).toBe('second');
  });

  it('reads archives made by Info-ZIP, including streamed (data descriptor) and forced-zip64 ones', () => {
    let hasZip = true;
    try {
      execFileSync('zip', ['-v'], { stdio: 'ignore' });
    } catch {
      hasZip = false;
    }
    if (!hasZip) return;
    const dir = mkdtempSync(join(tmpdir(), 'zip-test-'));
    try {
      writeFileSync(join(dir, 'hello.txt'), 'hello from info-zip\n'.repeat(50));
      const forced = join(dir, 'forced.zip');
      execFileSync('zip', ['-q', '-fz', forced, 'hello.txt'], { cwd: dir });
      const forcedZip = readFileSync(forced);
      expect(forcedZip.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
      expect(readZipEntry(forcedZip, entry(listZip(forcedZip), 'hello.txt')).toString()).toBe('hello from info-zip\n'.repeat(50));
      // From a pipe, zip cannot seek back: sizes follow the data in a descriptor (flag bit 3).
      const streamed = execFileSync('zip', ['-q', '-', '-'], { input: 'streamed text\n'.repeat(50) });
      const [piped] = listZip(streamed);
      expect(piped!.flags & 8).toBe(8);
      expect(readZipEntry(streamed, piped!).toString()).toBe('streamed text\n'.repeat(50));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads an archive with a launcher script prepended (self-executing jars)', () => {
    const zip = Buffer.concat([Buffer.from('#!/bin/sh\nexec java -jar "$0" "$@"\n'), writeZip([{ name: 'x.txt', data: 'payload' }])]);
    expect(looksLikeZip(zip)).toBe(false);
    const entries = listZip(zip);
    expect(readZipEntry(zip, entry(entries, 'x.txt')).toString()).toBe('payload');
  });

  it('stops a zip bomb by its ratio before inflating it', () => {
    const zeros = Buffer.alloc(20 * 1024 * 1024);
    const zip = writeZip([{ name: 'bomb.bin', data: zeros }]);
    expect(zip.length).toBeLessThan(100 * 1024);
    const [bomb] = listZip(zip);
    expectZipError(() => readZipEntry(zip, bomb!), 'ratio');
    expect(readZipEntry(zip, bomb!, { maxRatio: 10_000 }).length).toBe(zeros.length);
  });

  it('never inflates past an entry’s declared size (a lying header)', () => {
    const zip = writeZip([{ name: 'liar.bin', data: Buffer.alloc(4 * 1024 * 1024, 0x41) }]);
    const entries = listZip(zip);
    const liar = { ...entries[0]!, uncompressedSize: 100 };
    expectZipError(() => readZipEntry(zip, liar, { maxRatio: 1e9 }), 'corrupt-data');
    const short = { ...entries[0]!, uncompressedSize: 8 * 1024 * 1024 };
    expectZipError(() => readZipEntry(zip, short, { maxRatio: 1e9 }), 'corrupt-data');
  });

  it('refuses a directory declaring a million entries, at once', () => {
    const zip = zip64([{ name: 'a', data: Buffer.from('x') }], 1_000_000);
    const started = Date.now();
    expectZipError(() => listZip(zip), 'too-many-entries');
    expectZipError(() => listZip(zip, { maxEntries: undefined }), 'too-many-entries');
    expectZipError(() => listZip(zip, { maxEntries: 2_000_000 }), 'malformed');
    expect(Date.now() - started).toBeLessThan(100);
  });

  it('enforces the per-entry size and the shared budget of expanded bytes', () => {
    const zip = writeZip([{ name: 'a', data: Buffer.alloc(1000, 1) }, { name: 'b', data: Buffer.alloc(1000, 2) }]);
    const [a, b] = listZip(zip);
    expectZipError(() => readZipEntry(zip, a!, { maxEntryBytes: 999 }), 'too-large');
    const budget = newZipBudget();
    readZipEntry(zip, a!, { maxTotalBytes: 1500 }, budget);
    expect(budget.expandedBytes).toBe(1000);
    expectZipError(() => readZipEntry(zip, b!, { maxTotalBytes: 1500 }, budget), 'too-large');
  });

  it('detects corrupt data, unsupported methods and encryption', () => {
    const zip = writeZip([{ name: 'a.txt', data: 'some text here', compress: false }]);
    const [a] = listZip(zip);
    const flipped = Buffer.from(zip);
    const dataAt = 30 + 'a.txt'.length + 2;
    flipped[dataAt] = flipped[dataAt]! ^ 0xff;
    expectZipError(() => readZipEntry(flipped, a!), 'corrupt-data');
    expectZipError(() => readZipEntry(zip, { ...a!, method: 14 }), 'unsupported');
    expectZipError(() => readZipEntry(zip, { ...a!, encrypted: true }), 'unsupported');
  });

  it('gives typed errors for a directory outside the file and for non-archives', () => {
    const zip = writeZip([{ name: 'a', data: 'x' }]);
    const moved = Buffer.from(zip);
    moved.writeUInt32LE(0x7fffff00, moved.length - 6);
    expect(() => listZip(moved)).toThrow(ZipFormatError);
    expectZipError(() => listZip(Buffer.from('definitely not a zip archive')), 'not-zip');
    expectZipError(() => listZip(Buffer.alloc(0)), 'not-zip');
  });

  it('survives random corruption with typed errors only', () => {
    const zip = writeZip([{ name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\n'.repeat(20) }, { name: 'x/pom.properties', data: 'version=1', compress: false }]);
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let round = 0; round < 3000; round++) {
      const copy = Buffer.from(zip);
      for (let i = 0; i < 1 + (rand() % 6); i++) copy[rand() % copy.length] = rand() & 0xff;
      try {
        for (const e of listZip(copy)) readZipEntry(copy, e);
      } catch (err) {
        if (!(err instanceof ZipFormatError)) throw new Error(`round ${round}: ${(err as Error).stack}`);
      }
    }
  });
});
