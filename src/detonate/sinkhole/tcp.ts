/**
 * Catch-all TCP: every redirected flow lands here. Reads the first bytes, recognises the protocol and
 * speaks just enough of it to draw out the next message, then records one `connection` event when the
 * connection ends. Every connection is bounded in bytes, idle time and lifetime.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { ConnectionEvent, Endpoint, IrcDetails, SmtpDetails, SshDetails, StratumDetails, TlsDetails, HttpDetails } from './events.js';
import { printable, renderBytes, type Recorder } from './events.js';
import {
  CLOSE_FLUSH_MS,
  MAX_BUFFERED_LINE_BYTES,
  MAX_HTTP_BODY_PREVIEW_BYTES,
  MAX_IRC_REPLY_CHARS,
  MAX_RECORDED_COMMAND_CHARS,
  MAX_RECORDED_COMMANDS,
  MAX_SSH_BANNER_BYTES,
  ORIGINAL_LOOKUP_TIMEOUT_MS,
  type SinkholeLimits,
} from './limits.js';
import { HTTP_METHODS, parseHttpHead, parseSshKexinit, parseTlsClientHello } from './protocols.js';
import { isStratumMethod, newStratumDetails, stratumReply } from './stratum.js';
import { closeServer } from './dns.js';

/** A flow as our socket sees it: the sample's address and port, and our (post-redirect) address and port. */
export interface Flow {
  proto: 'tcp' | 'udp';
  src: string;
  sport: number;
  dst?: string;
  dport?: number;
}

export type OriginalLookup = (flow: Flow) => Promise<Endpoint | null>;

export interface TcpCatchAllOptions {
  host: string;
  port: number;
  recorder: Recorder;
  limits: SinkholeLimits;
  lookupOriginal: OriginalLookup | null;
  httpBody: string;
}

export interface TcpCatchAll {
  port: number;
  close(): Promise<void>;
}

export const SSH_BANNER = 'SSH-2.0-OpenSSH_9.2\r\n';
const SMTP_PORTS = new Set([25, 465, 587, 2525]);

type Outcome = Pick<ConnectionEvent, 'protocol' | 'details'>;

interface Handler {
  feed(c: Conn): void;
  outcome(c: Conn): Outcome;
}

interface Ctx {
  o: TcpCatchAllOptions;
  conns: Set<Conn>;
  pending: Set<Promise<void>>;
  accepted: number;
}

export async function startTcpCatchAll(o: TcpCatchAllOptions): Promise<TcpCatchAll> {
  const ctx: Ctx = { o, conns: new Set(), pending: new Set(), accepted: 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    if (ctx.accepted >= o.limits.maxConnections) {
      o.recorder.stats.tcpRefused++;
      o.recorder.limit('connections');
      s.destroy();
      return;
    }
    ctx.accepted++;
    o.recorder.stats.tcpConnections++;
    new Conn(s, ctx).start();
  });
  server.maxConnections = o.limits.maxConcurrentConnections;
  server.on('drop', () => {
    o.recorder.stats.tcpRefused++;
    o.recorder.limit('concurrent-connections');
  });
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: o.host, port: o.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  let closed: Promise<void> | null = null;
  return {
    port,
    close: () =>
      (closed ??= (async () => {
        const done = closeServer(server, new Set());
        for (const c of [...ctx.conns]) c.finish('stop');
        for (const s of sockets) s.destroy();
        await done;
        await Promise.all([...ctx.pending]);
      })()),
  };
}

class Conn {
  buf: Buffer = Buffer.alloc(0);
  bytesIn = 0;
  handler: Handler | null = null;
  bannerSent: 'ssh' | 'smtp' | null = null;
  done = false;
  private first: Buffer[] = [];
  private firstLen = 0;
  private readonly at = Date.now();
  private timers: NodeJS.Timeout[] = [];
  private original: Promise<Endpoint | null> | null = null;
  readonly limits: SinkholeLimits;

  constructor(
    readonly s: Socket,
    readonly ctx: Ctx,
  ) {
    this.limits = ctx.o.limits;
  }

  start(): void {
    this.ctx.conns.add(this);
    const s = this.s;
    s.setNoDelay(true);
    s.setTimeout(this.limits.idleTimeoutMs, () => this.finish('idle'));
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('end', () => this.finish('peer'));
    s.on('close', () => this.finish('peer'));
    s.on('error', () => this.finish('error'));
    this.timer(this.limits.maxConnectionMs, () => this.finish('lifetime'));
    this.timer(this.limits.serverFirstDelayMs, () => void this.greet());
  }

  private timer(ms: number, fn: () => void): void {
    this.timers.push(setTimeout(fn, ms));
  }

  /** The client stayed quiet: speak first as an SSH (or, on a mail port, SMTP) server would. */
  private async greet(): Promise<void> {
    if (this.done || this.bytesIn > 0) return;
    const orig = await this.lookup();
    if (this.done || this.bytesIn > 0) return;
    if (orig && SMTP_PORTS.has(orig.port)) {
      this.bannerSent = 'smtp';
      this.write('220 mail.example.test ESMTP Postfix\r\n');
    } else {
      this.bannerSent = 'ssh';
      this.write(SSH_BANNER);
    }
    this.timer(this.limits.firstBytesTimeoutMs, () => {
      if (this.bytesIn === 0) this.finish('idle');
    });
  }

  lookup(): Promise<Endpoint | null> {
    const fn = this.ctx.o.lookupOriginal;
    if (!fn) return Promise.resolve(null);
    this.original ??= new Promise<Endpoint | null>((resolve) => {
      const t = setTimeout(() => resolve(null), ORIGINAL_LOOKUP_TIMEOUT_MS);
      fn({ proto: 'tcp', src: this.s.remoteAddress ?? '', sport: this.s.remotePort ?? 0, dst: this.s.localAddress ?? '', dport: this.s.localPort ?? 0 })
        .then(resolve, () => resolve(null))
        .finally(() => clearTimeout(t));
    });
    return this.original;
  }

  private onData(chunk: Buffer): void {
    if (this.done) return;
    this.bytesIn += chunk.length;
    if (this.firstLen < this.limits.maxFirstBytes) {
      const part = chunk.subarray(0, this.limits.maxFirstBytes - this.firstLen);
      this.first.push(part);
      this.firstLen += part.length;
    }
    if (this.bytesIn > this.limits.maxBytesPerConnection) return this.finish('bytes');
    void this.lookup();
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    try {
      if (!this.handler) {
        const kind = detect(this.buf, this.bannerSent);
        if (kind === 'more') return;
        this.handler = makeHandler(kind);
      }
      this.handler.feed(this);
    } catch {
      // A handler bug on hostile input ends this connection, never the listener.
      this.finish('error');
    }
  }

  write(data: string | Buffer): void {
    if (!this.done && !this.s.destroyed && this.s.writable) this.s.write(data);
  }

  finish(reason: string): void {
    if (this.done) return;
    this.done = true;
    for (const t of this.timers) clearTimeout(t);
    this.ctx.conns.delete(this);
    const s = this.s;
    const end = Date.now();
    const outcome = (this.handler ?? new UnknownHandler()).outcome(this);
    const firstBytes = renderBytes(Buffer.concat(this.first), this.limits.maxFirstBytes);
    const remote = { address: s.remoteAddress ?? '', port: s.remotePort ?? 0 };
    const localPort = s.localPort ?? 0;
    const p = this.lookup().then((originalDst) => {
      this.ctx.o.recorder.record({
        kind: 'connection',
        proto: 'tcp',
        localPort,
        remote,
        originalDst,
        firstBytes,
        bytesIn: this.bytesIn,
        at: this.at,
        durationMs: end - this.at,
        closedBy: reason,
        ...outcome,
      } as ConnectionEvent);
    });
    this.ctx.pending.add(p);
    void p.finally(() => this.ctx.pending.delete(p));
    if (reason === 'stop' || reason === 'error' || reason === 'bytes' || s.destroyed) {
      s.destroy();
    } else {
      // Let replies already written flush, but never wait on the peer for long.
      s.end();
      setTimeout(() => s.destroy(), CLOSE_FLUSH_MS).unref();
    }
  }

  /** Complete lines from the buffer (without CR/LF); null when a line is longer than MAX_BUFFERED_LINE_BYTES. */
  takeLines(): string[] | null {
    const out: string[] = [];
    for (;;) {
      const i = this.buf.indexOf(0x0a);
      if (i < 0) break;
      out.push(this.buf.subarray(0, i).toString('latin1').replace(/\r$/, ''));
      this.buf = this.buf.subarray(i + 1);
    }
    if (this.buf.length > MAX_BUFFERED_LINE_BYTES) return null;
    return out;
  }
}

type Kind = 'http' | 'tls' | 'stratum' | 'ssh' | 'irc' | 'smtp' | 'unknown';

const TOKENS: Array<[string, Kind]> = [
  ...HTTP_METHODS.map((m): [string, Kind] => [m + ' ', 'http']),
  ['SSH-', 'ssh'],
  ['NICK ', 'irc'],
  ['USER ', 'irc'],
  ['PASS ', 'irc'],
  ['CAP ', 'irc'],
  ['EHLO ', 'smtp'],
  ['HELO ', 'smtp'],
];

export function detect(buf: Buffer, bannerSent: 'ssh' | 'smtp' | null): Kind | 'more' {
  if (buf.length === 0) return 'more';
  if (buf[0] === 0x16) {
    if (buf.length < 3) return 'more';
    return buf[1] === 3 ? 'tls' : 'unknown';
  }
  let i = 0;
  while (i < buf.length && i < 64 && (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x0a || buf[i] === 0x0d)) i++;
  if (i === buf.length && i < 64) return 'more';
  if (buf[i] === 0x7b) return 'stratum';
  const head = buf.subarray(0, 10).toString('latin1').toUpperCase();
  let prefix = false;
  for (const [token, kind] of TOKENS) {
    if (head.startsWith(token)) return kind;
    if (token.startsWith(head)) prefix = true;
  }
  if (prefix) return 'more';
  if (bannerSent === 'smtp') return 'smtp';
  return 'unknown';
}

function makeHandler(kind: Kind): Handler {
  switch (kind) {
    case 'http':
      return new HttpHandler();
    case 'tls':
      return new TlsHandler();
    case 'stratum':
      return new StratumHandler();
    case 'ssh':
      return new SshHandler();
    case 'irc':
      return new IrcHandler();
    case 'smtp':
      return new SmtpHandler();
    default:
      return new UnknownHandler();
  }
}

class UnknownHandler implements Handler {
  feed(c: Conn): void {
    c.buf = Buffer.alloc(0);
    if (c.bytesIn >= c.limits.maxFirstBytes) c.finish('done');
  }
  outcome(c: Conn): Outcome {
    return { protocol: 'unknown', details: { silent: c.bytesIn === 0, bannerSent: c.bannerSent } };
  }
}

class HttpHandler implements Handler {
  private readonly d: HttpDetails = { requests: [] };
  private skip = 0;
  private closeAfterBody = false;
  private notHttp = false;

  feed(c: Conn): void {
    if (this.notHttp) return void (c.buf = Buffer.alloc(0));
    for (;;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, c.buf.length);
        const req = this.d.requests[this.d.requests.length - 1];
        if (req && req.bodyPreview === null && n > 0) req.bodyPreview = printable(c.buf.subarray(0, Math.min(n, MAX_HTTP_BODY_PREVIEW_BYTES)));
        c.buf = c.buf.subarray(n);
        this.skip -= n;
        if (this.skip > 0) return;
        if (this.closeAfterBody) return c.finish('done');
      }
      if (c.buf.length === 0) return;
      const h = parseHttpHead(c.buf);
      if (h === 'more') {
        if (c.buf.length > MAX_BUFFERED_LINE_BYTES) c.finish('bytes');
        return;
      }
      if (h === null) {
        // Looked like a method but is not a request line: keep the bytes, answer nothing.
        if (this.d.requests.length === 0) this.notHttp = true;
        else c.finish('done');
        return;
      }
      c.buf = c.buf.subarray(h.headLength);
      this.d.requests.push(h.request);
      const last = this.d.requests.length >= c.limits.maxHttpRequests;
      if (h.request.method === 'CONNECT') {
        c.write('HTTP/1.1 200 Connection established\r\n\r\n');
        return c.finish('done');
      }
      const close = !h.keepAlive || h.chunked || last || h.contentLength > c.limits.maxBytesPerConnection;
      const body = c.ctx.o.httpBody;
      c.write(
        `HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
          `Connection: ${close ? 'close' : 'keep-alive'}\r\n\r\n` +
          (h.request.method === 'HEAD' ? '' : body),
      );
      if (h.chunked) {
        if (c.buf.length) h.request.bodyPreview = printable(c.buf.subarray(0, MAX_HTTP_BODY_PREVIEW_BYTES));
        return c.finish('done');
      }
      this.skip = close && h.contentLength > c.limits.maxBytesPerConnection ? 0 : h.contentLength;
      this.closeAfterBody = close;
      if (this.skip === 0 && close) return c.finish('done');
    }
  }
  outcome(c: Conn): Outcome {
    if (this.d.requests.length === 0) return new UnknownHandler().outcome(c);
    return { protocol: 'http', details: this.d };
  }
}

class TlsHandler implements Handler {
  private d: TlsDetails | null = null;
  feed(c: Conn): void {
    const r = parseTlsClientHello(c.buf);
    if (r === 'more') return;
    this.d = r;
    c.finish('done');
  }
  outcome(): Outcome {
    return {
      protocol: 'tls',
      details: this.d ?? { clientHello: false, sni: null, alpn: [], version: null, supportedVersions: [], cipherSuites: 0, error: 'incomplete ClientHello' },
    };
  }
}

class StratumHandler implements Handler {
  private readonly d: StratumDetails = newStratumDetails();
  private invalid = 0;
  feed(c: Conn): void {
    const lines = c.takeLines();
    if (lines === null) return c.finish('bytes');
    for (const raw of lines) {
      const line = raw.trim();
      if (!line) continue;
      const replies = stratumReply(line, this.d);
      if (replies === null) {
        if (++this.invalid >= 4) return c.finish('done');
        continue;
      }
      c.write(replies.map((r) => r + '\n').join(''));
    }
  }
  outcome(c: Conn): Outcome {
    if (!this.d.methods.some(isStratumMethod)) return new UnknownHandler().outcome(c);
    return { protocol: 'stratum', details: this.d };
  }
}

class SshHandler implements Handler {
  private readonly d: SshDetails = { clientBanner: null, serverSpokeFirst: false, kexAlgorithms: [], hostKeyAlgorithms: [] };
  private gotBanner = false;
  feed(c: Conn): void {
    if (!this.gotBanner) {
      const i = c.buf.indexOf(0x0a);
      if (i < 0) {
        if (c.buf.length > MAX_SSH_BANNER_BYTES) {
          this.d.clientBanner = printable(c.buf.subarray(0, MAX_SSH_BANNER_BYTES));
          c.finish('done');
        }
        return;
      }
      this.gotBanner = true;
      this.d.clientBanner = printable(c.buf.subarray(0, Math.min(i, MAX_SSH_BANNER_BYTES))).replace(/\\r$/, '');
      c.buf = c.buf.subarray(i + 1);
      this.d.serverSpokeFirst = c.bannerSent === 'ssh';
      if (c.bannerSent !== 'ssh') {
        c.bannerSent = 'ssh';
        c.write(SSH_BANNER);
      }
    }
    const k = parseSshKexinit(c.buf);
    if (k === 'more') return;
    if (k) {
      this.d.kexAlgorithms = k.kex;
      this.d.hostKeyAlgorithms = k.hostKey;
    }
    c.finish('done');
  }
  outcome(): Outcome {
    return { protocol: 'ssh', details: this.d };
  }
}

const clip = (s: string): string => printable(Buffer.from(s.slice(0, MAX_RECORDED_COMMAND_CHARS), 'latin1'));

class IrcHandler implements Handler {
  private readonly d: IrcDetails = { nick: null, user: null, realName: null, channels: [], commands: [], welcomed: false };
  feed(c: Conn): void {
    const lines = c.takeLines();
    if (lines === null) return c.finish('bytes');
    for (const line of lines) {
      if (!line.trim()) continue;
      if (this.d.commands.length < MAX_RECORDED_COMMANDS) this.d.commands.push(clip(line));
      const [cmdRaw = '', ...rest] = line.trim().split(' ');
      const cmd = cmdRaw.toUpperCase();
      const arg = rest.join(' ');
      const nick = this.d.nick ?? '*';
      if (cmd === 'NICK') this.d.nick = clip(rest[0] ?? '').replace(/^:/, '');
      else if (cmd === 'USER') {
        this.d.user = clip(rest[0] ?? '');
        const colon = arg.indexOf(':');
        this.d.realName = colon >= 0 ? clip(arg.slice(colon + 1)) : null;
      } else if (cmd === 'PING') c.write(`PONG ${arg}\r\n`.slice(0, MAX_IRC_REPLY_CHARS));
      else if (cmd === 'CAP' && /^LS/i.test(arg)) c.write(':irc.example.test CAP * LS :\r\n');
      else if (cmd === 'JOIN') {
        for (const ch of (rest[0] ?? '').split(',')) {
          if (ch && this.d.channels.length < MAX_RECORDED_COMMANDS) this.d.channels.push(clip(ch));
          if (ch) c.write(`:${nick}!${this.d.user ?? nick}@sinkhole JOIN :${clip(ch)}\r\n`);
        }
      } else if (cmd === 'QUIT') return c.finish('done');
      if (!this.d.welcomed && this.d.nick && this.d.user) {
        this.d.welcomed = true;
        const n = this.d.nick;
        c.write(
          `:irc.example.test 001 ${n} :Welcome to the Internet Relay Network ${n}\r\n` +
            `:irc.example.test 002 ${n} :Your host is irc.example.test\r\n` +
            `:irc.example.test 375 ${n} :- irc.example.test Message of the day -\r\n` +
            `:irc.example.test 376 ${n} :End of /MOTD command.\r\n`,
        );
      }
    }
  }
  outcome(): Outcome {
    return { protocol: 'irc', details: this.d };
  }
}

class SmtpHandler implements Handler {
  private readonly d: SmtpDetails = { helo: null, mailFrom: null, rcptTo: [], authMechanism: null, subject: null, commands: [] };
  private mode: 'cmd' | 'data' | 'auth' = 'cmd';
  private authSteps = 0;
  feed(c: Conn): void {
    const lines = c.takeLines();
    if (lines === null) return c.finish('bytes');
    for (const line of lines) {
      if (this.mode === 'data') {
        if (line === '.') {
          this.mode = 'cmd';
          c.write('250 2.0.0 Ok: queued as 4F2A1C0B3\r\n');
        } else if (this.d.subject === null && /^subject:/i.test(line)) this.d.subject = clip(line.slice(8).trim());
        continue;
      }
      if (this.mode === 'auth') {
        if (--this.authSteps > 0) c.write('334 UGFzc3dvcmQ6\r\n');
        else {
          this.mode = 'cmd';
          c.write('235 2.7.0 Authentication successful\r\n');
        }
        continue;
      }
      if (this.d.commands.length < MAX_RECORDED_COMMANDS) this.d.commands.push(clip(line));
      const verb = line.slice(0, 4).toUpperCase();
      const arg = line.slice(4).trim();
      if (verb === 'EHLO') {
        this.d.helo ??= clip(arg);
        c.write('250-mail.example.test\r\n250-SIZE 10240000\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n');
      } else if (verb === 'HELO') {
        this.d.helo ??= clip(arg);
        c.write('250 mail.example.test\r\n');
      } else if (verb === 'MAIL') {
        this.d.mailFrom ??= clip(arg.replace(/^FROM:\s*/i, ''));
        c.write('250 2.1.0 Ok\r\n');
      } else if (verb === 'RCPT') {
        if (this.d.rcptTo.length < 16) this.d.rcptTo.push(clip(arg.replace(/^TO:\s*/i, '')));
        c.write('250 2.1.5 Ok\r\n');
      } else if (verb === 'DATA') {
        this.mode = 'data';
        c.write('354 End data with <CR><LF>.<CR><LF>\r\n');
      } else if (verb === 'AUTH') {
        const [mech = '', initial] = arg.split(/\s+/);
        this.d.authMechanism ??= clip(mech.toUpperCase());
        if (/^LOGIN$/i.test(mech)) {
          this.mode = 'auth';
          this.authSteps = initial ? 1 : 2;
          c.write(initial ? '334 UGFzc3dvcmQ6\r\n' : '334 VXNlcm5hbWU6\r\n');
        } else if (initial) c.write('235 2.7.0 Authentication successful\r\n');
        else {
          this.mode = 'auth';
          this.authSteps = 1;
          c.write('334 \r\n');
        }
      } else if (verb === 'QUIT') {
        c.write('221 2.0.0 Bye\r\n');
        return c.finish('done');
      } else if (verb === 'STAR') c.write('454 4.7.0 TLS not available\r\n');
      else if (verb === 'RSET' || verb === 'NOOP') c.write('250 2.0.0 Ok\r\n');
      else c.write('502 5.5.2 Error: command not recognized\r\n');
    }
  }
  outcome(): Outcome {
    return { protocol: 'smtp', details: this.d };
  }
}
