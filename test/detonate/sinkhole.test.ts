import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../support/paths.js';
import { netnsWall } from '../support/netns-wall.js';
import { createSandboxNetwork, type SandboxNetwork } from '../../src/detonate/network/index.js';
import { createSocket } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { startSinkhole, type ConnectionEvent, type Sinkhole, type SinkholeEvent, type SinkholeOptions } from '../../src/detonate/sinkhole/index.js';
import { originalDestination, parseConntrack, conntrackLookup } from '../../src/detonate/sinkhole/conntrack.js';
import { parseQuery, readName } from '../../src/detonate/sinkhole/dns.js';
import { sinkholeMain } from '../../src/detonate/sinkhole/serve.js';
import { PassThrough } from 'node:stream';

const HOST = '127.0.0.1';
const SINK = '192.0.2.10';
const has = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

let running: Sinkhole[] = [];
afterEach(async () => {
  await Promise.all(running.map((s) => s.stop()));
  running = [];
});

async function sinkhole(extra: Partial<SinkholeOptions> = {}): Promise<Sinkhole> {
  const s = await startSinkhole({
    host: HOST,
    dnsPort: 0,
    tcpPort: 0,
    udpPort: 0,
    sinkAddress: SINK,
    ...extra,
    limits: { serverFirstDelayMs: 150, firstBytesTimeoutMs: 400, idleTimeoutMs: 2000, maxConnectionMs: 5000, udpFlowIdleMs: 200, ...extra.limits },
  });
  running.push(s);
  return s;
}

async function waitFor<T>(fn: () => T | undefined | null | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const conns = (s: Sinkhole): ConnectionEvent[] => s.events().filter((e): e is ConnectionEvent => e.kind === 'connection');

/** A TCP client that keeps what it receives. */
function client(port: number): Promise<{ sock: Socket; got: () => string; until: (re: RegExp, ms?: number) => Promise<string>; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host: HOST, port });
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('error', () => undefined);
    sock.once('connect', () =>
      resolve({ sock, got: () => data, until: (re, ms = 3000) => waitFor(() => (re.test(data) ? data : undefined), ms), closed }),
    );
    sock.once('error', reject);
  });
}

function run(cmd: string, args: string[], input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };
    const child = execFile(cmd, args, { timeout: 15_000, env }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

/** A DNS query for `name`/`type` as a resolver would build it. */
function query(id: number, name: string, type: number): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const h = Buffer.alloc(12);
  h.writeUInt16BE(id, 0);
  h.writeUInt16BE(0x0100, 2);
  h.writeUInt16BE(1, 4);
  const q = Buffer.alloc(4);
  q.writeUInt16BE(type, 0);
  q.writeUInt16BE(1, 2);
  return Buffer.concat([h, ...labels, Buffer.from([0]), q]);
}

function udpExchange(port: number, msg: Buffer, ms = 1000): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const t = setTimeout(() => {
      sock.close();
      resolve(null);
    }, ms);
    sock.on('message', (m) => {
      clearTimeout(t);
      sock.close();
      resolve(m);
    });
    sock.send(msg, port, HOST);
  });
}

describe('fake DNS', () => {
  it('answers a real resolver with the sink address and records the query', async () => {
    const s = await sinkhole({ sinkAddress6: '2001:db8::10' });
    const r = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`${HOST}:${s.dnsPort}`]);
    expect(await r.resolve4('pool.example.test')).toEqual([SINK]);
    expect(await r.resolve6('Pool.Example.test')).toEqual(['2001:db8::10']);
    await expect(r.resolveTxt('c2.example.test')).rejects.toMatchObject({ code: 'ENODATA' });
    await expect(r.resolveMx('example.test')).rejects.toMatchObject({ code: 'ENODATA' });
    const dns = s.events().filter((e) => e.kind === 'dns');
    expect(dns).toEqual([
      expect.objectContaining({ name: 'pool.example.test', type: 'A', transport: 'udp', from: expect.objectContaining({ address: HOST }) }),
      expect.objectContaining({ name: 'pool.example.test', type: 'AAAA' }),
      expect.objectContaining({ name: 'c2.example.test', type: 'TXT' }),
      expect.objectContaining({ name: 'example.test', type: 'MX' }),
    ]);
  });

  it('answers AAAA with nothing when no IPv6 sink is set, and serves DNS over TCP on the same port', async () => {
    const s = await sinkhole();
    const r = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`${HOST}:${s.dnsPort}`]);
    await expect(r.resolve6('pool.example.test')).rejects.toMatchObject({ code: 'ENODATA' });

    const c = await client(s.dnsPort);
    const q = query(0x1234, 'tcp.example.test', 1);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(q.length);
    c.sock.write(Buffer.concat([len, q]));
    await waitFor(() => c.got().length >= 2 + 12);
    const reply = Buffer.from(c.got(), 'latin1');
    expect(reply.readUInt16BE(2)).toBe(0x1234);
    expect(reply.subarray(-4).join('.')).toBe(SINK);
    c.sock.destroy();
    expect(s.events().at(-1)).toMatchObject({ kind: 'dns', name: 'tcp.example.test', transport: 'tcp' });
  });

  it.skipIf(!has('dig'))('answers dig', async () => {
    const s = await sinkhole();
    const out = await run('dig', ['+short', '+tries=1', '+time=2', '-p', String(s.dnsPort), `@${HOST}`, 'miner.example.test', 'A']);
    expect(out.stdout.trim()).toBe(SINK);
    expect(s.events()).toContainEqual(expect.objectContaining({ kind: 'dns', name: 'miner.example.test' }));
  });

  it('records malformed packets, answers FORMERR where it can, and keeps serving', async () => {
    const s = await sinkhole();
    // Too short for a header: dropped.
    expect(await udpExchange(s.dnsPort, Buffer.from([1, 2, 3]), 300)).toBeNull();
    // A name that points at itself.
    const loop = Buffer.concat([query(0x4242, 'a', 1).subarray(0, 12), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    const formerr = await udpExchange(s.dnsPort, loop);
    expect(formerr?.readUInt16BE(0)).toBe(0x4242);
    expect((formerr?.readUInt16BE(2) ?? 0) & 0xf).toBe(1);
    // A pointer chain that goes forward then loops back through labels.
    const chain = Buffer.concat([query(7, 'a', 1).subarray(0, 12), Buffer.from([1, 0x61, 0xc0, 12])]);
    expect(() => readName(chain, 12)).toThrow(/loop|255/);
    // 300 labels of one byte.
    const long = Buffer.concat([query(8, 'a', 1).subarray(0, 12), Buffer.alloc(600, 1), Buffer.from([0, 0, 1, 0, 1])]);
    const p = parseQuery(long);
    expect(p.ok).toBe(false);
    // Random garbage with a header-sized prefix.
    for (let i = 0; i < 200; i++) {
      const g = Buffer.from(Array.from({ length: 12 + (i % 40) }, (_, j) => (i * 31 + j * 17) & 0xff));
      expect(() => parseQuery(g)).not.toThrow();
    }
    const ok = await udpExchange(s.dnsPort, query(9, 'still.example.test', 1));
    expect(ok?.subarray(-4).join('.')).toBe(SINK);
    const bad = s.events().filter((e) => e.kind === 'dns-malformed');
    expect(bad).toEqual([
      expect.objectContaining({ answered: 'dropped', reason: 'shorter than a DNS header' }),
      expect.objectContaining({ answered: 'FORMERR', reason: expect.stringMatching(/pointer/) }),
    ]);
  });
  it('answers a query flood but records only up to its bound', async () => {
    const s = await sinkhole({ limits: { maxDnsQueries: 50 } });
    const sock = createSocket('udp4');
    let answers = 0;
    sock.on('message', () => answers++);
    await new Promise<void>((r) => sock.bind(0, HOST, () => r()));
    // In bursts of 100: the loopback socket buffers, not the server, would drop a single burst of 1000.
    for (let burst = 0; burst < 10; burst++) {
      for (let i = burst * 100; i < (burst + 1) * 100; i++) sock.send(query(i, `n${i}.flood.example.test`, 1), s.dnsPort, HOST);
      await waitFor(() => answers >= (burst + 1) * 95, 3000);
    }
    sock.close();
    expect(s.events().filter((e) => e.kind === 'dns')).toHaveLength(50);
    expect(s.events()).toContainEqual(expect.objectContaining({ kind: 'limit', limit: 'dns-queries' }));
    expect(s.stats().dnsQueries).toBeGreaterThanOrEqual(950);
  });
});

describe('catch-all TCP', () => {
  it('answers curl with 200 and records method, host, path and user agent', async () => {
    const s = await sinkhole();
    const out = await run('curl', ['-sS', '--noproxy', '*', '-m', '5', '--resolve', `www.example.test:${s.tcpPort}:${HOST}`, `http://www.example.test:${s.tcpPort}/x?y=1`, '-A', 'agent/1.0']);
    expect(out.stdout).toContain('OK');
    const e = await waitFor(() => conns(s).find((c) => c.protocol === 'http'));
    expect(e.protocol === 'http' && e.details.requests).toEqual([
      expect.objectContaining({ method: 'GET', host: `www.example.test:${s.tcpPort}`, path: '/x?y=1', userAgent: 'agent/1.0' }),
    ]);
    expect(e.firstBytes.text).toMatch(/^GET \/x\?y=1 HTTP\/1\.1\\r\\nHost: /);
    expect(Buffer.from(e.firstBytes.base64, 'base64').toString()).toMatch(/^GET \/x/);
  });

  it('answers several requests on one keep-alive connection, up to the bound', async () => {
    const s = await sinkhole({ limits: { maxHttpRequests: 3 } });
    const c = await client(s.tcpPort);
    const req = (p: string): string => `POST ${p} HTTP/1.1\r\nHost: c2.example.test\r\nContent-Length: 5\r\n\r\nhello`;
    c.sock.write(req('/a') + req('/b') + req('/c') + req('/d'));
    await c.closed;
    expect(c.got().match(/HTTP\/1\.1 200 OK/g)).toHaveLength(3);
    const e = await waitFor(() => conns(s)[0]);
    expect(e.protocol === 'http' && e.details.requests.map((r) => [r.path, r.bodyPreview])).toEqual([
      ['/a', 'hello'],
      ['/b', 'hello'],
      ['/c', 'hello'],
    ]);
  });

  it('reads SNI and ALPN from openssl s_client and node tls', async () => {
    const s = await sinkhole();
    await run('openssl', ['s_client', '-connect', `${HOST}:${s.tcpPort}`, '-servername', 'c2.example.test', '-alpn', 'h2,http/1.1'], '');
    const sock = tlsConnect({ host: HOST, port: s.tcpPort, servername: 'Node.Example.test', ALPNProtocols: ['x-c2'], rejectUnauthorized: false });
    await new Promise<void>((r) => {
      sock.on('error', () => r());
      sock.on('close', () => r());
    });
    await waitFor(() => conns(s).length === 2);
    const tls = conns(s).map((e) => (e.protocol === 'tls' ? [e.details.sni, e.details.alpn, e.details.clientHello] : e.protocol));
    expect(tls).toContainEqual(['c2.example.test', ['h2', 'http/1.1'], true]);
    expect(tls).toContainEqual(['node.example.test', ['x-c2'], true]);
  });

  it("gives XMRig's login a job and records wallet, agent and algo", async () => {
    const s = await sinkhole();
    const c = await client(s.tcpPort);
    const login = {
      id: 1,
      jsonrpc: '2.0',
      method: 'login',
      params: { login: '44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A', pass: 'x', agent: 'XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0', algo: ['rx/0', 'cn/r'] },
    };
    c.sock.write(JSON.stringify(login) + '\n');
    const line = await c.until(/\n/);
    const reply = JSON.parse(line.trim()) as { id: number; error: unknown; result: { status: string; job: { blob: string; target: string; algo: string; seed_hash: string; job_id: string } } };
    expect(reply).toMatchObject({ id: 1, error: null, result: { status: 'OK' } });
    expect(reply.result.job.blob).toMatch(/^[0-9a-f]{152}$/);
    expect(reply.result.job).toMatchObject({ target: 'b88d0600', algo: 'rx/0' });
    expect(reply.result.job.seed_hash).toMatch(/^[0-9a-f]{64}$/);
    c.sock.write('{"id":2,"jsonrpc":"2.0","method":"keepalived","params":{"id":"x"}}\n');
    await c.until(/KEEPALIVED/);
    c.sock.end();
    const e = await waitFor(() => conns(s)[0]);
    expect(e.protocol).toBe('stratum');
    expect(e.details).toMatchObject({
      wallet: login.params.login,
      password: 'x',
      agent: login.params.agent,
      algo: ['rx/0', 'cn/r'],
      methods: ['login', 'keepalived'],
      jobSent: true,
    });
  });

  it('answers mining.subscribe and mining.authorize with a difficulty and a job', async () => {
    const s = await sinkhole();
    const c = await client(s.tcpPort);
    c.sock.write('{"id": 1, "method": "mining.subscribe", "params": ["cpuminer/2.5.1"]}\n{"id": 2, "method": "mining.authorize", "params": ["bc1qexamplewallet.worker1", "x"]}\n');
    const got = await c.until(/mining\.notify.*\n/);
    const lines = got.trim().split('\n').map((l) => JSON.parse(l) as { id: number | null; result?: unknown; method?: string });
    expect(lines[0]).toMatchObject({ id: 1, error: null });
    expect(lines[1]).toMatchObject({ id: 2, result: true });
    expect(lines.map((l) => l.method)).toContain('mining.set_difficulty');
    c.sock.end();
    const e = await waitFor(() => conns(s)[0]);
    expect(e).toMatchObject({ protocol: 'stratum', details: { wallet: 'bc1qexamplewallet.worker1', agent: 'cpuminer/2.5.1', jobSent: true } });
  });

  it.skipIf(!has('ssh'))('records the banner and key exchange offer of the OpenSSH client', async () => {
    const s = await sinkhole();
    const out = await run('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=5', '-p', String(s.tcpPort), HOST, 'true']);
    expect(out.code).not.toBe(0);
    const e = await waitFor(() => conns(s)[0]);
    expect(e.protocol).toBe('ssh');
    if (e.protocol !== 'ssh') return;
    expect(e.details.clientBanner).toMatch(/^SSH-2\.0-OpenSSH_/);
    expect(e.details.kexAlgorithms.length).toBeGreaterThan(0);
    expect(e.details.hostKeyAlgorithms.join(',')).toMatch(/ssh-ed25519|ecdsa|rsa/);
  });

  it('speaks SSH first to a client that waits, and records the banner it then sends', async () => {
    const s = await sinkhole();
    const c = await client(s.tcpPort);
    await c.until(/^SSH-2\.0-OpenSSH_9\.2\r\n$/);
    c.sock.write('SSH-2.0-libssh2_1.10.0\r\n');
    c.sock.end();
    const e = await waitFor(() => conns(s)[0]);
    expect(e).toMatchObject({ protocol: 'ssh', details: { clientBanner: 'SSH-2.0-libssh2_1.10.0', serverSpokeFirst: true } });
  });

  it('welcomes an IRC bot and records nick, user and channels', async () => {
    const s = await sinkhole();
    const c = await client(s.tcpPort);
    c.sock.write('NICK bot-1234\r\nUSER bot 0 * :Example Bot\r\n');
    await c.until(/ 376 bot-1234 /);
    expect(c.got()).toMatch(/^:irc\.example\.test 001 bot-1234 :Welcome/);
    c.sock.write('JOIN #cmd,#scan secret\r\nPING :123\r\n');
    await c.until(/PONG :123/);
    c.sock.write('QUIT :bye\r\n');
    const e = await waitFor(() => conns(s)[0]);
    expect(e).toMatchObject({ protocol: 'irc', details: { nick: 'bot-1234', user: 'bot', realName: 'Example Bot', channels: ['#cmd', '#scan'], welcomed: true } });
  });

  it('greets on a mail port (original destination from the lookup) and records EHLO, MAIL FROM, RCPT TO', async () => {
    const s = await sinkhole({ originalDestination: async () => ({ address: '198.51.100.25', port: 25 }) });
    const c = await client(s.tcpPort);
    await c.until(/^220 /);
    c.sock.write('EHLO spambot.example.test\r\nMAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n');
    await c.until(/354 /);
    c.sock.write('Subject: hello\r\n\r\nbody\r\n.\r\nQUIT\r\n');
    await c.until(/221 /);
    const e = await waitFor(() => conns(s)[0]);
    expect(e).toMatchObject({
      protocol: 'smtp',
      originalDst: { address: '198.51.100.25', port: 25 },
      details: { helo: 'spambot.example.test', mailFrom: '<a@example.test>', rcptTo: ['<b@example.com>'], subject: 'hello' },
    });
  });

  it('records garbage bytes, bounded, and a client that says nothing', async () => {
    const s = await sinkhole({ limits: { maxFirstBytes: 64 } });
    const g = await client(s.tcpPort);
    const junk = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7 + 3) & 0xff));
    g.sock.write(junk);
    const quiet = await client(s.tcpPort);
    await quiet.closed;
    expect(quiet.got()).toBe('SSH-2.0-OpenSSH_9.2\r\n');
    g.sock.destroy();
    await waitFor(() => conns(s).length === 2);
    const garbage = conns(s).find((e) => e.bytesIn > 0)!;
    expect(garbage.protocol).toBe('unknown');
    expect(garbage.firstBytes.length).toBe(64);
    expect(Buffer.from(garbage.firstBytes.base64, 'base64')).toEqual(junk.subarray(0, 64));
    expect(garbage.firstBytes.text).toMatch(/^\\x03\\n\\x11\\x18/);
    const silent = conns(s).find((e) => e.bytesIn === 0)!;
    expect(silent).toMatchObject({ protocol: 'unknown', details: { silent: true, bannerSent: 'ssh' }, closedBy: 'idle' });
  });

  it('survives 200 parallel connections, a flood and a slowloris within its bounds', async () => {
    const s = await sinkhole({ limits: { maxConnections: 120, maxConcurrentConnections: 64, maxBytesPerConnection: 8192, maxConnectionMs: 800 } });
    const results = await Promise.all(
      Array.from({ length: 200 }, () =>
        new Promise<string>((resolve) => {
          const sock = connect({ host: HOST, port: s.tcpPort });
          let data = '';
          sock.on('connect', () => sock.write('GET /p HTTP/1.0\r\nHost: flood.example.test\r\n\r\n'));
          sock.on('data', (d: Buffer) => (data += d.toString()));
          sock.on('error', () => undefined);
          sock.on('close', () => resolve(data));
          sock.setTimeout(5000, () => sock.destroy());
        }),
      ),
    );
    const answered = results.filter((r) => r.startsWith('HTTP/1.1 200')).length;
    expect(answered).toBeGreaterThan(0);
    expect(answered).toBeLessThanOrEqual(120);
    await waitFor(() => conns(s).length === answered);
    expect(s.stats().tcpConnections + s.stats().tcpRefused).toBe(200);
    expect(s.events()).toContainEqual(expect.objectContaining({ kind: 'limit' }));

    // Past maxConnections, every new connection is closed at once, and DNS still answers.
    const late = await client(s.tcpPort);
    await late.closed;
    const r = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`${HOST}:${s.dnsPort}`]);
    expect(await r.resolve4('after.example.test')).toEqual([SINK]);

    const s2 = await sinkhole({ limits: { maxBytesPerConnection: 8192, maxConnectionMs: 800 } });
    const flood = await client(s2.tcpPort);
    flood.sock.write(Buffer.alloc(1 << 20, 0x41));
    await flood.closed;
    const slow = await client(s2.tcpPort);
    const t0 = Date.now();
    const drip = setInterval(() => slow.sock.writable && slow.sock.write('G'), 50);
    await slow.closed;
    clearInterval(drip);
    expect(Date.now() - t0).toBeLessThan(2000);
    await waitFor(() => conns(s2).length === 2);
    expect(conns(s2).map((e) => e.closedBy).sort()).toEqual(['bytes', 'lifetime']);
    expect(conns(s2).every((e) => e.firstBytes.length <= 4096)).toBe(true);
  });
});

describe('catch-all UDP', () => {
  it('records each flow with its first bytes and counts', async () => {
    const s = await sinkhole();
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, HOST, () => r()));
    for (let i = 0; i < 3; i++) await new Promise<void>((r) => sock.send(Buffer.from(`beacon ${i}\x00\x01`), s.udpPort, HOST, () => r()));
    const port = sock.address().port;
    const e = await waitFor(() => conns(s)[0]);
    sock.close();
    expect(e).toMatchObject({
      proto: 'udp',
      localPort: s.udpPort,
      closedBy: 'idle',
      remote: { address: HOST, port },
      firstBytes: { text: 'beacon 0\\x00\\x01' },
      bytesIn: 30,
      details: { datagrams: 3 },
    });
  });
});

describe('stop', () => {
  it('closes every socket, records open connections, and is idempotent', async () => {
    const seen: SinkholeEvent[] = [];
    const s = await sinkhole({ onEvent: (e) => seen.push(e) });
    const c = await client(s.tcpPort);
    c.sock.write('NICK open\r\n');
    await new Promise((r) => setTimeout(r, 50));
    await Promise.all([s.stop(), s.stop()]);
    await s.stop();
    expect(seen).toContainEqual(expect.objectContaining({ kind: 'connection', protocol: 'irc', closedBy: 'stop' }));
    for (const port of [s.tcpPort, s.dnsPort]) {
      await expect(client(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    }
    // The UDP ports are free again: binding them succeeds.
    for (const port of [s.udpPort, s.dnsPort]) {
      const u = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        u.once('error', reject);
        u.bind(port, HOST, () => resolve());
      });
      u.close();
    }
  });
});

describe('original destination from conntrack', () => {
  // Lines as the kernel prints them in the sink namespace after `redirect to :9999` / `:9998` / `:53`.
  const table = [
    'ipv4     2 tcp      6 431999 ESTABLISHED src=10.200.0.2 dst=203.0.113.7 sport=49274 dport=4444 src=10.200.0.1 dst=10.200.0.2 sport=9999 dport=49274 [ASSURED] mark=0 zone=0 use=2',
    'ipv4     2 tcp      6 117 TIME_WAIT src=10.200.0.2 dst=198.51.100.9 sport=41000 dport=80 src=10.200.0.1 dst=10.200.0.2 sport=9999 dport=41000 [ASSURED] mark=0 zone=0 use=2',
    'ipv4     2 tcp      6 431999 ESTABLISHED src=10.200.0.2 dst=198.51.100.3 sport=41000 dport=3333 src=10.200.0.1 dst=10.200.0.2 sport=9999 dport=41000 [ASSURED] mark=0 zone=0 use=2',
    'ipv4     2 udp      17 29 src=10.200.0.2 dst=10.200.0.1 sport=36596 dport=53 src=10.200.0.1 dst=10.200.0.2 sport=53 dport=36596 mark=0 zone=0 use=2',
    'ipv4     2 udp      17 28 src=10.200.0.2 dst=192.0.2.77 sport=5353 dport=9000 [UNREPLIED] src=10.200.0.1 dst=10.200.0.2 sport=9998 dport=5353 mark=0 zone=0 use=2',
    'ipv4     2 icmp     1 29 src=10.200.0.2 dst=10.200.0.1 type=8 code=0 id=7 src=10.200.0.1 dst=10.200.0.2 type=0 code=0 id=7 mark=0 zone=0 use=2',
    'ipv6     10 tcp      6 299 ESTABLISHED src=fd00:0000:0000:0000:0000:0000:0000:0002 dst=2001:0db8:0000:0000:0000:0000:0000:0007 sport=50000 dport=443 packets=5 bytes=400 src=fd00:0000:0000:0000:0000:0000:0000:0001 dst=fd00:0000:0000:0000:0000:0000:0000:0002 sport=9999 dport=50000 packets=4 bytes=300 [ASSURED] mark=0 secctx=system_u:object_r:unlabeled_t:s0 zone=0 use=2',
    'tcp      6 431999 ESTABLISHED src=10.200.0.2 dst=192.0.2.1 sport=40001 dport=6667 src=10.200.0.1 dst=10.200.0.2 sport=9999 dport=40001 [ASSURED] mark=0 use=2',
    'garbage line without tuples',
    'ipv4 2 tcp 6 10 SYN_SENT src=not-an-ip dst=x sport=1 dport=2',
  ].join('\n');

  it('parses every well-formed line, in both the nf_conntrack and ip_conntrack layouts', () => {
    const entries = parseConntrack(table);
    expect(entries).toHaveLength(8);
    expect(entries[0]).toMatchObject({ family: 'ipv4', proto: 'tcp', protoNumber: 6, state: 'ESTABLISHED', flags: ['ASSURED'] });
    expect(entries[4]).toMatchObject({ proto: 'udp', state: null, flags: ['UNREPLIED'], reply: { sport: 9998 } });
    expect(entries[5]).toMatchObject({ proto: 'icmp', original: { sport: null, dport: null } });
    expect(entries[6]).toMatchObject({ family: 'ipv6', original: { src: 'fd00::2', dst: '2001:db8::7', dport: 443 }, reply: { sport: 9999 } });
    expect(entries[7]).toMatchObject({ family: null, original: { dport: 6667 } });
  });

  it('finds what the client dialled from the socket it reached', () => {
    expect(originalDestination(table, { proto: 'tcp', src: '10.200.0.2', sport: 49274, dst: '10.200.0.1', dport: 9999 })).toEqual({ address: '203.0.113.7', port: 4444 });
    // A reused client port: the live entry wins over TIME_WAIT.
    expect(originalDestination(table, { proto: 'tcp', src: '::ffff:10.200.0.2', sport: 41000 })).toEqual({ address: '198.51.100.3', port: 3333 });
    expect(originalDestination(table, { proto: 'udp', src: '10.200.0.2', sport: 5353, dport: 9998 })).toEqual({ address: '192.0.2.77', port: 9000 });
    expect(originalDestination(table, { proto: 'udp', src: '10.200.0.2', sport: 5353, dport: 53 })).toBeNull();
    expect(originalDestination(table, { proto: 'tcp', src: 'fd00::2', sport: 50000, dst: 'fd00::1', dport: 9999 })).toEqual({ address: '2001:db8::7', port: 443 });
    expect(originalDestination(table, { proto: 'tcp', src: '10.200.0.2', sport: 40001 })).toEqual({ address: '192.0.2.1', port: 6667 });
    expect(originalDestination(table, { proto: 'tcp', src: '10.200.0.3', sport: 49274 })).toBeNull();
    expect(originalDestination('', { proto: 'tcp', src: '10.200.0.2', sport: 49274 })).toBeNull();
  });

  it('fills originalDst of live connections through a conntrack reader', async () => {
    const lines: string[] = [];
    let reads = 0;
    const lookup = conntrackLookup(async () => {
      reads++;
      return lines.join('\n');
    });
    const s = await sinkhole({ originalDestination: lookup });
    const c = await client(s.tcpPort);
    const sport = c.sock.localPort!;
    lines.push(`ipv4     2 tcp      6 431999 ESTABLISHED src=${HOST} dst=203.0.113.50 sport=${sport} dport=8080 src=${HOST} dst=${HOST} sport=${s.tcpPort} dport=${sport} [ASSURED] mark=0 zone=0 use=2`);
    c.sock.end('GET / HTTP/1.0\r\n\r\n');
    const e = await waitFor(() => conns(s)[0]);
    expect(e.originalDst).toEqual({ address: '203.0.113.50', port: 8080 });
    expect(reads).toBeGreaterThan(0);
  });
});

describe('sinkhole process', () => {
  it('prints ready, each event and stopped as JSON lines, and stops at the end of stdin', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (d: Buffer) => (text += d.toString()));
    const lines = (): Array<Record<string, unknown>> => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    const config = { host: HOST, dnsPort: 0, tcpPort: 0, udpPort: 0, sinkAddress: SINK, conntrackPath: '/nonexistent/nf_conntrack', limits: { serverFirstDelayMs: 100 } };
    const done = sinkholeMain([JSON.stringify(config)], { stdin, stdout });
    const ready = await waitFor(() => lines().find((l) => l.kind === 'ready'));
    const r = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
    r.setServers([`${HOST}:${ready.dnsPort as number}`]);
    expect(await r.resolve4('proc.example.test')).toEqual([SINK]);
    const c = await client(ready.tcpPort as number);
    c.sock.write('GET / HTTP/1.1\r\nHost: proc.example.test\r\n\r\n');
    await c.until(/200 OK/);
    stdin.end();
    expect(await done).toBe(0);
    expect(lines().map((l) => l.kind)).toEqual(['ready', 'dns', 'connection', 'stopped']);
    expect(lines()[2]).toMatchObject({ protocol: 'http', closedBy: 'stop', originalDst: null });
    await expect(client(ready.tcpPort as number)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('refuses a bad config with exit code 2', async () => {
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (d: Buffer) => (text += d.toString()));
    expect(await sinkholeMain(['{"host":"127.0.0.1","dnsPort":0,"tcpPort":0,"udpPort":0,"sinkAddress":"not-an-ip"}'], { stdin: new PassThrough(), stdout })).toBe(2);
    expect(JSON.parse(text)).toMatchObject({ kind: 'error', message: expect.stringMatching(/sinkAddress/) });
  });
});

// The session's layout, built by the product's own `createSandboxNetwork`: a sample namespace whose default route
// is the sink namespace, where the kernel redirects every flow to the sinkhole. Run in the wall
// (test/support/netns-wall.ts); only TEST-NET and reserved names.
const wall = netnsWall({
  file: 'test/detonate/sinkhole.test.ts',
  title: 'sinkhole in network namespaces, as a detonation runs it',
  expectPassed: 1,
  timeoutMs: 120_000,
  requires: () => (existsSync('/proc/net/nf_conntrack') || has('modprobe') ? undefined : 'no conntrack (/proc/net/nf_conntrack)'),
});

wall.describe(() => {
  let net: SandboxNetwork | undefined;
  let dir = '';
  let child: ChildProcess | null = null;
  let out = '';
  const lines = (): Array<Record<string, unknown>> => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

  beforeAll(async () => {
    net = await createSandboxNetwork({ id: `sinkhole${process.pid}` });
    dir = mkdtempSync(join(tmpdir(), 'sinkhole-'));
    const entry = join(dir, 'entry.mts');
    const serve = pathToFileURL(join(repoRoot, 'src/detonate/sinkhole/serve.ts')).href;
    writeFileSync(entry, `import { sinkholeMain } from '${serve}';\nprocess.exitCode = await sinkholeMain(process.argv.slice(2));\n`);
    const config = {
      host: net.sinkAddress,
      dnsPort: net.ports.dns,
      tcpPort: net.ports.tcp,
      udpPort: net.ports.udp,
      sinkAddress: net.sinkAddress,
      conntrackPath: '/proc/net/nf_conntrack',
      limits: { serverFirstDelayMs: 300 },
    };
    child = net.spawnInSink(process.execPath, ['--import', 'tsx', entry, JSON.stringify(config)], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => lines().some((l) => l.kind === 'ready' || l.kind === 'error'), 20_000);
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.stdin!.end();
      const exited = new Promise((r) => child!.once('exit', r));
      const t = setTimeout(() => child!.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    await net?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('records DNS, HTTP, stratum, SSH and UDP with the destinations the sample dialled', async () => {
    const n = net!;
    expect(lines()[0]).toMatchObject({ kind: 'ready' });
    const inSample = (cmd: string, args: string[]) => n.runInSample(cmd, args, { timeoutMs: 15_000 });
    const http = await inSample('curl', ['-sS', '--noproxy', '*', '-m', '5', '--resolve', 'pool.example.test:3333:203.0.113.7', 'http://pool.example.test:3333/x', '-A', 'xmr-agent']);
    expect(http.stdout).toContain('OK');
    const script = `
      const dns = require('node:dns').promises, net = require('node:net'), dgram = require('node:dgram');
      (async () => {
        const r = new dns.Resolver({ timeout: 2000, tries: 1 }); r.setServers(['192.0.2.53']);
        console.log(JSON.stringify(await r.resolve4('pool.example.test')));
        const u = dgram.createSocket('udp4'); await new Promise((ok) => u.send('beacon', 9000, '203.0.113.9', ok)); u.close();
        const s = net.connect(14444, '203.0.113.8');
        s.on('connect', () => s.write(JSON.stringify({ id: 1, jsonrpc: '2.0', method: 'login', params: { login: 'WALLET', pass: 'x', agent: 'XMRig/6.21.0', algo: ['rx/0'] } }) + '\\n'));
        s.on('data', (d) => { console.log(d.toString().trim()); s.end(); });
      })();`;
    const node = await inSample(process.execPath, ['-e', script]);
    expect(node.stdout.split('\n')[0]).toBe(JSON.stringify([n.sinkAddress]));
    expect(node.stdout).toContain('"job"');
    if (has('ssh')) {
      await inSample('ssh', ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'ConnectTimeout=5', '-p', '22', '203.0.113.22', 'true']);
    }
    child!.stdin!.end();
    await waitFor(() => lines().some((l) => l.kind === 'stopped'), 10_000);
    const events = lines();
    expect(events).toContainEqual(expect.objectContaining({ kind: 'dns', name: 'pool.example.test', type: 'A', from: expect.objectContaining({ address: n.sampleAddress }) }));
    expect(events).toContainEqual(
      expect.objectContaining({ protocol: 'http', originalDst: { address: '203.0.113.7', port: 3333 }, details: { requests: [expect.objectContaining({ host: 'pool.example.test:3333', userAgent: 'xmr-agent' })] } }),
    );
    expect(events).toContainEqual(expect.objectContaining({ protocol: 'stratum', originalDst: { address: '203.0.113.8', port: 14444 }, details: expect.objectContaining({ wallet: 'WALLET' }) }));
    expect(events).toContainEqual(expect.objectContaining({ proto: 'udp', originalDst: { address: '203.0.113.9', port: 9000 }, firstBytes: expect.objectContaining({ text: 'beacon' }) }));
    if (has('ssh')) expect(events).toContainEqual(expect.objectContaining({ protocol: 'ssh', originalDst: { address: '203.0.113.22', port: 22 } }));
  });
});
