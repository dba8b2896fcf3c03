/** Events the sinkhole records, and the bounded recorder they go through. */

export interface Endpoint {
  address: string;
  port: number;
}

/** The first bytes a peer sent, bounded: as readable text (`\r`, `\n`, `\t`, `\\`, `\xNN` escapes) and as base64. */
export interface FirstBytes {
  text: string;
  base64: string;
  /** How many bytes these are (at most the configured bound). */
  length: number;
}

export interface DnsQueryEvent {
  kind: 'dns';
  /** Lower-cased, dot-separated, no trailing dot; bytes outside [a-z0-9-_] escaped as `\DDD` (dig's style). */
  name: string;
  /** `A`, `AAAA`, `TXT`, … or `TYPE65280` for types without a mnemonic. */
  type: string;
  transport: 'udp' | 'tcp';
  from: Endpoint;
  at: number;
}

export interface DnsMalformedEvent {
  kind: 'dns-malformed';
  transport: 'udp' | 'tcp';
  from: Endpoint;
  at: number;
  reason: string;
  /** What was answered: FORMERR, NOTIMP, or nothing (dropped). */
  answered: 'FORMERR' | 'NOTIMP' | 'dropped';
  firstBytes: FirstBytes;
}

export interface HttpRequestDetails {
  method: string;
  path: string;
  version: string;
  host: string | null;
  userAgent: string | null;
  /** Header names and values, bounded in count and length. */
  headers: Array<[string, string]>;
  /** The first bytes of the body, if any was sent (bounded). */
  bodyPreview: string | null;
}

export interface HttpDetails {
  requests: HttpRequestDetails[];
}

export interface TlsDetails {
  /** The record/handshake carried a ClientHello that parsed. */
  clientHello: boolean;
  sni: string | null;
  alpn: string[];
  /** legacy_version of the ClientHello, e.g. `0x0303`. */
  version: string | null;
  supportedVersions: string[];
  cipherSuites: number;
  error: string | null;
}

export interface StratumDetails {
  /** JSON-RPC methods in the order the client sent them (bounded). */
  methods: string[];
  wallet: string | null;
  password: string | null;
  agent: string | null;
  algo: string[];
  rigId: string | null;
  /** Whether we answered with a fake job (login) or set_difficulty/notify (mining.authorize). */
  jobSent: boolean;
}

export interface SshDetails {
  clientBanner: string | null;
  /** We sent our banner before the client spoke (it waited for us, as a patient client does). */
  serverSpokeFirst: boolean;
  /** Name lists from the client's SSH_MSG_KEXINIT when it arrived (a client fingerprint). */
  kexAlgorithms: string[];
  hostKeyAlgorithms: string[];
}

export interface IrcDetails {
  nick: string | null;
  user: string | null;
  realName: string | null;
  channels: string[];
  /** The first commands the client sent (bounded, lines truncated). */
  commands: string[];
  welcomed: boolean;
}

export interface SmtpDetails {
  helo: string | null;
  mailFrom: string | null;
  rcptTo: string[];
  authMechanism: string | null;
  subject: string | null;
  commands: string[];
}

export interface UnknownDetails {
  /** The client sent nothing before the timeouts (also after our banner). */
  silent: boolean;
  /** The banner we sent when the client stayed quiet (server-speaks-first protocols). */
  bannerSent: 'ssh' | 'smtp' | null;
  /** Set for UDP flows. */
  datagrams?: number;
}

interface ConnectionBase {
  kind: 'connection';
  proto: 'tcp' | 'udp';
  /** Our socket's port (the catch-all listener's, not the one the sample dialled: see `originalDst`). */
  localPort: number;
  remote: Endpoint;
  /** The destination the sample dialled, recovered from conntrack when a reader was configured. */
  originalDst: Endpoint | null;
  firstBytes: FirstBytes;
  /** All bytes received from the peer (the socket is closed once a bound is passed). */
  bytesIn: number;
  /** Epoch ms of the connection (or the flow's first datagram). */
  at: number;
  durationMs: number;
  /** Why we closed (or saw it closed): `peer`, `idle`, `lifetime`, `bytes`, `done`, `stop`, `error`. */
  closedBy: string;
}

export type ConnectionEvent = ConnectionBase &
  (
    | { protocol: 'http'; details: HttpDetails }
    | { protocol: 'tls'; details: TlsDetails }
    | { protocol: 'stratum'; details: StratumDetails }
    | { protocol: 'ssh'; details: SshDetails }
    | { protocol: 'irc'; details: IrcDetails }
    | { protocol: 'smtp'; details: SmtpDetails }
    | { protocol: 'unknown'; details: UnknownDetails }
  );

export type SinkProtocol = ConnectionEvent['protocol'];

/** Recorded once per kind of bound the first time it is hit; `SinkholeStats` keeps the counts. */
export interface LimitEvent {
  kind: 'limit';
  limit: 'connections' | 'concurrent-connections' | 'udp-flows' | 'dns-queries' | 'events';
  at: number;
}

export type SinkholeEvent = DnsQueryEvent | DnsMalformedEvent | ConnectionEvent | LimitEvent;

export interface SinkholeStats {
  dnsQueries: number;
  dnsMalformed: number;
  tcpConnections: number;
  /** Accepted then closed at once because a connection bound was reached. */
  tcpRefused: number;
  udpDatagrams: number;
  udpFlowsDropped: number;
  /** Events not recorded because `maxEvents` was reached. */
  eventsDropped: number;
}

export function renderBytes(bytes: Uint8Array, max: number): FirstBytes {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, max));
  return { text: printable(b), base64: b.toString('base64'), length: b.length };
}

export function printable(b: Uint8Array): string {
  let s = '';
  for (const c of b) {
    if (c === 0x5c) s += '\\\\';
    else if (c >= 0x20 && c <= 0x7e) s += String.fromCharCode(c);
    else if (c === 0x0d) s += '\\r';
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x09) s += '\\t';
    else s += '\\x' + c.toString(16).padStart(2, '0');
  }
  return s;
}

/** Keeps at most `max` events, calls the listener for each kept one; a listener that throws is ignored. */
export class Recorder {
  readonly list: SinkholeEvent[] = [];
  readonly stats: SinkholeStats = {
    dnsQueries: 0,
    dnsMalformed: 0,
    tcpConnections: 0,
    tcpRefused: 0,
    udpDatagrams: 0,
    udpFlowsDropped: 0,
    eventsDropped: 0,
  };
  private readonly limitsHit = new Set<LimitEvent['limit']>();

  constructor(
    private readonly max: number,
    private readonly listener?: (e: SinkholeEvent) => void,
  ) {}

  record(e: SinkholeEvent): void {
    if (this.list.length >= this.max) {
      this.stats.eventsDropped++;
      if (!this.limitsHit.has('events')) {
        this.limitsHit.add('events');
        // The one event past the bound that says the bound was hit.
        this.push({ kind: 'limit', limit: 'events', at: Date.now() });
      }
      return;
    }
    this.push(e);
  }

  limit(limit: LimitEvent['limit']): void {
    if (this.limitsHit.has(limit)) return;
    this.limitsHit.add(limit);
    this.record({ kind: 'limit', limit, at: Date.now() });
  }

  private push(e: SinkholeEvent): void {
    this.list.push(e);
    if (this.listener) {
      try {
        this.listener(e);
      } catch {
        // a consumer's bug must not take the sinkhole down
      }
    }
  }
}
