import { listTar } from '../../util/tar-buffer.js';
import { listZip, readZipEntry, ZipFormatError } from '../../util/zip.js';
import { baseName, charge, inflateBounded, memberPath } from './content.js';
import type { Payload, UnpackBudget, UnpackInput, Unpacker } from './types.js';
import { MAX_ARCHIVE_MEMBERS, MAX_PAYLOAD_BYTES } from '../limits.js';

/** gzip and zlib streams: one payload, named as gzip recorded it or as the file without `.gz`. */
export const compressedUnpacker: Unpacker = {
  name: 'compressed',
  unpack(input: UnpackInput, budget: UnpackBudget): Payload[] {
    const { kind } = input;
    if (kind !== 'gzip' && kind !== 'zlib') return [];
    const out = inflateBounded(input.content, kind, budget);
    if (!out || !charge(budget, out.bytes.length)) return [];
    const stem = baseName(input.name).replace(/\.(t?gz|z|zz)$/i, (ext) => (ext.toLowerCase() === '.tgz' ? '.tar' : ''));
    const name = out.name ? baseName(out.name) : stem || 'decompressed';
    return [{ content: out.bytes, steps: [{ method: kind, ...(out.name ? { name: out.name } : {}) }], name, mode: 0o644 }];
  },
};

/** The regular files of a tar archive, by their member paths and modes. */
export const tarUnpacker: Unpacker = {
  name: 'tar',
  unpack(input: UnpackInput, budget: UnpackBudget): Payload[] {
    if (input.kind !== 'tar') return [];
    const payloads: Payload[] = [];
    for (const member of listTar(input.content, MAX_ARCHIVE_MEMBERS)) {
      if (member.type !== 'file' || member.size === 0 || !input.keep(memberPath(member.name), member.mode, member.size)) continue;
      if (member.size > MAX_PAYLOAD_BYTES || !charge(budget, member.size)) break;
      payloads.push({
        content: input.content.subarray(member.offset, member.offset + member.size),
        steps: [{ method: 'tar', name: member.name, offset: member.offset, length: member.size }],
        name: memberPath(member.name),
        mode: member.mode,
      });
    }
    return payloads;
  },
};

/** The files of a zip (or jar) archive that can be read (stored or deflated, not encrypted). */
export const zipUnpacker: Unpacker = {
  name: 'zip',
  unpack(input: UnpackInput, budget: UnpackBudget): Payload[] {
    if (input.kind !== 'zip') return [];
    const payloads: Payload[] = [];
    try {
      const limits = { maxEntries: MAX_ARCHIVE_MEMBERS, maxEntryBytes: MAX_PAYLOAD_BYTES, maxTotalBytes: budget.bytesLeft };
      for (const entry of listZip(input.content, limits)) {
        if (entry.isDirectory || entry.encrypted || entry.uncompressedSize === 0 || !input.keep(memberPath(entry.name), 0o644, entry.uncompressedSize)) continue;
        if (!charge(budget, entry.uncompressedSize)) break;
        let content: Buffer;
        try {
          content = readZipEntry(input.content, entry, limits);
        } catch (err) {
          if (!(err instanceof ZipFormatError)) throw err;
          continue;
        }
        payloads.push({ content, steps: [{ method: 'zip', name: entry.name }], name: memberPath(entry.name), mode: 0o644 });
      }
    } catch (err) {
      if (!(err instanceof ZipFormatError)) throw err;
      budget.notes.push(`zip archive could not be read: ${err.message}`);
    }
    return payloads;
  },
};
