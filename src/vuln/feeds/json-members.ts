import { createReadStream } from 'node:fs';
import { FeedInputError, errorMessage, formatBytes } from './common.js';
import { MAX_JSON_MEMBER_NAME_BYTES } from './limits.js';

/** One member of the top-level object: its value parsed, or why it was skipped. */
export type Member = { key: string; value: unknown } | { key: string; skipped: string };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

type Phase = 'start' | 'key' | 'in-key' | 'colon' | 'value' | 'in-value' | 'after-value' | 'done';

/**
 * Streams the members of a file holding one big JSON object (`{ "openssl": {…}, "curl": {…} }`): each member's value
 * is collected and parsed on its own, so memory stays at one member (at most `maxMemberBytes`; a larger one is
 * skipped and reading goes on). Structural damage (a file that is not one object) throws FeedInputError after the
 * members read so far.
 */
export async function* readObjectMembers(path: string, maxMemberBytes: number): AsyncGenerator<Member> {
  let phase = 'start' as Phase;
  let offset = 0; // of the current chunk in the file
  // the current key or value
  let parts: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  let key = '';
  // value scanning state
  let depth = 0;
  let inString = false;
  let escaped = false;
  let scalar = false; // a number / true / false / null: ends at a delimiter

  const keep = (chunk: Buffer, from: number, to: number, limit: number) => {
    if (to <= from) return;
    size += to - from;
    if (tooLarge) return;
    if (size > limit) {
      tooLarge = true;
      parts = [];
      return;
    }
    parts.push(chunk.subarray(from, to));
  };
  const take = (): string => {
    const s = Buffer.concat(parts, size).toString('utf8');
    parts = [];
    size = 0;
    return s;
  };
  const fail = (at: number, what: string): never => {
    throw new FeedInputError(`not a JSON object of members: ${what} at byte ${at}`);
  };
  /** The member whose value just ended (the caller moves on to 'after-value'). */
  const finishValue = (): Member => {
    if (tooLarge) {
      const skipped = `value is ${formatBytes(size)}, over the ${formatBytes(maxMemberBytes)} limit`;
      tooLarge = false;
      parts = [];
      size = 0;
      return { key, skipped };
    }
    const raw = take();
    try {
      return { key, value: JSON.parse(raw) as unknown };
    } catch (err) {
      return { key, skipped: `not valid JSON (${errorMessage(err)})` };
    }
  };

  const stream = createReadStream(path, { highWaterMark: 1024 * 1024 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const ready: Member[] = [];
    let valueStart = phase === 'in-value' ? 0 : -1;
    let keyStart = phase === 'in-key' ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i] as number;
      switch (phase) {
        case 'start':
          if (i === 0 && offset === 0 && c === 0xef) {
            i += 2; // UTF-8 byte order mark
            continue;
          }
          if (isBlank(c)) continue;
          if (c !== OPEN_BRACE) fail(offset + i, 'expected {');
          phase = 'key';
          continue;
        case 'key':
          if (isBlank(c)) continue;
          if (c === CLOSE_BRACE) {
            phase = 'done';
            continue;
          }
          if (c !== QUOTE) fail(offset + i, 'expected a member name');
          phase = 'in-key';
          keyStart = i;
          escaped = false;
          continue;
        case 'in-key':
          if (escaped) escaped = false;
          else if (c === BACKSLASH) escaped = true;
          else if (c === QUOTE) {
            keep(chunk, keyStart, i + 1, MAX_JSON_MEMBER_NAME_BYTES);
            if (tooLarge) fail(offset + i, 'member name too long');
            const raw = take();
            try {
              key = JSON.parse(raw) as string;
            } catch {
              fail(offset + i, 'malformed member name');
            }
            phase = 'colon';
          }
          continue;
        case 'colon':
          if (isBlank(c)) continue;
          if (c !== COLON) fail(offset + i, 'expected :');
          phase = 'value';
          continue;
        case 'value':
          if (isBlank(c)) continue;
          phase = 'in-value';
          valueStart = i;
          depth = 0;
          inString = false;
          escaped = false;
          scalar = false;
          if (c === OPEN_BRACE || c === OPEN_BRACKET) depth = 1;
          else if (c === QUOTE) inString = true;
          else scalar = true;
          continue;
        case 'in-value':
          if (scalar) {
            if (isBlank(c) || c === COMMA || c === CLOSE_BRACE) {
              keep(chunk, valueStart, i, maxMemberBytes);
              ready.push(finishValue());
              phase = 'after-value';
              i--; // the delimiter is read again as what follows the value
            }
            continue;
          }
          if (inString) {
            if (escaped) escaped = false;
            else if (c === BACKSLASH) escaped = true;
            else if (c === QUOTE) {
              inString = false;
              if (depth === 0) {
                keep(chunk, valueStart, i + 1, maxMemberBytes);
                ready.push(finishValue());
                phase = 'after-value';
              }
            }
            continue;
          }
          if (c === QUOTE) inString = true;
          else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
          else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
            depth--;
            if (depth === 0) {
              keep(chunk, valueStart, i + 1, maxMemberBytes);
              ready.push(finishValue());
              phase = 'after-value';
            }
          }
          continue;
        case 'after-value':
          if (isBlank(c)) continue;
          if (c === COMMA) phase = 'key';
          else if (c === CLOSE_BRACE) phase = 'done';
          else fail(offset + i, 'expected , or }');
          continue;
        case 'done':
          if (!isBlank(c)) fail(offset + i, 'data after the object');
          continue;
      }
    }
    if (phase === 'in-value') keep(chunk, valueStart, chunk.length, maxMemberBytes);
    if (phase === 'in-key') {
      keep(chunk, keyStart, chunk.length, MAX_JSON_MEMBER_NAME_BYTES);
      if (tooLarge) fail(offset + chunk.length, 'member name too long');
    }
    offset += chunk.length;
    yield* ready;
  }
  if (phase === 'in-value' && scalar) {
    yield finishValue();
    fail(offset, 'the object is not closed (truncated file?)');
  }
  if (phase !== 'done') fail(offset, phase === 'start' ? 'empty file' : 'the object is not closed (truncated file?)');
}
