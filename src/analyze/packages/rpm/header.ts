/**
 * An rpm header as stored in the rpm database (every backend stores the same blob): a big-endian index count
 * `il` and data length `dl`, then `il` 16-byte index entries `(tag, type, offset, count)`, then `dl` bytes of
 * data that the offsets point into. Only the tags a package inventory needs are read. Every offset and count
 * is checked against the blob, since the blob comes from the image.
 */
import { MAX_RPM_HEADER_DATA_BYTES, MAX_RPM_HEADER_STRING_BYTES, MAX_RPM_HEADER_TAGS } from '../../limits.js';

export const RPMTAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  LICENSE: 1014,
  VENDOR: 1011,
  ARCH: 1022,
  SOURCERPM: 1044,
  MODULARITYLABEL: 5096,
} as const;

const TYPE_INT32 = 4;
const TYPE_STRING = 6;
const TYPE_STRING_ARRAY = 8;
const TYPE_I18NSTRING = 9;

export interface RpmHeader {
  name?: string;
  version?: string;
  release?: string;
  epoch?: number;
  arch?: string;
  sourceRpm?: string;
  license?: string;
  vendor?: string;
  modularityLabel?: string;
}

export class RpmHeaderError extends Error {}

const WANTED = new Map<number, keyof RpmHeader>([
  [RPMTAG.NAME, 'name'],
  [RPMTAG.VERSION, 'version'],
  [RPMTAG.RELEASE, 'release'],
  [RPMTAG.EPOCH, 'epoch'],
  [RPMTAG.ARCH, 'arch'],
  [RPMTAG.SOURCERPM, 'sourceRpm'],
  [RPMTAG.LICENSE, 'license'],
  [RPMTAG.VENDOR, 'vendor'],
  [RPMTAG.MODULARITYLABEL, 'modularityLabel'],
]);

/** Reads the wanted tags of one header blob; throws `RpmHeaderError` when the blob's structure is broken. */
export function parseRpmHeader(blob: Buffer): RpmHeader {
  if (blob.length < 8) throw new RpmHeaderError(`header blob of ${blob.length} bytes is too short`);
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  if (il === 0 || il > MAX_RPM_HEADER_TAGS) throw new RpmHeaderError(`header claims ${il} index entries`);
  if (dl > MAX_RPM_HEADER_DATA_BYTES) throw new RpmHeaderError(`header claims ${dl} bytes of data`);
  const dataStart = 8 + il * 16;
  const dataEnd = dataStart + dl;
  if (dataEnd > blob.length) throw new RpmHeaderError(`header needs ${dataEnd} bytes but the blob has ${blob.length}`);

  const header: RpmHeader = {};
  for (let i = 0; i < il; i++) {
    const entry = 8 + i * 16;
    const tag = blob.readInt32BE(entry);
    const field = WANTED.get(tag);
    if (field === undefined || header[field] !== undefined) continue;
    const type = blob.readUInt32BE(entry + 4);
    const offset = blob.readInt32BE(entry + 8);
    const count = blob.readUInt32BE(entry + 12);
    if (offset < 0 || offset >= dl || count === 0) throw new RpmHeaderError(`tag ${tag} points outside the header data`);
    const at = dataStart + offset;
    if (field === 'epoch') {
      if (type !== TYPE_INT32 || at + 4 > dataEnd) throw new RpmHeaderError(`EPOCH tag has type ${type} or lies outside the data`);
      header.epoch = blob.readUInt32BE(at);
      continue;
    }
    if (type !== TYPE_STRING && type !== TYPE_I18NSTRING && type !== TYPE_STRING_ARRAY) {
      throw new RpmHeaderError(`tag ${tag} has type ${type}, not a string`);
    }
    // A string (or the first of an array) ends at its NUL, which must lie inside the data.
    const searchEnd = Math.min(dataEnd, at + MAX_RPM_HEADER_STRING_BYTES + 1);
    const nulInWindow = blob.subarray(at, searchEnd).indexOf(0);
    if (nulInWindow < 0) throw new RpmHeaderError(`tag ${tag} string is unterminated or too long`);
    header[field] = blob.toString('utf8', at, at + nulInWindow);
  }
  return header;
}

/**
 * `openssl-1.1.1k-5.el8.src.rpm` → `{ name: 'openssl', version: '1.1.1k', release: '5.el8' }`: a source rpm's file
 * name is `name-version-release.(no)src.rpm`, and neither version nor release may contain a hyphen.
 */
export function parseSourceRpmName(fileName: string): { name: string; version: string; release: string } | null {
  const base = /^(.*)\.(?:no)?src\.rpm$/.exec(fileName)?.[1];
  if (!base) return null;
  const releaseDash = base.lastIndexOf('-');
  if (releaseDash <= 0) return null;
  const versionDash = base.lastIndexOf('-', releaseDash - 1);
  if (versionDash <= 0) return null;
  const name = base.slice(0, versionDash);
  const version = base.slice(versionDash + 1, releaseDash);
  const release = base.slice(releaseDash + 1);
  if (!name || !version || !release) return null;
  return { name, version, release };
}
