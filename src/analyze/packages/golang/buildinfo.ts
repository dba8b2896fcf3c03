import { BinaryFormatError } from '../../binary/errors.js';
import { ByteView } from '../../binary/bytes.js';
import { detectExecutableFormat, readAtAddress, readExecutable, sectionBytes, type BinarySection, type Executable } from '../../binary/executable.js';
import { MAX_GO_BUILDINFO_CANDIDATES, MAX_GO_MODINFO_BYTES, MAX_GO_VERSION_BYTES } from '../../limits.js';

/**
 * Finds and reads the build information the Go linker embeds in every binary built with modules (Go ≥ 1.13):
 * a 32-byte header starting with `\xff Go buildinf:` followed, since Go 1.18, by the toolchain version and the
 * module information as length-prefixed strings, or, before 1.18, by two pointers to Go string headers.
 * See `debug/buildinfo` in the Go standard library for the reference reader.
 */

export const BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');
const HEADER_SIZE = 32;
const ALIGN = 16;
const FLAG_BIG_ENDIAN = 0x1;
const FLAG_INLINE_STRINGS = 0x2;

export interface RawBuildInfo {
  /** Toolchain as written, e.g. `go1.22.1` or `go1.22.1 X:boringcrypto`. */
  goVersion: string;
  /** Module information text with its sentinels removed (empty for GOPATH-mode builds). */
  modInfo: string;
  /** Where the header was found: a named section, a data section, or a scan of the whole file. */
  foundIn: string;
  /** `inline` since Go 1.18, `pointer` before. */
  layout: 'inline' | 'pointer';
}

/**
 * The build information of a Go binary, or `null` if the file is not one (no header found). Throws
 * `BinaryFormatError` when a header is found but what it describes is out of bounds or malformed.
 */
export function readGoBuildInfo(buf: Buffer): RawBuildInfo | null {
  const format = detectExecutableFormat(buf);
  let exe: Executable | undefined;
  try {
    exe = format ? readExecutable(buf) : undefined;
  } catch (err) {
    if (!(err instanceof BinaryFormatError)) throw err;
    // Damaged headers: the inline (Go ≥ 1.18) layout needs no address mapping, so a scan can still find it.
    exe = undefined;
  }

  let lastError: BinaryFormatError | undefined;
  for (const candidate of candidates(buf, exe)) {
    try {
      const info = decodeAt(candidate.data, candidate.at, exe);
      if (info) return { ...info, foundIn: candidate.where };
    } catch (err) {
      if (!(err instanceof BinaryFormatError)) throw err;
      lastError = err;
    }
  }
  if (lastError) throw lastError;
  return null;
}

interface Candidate {
  data: Buffer;
  at: number;
  where: string;
}

/** Places to look, most specific first: the dedicated section, writable data sections, then (if need be) the file. */
function* candidates(buf: Buffer, exe: Executable | undefined): Generator<Candidate> {
  if (exe) {
    const named = exe.sections.find((s) => s.name === '.go.buildinfo' || (s.name === '__go_buildinfo' && s.segment !== '__TEXT'));
    if (named) {
      const data = safeSectionBytes(exe, named);
      if (data && data.length >= HEADER_SIZE && data.subarray(0, BUILDINFO_MAGIC.length).equals(BUILDINFO_MAGIC)) {
        yield { data: exe.data, at: named.offset, where: named.name };
      }
    }
    // PE and older Mach-O binaries keep it near the start of the first writable data section; ELF binaries without
    // a section table keep it in a writable load segment (exposed as unnamed sections).
    for (const s of exe.sections) {
      if (!s.writable || s.fileSize === 0 || s === named) continue;
      const data = safeSectionBytes(exe, s);
      if (!data) continue;
      for (const at of alignedMatches(data)) yield { data: exe.data, at: s.offset + at, where: s.name || 'data segment' };
    }
    return;
  }
  let found = 0;
  for (let at = buf.indexOf(BUILDINFO_MAGIC); at >= 0 && found < MAX_GO_BUILDINFO_CANDIDATES; at = buf.indexOf(BUILDINFO_MAGIC, at + 1)) {
    found++;
    yield { data: buf, at, where: 'file scan' };
  }
}

function safeSectionBytes(exe: Executable, s: BinarySection): Buffer | undefined {
  try {
    return sectionBytes(exe, s);
  } catch (err) {
    if (err instanceof BinaryFormatError) return undefined;
    throw err;
  }
}

/** Offsets of the magic in `data` at 16-byte alignment relative to the section start, as the linker places it. */
function* alignedMatches(data: Buffer): Generator<number> {
  let seen = 0;
  for (let at = data.indexOf(BUILDINFO_MAGIC); at >= 0 && seen < MAX_GO_BUILDINFO_CANDIDATES; at = data.indexOf(BUILDINFO_MAGIC, at + 1)) {
    seen++;
    if (at % ALIGN === 0) yield at;
  }
}

function decodeAt(data: Buffer, at: number, exe: Executable | undefined): Omit<RawBuildInfo, 'foundIn'> | null {
  const v = new ByteView(data, true);
  v.check(at, HEADER_SIZE, 'Go build info header');
  if (!data.subarray(at, at + BUILDINFO_MAGIC.length).equals(BUILDINFO_MAGIC)) return null;
  const pointerSize = data[at + 14]!;
  const flags = data[at + 15]!;

  let goVersion: string;
  let modInfo: Buffer;
  let layout: RawBuildInfo['layout'];
  if (flags & FLAG_INLINE_STRINGS) {
    layout = 'inline';
    let p = at + HEADER_SIZE;
    const version = readVarintString(data, p, MAX_GO_VERSION_BYTES, 'Go version');
    p = version.next;
    const mod = readVarintString(data, p, MAX_GO_MODINFO_BYTES, 'module info');
    goVersion = version.value.toString('utf8');
    modInfo = mod.value;
  } else {
    layout = 'pointer';
    if (pointerSize !== 4 && pointerSize !== 8) throw new BinaryFormatError('malformed', `Go build info pointer size ${pointerSize}`);
    if (!exe) throw new BinaryFormatError('malformed', 'pre-1.18 Go build info needs readable executable headers to follow its pointers');
    const view = new ByteView(data, (flags & FLAG_BIG_ENDIAN) === 0);
    const versionHeader = view.word(at + 16, pointerSize, 'Go version pointer');
    const modHeader = view.word(at + 16 + pointerSize, pointerSize, 'module info pointer');
    goVersion = readGoString(exe, versionHeader, pointerSize, view.littleEndian, MAX_GO_VERSION_BYTES, 'Go version').toString('utf8');
    modInfo = readGoString(exe, modHeader, pointerSize, view.littleEndian, MAX_GO_MODINFO_BYTES, 'module info');
  }
  if (!/^(go\d|devel )/.test(goVersion)) throw new BinaryFormatError('malformed', `implausible Go version string ${JSON.stringify(goVersion.slice(0, 40))}`);
  return { goVersion, modInfo: stripSentinels(modInfo).toString('utf8'), layout };
}

/** A Go string header `{data pointer, length}` at `address`, and the bytes it points to. */
function readGoString(exe: Executable, address: number, pointerSize: 4 | 8, littleEndian: boolean, max: number, what: string): Buffer {
  const header = new ByteView(readAtAddress(exe, address, pointerSize * 2), littleEndian);
  const dataAddress = header.word(0, pointerSize, `${what} data pointer`);
  const length = header.word(pointerSize, pointerSize, `${what} length`);
  if (length > max) throw new BinaryFormatError('too-large', `${what} claims ${length} bytes`);
  return readAtAddress(exe, dataAddress, length);
}

/** An unsigned LEB128 length (as Go's `binary.Uvarint`) followed by that many bytes. */
function readVarintString(data: Buffer, at: number, max: number, what: string): { value: Buffer; next: number } {
  let length = 0;
  let shift = 0;
  let p = at;
  for (;;) {
    if (p >= data.length) throw new BinaryFormatError('truncated', `${what} length runs past the end of the file`);
    const byte = data[p++]!;
    if (shift >= 49) throw new BinaryFormatError('too-large', `${what} length does not fit`);
    length += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if ((byte & 0x80) === 0) break;
  }
  if (length > max) throw new BinaryFormatError('too-large', `${what} claims ${length} bytes`);
  if (length > data.length - p) throw new BinaryFormatError('out-of-bounds', `${what} (${length} bytes) runs past the end of the file`);
  return { value: data.subarray(p, p + length), next: p + length };
}

/** The module info is framed by two 16-byte binary sentinels, the last preceded by a newline. */
function stripSentinels(modInfo: Buffer): Buffer {
  if (modInfo.length >= 33 && modInfo[modInfo.length - 17] === 0x0a) return modInfo.subarray(16, modInfo.length - 16);
  return modInfo;
}
