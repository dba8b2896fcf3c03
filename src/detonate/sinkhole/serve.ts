/**
 * The sinkhole as a process of its own, for the session to start inside the sink's network namespace
 * (`nsenter --net=/run/netns/X <node> <entry> sinkhole '<json>'`): Node cannot switch namespaces, so the
 * sockets have to be opened by a process that already lives there.
 *
 * Protocol on stdout, one JSON object per line:
 *   {"kind":"ready","dnsPort":…,"tcpPort":…,"udpPort":…}   once every socket is bound
 *   every SinkholeEvent, as it is recorded
 *   {"kind":"stopped","stats":{…}}                          after SIGTERM/SIGINT or the end of stdin
 * A startup failure prints {"kind":"error","message":…} and exits 2.
 */
import type { Readable, Writable } from 'node:stream';
import { conntrackLookup, readConntrack } from './conntrack.js';
import { startSinkhole, type SinkholeOptions } from './index.js';
import type { SinkholeLimits } from './limits.js';

/** The sinkhole's options as JSON (no callbacks), plus where to read the original destinations from. */
export type SinkholeProcessConfig = Pick<SinkholeOptions, 'host' | 'dnsPort' | 'tcpPort' | 'udpPort' | 'sinkAddress' | 'sinkAddress6' | 'limits' | 'httpBody'> & {
  /** Read the original destination of redirected flows from this conntrack table (normally /proc/net/nf_conntrack). */
  conntrackPath?: string | null;
};

export function parseProcessConfig(json: string): SinkholeProcessConfig {
  const v: unknown = JSON.parse(json);
  if (typeof v !== 'object' || v === null) throw new Error('sinkhole config must be a JSON object');
  const c = v as Record<string, unknown>;
  const port = (k: string): number => {
    const p = c[k];
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535) throw new Error(`sinkhole config: ${k} must be a port number`);
    return p;
  };
  if (typeof c.host !== 'string' || typeof c.sinkAddress !== 'string') throw new Error('sinkhole config: host and sinkAddress are required');
  const limits: Partial<SinkholeLimits> = {};
  if (typeof c.limits === 'object' && c.limits !== null) {
    for (const [k, n] of Object.entries(c.limits)) {
      if (typeof n !== 'number' || !(n >= 0)) throw new Error(`sinkhole config: limits.${k} must be a non-negative number`);
      (limits as Record<string, number>)[k] = n;
    }
  }
  return {
    host: c.host,
    dnsPort: port('dnsPort'),
    tcpPort: port('tcpPort'),
    udpPort: port('udpPort'),
    sinkAddress: c.sinkAddress,
    sinkAddress6: typeof c.sinkAddress6 === 'string' ? c.sinkAddress6 : null,
    limits,
    conntrackPath: typeof c.conntrackPath === 'string' ? c.conntrackPath : null,
    httpBody: typeof c.httpBody === 'string' ? c.httpBody : undefined,
  };
}

/**
 * Runs the sinkhole until `until` settles, writing the line protocol above to `out`. Resolves with the exit
 * code (0, or 2 when it could not start).
 */
export async function serveSinkhole(config: SinkholeProcessConfig, out: Writable, until: Promise<unknown>): Promise<number> {
  const line = (o: unknown): void => {
    out.write(JSON.stringify(o) + '\n');
  };
  const options: SinkholeOptions = {
    host: config.host,
    dnsPort: config.dnsPort,
    tcpPort: config.tcpPort,
    udpPort: config.udpPort,
    sinkAddress: config.sinkAddress,
    sinkAddress6: config.sinkAddress6 ?? null,
    limits: config.limits,
    onEvent: line,
    originalDestination: config.conntrackPath ? conntrackLookup(() => readConntrack(config.conntrackPath!)) : null,
    httpBody: config.httpBody,
  };
  let sink;
  try {
    sink = await startSinkhole(options);
  } catch (e) {
    line({ kind: 'error', message: (e as Error).message });
    return 2;
  }
  line({ kind: 'ready', dnsPort: sink.dnsPort, tcpPort: sink.tcpPort, udpPort: sink.udpPort });
  await until.catch(() => undefined);
  await sink.stop();
  line({ kind: 'stopped', stats: sink.stats() });
  return 0;
}

/** Entry for a hidden CLI command: `args[0]` is the JSON config. Stops on SIGTERM, SIGINT or end of stdin. */
export async function sinkholeMain(args: string[], io: { stdin: Readable; stdout: Writable } = process): Promise<number> {
  let config: SinkholeProcessConfig;
  try {
    config = parseProcessConfig(args[0] ?? '');
  } catch (e) {
    io.stdout.write(JSON.stringify({ kind: 'error', message: (e as Error).message }) + '\n');
    return 2;
  }
  let stop = (): void => undefined;
  const until = new Promise<void>((resolve) => {
    stop = resolve;
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    io.stdin.once('end', stop);
    io.stdin.once('close', stop);
    io.stdin.resume();
  });
  const code = await serveSinkhole(config, io.stdout, until);
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  await new Promise<void>((resolve) => io.stdout.write('', () => resolve()));
  return code;
}
