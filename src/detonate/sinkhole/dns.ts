/**
 * Fake DNS: answers every A query with the sink's address (AAAA with the sink's IPv6 when one is set),
 * everything else with an empty NOERROR, and records every query. The parser is written by hand and
 * bounded: compression pointers are followed at most MAX_DNS_COMPRESSION_JUMPS times, names stop at 255 bytes.
 */
import { createSocket, type Socket as UdpSocket, type RemoteInfo } from 'node:dgram';
import { createServer, isIPv4, isIPv6, type Server, type Socket } from 'node:net';
import { renderBytes, type Recorder } from './events.js';
import { MAX_DNS_COMPRESSION_JUMPS, MAX_DNS_LABELS, MAX_DNS_NAME_BYTES, MAX_DNS_TCP_QUERIES } from './limits.js';

const TTL = 60;

const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA',
  33: 'SRV', 35: 'NAPTR', 41: 'OPT', 43: 'DS', 46: 'RRSIG', 48: 'DNSKEY', 64: 'SVCB', 65: 'HTTPS',
  99: 'SPF', 252: 'AXFR', 255: 'ANY', 257: 'CAA',
};

export function typeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE${t}`;
}

export interface DnsQuestion {
  /** Labels as sent (case kept, so the answer echoes 0x20-randomised names). */
  labels: Buffer[];
  qtype: number;
  qclass: number;
}

export type DnsParse =
  | { ok: true; id: number; flags: number; question: DnsQuestion }
  /** `id`/`flags` are set when the header was readable, so a FORMERR/NOTIMP can be sent back. */
  | { ok: false; reason: string; id: number | null; flags: number; question: DnsQuestion | null; rcode: 1 | 4 | null };

class DnsFormatError extends Error {}

export function readName(msg: Uint8Array, start: number): { labels: Buffer[]; end: number } {
  const labels: Buffer[] = [];
  let pos = start;
  let end = -1;
  let jumps = 0;
  let total = 1;
  for (;;) {
    if (pos >= msg.length) throw new DnsFormatError('name runs past the end of the message');
    const len = msg[pos]!;
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length) throw new DnsFormatError('truncated compression pointer');
      const ptr = ((len & 0x3f) << 8) | msg[pos + 1]!;
      if (end < 0) end = pos + 2;
      if (++jumps > MAX_DNS_COMPRESSION_JUMPS) throw new DnsFormatError('compression pointer loop');
      // Pointers may only point backwards; with the jump bound this ends every chain.
      if (ptr >= pos) throw new DnsFormatError('forward compression pointer');
      pos = ptr;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new DnsFormatError('unsupported label type');
    if (len === 0) {
      if (end < 0) end = pos + 1;
      return { labels, end };
    }
    if (pos + 1 + len > msg.length) throw new DnsFormatError('label runs past the end of the message');
    total += len + 1;
    if (total > MAX_DNS_NAME_BYTES) throw new DnsFormatError('name longer than 255 bytes');
    if (labels.length >= MAX_DNS_LABELS) throw new DnsFormatError('too many labels');
    labels.push(Buffer.from(msg.subarray(pos + 1, pos + 1 + len)));
    pos += 1 + len;
  }
}

export function parseQuery(msg: Uint8Array): DnsParse {
  if (msg.length < 12) return { ok: false, reason: 'shorter than a DNS header', id: null, flags: 0, question: null, rcode: null };
  const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
  const id = dv.getUint16(0);
  const flags = dv.getUint16(2);
  const qdcount = dv.getUint16(4);
  if (flags & 0x8000) return { ok: false, reason: 'a response, not a query', id, flags, question: null, rcode: null };
  let question: DnsQuestion | null = null;
  try {
    if (qdcount >= 1) {
      const { labels, end } = readName(msg, 12);
      if (end + 4 > msg.length) throw new DnsFormatError('question runs past the end of the message');
      question = { labels, qtype: dv.getUint16(end), qclass: dv.getUint16(end + 2) };
    }
  } catch (e) {
    if (!(e instanceof DnsFormatError)) throw e;
    return { ok: false, reason: e.message, id, flags, question: null, rcode: 1 };
  }
  const opcode = (flags >> 11) & 0xf;
  if (opcode !== 0) return { ok: false, reason: `opcode ${opcode}`, id, flags, question, rcode: 4 };
  if (qdcount !== 1 || !question) return { ok: false, reason: `${qdcount} questions`, id, flags, question, rcode: 1 };
  return { ok: true, id, flags, question };
}

/** dig's presentation: lower-cased, `\.` and `\\` escaped, other bytes outside 0x21–0x7e as `\DDD`. */
export function presentName(labels: Buffer[]): string {
  if (labels.length === 0) return '.';
  return labels
    .map((l) => {
      let s = '';
      for (let c of l) {
        if (c >= 0x41 && c <= 0x5a) c += 0x20;
        if (c === 0x2e || c === 0x5c) s += '\\' + String.fromCharCode(c);
        else if (c > 0x20 && c < 0x7f) s += String.fromCharCode(c);
        else s += '\\' + c.toString().padStart(3, '0');
      }
      return s;
    })
    .join('.');
}

function encodeName(labels: Buffer[]): Buffer {
  const parts: Buffer[] = [];
  for (const l of labels) parts.push(Buffer.from([l.length]), l);
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function ipv6Bytes(addr: string): Buffer {
  // The URL parser normalises any IPv6 spelling (and v4-suffixed forms) to compressed hex groups.
  const host = new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  const [head = '', tail = ''] = host.includes('::') ? host.split('::') : [host, ''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

export interface DnsAnswerConfig {
  sinkAddress: string;
  sinkAddress6: string | null;
}

/** Builds the reply; `rcode` 1 FORMERR, 4 NOTIMP. Without a readable question the reply has none. */
export function buildResponse(
  id: number,
  queryFlags: number,
  question: DnsQuestion | null,
  rcode: number,
  cfg: DnsAnswerConfig,
): Buffer {
  const opcode = (queryFlags >> 11) & 0xf;
  const flags = 0x8000 | (opcode << 11) | 0x0400 | (queryFlags & 0x0100) | 0x0080 | (rcode & 0xf);
  const answers: Buffer[] = [];
  if (question && rcode === 0 && question.qclass === 1) {
    const rr = (type: number, rdata: Buffer): Buffer => {
      const b = Buffer.alloc(12 + rdata.length);
      b.writeUInt16BE(0xc00c, 0);
      b.writeUInt16BE(type, 2);
      b.writeUInt16BE(1, 4);
      b.writeUInt32BE(TTL, 6);
      b.writeUInt16BE(rdata.length, 10);
      rdata.copy(b, 12);
      return b;
    };
    if (question.qtype === 1 || question.qtype === 255) {
      answers.push(rr(1, Buffer.from(cfg.sinkAddress.split('.').map(Number))));
    }
    if ((question.qtype === 28 || question.qtype === 255) && cfg.sinkAddress6) {
      answers.push(rr(28, ipv6Bytes(cfg.sinkAddress6)));
    }
  }
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(flags, 2);
  header.writeUInt16BE(question ? 1 : 0, 4);
  header.writeUInt16BE(answers.length, 6);
  const parts: Buffer[] = [header];
  if (question) {
    const q = Buffer.alloc(4);
    q.writeUInt16BE(question.qtype, 0);
    q.writeUInt16BE(question.qclass, 2);
    parts.push(encodeName(question.labels), q);
  }
  return Buffer.concat([...parts, ...answers]);
}

export interface DnsServerOptions extends DnsAnswerConfig {
  host: string;
  port: number;
  recorder: Recorder;
  maxDnsQueries: number;
  maxFirstBytes: number;
  maxTcpConnections: number;
  idleTimeoutMs: number;
}

export interface DnsServer {
  port: number;
  close(): Promise<void>;
}

/** Answers one message; returns the reply or null to drop it. Records the query or the malformation. */
function answer(msg: Buffer, transport: 'udp' | 'tcp', from: { address: string; port: number }, o: DnsServerOptions): Buffer | null {
  const at = Date.now();
  let parsed: DnsParse;
  try {
    parsed = parseQuery(msg);
  } catch (e) {
    // A parser bug must not take the server down; treat the packet as malformed.
    parsed = { ok: false, reason: `parser error: ${(e as Error).message}`, id: null, flags: 0, question: null, rcode: null };
  }
  const stats = o.recorder.stats;
  if (parsed.ok) {
    stats.dnsQueries++;
    if (stats.dnsQueries <= o.maxDnsQueries) {
      o.recorder.record({
        kind: 'dns',
        name: presentName(parsed.question.labels),
        type: typeName(parsed.question.qtype),
        transport,
        from,
        at,
      });
    } else {
      o.recorder.limit('dns-queries');
    }
    return buildResponse(parsed.id, parsed.flags, parsed.question, 0, o);
  }
  stats.dnsMalformed++;
  const reply = parsed.id === null || parsed.rcode === null ? null : buildResponse(parsed.id, parsed.flags, parsed.question, parsed.rcode, o);
  if (stats.dnsQueries + stats.dnsMalformed <= o.maxDnsQueries) {
    o.recorder.record({
      kind: 'dns-malformed',
      transport,
      from,
      at,
      reason: parsed.reason,
      answered: reply === null ? 'dropped' : parsed.rcode === 4 ? 'NOTIMP' : 'FORMERR',
      firstBytes: renderBytes(msg, o.maxFirstBytes),
    });
  } else {
    o.recorder.limit('dns-queries');
  }
  return reply;
}

function validateSink(o: DnsAnswerConfig): void {
  if (!isIPv4(o.sinkAddress)) throw new Error(`sinkAddress must be an IPv4 address, got ${o.sinkAddress}`);
  if (o.sinkAddress6 !== null && !isIPv6(o.sinkAddress6)) throw new Error(`sinkAddress6 must be an IPv6 address, got ${o.sinkAddress6}`);
}

function bindUdp(host: string, port: number, onMessage: (sock: UdpSocket, msg: Buffer, r: RemoteInfo) => void): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const sock = createSocket({ type: isIPv6(host) ? 'udp6' : 'udp4' });
    sock.once('error', reject);
    sock.on('message', (msg, r) => onMessage(sock, msg, r));
    sock.bind(port, host, () => {
      sock.off('error', reject);
      // After binding, errors (e.g. ICMP unreachable surfacing on send) are not fatal.
      sock.on('error', () => undefined);
      resolve(sock);
    });
  });
}

function listenTcp(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeUdp(sock: UdpSocket): Promise<void> {
  return new Promise((resolve) => {
    try {
      sock.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

export function closeServer(server: Server, sockets: Set<Socket>): Promise<void> {
  return new Promise((resolve) => {
    for (const s of sockets) s.destroy();
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}

/** UDP and TCP on the same port; with port 0 the UDP port picked by the kernel is reused for TCP. */
export async function startDnsServer(o: DnsServerOptions): Promise<DnsServer> {
  validateSink(o);
  const onUdp = (sock: UdpSocket, msg: Buffer, r: RemoteInfo): void => {
    const reply = answer(msg, 'udp', { address: r.address, port: r.port }, o);
    if (reply) sock.send(reply, r.port, r.address, () => undefined);
  };
  const sockets = new Set<Socket>();
  const server = createServer({ pauseOnConnect: false }, (s) => serveTcp(s, sockets, o));
  server.maxConnections = o.maxTcpConnections;
  server.on('error', () => undefined);
  for (let attempt = 0; ; attempt++) {
    const udp = await bindUdp(o.host, o.port, onUdp);
    const port = (udp.address()).port;
    try {
      await listenTcp(server, o.host, port);
    } catch (e) {
      await closeUdp(udp);
      if (o.port === 0 && (e as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < 8) continue;
      throw e;
    }
    let closed: Promise<void> | null = null;
    return {
      port,
      close: () => (closed ??= Promise.all([closeUdp(udp), closeServer(server, sockets)]).then(() => undefined)),
    };
  }
}

function serveTcp(s: Socket, sockets: Set<Socket>, o: DnsServerOptions): void {
  sockets.add(s);
  const from = { address: s.remoteAddress ?? '', port: s.remotePort ?? 0 };
  let buf: Buffer = Buffer.alloc(0);
  let served = 0;
  s.setTimeout(o.idleTimeoutMs, () => s.destroy());
  s.on('error', () => undefined);
  s.on('close', () => sockets.delete(s));
  s.on('data', (chunk: Buffer) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) {
        // A length prefix is at most 65535, so the buffer stays bounded by that.
        return;
      }
      const msg = buf.subarray(2, 2 + len);
      buf = buf.subarray(2 + len);
      const reply = answer(Buffer.from(msg), 'tcp', from, o);
      if (reply && !s.destroyed) {
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(reply.length);
        s.write(Buffer.concat([prefix, reply]));
      }
      if (++served >= MAX_DNS_TCP_QUERIES) {
        s.end();
        return;
      }
    }
  });
}
