/**
 * The original destination of a redirected flow. Node cannot read SO_ORIGINAL_DST, but the kernel's
 * connection tracking table (`/proc/net/nf_conntrack`, per network namespace) keeps both tuples:
 *
 *   ipv4     2 tcp      6 431999 ESTABLISHED src=10.200.0.2 dst=203.0.113.7 sport=49274 dport=4444 \
 *     src=10.200.0.1 dst=10.200.0.2 sport=9999 dport=49274 [ASSURED] mark=0 zone=0 use=2
 *
 * The first src/dst/sport/dport group is the original direction (what the sample dialled), the second the
 * reply direction (what our socket sees, reversed). Parsing is pure; reading the file is separate.
 */
import { open } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import type { Endpoint } from './events.js';
import type { Flow, OriginalLookup } from './tcp.js';
import { MAX_CONNTRACK_TABLE_BYTES } from './limits.js';

export interface ConntrackTuple {
  src: string;
  dst: string;
  sport: number | null;
  dport: number | null;
}

export interface ConntrackEntry {
  family: 'ipv4' | 'ipv6' | null;
  proto: string;
  protoNumber: number;
  timeout: number;
  /** TCP/SCTP/DCCP state word (ESTABLISHED, TIME_WAIT, …); null for UDP and ICMP. */
  state: string | null;
  original: ConntrackTuple;
  /** Null only on a line cut short. */
  reply: ConntrackTuple | null;
  /** Bracketed flags: UNREPLIED, ASSURED, OFFLOAD, … */
  flags: string[];
}

/** `::ffff:a.b.c.d` → `a.b.c.d`; IPv6 in any spelling (the kernel prints all eight groups) → compressed. */
export function normalizeAddress(addr: string): string {
  let a = addr.trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return mapped[1]!;
  if (isIPv6(a)) {
    const n = new URL(`http://[${a}]/`).hostname.slice(1, -1);
    const m2 = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(n);
    if (m2) {
      const hi = parseInt(m2[1]!, 16);
      const lo = parseInt(m2[2]!, 16);
      return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
    }
    return n;
  }
  return a;
}

const TUPLE_KEYS = new Set(['src', 'dst', 'sport', 'dport']);

function parseLine(line: string): ConntrackEntry | null {
  const tok = line.trim().split(/\s+/);
  let i = 0;
  let family: ConntrackEntry['family'] = null;
  if (tok[0] === 'ipv4' || tok[0] === 'ipv6') {
    family = tok[0];
    i = 2;
  }
  const proto = tok[i];
  const protoNumber = Number(tok[i + 1]);
  const timeout = Number(tok[i + 2]);
  if (!proto || !Number.isInteger(protoNumber) || !Number.isFinite(timeout)) return null;
  i += 3;
  let state: string | null = null;
  const flags: string[] = [];
  const tuples: Array<Partial<Record<'src' | 'dst' | 'sport' | 'dport', string>>> = [];
  for (; i < tok.length; i++) {
    const t = tok[i]!;
    const eq = t.indexOf('=');
    if (eq < 0) {
      if (t.startsWith('[') && t.endsWith(']')) flags.push(t.slice(1, -1));
      else if (tuples.length === 0 && /^[A-Z_0-9]+$/.test(t)) state = t;
      continue;
    }
    const key = t.slice(0, eq);
    const value = t.slice(eq + 1);
    if (key === 'src') {
      if (tuples.length === 2) break;
      tuples.push({});
    }
    if (!TUPLE_KEYS.has(key) || tuples.length === 0) continue;
    const cur = tuples[tuples.length - 1]!;
    if (cur[key as 'src'] === undefined) cur[key as 'src'] = value;
  }
  const toTuple = (t: (typeof tuples)[number] | undefined): ConntrackTuple | null => {
    if (!t?.src || !t.dst || !(isIPv4(normalizeAddress(t.src)) || isIPv6(normalizeAddress(t.src)))) return null;
    const port = (v: string | undefined): number | null => {
      const n = v === undefined ? NaN : Number(v);
      return Number.isInteger(n) && n >= 0 && n <= 65535 ? n : null;
    };
    return { src: normalizeAddress(t.src), dst: normalizeAddress(t.dst), sport: port(t.sport), dport: port(t.dport) };
  };
  const original = toTuple(tuples[0]);
  if (!original) return null;
  return { family, proto, protoNumber, timeout, state, original, reply: toTuple(tuples[1]), flags };
}

/** Every parseable line of `/proc/net/nf_conntrack` (or the older `/proc/net/ip_conntrack`); others are skipped. */
export function parseConntrack(text: string): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const e = parseLine(line);
    if (e) out.push(e);
  }
  return out;
}

/**
 * The destination the client dialled, for the flow our socket sees: `src`/`sport` are the client's address
 * and port (the socket's remote end), `dst`/`dport` optionally our listener's address and port, which
 * tell two entries apart when one client port was reused. Null when no entry matches.
 */
export function originalDestination(conntrackText: string, flow: Flow): Endpoint | null {
  const src = normalizeAddress(flow.src);
  const dst = flow.dst ? normalizeAddress(flow.dst) : null;
  const matches: ConntrackEntry[] = [];
  for (const e of parseConntrack(conntrackText)) {
    if (e.proto !== flow.proto) continue;
    const r = e.reply;
    // The reply tuple is what our socket sees, reversed; with no SNAT the original source is the same client.
    const viaReply = r !== null && r.dst === src && r.dport === flow.sport;
    const viaOriginal = e.original.src === src && e.original.sport === flow.sport;
    if (!viaReply && !viaOriginal) continue;
    if (r && flow.dport !== undefined && r.sport !== flow.dport) continue;
    if (r && dst && r.src !== dst) continue;
    matches.push(e);
  }
  const live = matches.find((e) => e.state !== 'TIME_WAIT' && e.state !== 'CLOSE') ?? matches[0];
  if (!live || live.original.dport === null) return null;
  return { address: live.original.dst, port: live.original.dport };
}

/** Reads a conntrack table file, at most 32 MiB. */
export async function readConntrack(path = '/proc/net/nf_conntrack'): Promise<string> {
  const fh = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const b = Buffer.alloc(64 * 1024);
      const { bytesRead } = await fh.read(b, 0, b.length, null);
      if (bytesRead === 0 || total >= MAX_CONNTRACK_TABLE_BYTES) break;
      chunks.push(b.subarray(0, bytesRead));
      total += bytesRead;
    }
    return Buffer.concat(chunks).toString('latin1');
  } finally {
    await fh.close();
  }
}

/**
 * A lookup for the listeners that reads the table once per burst: callers that arrive while a read is in
 * flight share the next read (which starts after theirs arrived, so it sees their entries).
 */
export function conntrackLookup(read: () => Promise<string> = () => readConntrack()): OriginalLookup {
  let inflight: Promise<string> | null = null;
  let next: Promise<string> | null = null;
  const get = (): Promise<string> => {
    if (!inflight) {
      inflight = read().finally(() => {
        inflight = null;
      });
      return inflight;
    }
    next ??= inflight
      .catch(() => '')
      .then(() => {
        next = null;
        return get();
      });
    return next;
  };
  return async (flow) => originalDestination(await get(), flow);
}
