/**
 * The members of a tar archive held in memory (an archive found inside an image), for the static stage's unpacking.
 * Reads ustar, GNU long names and pax `path` records (tar-header.ts, as the image-archive index does); never writes
 * anything. Every size and offset comes from the archive and is checked against the buffer, so a hostile archive
 * ends the listing early, never a crash or a hang.
 */
import { parsePaxRecords, TAR_BLOCK, tarChecksumOk, tarMemberName, tarMemberType, tarNumber, tarString, type TarMemberType } from './tar-header.js';

export interface TarMember {
  /** As stored (`/`-separated), not sanitised: never use it to write files. */
  name: string;
  type: TarMemberType;
  mode: number;
  /** The member's bytes are `size` bytes at `offset` of the buffer. */
  offset: number;
  size: number;
}

/** Whether the buffer starts with a ustar header whose checksum holds. */
export function looksLikeTar(buf: Buffer): boolean {
  if (buf.length < TAR_BLOCK) return false;
  return buf.subarray(257, 262).toString('latin1') === 'ustar' && tarChecksumOk(buf.subarray(0, TAR_BLOCK));
}

/** The archive's members in order, at most `maxMembers`; stops at the end marker or at the first unreadable header. */
export function listTar(buf: Buffer, maxMembers: number): TarMember[] {
  const members: TarMember[] = [];
  let at = 0;
  let longName: string | undefined;
  let pax: Record<string, string> = {};
  while (at + TAR_BLOCK <= buf.length && members.length < maxMembers) {
    const header = buf.subarray(at, at + TAR_BLOCK);
    if (header.every((b) => b === 0)) break;
    if (!tarChecksumOk(header)) break;
    const size = tarNumber(header, 124, 12);
    if (size === undefined) break;
    const dataAt = at + TAR_BLOCK;
    const data = buf.subarray(dataAt, Math.min(dataAt + size, buf.length));
    const flag = String.fromCharCode(header[156]!);
    if (flag === 'L') {
      longName = tarString(data, 0, data.length);
    } else if (flag === 'x') {
      pax = parsePaxRecords(data);
    } else if (flag !== 'g') {
      const type = tarMemberType(flag);
      members.push({ name: tarMemberName(header, pax, longName), type, mode: tarNumber(header, 100, 8) ?? 0, offset: dataAt, size: type === 'file' ? data.length : 0 });
      longName = undefined;
      pax = {};
    }
    at = dataAt + Math.ceil(size / TAR_BLOCK) * TAR_BLOCK;
  }
  return members;
}
