import { printable } from '../../analyze/threats/evidence.js';
import { cap, type BehaviorContext } from '../context.js';
import type { EventView, FieldSpec, FieldValue } from '../types.js';
import { MAX_CITED_STRATUM_METHODS, MAX_MATCHED_STRATUM_VALUES } from '../limits.js';

export const CONNECTION_FIELDS: FieldSpec[] = [
  { name: 'conn.proto', type: 'string', doc: '`tcp` or `udp`.' },
  { name: 'conn.dst', type: 'string', doc: 'The address the sample dialled (its original destination, before the sinkhole caught it).' },
  { name: 'conn.port', type: 'number', doc: 'The port it dialled.' },
  { name: 'conn.host', type: 'string', doc: 'The host name behind it: HTTP Host, TLS SNI, or the name last looked up before a connection to the sink ("" when unknown).' },
  { name: 'conn.endpoint', type: 'string', doc: '`host:port`, or `dst:port` when the host is unknown.' },
  { name: 'conn.protocol', type: 'string', doc: 'What the sinkhole recognised: `stratum`, `http`, `tls`, `ssh`, `irc`, `smtp` or `unknown`.' },
  { name: 'conn.first_bytes', type: 'string', doc: 'The first bytes the sample sent, as printable text (`\\r`, `\\n`, `\\xNN` escapes).' },
  { name: 'conn.pid', type: 'number', doc: 'The process that connected (unknown when the monitor did not see the connect).' },
  { name: 'conn.proc.name', type: 'string', doc: 'proc.name of that process ("" when unknown).' },
  { name: 'conn.http.method', type: 'string', doc: 'Method of the first HTTP request ("" when not HTTP).' },
  { name: 'conn.http.path', type: 'string', doc: 'Path of the first HTTP request.' },
  { name: 'conn.http.host', type: 'string', doc: 'Host header of the first HTTP request.' },
  { name: 'conn.http.user_agent', type: 'string', doc: 'User-Agent of the first HTTP request.' },
  { name: 'conn.tls.sni', type: 'string', doc: 'Server name of the TLS ClientHello ("" when none).' },
  { name: 'conn.stratum.method', type: 'strings', doc: 'The stratum JSON-RPC methods the client sent, in order (`login`, `mining.subscribe`, …).' },
  { name: 'conn.stratum.wallet', type: 'string', doc: 'The login (wallet address, or `wallet.worker`) the miner sent ("" when none).' },
  { name: 'conn.stratum.agent', type: 'string', doc: 'The miner\'s agent string (`XMRig/6.21.0 …`).' },
  { name: 'conn.stratum.algo', type: 'strings', doc: 'The algorithms the miner offered.' },
  { name: 'conn.stratum.pool', type: 'string', doc: '`host:port` of a stratum connection ("" for other protocols).' },
];

const str = (v: string | null | undefined): string => (v ? cap(String(v)) : '');

export function connectionEvents(ctx: BehaviorContext): EventView[] {
  return ctx.connections.map((c) => {
    const sink = ctx.telling(c);
    const node = typeof c.pid === 'number' ? ctx.nodeOf(c.pid) : undefined;
    const host = str(c.host);
    const endpoint = cap(`${host || c.dst}:${c.port}`);
    const http = sink?.protocol === 'http' ? sink.details.requests[0] : undefined;
    const tls = sink?.protocol === 'tls' ? sink.details : undefined;
    const stratum = sink?.protocol === 'stratum' ? sink.details : undefined;
    const values: Record<string, FieldValue> = {
      'conn.proto': String(c.proto),
      'conn.dst': cap(String(c.dst ?? '')),
      'conn.port': c.port,
      'conn.host': host,
      'conn.endpoint': endpoint,
      'conn.protocol': String(c.protocol),
      'conn.first_bytes': cap(String(c.firstBytes ?? '')),
      'conn.pid': typeof c.pid === 'number' ? c.pid : null,
      'conn.proc.name': node?.name ?? '',
      'conn.http.method': str(http?.method),
      'conn.http.path': str(http?.path),
      'conn.http.host': str(http?.host),
      'conn.http.user_agent': str(http?.userAgent),
      'conn.tls.sni': str(tls?.sni),
      'conn.stratum.method': (stratum?.methods ?? []).slice(0, MAX_MATCHED_STRATUM_VALUES).map(str),
      'conn.stratum.wallet': str(stratum?.wallet),
      'conn.stratum.agent': str(stratum?.agent),
      'conn.stratum.algo': (stratum?.algo ?? []).slice(0, MAX_MATCHED_STRATUM_VALUES).map(str),
      'conn.stratum.pool': c.protocol === 'stratum' ? endpoint : '',
    };
    return {
      kind: 'connection',
      values,
      cite: {
        kind: 'connection',
        proto: String(c.proto),
        dst: printable(String(c.dst ?? ''), 64),
        port: c.port,
        protocol: String(c.protocol),
        ...(host ? { host: printable(host, 120) } : {}),
        ...(typeof c.pid === 'number' ? { pid: c.pid } : {}),
        ...(http ? { http: { method: printable(http.method, 16), path: printable(http.path, 160), ...(http.host ? { host: printable(http.host, 120) } : {}), ...(http.userAgent ? { userAgent: printable(http.userAgent, 120) } : {}) } } : {}),
        ...(tls?.sni ? { tls: { sni: printable(tls.sni, 120) } } : {}),
        ...(stratum ? { stratum: { methods: stratum.methods.slice(0, MAX_CITED_STRATUM_METHODS).map((m) => printable(m, 40)), ...(stratum.wallet ? { wallet: printable(stratum.wallet, 120) } : {}), ...(stratum.agent ? { agent: printable(stratum.agent, 120) } : {}) } } : {}),
      },
    };
  });
}
