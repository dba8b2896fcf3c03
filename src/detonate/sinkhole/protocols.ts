/** Pure parsers for what the catch-all TCP listener hears: TLS ClientHello, HTTP request heads, SSH KEXINIT. */
import type { HttpRequestDetails, TlsDetails } from './events.js';
import {
  MAX_HTTP_HEADER_NAME_CHARS,
  MAX_HTTP_HEADER_VALUE_CHARS,
  MAX_HTTP_HEADERS,
  MAX_HTTP_PATH_CHARS,
  MAX_HTTP_TARGET_CHARS,
  MAX_SSH_ALGORITHM_CHARS,
  MAX_SSH_ALGORITHMS,
  MAX_SSH_PACKET_BYTES,
  MAX_TLS_ALPN_CHARS,
  MAX_TLS_HANDSHAKE_BYTES,
  MAX_TLS_LIST_ENTRIES,
  MAX_TLS_RECORD_BYTES,
  MAX_TLS_SNI_CHARS,
} from './limits.js';

class Short extends Error {}

/** Big-endian reader over a slice that throws `Short` instead of reading past its end. */
class Reader {
  constructor(
    private readonly b: Buffer,
    public pos = 0,
    private readonly end = b.length,
  ) {}
  private need(n: number): void {
    if (this.pos + n > this.end) throw new Short('truncated');
  }
  u8(): number {
    this.need(1);
    return this.b[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  u24(): number {
    this.need(3);
    const v = this.b.readUIntBE(this.pos, 3);
    this.pos += 3;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.b.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
  sub(n: number): Reader {
    this.need(n);
    const r = new Reader(this.b, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
  get left(): number {
    return this.end - this.pos;
  }
}

const hex4 = (v: number): string => '0x' + v.toString(16).padStart(4, '0');

function cleanText(b: Buffer, max = MAX_TLS_SNI_CHARS): string {
  // SNI and ALPN are ASCII by spec; hostile bytes are shown escaped rather than trusted.
  return Array.from(b.subarray(0, max), (c) => (c > 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, '0')}`)).join('');
}

/**
 * Reassembles the first handshake message from consecutive TLS records at the start of `buf` and parses it
 * as a ClientHello. Returns 'more' while the message is incomplete.
 */
export function parseTlsClientHello(buf: Buffer): TlsDetails | 'more' {
  const fail = (error: string): TlsDetails => ({
    clientHello: false, sni: null, alpn: [], version: null, supportedVersions: [], cipherSuites: 0, error,
  });
  const parts: Buffer[] = [];
  let have = 0;
  let pos = 0;
  let want = -1;
  while (want < 0 || have < want) {
    if (buf.length < pos + 5) return 'more';
    if (buf[pos] !== 0x16) return fail(`record type ${buf[pos]} before the ClientHello was complete`);
    const len = buf.readUInt16BE(pos + 3);
    if (len === 0 || len > MAX_TLS_RECORD_BYTES) return fail(`bad record length ${len}`);
    if (buf.length < pos + 5 + len) return 'more';
    parts.push(buf.subarray(pos + 5, pos + 5 + len));
    have += len;
    pos += 5 + len;
    if (want < 0 && have >= 4) {
      const hs = Buffer.concat(parts);
      if (hs[0] !== 1) return fail(`handshake type ${hs[0]}, not ClientHello`);
      want = 4 + hs.readUIntBE(1, 3);
      if (want > MAX_TLS_HANDSHAKE_BYTES) return fail('ClientHello longer than 64 KiB');
    }
  }
  const hs = Buffer.concat(parts);
  try {
    return clientHelloBody(new Reader(hs, 4, want));
  } catch (e) {
    if (e instanceof Short) return fail('ClientHello truncated');
    throw e;
  }
}

function clientHelloBody(r: Reader): TlsDetails {
  const version = r.u16();
  r.bytes(32);
  r.bytes(r.u8());
  const cipherLen = r.u16();
  r.bytes(cipherLen);
  r.bytes(r.u8());
  const out: TlsDetails = {
    clientHello: true, sni: null, alpn: [], version: hex4(version), supportedVersions: [], cipherSuites: cipherLen >> 1, error: null,
  };
  if (r.left === 0) return out;
  const exts = r.sub(r.u16());
  while (exts.left >= 4) {
    const type = exts.u16();
    const data = exts.sub(exts.u16());
    if (type === 0) {
      const list = data.sub(data.u16());
      while (list.left >= 3) {
        const nameType = list.u8();
        const name = list.bytes(list.u16());
        if (nameType === 0 && out.sni === null) out.sni = cleanText(name).toLowerCase();
      }
    } else if (type === 16) {
      const list = data.sub(data.u16());
      while (list.left >= 1 && out.alpn.length < MAX_TLS_LIST_ENTRIES) out.alpn.push(cleanText(list.bytes(list.u8()), MAX_TLS_ALPN_CHARS));
    } else if (type === 43) {
      const list = data.sub(data.u8());
      while (list.left >= 2 && out.supportedVersions.length < MAX_TLS_LIST_ENTRIES) out.supportedVersions.push(hex4(list.u16()));
    }
  }
  return out;
}

export const HTTP_METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'CONNECT', 'PATCH', 'TRACE', 'PROPFIND'];

export interface HttpHead {
  request: HttpRequestDetails;
  /** Bytes of the head, terminator included. */
  headLength: number;
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
}

const REQUEST_LINE = new RegExp(`^([A-Z]{3,10}) (\\S{1,${MAX_HTTP_TARGET_CHARS}}) (HTTP\\/\\d(?:\\.\\d)?)$`);

/** Parses a request head once `buf` holds it whole; 'more' until then, null when it is not HTTP after all. */
export function parseHttpHead(buf: Buffer): HttpHead | 'more' | null {
  let end = buf.indexOf('\r\n\r\n');
  let term = 4;
  const lf = buf.indexOf('\n\n');
  if (lf >= 0 && (end < 0 || lf < end)) {
    end = lf;
    term = 2;
  }
  if (end < 0) return 'more';
  const lines = buf.subarray(0, end).toString('latin1').split(/\r?\n/);
  const m = REQUEST_LINE.exec(lines[0] ?? '');
  if (!m) return null;
  const headers: Array<[string, string]> = [];
  let host: string | null = null;
  let userAgent: string | null = null;
  let contentLength = 0;
  let chunked = false;
  let connection = '';
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    if (lower === 'host' && host === null) host = value.slice(0, MAX_HTTP_HEADER_VALUE_CHARS);
    else if (lower === 'user-agent' && userAgent === null) userAgent = value.slice(0, MAX_HTTP_HEADER_VALUE_CHARS);
    else if (lower === 'content-length') contentLength = Math.max(0, Number.parseInt(value, 10) || 0);
    else if (lower === 'transfer-encoding') chunked = /chunked/i.test(value);
    else if (lower === 'connection') connection = value.toLowerCase();
    if (headers.length < MAX_HTTP_HEADERS) headers.push([name.slice(0, MAX_HTTP_HEADER_NAME_CHARS), value.slice(0, MAX_HTTP_HEADER_VALUE_CHARS)]);
  }
  const version = m[3]!;
  const keepAlive = version === 'HTTP/1.1' ? !connection.includes('close') : connection.includes('keep-alive');
  return {
    request: { method: m[1]!, path: m[2]!.slice(0, MAX_HTTP_PATH_CHARS), version, host, userAgent, headers, bodyPreview: null },
    headLength: end + term,
    contentLength,
    chunked,
    keepAlive,
  };
}

/** Kex and host-key name lists of an SSH_MSG_KEXINIT binary packet at the start of `buf`. */
export function parseSshKexinit(buf: Buffer): { kex: string[]; hostKey: string[] } | 'more' | null {
  if (buf.length < 5) return 'more';
  const packetLength = buf.readUInt32BE(0);
  if (packetLength < 5 || packetLength > MAX_SSH_PACKET_BYTES) return null;
  if (buf.length < 4 + packetLength) return 'more';
  const padding = buf[4]!;
  try {
    const r = new Reader(buf, 5, 4 + packetLength - padding);
    if (r.u8() !== 20) return null;
    r.bytes(16);
    const list = (): string[] => r.bytes(r.u32()).toString('latin1').split(',').filter(Boolean).slice(0, MAX_SSH_ALGORITHMS).map((s) => s.slice(0, MAX_SSH_ALGORITHM_CHARS));
    const kex = list();
    const hostKey = list();
    return { kex, hostKey };
  } catch (e) {
    if (e instanceof Short) return null;
    throw e;
  }
}
