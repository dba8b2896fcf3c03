/**
 * Reading tar headers (ustar, GNU long names, pax records), shared by the image-archive index (tar-index.ts, headers
 * read from a file) and the in-memory reader of archives found inside images (tar-buffer.ts). Every field is checked:
 * a malformed number is `undefined`, never a crash.
 */

export const TAR_BLOCK = 512;

/** A NUL-terminated string field. */
export function tarString(buf: Buffer, start: number, len: number): string {
  const slice = buf.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul < 0 ? slice.length : nul).toString('utf8');
}

/** A numeric field: octal text, or GNU base-256 for large sizes; undefined when it is neither. */
export function tarNumber(buf: Buffer, start: number, len: number): number | undefined {
  const field = buf.subarray(start, start + len);
  if (field.length > 0 && field[0]! & 0x80) {
    let n = 0;
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!;
    return n;
  }
  const text = tarString(buf, start, len).trim();
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

/** Whether a 512-byte header's checksum field matches its bytes. */
export function tarChecksumOk(header: Buffer): boolean {
  const stored = tarNumber(header, 148, 8);
  if (stored === undefined) return false;
  let sum = 0;
  for (let i = 0; i < TAR_BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
  return sum === stored;
}

/** The `key=value` records of a pax extended header. */
export function parsePaxRecords(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space < 0) break;
    const len = parseInt(data.subarray(pos, space).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0 || pos + len > data.length) break;
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

export type TarMemberType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

/** What a header's typeflag says the member is. */
export function tarMemberType(typeflag: string): TarMemberType {
  switch (typeflag) {
    case '0':
    case '\0':
    case '7':
      return 'file';
    case '5':
      return 'directory';
    case '2':
      return 'symlink';
    case '1':
      return 'hardlink';
    default:
      return 'other';
  }
}

/** A header's member name: pax `path`, else a GNU long name, else the ustar prefix and name. */
export function tarMemberName(header: Buffer, pax: Record<string, string>, longName: string | undefined): string {
  const prefix = tarString(header, 345, 155);
  const name = tarString(header, 0, 100);
  return pax.path ?? longName ?? (prefix ? `${prefix}/${name}` : name);
}
