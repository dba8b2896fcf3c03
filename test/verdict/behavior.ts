/** Hand-built detonation results shaped like what the session and monitor produce, for verdict tests. */
import type { DetonationResult } from '../../src/detonate/session.js';
import type { ObservedConnection, ObservedProcess } from '../../src/model/index.js';
import type { ConnectionEvent, SinkholeEvent } from '../../src/detonate/sinkhole/events.js';

export const SINK = '10.213.0.1';
export const SAMPLE = '10.213.0.2';

/**
 * A detonation result; as the session does (`behaviorFromSinkhole`), each connection carries what the sinkhole drew
 * out of it: the details of the most telling sinkhole record for its endpoint, when the protocols agree.
 */
export function detonation(p: Partial<DetonationResult> = {}): DetonationResult {
  const result = base(p);
  return { ...result, sinkAddress: result.network.sinkAddress, connections: withSinkholeDetails(result.connections, result.sinkhole.events, result.network.sinkAddress) };
}

function withSinkholeDetails(connections: ObservedConnection[], events: readonly SinkholeEvent[], sinkAddress: string): ObservedConnection[] {
  const telling = new Map<string, ConnectionEvent>();
  for (const e of events) {
    if (e.kind !== 'connection') continue;
    const dst = e.originalDst ?? { address: sinkAddress, port: e.localPort };
    const key = `${e.proto}\0${dst.address}\0${dst.port}`;
    const seen = telling.get(key);
    if (!seen || (seen.protocol === 'unknown' && e.protocol !== 'unknown')) telling.set(key, e);
  }
  return connections.map((c) => {
    const e = telling.get(`${c.proto}\0${c.dst}\0${c.port}`);
    return c.details || !e || e.protocol !== c.protocol ? c : { ...c, details: e.details as unknown as Record<string, unknown> };
  });
}

function base(p: Partial<DetonationResult>): DetonationResult {
  return {
    sandbox: 'runc',
    durationMs: 10_000,
    exitCode: 0,
    timedOut: false,
    processes: [],
    files: [],
    dns: [],
    connections: [],
    kills: [],
    cpu: { seconds: 0.3, peakCores: 0.2 },
    memory: { peakBytes: 12_000_000 },
    pids: { peak: 4 },
    limitsHit: { oomKills: 0, pidsLimitHits: 0 },
    series: [],
    output: { stdout: '', stderr: '', truncated: false },
    sinkhole: { events: [], stats: null },
    network: { sinkAddress: SINK, sampleAddress: SAMPLE },
    timings: { setupMs: 120, teardownMs: 40 },
    ...p,
  };
}

export function proc(pid: number, ppid: number, argv: string[], exe = argv[0]!, startMs = pid * 10): ObservedProcess {
  return { pid, ppid, exe, argv, startMs };
}

/** A busybox applet run through its symlink (`/bin/wget` → busybox): exe is the link, as the tracer reports it. */
export function applet(pid: number, ppid: number, name: string, args: string[]): ObservedProcess {
  return proc(pid, ppid, [name, ...args], `/bin/${name}`);
}

export function conn(c: Partial<ObservedConnection> & { dst: string; port: number }): ObservedConnection {
  return { proto: 'tcp', firstBytes: '', protocol: 'unknown', ...c };
}

const fb = (text: string) => ({ text, base64: Buffer.from(text).toString('base64'), length: text.length });

export function sinkConnection(dst: { address: string; port: number }, protocol: ConnectionEvent['protocol'], details: ConnectionEvent['details'], first = ''): SinkholeEvent {
  return {
    kind: 'connection',
    proto: 'tcp',
    localPort: 9999,
    remote: { address: SAMPLE, port: 40000 },
    originalDst: dst,
    firstBytes: fb(first),
    bytesIn: first.length,
    at: 1_000,
    durationMs: 50,
    closedBy: 'peer',
    protocol,
    details,
  } as SinkholeEvent;
}

/** Pulls a stratum miner: the image's script starts XMRig against a pool name, the run keeps a core busy. */
export function minerRun(): DetonationResult {
  const login = '{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0"}}';
  return detonation({
    processes: [
      proc(1, 0, ['/bin/sh', '/start.sh'], '/bin/sh', 0),
      proc(7, 1, ['/opt/xmrig', '-o', 'stratum+tcp://pool.example.test:3333', '-u', '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A', '--donate-level', '1'], '/opt/xmrig', 35),
    ],
    dns: [
      { name: 'pool.example.test', type: 'A', pid: null },
      { name: 'pool.example.test', type: 'AAAA', pid: null },
    ],
    connections: [conn({ pid: 7, dst: SINK, port: 3333, host: 'pool.example.test', protocol: 'stratum', firstBytes: login.slice(0, 64) })],
    sinkhole: {
      events: [
        sinkConnection({ address: SINK, port: 3333 }, 'stratum', {
          methods: ['login'],
          wallet: '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A',
          password: 'x',
          agent: 'XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0',
          algo: ['rx/0'],
          rigId: null,
          jobSent: true,
        }, login),
      ],
      stats: null,
    },
    cpu: { seconds: 9.4, peakCores: 1 },
    timedOut: true,
    killedBy: 'deadline',
    exitCode: null,
  });
}
