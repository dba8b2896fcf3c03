/**
 * A small HTTP proxy on 127.0.0.1 in front of a loopback registry, for fault tests: it forwards every request,
 * logs each with its time and the status it got, and can hold requests (until `release`) or answer them with
 * 429 Too Many Requests and a Retry-After instead of forwarding them.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  at: number;
  method: string;
  path: string;
  status: number;
}

interface Hold {
  match: RegExp;
  waiting: Array<() => void>;
  seen: number;
  released: boolean;
}

export class RegistryProxy {
  readonly requests: ProxiedRequest[] = [];
  private server: Server | undefined;
  private readonly holds: Hold[] = [];
  private throttle: { match: RegExp; remaining: number; retryAfterSeconds: number } | undefined;
  port = 0;

  constructor(private readonly target: string) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Requests whose path matches wait until `release()` (the proxy holds them; the client sees a slow registry). */
  hold(match: RegExp): { seen: () => number; release: () => void } {
    const hold: Hold = { match, waiting: [], seen: 0, released: false };
    this.holds.push(hold);
    return {
      seen: () => hold.seen,
      release: () => {
        hold.released = true;
        for (const go of hold.waiting.splice(0)) go();
      },
    };
  }

  /** The next `count` requests whose path matches get 429 with `Retry-After: retryAfterSeconds`. */
  tooManyRequests(match: RegExp, count: number, retryAfterSeconds: number): void {
    this.throttle = { match, remaining: count, retryAfterSeconds };
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const log = (status: number) => this.requests.push({ at: Date.now(), method: req.method ?? 'GET', path, status });
    const throttle = this.throttle;
    if (throttle && throttle.remaining > 0 && throttle.match.test(path)) {
      throttle.remaining--;
      log(429);
      res.writeHead(429, { 'retry-after': String(throttle.retryAfterSeconds), 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'TOOMANYREQUESTS', message: 'slow down' }] }));
      return;
    }
    for (const hold of this.holds) {
      if (hold.released || !hold.match.test(path)) continue;
      hold.seen++;
      await new Promise<void>((resolve) => hold.waiting.push(resolve));
    }
    if (res.destroyed || req.destroyed) return;
    const upstream = httpRequest(`http://${this.target}${req.url ?? '/'}`, { method: req.method, headers: { ...req.headers, host: this.target } }, (answer) => {
      log(answer.statusCode ?? 0);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }

  async stop(): Promise<void> {
    for (const hold of this.holds) hold.released = true;
    for (const hold of this.holds) for (const go of hold.waiting.splice(0)) go();
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
