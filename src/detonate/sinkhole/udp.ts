/**
 * Catch-all UDP: records each flow (the sample's address and port) with its first datagram's bytes,
 * datagram and byte counts; one `connection` event per flow once it has been quiet for `udpFlowIdleMs`
 * (or at stop). Nothing is answered.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { renderBytes, type Endpoint, type FirstBytes, type Recorder } from './events.js';
import { ORIGINAL_LOOKUP_TIMEOUT_MS, type SinkholeLimits } from './limits.js';
import type { OriginalLookup } from './tcp.js';

export interface UdpCatchAllOptions {
  host: string;
  port: number;
  recorder: Recorder;
  limits: SinkholeLimits;
  lookupOriginal: OriginalLookup | null;
}

export interface UdpCatchAll {
  port: number;
  close(): Promise<void>;
}

interface FlowState {
  remote: Endpoint;
  at: number;
  last: number;
  datagrams: number;
  bytesIn: number;
  firstBytes: FirstBytes;
  original: Promise<Endpoint | null>;
}

export async function startUdpCatchAll(o: UdpCatchAllOptions): Promise<UdpCatchAll> {
  const flows = new Map<string, FlowState>();
  const pending = new Set<Promise<void>>();
  let seen = 0;
  const sock: UdpSocket = createSocket({ type: isIPv6(o.host) ? 'udp6' : 'udp4' });
  let localPort = o.port;

  const lookup = (remote: Endpoint): Promise<Endpoint | null> => {
    const fn = o.lookupOriginal;
    if (!fn) return Promise.resolve(null);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(null), ORIGINAL_LOOKUP_TIMEOUT_MS);
      // A wildcard bind has no one local address to match the reply tuple with.
      const wildcard = o.host === '0.0.0.0' || o.host === '::';
      fn({ proto: 'udp', src: remote.address, sport: remote.port, ...(wildcard ? {} : { dst: o.host }), dport: localPort })
        .then(resolve, () => resolve(null))
        .finally(() => clearTimeout(t));
    });
  };

  const report = (key: string, f: FlowState, closedBy: string): void => {
    flows.delete(key);
    const p = f.original.then((originalDst) =>
      o.recorder.record({
        kind: 'connection',
        proto: 'udp',
        localPort,
        remote: f.remote,
        originalDst,
        firstBytes: f.firstBytes,
        bytesIn: f.bytesIn,
        at: f.at,
        durationMs: f.last - f.at,
        closedBy,
        protocol: 'unknown',
        details: { silent: false, bannerSent: null, datagrams: f.datagrams },
      }),
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };

  sock.on('message', (msg, r) => {
    o.recorder.stats.udpDatagrams++;
    const key = `${r.address}|${r.port}`;
    const now = Date.now();
    const f = flows.get(key);
    if (f) {
      f.datagrams++;
      f.bytesIn += msg.length;
      f.last = now;
      return;
    }
    if (seen >= o.limits.maxUdpFlows) {
      o.recorder.stats.udpFlowsDropped++;
      o.recorder.limit('udp-flows');
      return;
    }
    seen++;
    const remote = { address: r.address, port: r.port };
    flows.set(key, { remote, at: now, last: now, datagrams: 1, bytesIn: msg.length, firstBytes: renderBytes(msg, o.limits.maxFirstBytes), original: lookup(remote) });
  });

  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(o.port, o.host, () => {
      sock.off('error', reject);
      sock.on('error', () => undefined);
      resolve();
    });
  });
  localPort = sock.address().port;

  const sweep = setInterval(() => {
    const cutoff = Date.now() - o.limits.udpFlowIdleMs;
    for (const [key, f] of flows) if (f.last <= cutoff) report(key, f, 'idle');
  }, Math.max(50, Math.min(1000, o.limits.udpFlowIdleMs / 2)));
  sweep.unref();

  let closed: Promise<void> | null = null;
  return {
    port: localPort,
    close: () =>
      (closed ??= (async () => {
        clearInterval(sweep);
        await new Promise<void>((resolve) => {
          try {
            sock.close(() => resolve());
          } catch {
            resolve();
          }
        });
        for (const [key, f] of [...flows]) report(key, f, 'stop');
        await Promise.all([...pending]);
      })()),
  };
}
