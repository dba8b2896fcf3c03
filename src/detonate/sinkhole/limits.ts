/** Every bound the sinkhole keeps; a hostile sample decides the traffic, these decide the cost. */
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

export const DEFAULT_LIMITS: SinkholeLimits = {
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
};
