/**
 * Bounds of the sinkhole (listed in `LIMIT_MODULES`, src/config/limits.ts): a hostile sample decides the traffic,
 * these decide the cost. `SinkholeLimits` are the per-run bounds a caller may tune (connections, bytes, timeouts,
 * events); the constants below are fixed: what the protocol parsers accept and what they keep of each message.
 * Constants and their types only.
 */

// --- Per run (index.ts, serve.ts, tcp.ts, udp.ts, dns.ts) ---

/** Every bound the sinkhole keeps per run. */
export interface SinkholeLimits {
  /** TCP connections accepted per run (DNS over TCP not counted); later ones are closed at once. */
  maxConnections: number;
  /** TCP connections open at once (catch-all and DNS each). */
  maxConcurrentConnections: number;
  /** Bytes read from one connection before it is closed. */
  maxBytesPerConnection: number;
  /** Bytes kept as `firstBytes`. */
  maxFirstBytes: number;
  /** How long a new connection may stay quiet before we send a server-first banner (SSH or SMTP). */
  serverFirstDelayMs: number;
  /** How long to wait for the first bytes after that banner before closing. */
  firstBytesTimeoutMs: number;
  /** Closed after this long without a byte from the peer. */
  idleTimeoutMs: number;
  /** Closed after this long whatever happens (slowloris). */
  maxConnectionMs: number;
  /** HTTP requests recorded (and answered) per connection. */
  maxHttpRequests: number;
  /** DNS queries recorded per run (all are answered). */
  maxDnsQueries: number;
  /** UDP flows (source address and port, local port) recorded per run. */
  maxUdpFlows: number;
  /** A UDP flow is reported after this long without a datagram. */
  udpFlowIdleMs: number;
  /** Events kept in total. */
  maxEvents: number;
}

/** A minute's run of a busy sample: many connections, each read far enough to tell its protocol. */
export const DEFAULT_SINKHOLE_LIMITS: Readonly<SinkholeLimits> = Object.freeze({
  maxConnections: 1000,
  maxConcurrentConnections: 128,
  maxBytesPerConnection: 64 * 1024,
  maxFirstBytes: 4096,
  serverFirstDelayMs: 500,
  firstBytesTimeoutMs: 3000,
  idleTimeoutMs: 10_000,
  maxConnectionMs: 30_000,
  maxHttpRequests: 16,
  maxDnsQueries: 10_000,
  maxUdpFlows: 1000,
  udpFlowIdleMs: 5000,
  maxEvents: 20_000,
});
/** How long a listener waits for conntrack to name a connection's original destination before recording none. */
export const ORIGINAL_LOOKUP_TIMEOUT_MS = 1000;
/** Bytes read of the conntrack table to find original destinations; the rest of a larger one is not read. */
export const MAX_CONNTRACK_TABLE_BYTES = 32 * 1024 * 1024;
/** After the sinkhole's last answer, how long the peer's socket stays open to let it flush before it is destroyed. */
export const CLOSE_FLUSH_MS = 500;

// --- DNS (dns.ts) ---

/** Compression pointers followed in one name: a pointer loop stops here (a real name needs a few). */
export const MAX_DNS_COMPRESSION_JUMPS = 16;
/** Longest name and most labels in one (RFC 1035: 255 bytes, so at most 127 labels); longer is malformed. */
export const MAX_DNS_NAME_BYTES = 255;
export const MAX_DNS_LABELS = 127;
/** Queries answered on one DNS-over-TCP connection before it is closed. */
export const MAX_DNS_TCP_QUERIES = 64;

// --- TLS (protocols.ts) ---

/** Largest TLS record (RFC 5246: 2^14 bytes plus 2048 of expansion); a longer one is not TLS. */
export const MAX_TLS_RECORD_BYTES = 18432;
/** Largest ClientHello reassembled from its records: real ones are a few KiB. */
export const MAX_TLS_HANDSHAKE_BYTES = 64 * 1024;
/** Characters kept of the SNI host name (a DNS name is at most 255), and of one ALPN protocol name. */
export const MAX_TLS_SNI_CHARS = 255;
export const MAX_TLS_ALPN_CHARS = 64;
/** ALPN protocols and supported versions kept of one ClientHello. */
export const MAX_TLS_LIST_ENTRIES = 16;

// --- HTTP (protocols.ts, tcp.ts) ---

/** Longest request target in a request line; a longer line is not taken for HTTP. */
export const MAX_HTTP_TARGET_CHARS = 8192;
/** Characters kept of the request target. */
export const MAX_HTTP_PATH_CHARS = 2048;
/** Headers kept of one request, and characters kept of a header's name and value (Host and User-Agent too). */
export const MAX_HTTP_HEADERS = 64;
export const MAX_HTTP_HEADER_NAME_CHARS = 128;
export const MAX_HTTP_HEADER_VALUE_CHARS = 512;
/** Bytes of a request body kept as its preview. */
export const MAX_HTTP_BODY_PREVIEW_BYTES = 256;

// --- SSH (protocols.ts, tcp.ts) ---

/** Largest SSH binary packet read (RFC 4253 §6.1: implementations must take 35000 bytes); a longer one is not SSH. */
export const MAX_SSH_PACKET_BYTES = 35000;
/** Algorithm names kept of each KEXINIT name-list, and characters of each name. */
export const MAX_SSH_ALGORITHMS = 64;
export const MAX_SSH_ALGORITHM_CHARS = 128;
/** Bytes kept of the client's identification line (RFC 4253 §4.2: at most 255 with CR LF). */
export const MAX_SSH_BANNER_BYTES = 255;

// --- Stratum (stratum.ts) ---

/** Methods kept of one connection, and characters of a method name. */
export const MAX_STRATUM_METHODS = 32;
export const MAX_STRATUM_METHOD_CHARS = 64;
/** Characters kept of a login's wallet, password, agent and rig id. */
export const MAX_STRATUM_STRING_CHARS = 512;
/** Algorithms kept of a login, and characters of each. */
export const MAX_STRATUM_ALGOS = 16;
export const MAX_STRATUM_ALGO_CHARS = 64;

// --- Line protocols: IRC and SMTP; HTTP heads (tcp.ts) ---

/** Longest line (IRC, SMTP) or HTTP request head buffered before the connection is closed. */
export const MAX_BUFFERED_LINE_BYTES = 16 * 1024;
/** Commands (IRC, SMTP) and IRC channels kept of one connection, and characters kept of each command or name. */
export const MAX_RECORDED_COMMANDS = 32;
export const MAX_RECORDED_COMMAND_CHARS = 200;
/** Longest PONG sent back (RFC 1459: an IRC message is at most 512 characters, CR LF included). */
export const MAX_IRC_REPLY_CHARS = 512;
