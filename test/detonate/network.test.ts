import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkNetworkPrerequisites,
  chooseAddresses,
  cleanupStale,
  createSandboxNetwork,
  NetworkConfigError,
  NetworkSetupError,
  parseConntrack,
  type SandboxNetwork,
} from '../../src/detonate/network/index.js';
import { runBounded } from '../../src/detonate/network/exec.js';
import { iptablesRuleset, nftRuleset } from '../../src/detonate/network/firewall.js';
import { netnsWall } from '../support/netns-wall.js';

// The namespace tests run in the wall (test/support/netns-wall.ts): a fresh network and mount namespace plays the
// host, so the namespaces, /run/netns mounts and owner records of these tests never touch the real one.
const wall = netnsWall({ file: 'test/detonate/network.test.ts', title: 'sandbox network: namespace tests', expectPassed: 9, timeoutMs: 120_000 });

describe('sandbox network: pure parts', () => {
  it('derives a private /30 from the id, stable and within the pool', () => {
    const a = chooseAddresses('run-1');
    expect(a).toEqual(chooseAddresses('run-1'));
    expect(a.sinkAddress).toMatch(/^10\.213\.\d+\.\d+$/);
    const last = Number(a.sinkAddress.split('.')[3]);
    expect(last % 4).toBe(1);
    expect(Number(a.sampleAddress.split('.')[3])).toBe(last + 1);
    expect(chooseAddresses('run-1', { subnet: '192.168.77.0/30' })).toMatchObject({
      sinkAddress: '192.168.77.1',
      sampleAddress: '192.168.77.2',
    });
    expect(chooseAddresses('x', { sinkAddress: '10.9.9.6' })).toMatchObject({ sampleAddress: '10.9.9.5', subnet: '10.9.9.4/30' });
    expect(() => chooseAddresses('x', { subnet: '8.8.0.0/16' })).toThrow(NetworkConfigError);
    expect(() => chooseAddresses('x', { sinkAddress: '10.0.0.1', sampleAddress: '10.0.0.9' })).toThrow(/one \/30/);
    expect(() => chooseAddresses('x', { sinkAddress: '203.0.113.1' })).toThrow(/private/);
    expect(() => chooseAddresses('x', { sinkAddress: '10.0.0.300' })).toThrow(/IPv4/);
  });

  it('parses conntrack lines, keeping the original destination; garbage is skipped', () => {
    const text = [
      'ipv4     2 tcp      6 119 TIME_WAIT src=10.213.1.2 dst=203.0.113.7 sport=36752 dport=4444 src=10.213.1.1 dst=10.213.1.2 sport=9999 dport=36752 [ASSURED] mark=0 zone=0 use=2',
      'ipv4     2 udp      17 29 src=10.213.1.2 dst=192.0.2.53 sport=5000 dport=53 [UNREPLIED] src=10.213.1.1 dst=10.213.1.2 sport=53 dport=5000 mark=0 zone=0 use=2',
      'ipv4     2 icmp     1 29 src=10.213.1.2 dst=198.51.100.1 type=8 code=0 id=7 src=198.51.100.1 dst=10.213.1.2 type=0 code=0 id=7 mark=0 use=1',
      '\u0000\u00ffgarbage',
      'ipv4 2 tcp 6',
      '',
    ].join('\n');
    const entries = parseConntrack(text);
    expect(entries).toHaveLength(3);
    expect(entries[0]).toMatchObject({
      proto: 'tcp',
      state: 'TIME_WAIT',
      original: { src: '10.213.1.2', dst: '203.0.113.7', sport: 36752, dport: 4444 },
      reply: { src: '10.213.1.1', sport: 9999 },
      flags: ['ASSURED'],
    });
    expect(entries[1]).toMatchObject({ proto: 'udp', original: { dst: '192.0.2.53', dport: 53 }, flags: ['UNREPLIED'] });
    expect(entries[1]!.state).toBeNull();
    expect(entries[2]!.original).toMatchObject({ src: '10.213.1.2', dst: '198.51.100.1', sport: null, dport: null });
    expect(parseConntrack('x'.repeat(100_000))).toEqual([]);
  });

  it('writes rules that redirect DNS, TCP and UDP only for traffic from the veth, and drop forwarding', () => {
    const ports = { dns: 5353, tcp: 9999, udp: 9998 };
    const nft = nftRuleset('dsink0', ports);
    expect(nft).toContain('table ip detonate_sink');
    expect(nft).toContain('iifname "dsink0" udp dport 53 redirect to :5353');
    expect(nft).toContain('iifname "dsink0" meta l4proto tcp redirect to :9999');
    expect(nft).toMatch(/hook forward priority filter; policy drop;/);
    const ipt = iptablesRuleset('dsink0', ports);
    expect(ipt).toContain('-A PREROUTING -i dsink0 -p udp -j REDIRECT --to-ports 9998');
    expect(ipt).toContain(':FORWARD DROP');
  });

  it('says what to install when tools are missing or we are not root', () => {
    const r = checkNetworkPrerequisites({ path: '/nonexistent-dir', isRoot: false });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/root/);
    expect(r.message).toMatch(/iproute2/);
    expect(r.message).toMatch(/util-linux/);
    expect(r.message).toMatch(/nftables/);
  });

  it('rejects bad ids and ports before touching anything', async () => {
    await expect(createSandboxNetwork({ id: '../etc' })).rejects.toThrow(NetworkConfigError);
    await expect(createSandboxNetwork({ id: 'a'.repeat(49) })).rejects.toThrow(NetworkConfigError);
    await expect(createSandboxNetwork({ id: 'ok', ports: { tcp: 70000 } })).rejects.toThrow(RangeError);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Inside the wall

const SINK_SCRIPT = `
const net = require('net'), dgram = require('dgram');
const c = JSON.parse(process.env.SINK_CFG);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
let ready = 0; const up = () => { if (++ready === 3) out({ ready: true }); };
net.createServer((s) => {
  s.on('error', () => {});
  s.once('data', (d) => { out({ kind: 'tcp', from: s.remoteAddress, data: String(d).slice(0, 100) }); s.end('pong-tcp ' + c.tag); });
}).listen(c.tcp, c.addr, up);
for (const [kind, port] of [['dns', c.dns], ['udp', c.udp]]) {
  const u = dgram.createSocket('udp4');
  u.on('message', (m, r) => { out({ kind, from: r.address, data: String(m).slice(0, 100) }); u.send('pong-' + kind + ' ' + c.tag, r.port, r.address); });
  u.bind(port, c.addr, up);
}
setTimeout(() => process.exit(0), 60000);
`;

const PROBE_SCRIPT = `
const c = JSON.parse(process.env.PROBE);
const done = (o) => { process.stdout.write(JSON.stringify(o)); process.exit(0); };
setTimeout(() => done({ ok: false, error: 'timeout' }), c.timeout || 3000);
if (c.kind === 'tcp') {
  const s = require('net').connect(c.port, c.host, () => s.write(c.payload));
  s.on('data', (d) => done({ ok: true, reply: String(d) }));
  s.on('error', (e) => done({ ok: false, error: e.code || e.message }));
} else if (c.kind === 'flood') {
  const u = require('dgram').createSocket('udp4');
  let n = 0;
  const next = () => { if (n >= c.count) return done({ ok: true, sent: n }); u.send('x', 1000 + n, '203.0.113.' + (1 + (n % 250)), () => { n++; next(); }); };
  next();
} else {
  const u = require('dgram').createSocket('udp4');
  u.on('message', (m) => done({ ok: true, reply: String(m) }));
  u.on('error', (e) => done({ ok: false, error: e.code || e.message }));
  u.send(c.payload, c.port, c.host);
}
`;

interface ProbeResult {
  ok: boolean;
  reply?: string;
  error?: string;
  sent?: number;
}

const PORTS = { dns: 5353, tcp: 9999, udp: 9998 };

async function probe(
  net: SandboxNetwork,
  kind: 'tcp' | 'udp' | 'flood',
  host: string,
  port: number,
  payload = 'hello',
  count = 0,
): Promise<ProbeResult> {
  const r = await net.runInSample(process.execPath, ['-e', PROBE_SCRIPT], {
    env: { PATH: process.env.PATH ?? '', PROBE: JSON.stringify({ kind, host, port, payload, count }) },
    timeoutMs: 10_000,
  });
  if (r.code !== 0) throw new Error(`probe failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ProbeResult;
}

interface SinkEvent {
  kind: string;
  from: string;
  data: string;
}

interface SinkListener {
  child: ChildProcess;
  events: SinkEvent[];
}

async function startSink(net: SandboxNetwork, tag: string): Promise<SinkListener> {
  const child = net.spawnInSink(process.execPath, ['-e', SINK_SCRIPT], {
    env: { PATH: process.env.PATH ?? '', SINK_CFG: JSON.stringify({ ...PORTS, addr: net.sinkAddress, tag }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: SinkEvent[] = [];
  let buffered = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sink listener did not start')), 10_000);
    child.on('exit', (code) => reject(new Error(`sink listener exited ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const msg = JSON.parse(line) as SinkEvent & { ready?: boolean };
        if (msg.ready) {
          clearTimeout(timer);
          resolve();
        } else events.push(msg);
      }
    });
  });
  return { child, events };
}

async function netnsList(): Promise<string> {
  return (await runBounded('ip', ['netns', 'list'])).stdout;
}

async function ownLinks(): Promise<string[]> {
  const r = await runBounded('ip', ['-o', 'link', 'show']);
  return r.stdout
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((n): n is string => n !== undefined)
    .sort();
}

wall.describe(
  () => {
    let net: SandboxNetwork;
    let sink: SinkListener;
    let linksBefore: string[];
    let loopbackServer: Server;
    let loopbackHits = 0;

    beforeAll(async () => {
      // the wall's own namespace plays the host: give it a loopback service the sample must not reach
      await runBounded('ip', ['link', 'set', 'lo', 'up']);
      loopbackServer = createServer((s) => {
        loopbackHits++;
        s.destroy();
      });
      await new Promise<void>((r) => loopbackServer.listen(0, '127.0.0.1', r));
      linksBefore = await ownLinks();
      net = await createSandboxNetwork({ id: 'walla', ports: PORTS });
      console.log(`[timing] setup ${net.setupMs.toFixed(0)} ms (firewall ${net.firewall})`);
      sink = await startSink(net, 'a');
    });

    afterAll(async () => {
      await net?.destroy();
      loopbackServer?.close();
    });

    it('creates both named namespaces, attached only to each other', async () => {
      const list = await netnsList();
      expect(list).toContain('detonate-walla-sample');
      expect(list).toContain('detonate-walla-sink');
      expect(net.samplePath).toBe('/run/netns/detonate-walla-sample');
      expect(existsSync(net.sinkPath)).toBe(true);
      // nothing appeared in the caller's namespace
      expect(await ownLinks()).toEqual(linksBefore);
      const sampleLinks = await net.runInSample('ip', ['-o', 'link', 'show']);
      expect(sampleLinks.stdout.split('\n').filter(Boolean)).toHaveLength(2);
      expect(sampleLinks.stdout).toMatch(/lo: <LOOPBACK,UP/);
      const routes = (await net.runInSample('ip', ['-4', 'route', 'show'])).stdout.trim().split('\n');
      expect(routes).toHaveLength(2);
      expect(routes[0]?.trim()).toBe(`default via ${net.sinkAddress} dev dsample0`);
      expect((await net.runInSink('cat', ['/proc/sys/net/ipv4/ip_forward'])).stdout.trim()).toBe('0');
      expect((await net.runInSink('ip', ['-o', 'link', 'show'])).stdout.split('\n').filter(Boolean)).toHaveLength(2);
      expect((await net.runInSink('ip', ['-4', 'route', 'show'])).stdout).not.toMatch(/default/);
    });

    it('sends TCP to 203.0.113.7:4444 to the catch-all, with the original destination in conntrack', async () => {
      const r = await probe(net, 'tcp', '203.0.113.7', 4444, 'stratum-hello');
      expect(r).toEqual({ ok: true, reply: 'pong-tcp a' });
      expect(sink.events).toContainEqual({ kind: 'tcp', from: net.sampleAddress, data: 'stratum-hello' });
      const entries = parseConntrack(await net.readConntrack());
      const flow = entries.find((e) => e.proto === 'tcp' && e.original.dst === '203.0.113.7');
      expect(flow?.original).toMatchObject({ src: net.sampleAddress, dport: 4444 });
      expect(flow?.reply).toMatchObject({ src: net.sinkAddress, sport: PORTS.tcp });
    });

    it('sends DNS to any address (192.0.2.53:53) to the DNS port, and other UDP to the UDP catch-all', async () => {
      expect(await probe(net, 'udp', '192.0.2.53', 53, 'query')).toEqual({ ok: true, reply: 'pong-dns a' });
      expect(await probe(net, 'udp', '198.51.100.9', 123, 'ntp?')).toEqual({ ok: true, reply: 'pong-udp a' });
      expect(sink.events).toContainEqual({ kind: 'dns', from: net.sampleAddress, data: 'query' });
      expect(sink.events).toContainEqual({ kind: 'udp', from: net.sampleAddress, data: 'ntp?' });
      const entries = parseConntrack(await net.readConntrack());
      expect(entries.some((e) => e.proto === 'udp' && e.original.dst === '192.0.2.53' && e.original.dport === 53)).toBe(true);
    });

    it("cannot reach the caller's loopback services, nor anything but the sink", async () => {
      const port = (loopbackServer.address() as { port: number }).port;
      const r = await probe(net, 'tcp', '127.0.0.1', port);
      expect(r.ok).toBe(false);
      expect(r.error).toBe('ECONNREFUSED');
      expect(loopbackHits).toBe(0);
      // every other address lands on the sink's catch-all, never anywhere else
      const before = sink.events.length;
      expect(await probe(net, 'tcp', '198.51.100.20', 80, 'GET /')).toEqual({ ok: true, reply: 'pong-tcp a' });
      expect(sink.events.slice(before)).toEqual([{ kind: 'tcp', from: net.sampleAddress, data: 'GET /' }]);
      // no IPv6 to slip past the IPv4 rules
      const v6 = await net.runInSample('cat', ['/proc/sys/net/ipv6/conf/all/disable_ipv6']);
      if (v6.code === 0) expect(v6.stdout.trim()).toBe('1');
    });

    it('survives a burst of UDP to many addresses; conntrack stays readable', async () => {
      const r = await probe(net, 'flood', '', 0, '', 300);
      expect(r).toMatchObject({ ok: true, sent: 300 });
      const entries = parseConntrack(await net.readConntrack());
      expect(entries.filter((e) => e.proto === 'udp').length).toBeGreaterThan(100);
    });

    it('runs two networks at once without crosstalk', async () => {
      const [b, c] = await Promise.all([
        createSandboxNetwork({ id: 'wallb', ports: PORTS }),
        createSandboxNetwork({ id: 'wallc', ports: PORTS, subnet: '10.214.0.0/30' }),
      ]);
      try {
        expect(b.sinkNamespace).not.toBe(c.sinkNamespace);
        expect(c.sinkAddress).toBe('10.214.0.1');
        const [sb, sc] = await Promise.all([startSink(b, 'b'), startSink(c, 'c')]);
        const [rb, rc] = await Promise.all([
          probe(b, 'tcp', '203.0.113.7', 4444, 'from-b'),
          probe(c, 'tcp', '203.0.113.7', 4444, 'from-c'),
        ]);
        expect(rb.reply).toBe('pong-tcp b');
        expect(rc.reply).toBe('pong-tcp c');
        expect(sb.events.map((e) => e.data)).toEqual(['from-b']);
        expect(sc.events.map((e) => e.data)).toEqual(['from-c']);
      } finally {
        await Promise.all([b.destroy(), c.destroy()]);
      }
      const list = await netnsList();
      expect(list).not.toMatch(/wallb|wallc/);
    });

    it('rolls back a failed setup without touching the clashing namespace', async () => {
      await runBounded('ip', ['netns', 'add', 'detonate-clash-sample']);
      try {
        const err = await createSandboxNetwork({ id: 'clash' }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(NetworkSetupError);
        expect((err as NetworkSetupError).step).toBe('create namespace');
        const list = await netnsList();
        expect(list).not.toContain('detonate-clash-sink');
        expect(list).toContain('detonate-clash-sample');
        expect(existsSync('/run/detonate/netns/clash.owner')).toBe(false);
      } finally {
        await runBounded('ip', ['netns', 'del', 'detonate-clash-sample']);
      }
    });

    it('cleanupStale removes orphans (killing what is inside) and keeps live runs', async () => {
      await runBounded('ip', ['netns', 'add', 'detonate-orphan-sink']);
      await runBounded('ip', ['netns', 'add', 'other-thing']);
      await writeFile('/run/detonate/netns/ghost.owner', JSON.stringify({ pid: 2 ** 22 + 7, start: '1', created: 0 }));
      const sleeper = net.spawnInSink('sleep', ['1']); // keeps a child of ours busy; unrelated to the orphan
      const leftover = spawn('nsenter', ['--net=/run/netns/detonate-orphan-sink', '--', 'sleep', '30'], { stdio: 'ignore' });
      await new Promise((r) => setTimeout(r, 200));
      const exited = new Promise<string | null>((r) => leftover.on('exit', (_c, sig) => r(sig)));
      try {
        const result = await cleanupStale('detonate-', { graceSeconds: 0 });
        expect(result.removed).toEqual(['detonate-orphan-sink']);
        expect(result.kept).toEqual(expect.arrayContaining(['detonate-walla-sample', 'detonate-walla-sink']));
        expect(await exited).toBe('SIGKILL');
        expect(existsSync('/run/detonate/netns/ghost.owner')).toBe(false);
        expect(existsSync('/run/detonate/netns/walla.owner')).toBe(true);
        const list = await netnsList();
        expect(list).toContain('other-thing');
        expect(list).toContain('detonate-walla-sink');
      } finally {
        sleeper.kill();
        await runBounded('ip', ['netns', 'del', 'other-thing']);
        await runBounded('ip', ['netns', 'del', 'detonate-orphan-sink']);
      }
    });

    it('destroy() removes everything, kills what runs inside, and is idempotent', async () => {
      const t0 = performance.now();
      await net.destroy();
      console.log(`[timing] teardown ${(performance.now() - t0).toFixed(0)} ms`);
      await net.destroy();
      expect(sink.child.signalCode ?? 'SIGKILL').toBe('SIGKILL');
      expect(await netnsList()).not.toMatch(/detonate-/);
      expect(existsSync(net.sinkPath)).toBe(false);
      expect(await ownLinks()).toEqual(linksBefore);
      expect((await ownLinks()).some((n) => n.startsWith('dsample') || n.startsWith('dsink'))).toBe(false);
      await expect(net.runInSink('true', [])).rejects.toThrow(/destroyed/);
    });
  },
);
