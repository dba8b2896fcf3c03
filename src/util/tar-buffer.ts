/**
 * The members of a tar archive held in memory (an archive found inside an image), for the static stage's unpacking.
 * Reads ustar, GNU long names and pax `path` records; never writes anything. Every size and offset comes from the
 * archive and is checked against the buffer, so a hostile archive ends the listing early, never a crash or a hang.
 */

const BLOCK = 512;

export interface TarMember {
  /** As stored (`/`-separated), not sanitised: never use it to write files. */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  /** The member's bytes are `size` bytes at `offset` of the buffer. */
  offset: number;
  size: number;
}

/** Whether the buffer starts with a tar header (the ustar magic, or a valid old-style header checksum). */
export function looksLikeTar(buf: Buffer): boolean {
  if (buf.length < BLOCK) return false;
  if (buf.subarray(257, 262).toString('latin1') === 'ustar') return checksumOk(buf.subarray(0, BLOCK));
  return false;
}

function checksumOk(header: Buffer): boolean {
  const stored = octal(header, 148, 8);
  if (stored === undefined) return false;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i]!;
  return sum === stored;
}

function octal(buf: Buffer, at: number, length: number): number | undefined {
  const text = buf.subarray(at, at + length).toString('latin1').replace(/\0.*$/s, '').trim();
  if (text === '') return 0;
  if (!/^[0-7]{1,12}$/.test(text)) return undefined;
  return parseInt(text, 8);
}

function cString(buf: Buffer, at: number, length: number): string {
  const field = buf.subarray(at, at + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? field.length : end).toString('utf8');
}

function typeOf(flag: string): TarMember['type'] {
  switch (flag) {
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

/** The archive's members in order, at most `maxMembers`; stops at the end marker or at the first unreadable header. */
export function listTar(buf: Buffer, maxMembers: number): TarMember[] {
  const members: TarMember[] = [];
  let at = 0;
  let longName: string | undefined;
  let paxPath: string | undefined;
  while (at + BLOCK <= buf.length && members.length < maxMembers) {
    const header = buf.subarray(at, at + BLOCK);
    if (header.every((b) => b === 0)) break;
    if (!checksumOk(header)) break;
    const size = octal(header, 124, 12);
    if (size === undefined) break;
    const dataAt = at + BLOCK;
    const flag = String.fromCharCode(header[156]!);
    const next = dataAt + Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'L') {
      longName = cString(buf, dataAt, Math.min(size, buf.length - dataAt));
    } else if (flag === 'x') {
      const records = buf.subarray(dataAt, Math.min(dataAt + size, buf.length)).toString('utf8');
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(records)?.[1];
    } else if (flag !== 'g') {
      const prefix = header.subarray(257, 262).toString('latin1') === 'ustar' ? cString(header, 345, 155) : '';
      const stored = cString(header, 0, 100);
      const name = paxPath ?? longName ?? (prefix ? `${prefix}/${stored}` : stored);
      const type = typeOf(flag);
      members.push({ name, type, mode: octal(header, 100, 8) ?? 0, offset: dataAt, size: type === 'file' ? Math.max(0, Math.min(size, buf.length - dataAt)) : 0 });
      longName = undefined;
      paxPath = undefined;
    }
    at = next;
  }
  return members;
}
