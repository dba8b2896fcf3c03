/**
 * The detonation sinkhole: fake DNS, catch-all TCP and catch-all UDP on one host. It does not know about
 * namespaces: the session runs it inside the sink's network namespace (a process of its own started under
 * `nsenter --net=…`, since Node cannot change namespace) and nftables there redirects the sample's flows
 * to these ports.
 */
import { startDnsServer, type DnsServer } from './dns.js';
import { Recorder, type SinkholeEvent, type SinkholeStats } from './events.js';
import { DEFAULT_SINKHOLE_LIMITS, type SinkholeLimits } from './limits.js';
import { startTcpCatchAll, type OriginalLookup, type TcpCatchAll } from './tcp.js';
import { startUdpCatchAll, type UdpCatchAll } from './udp.js';

export type * from './events.js';
export type { SinkholeLimits } from './limits.js';
export type { Flow, OriginalLookup } from './tcp.js';
export { DEFAULT_SINKHOLE_LIMITS } from './limits.js';
export { conntrackLookup, originalDestination, parseConntrack, readConntrack } from './conntrack.js';

export interface SinkholeOptions {
  host: string;
  /** 0 picks a free port (the same number for UDP and TCP). */
  dnsPort: number;
  tcpPort: number;
  udpPort: number;
  /** The IPv4 address every A query is answered with. */
  sinkAddress: string;
  /** The IPv6 address AAAA queries are answered with; without one they get an empty NOERROR. */
  sinkAddress6?: string | null;
  limits?: Partial<SinkholeLimits>;
  /** Called for each recorded event, in order; exceptions it throws are ignored. */
  onEvent?: (e: SinkholeEvent) => void;
  /**
   * Recovers the destination a redirected flow really dialled (`conntrackLookup()` reads
   * /proc/net/nf_conntrack of the namespace the process runs in). Without it `originalDst` is null.
   */
  originalDestination?: OriginalLookup | null;
  /** Body of every HTTP 200 answer. */
  httpBody?: string;
}

export interface Sinkhole {
  /** The ports actually bound. */
  readonly dnsPort: number;
  readonly tcpPort: number;
  readonly udpPort: number;
  /** A copy of the events recorded so far. A connection is recorded when it ends; `stop()` ends them all. */
  events(): SinkholeEvent[];
  stats(): SinkholeStats;
  /** Closes every socket and records the connections still open; safe to call more than once. */
  stop(): Promise<void>;
}

export async function startSinkhole(options: SinkholeOptions): Promise<Sinkhole> {
  const limits: SinkholeLimits = { ...DEFAULT_SINKHOLE_LIMITS, ...options.limits };
  const recorder = new Recorder(limits.maxEvents, options.onEvent);
  const lookupOriginal = options.originalDestination ?? null;
  const started: Array<DnsServer | TcpCatchAll | UdpCatchAll> = [];
  try {
    const dns = await startDnsServer({
      host: options.host,
      port: options.dnsPort,
      recorder,
      sinkAddress: options.sinkAddress,
      sinkAddress6: options.sinkAddress6 ?? null,
      maxDnsQueries: limits.maxDnsQueries,
      maxFirstBytes: limits.maxFirstBytes,
      maxTcpConnections: limits.maxConcurrentConnections,
      idleTimeoutMs: limits.idleTimeoutMs,
    });
    started.push(dns);
    const tcp = await startTcpCatchAll({
      host: options.host,
      port: options.tcpPort,
      recorder,
      limits,
      lookupOriginal,
      httpBody: options.httpBody ?? '<html><body>OK</body></html>\n',
    });
    started.push(tcp);
    const udp = await startUdpCatchAll({ host: options.host, port: options.udpPort, recorder, limits, lookupOriginal });
    started.push(udp);
    let stopped: Promise<void> | null = null;
    return {
      dnsPort: dns.port,
      tcpPort: tcp.port,
      udpPort: udp.port,
      events: () => [...recorder.list],
      stats: () => ({ ...recorder.stats }),
      stop: () => (stopped ??= Promise.all(started.map((s) => s.close())).then(() => undefined)),
    };
  } catch (e) {
    await Promise.all(started.map((s) => s.close()));
    throw e;
  }
}
