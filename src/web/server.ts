/**
 * `detonate serve`: the results store's read-only JSON API (the site's front end and scripts stand on it). Every
 * route is a GET with a bounded, validated query; the OpenAPI document at /api/docs is made from the same route
 * table that registers them, so it cannot drift. Security headers (strict Content-Security-Policy, no sniffing, no
 * framing) come from @fastify/helmet and a per-client rate limit from @fastify/rate-limit.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type pg from 'pg';
import { FINDING_CATEGORIES, type AggregateReport, type FindingCategory } from '../model/index.js';
import { aggregate } from '../store/aggregate.js';
import { imagePage, indicatorImages, maliciousImages, searchImages, SEARCH_KINDS, unfinishedScans, type SearchKind } from '../store/search.js';
import { MAX_PAGE_SIZE } from '../store/limits.js';
import { toolVersion } from '../version.js';
import { loadSite, type SiteFile } from './site-files.js';
import { DASHBOARD_CACHE_MS, MAX_PATH_PARAM_CHARS, MAX_PLATFORM_CHARS, MAX_QUERY_CHARS, SERVE_RATE_LIMIT_PER_MINUTE } from './limits.js';

export interface ServerOptions {
  db: pg.Pool;
  /** Requests per minute per client address (default `SERVE_RATE_LIMIT_PER_MINUTE`). */
  rateLimitPerMinute?: number;
  logger?: boolean;
  /** Told of every error the client only hears of as a 500 (the store down, a bug): an operator's log. */
  onServerError?: (error: Error, url: string) => void;
  /** The built site (dist/site/) served at `/`; without it, the API alone. */
  siteDir?: string;
}

type Schema = Record<string, unknown>;

interface Route {
  url: string;
  summary: string;
  params?: Schema;
  querystring?: Schema;
  handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
}

const paging: Record<string, Schema> = {
  page: { type: 'integer', minimum: 1, maximum: 10_001, default: 1, description: 'the page, from 1' },
  pageSize: { type: 'integer', minimum: 1, maximum: MAX_PAGE_SIZE, default: 20, description: `images per page, at most ${MAX_PAGE_SIZE}` },
};
const object = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', additionalProperties: false, properties, required });
const INDICATOR_KINDS = ['domain', 'ip', 'pool', 'wallet', 'sha256'] as const;
const DIGEST_PATTERN = '^sha256:[0-9a-f]{64}$';

interface PagingQuery {
  page: number;
  pageSize: number;
}

export async function buildServer(options: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: options.logger ?? false, routerOptions: { maxParamLength: MAX_PATH_PARAM_CHARS }, bodyLimit: MAX_PATH_PARAM_CHARS });
  await app.register(helmet, {
    // the site's own script, stylesheet and API calls, and nothing else: no inline code, no other origin
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'none'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'", 'data:'], connectSrc: ["'self'"],
        frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"],
      },
    },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  await app.register(rateLimit, { max: options.rateLimitPerMinute ?? SERVE_RATE_LIMIT_PER_MINUTE, timeWindow: '1 minute' });
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode ?? (error instanceof RangeError ? 400 : 500);
    if (status >= 500) options.onServerError?.(error, request.url);
    void reply.code(status).send({ error: status >= 500 ? 'the store could not answer; try again later' : error.message });
  });
  app.setNotFoundHandler((_request, reply) => void reply.code(404).send({ error: 'no such page; GET /api/docs lists the API' }));

  const { db } = options;
  // the figures take seconds over a large store: once made, they are served while the next ones are worked out
  let dashboard: { at: number; figures: AggregateReport } | undefined;
  let refreshing: Promise<AggregateReport> | undefined;
  const refresh = (): Promise<AggregateReport> =>
    (refreshing ??= aggregate(db)
      .then((figures) => {
        dashboard = { at: Date.now(), figures };
        return figures;
      })
      .finally(() => (refreshing = undefined)));
  const routes: Route[] = [
    {
      url: '/api/search',
      summary: 'Images whose current result matches q: a repository or tag (any part), a digest, a package (name or name@version), a vulnerability id (any alias) or an indicator (pool, wallet, domain, IP, SHA-256).',
      querystring: object({ q: { type: 'string', minLength: 1, maxLength: MAX_QUERY_CHARS }, kind: { type: 'string', enum: [...SEARCH_KINDS] }, ...paging }, ['q']),
      handler: async (request) => {
        const query = request.query as { q: string; kind?: SearchKind } & PagingQuery;
        return searchImages(db, query.q.trim(), query.kind, query);
      },
    },
    {
      url: '/api/images/:digest',
      summary: "An image's page: its current report (the JSON contract), every tag that names it, and the advisory DB builds its result was checked against.",
      params: object({ digest: { type: 'string', pattern: DIGEST_PATTERN } }, ['digest']),
      querystring: object({ platform: { type: 'string', maxLength: MAX_PLATFORM_CHARS, default: 'linux/amd64' } }),
      handler: async (request, reply) => {
        const { digest } = request.params as { digest: string };
        const { platform } = request.query as { platform: string };
        const page = await imagePage(db, digest, platform);
        if (!page) return reply.code(404).send({ error: `no result for ${digest} (${platform}) in this store` });
        return page;
      },
    },
    {
      url: '/api/malicious',
      summary: 'Images judged malicious, newest first; with category, those with a finding of that category.',
      querystring: object({ category: { type: 'string', enum: [...FINDING_CATEGORIES] }, ...paging }),
      handler: async (request) => {
        const query = request.query as { category?: FindingCategory } & PagingQuery;
        return maliciousImages(db, query.category, query);
      },
    },
    {
      url: '/api/indicators/:kind/:value',
      summary: 'Every image whose current result names this indicator (a mining pool, wallet, domain, IP address or file SHA-256).',
      params: object({ kind: { type: 'string', enum: [...INDICATOR_KINDS] }, value: { type: 'string', minLength: 1, maxLength: MAX_QUERY_CHARS } }, ['kind', 'value']),
      querystring: object({ ...paging }),
      handler: async (request) => {
        const { kind, value } = request.params as { kind: (typeof INDICATOR_KINDS)[number]; value: string };
        return indicatorImages(db, kind, value, request.query as PagingQuery);
      },
    },
    {
      url: '/api/failed',
      summary: 'References whose latest attempt failed (with the stage and why) or was skipped (with why), newest first.',
      querystring: object({ ...paging }),
      handler: async (request) => unfinishedScans(db, request.query as PagingQuery),
    },
    {
      url: '/api/dashboard',
      summary: 'The state of the registry: the figures `detonate report --aggregate` prints, as of `generatedAt` (worked out again in the background once 30 s old).',
      handler: async () => {
        if (!dashboard) return refresh();
        if (Date.now() - dashboard.at > DASHBOARD_CACHE_MS) refresh().catch(() => {}); // the next request sees them
        return dashboard.figures;
      },
    },
  ];

  for (const route of routes) {
    app.get(route.url, { schema: { ...(route.params ? { params: route.params } : {}), ...(route.querystring ? { querystring: route.querystring } : {}) } }, route.handler);
  }
  const document = openApiDocument(routes);
  app.get('/api/docs', async () => document);
  if (options.siteDir) {
    const site = loadSite(options.siteDir);
    const send = (file: SiteFile | undefined, reply: FastifyReply, immutable: boolean) => {
      if (!file) return reply.code(404).send({ error: 'no such page; GET /api/docs lists the API' });
      return reply.type(file.type).header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache').send(file.body);
    };
    app.get('/', async (_request, reply) => send(site.get('/'), reply, false));
    app.get('/assets/:name', async (request, reply) => send(site.get(`/assets/${(request.params as { name: string }).name}`), reply, true));
    // browsers ask for it on every page; the site has none
    app.get('/favicon.ico', async (_request, reply) => reply.code(204).send());
  }
  return app;
}

/** The OpenAPI 3.1 document of `routes`: their paths, summaries and parameters. */
function openApiDocument(routes: readonly Route[]): Schema {
  const parameters = (schema: Schema | undefined, where: 'path' | 'query') => {
    const properties = (schema?.properties ?? {}) as Record<string, Schema>;
    const required = (schema?.required ?? []) as string[];
    return Object.entries(properties).map(([name, s]) => ({ name, in: where, required: where === 'path' || required.includes(name), schema: s }));
  };
  const paths: Record<string, Schema> = {};
  for (const r of routes) {
    paths[r.url.replace(/:(\w+)/g, '{$1}')] = {
      get: {
        summary: r.summary,
        parameters: [...parameters(r.params, 'path'), ...parameters(r.querystring, 'query')],
        responses: { 200: { description: 'JSON' }, 400: { description: 'a parameter out of bounds: `{ error }`' }, 404: { description: 'not found: `{ error }`' }, 429: { description: 'rate limited' } },
      },
    };
  }
  return { openapi: '3.1.0', info: { title: 'Detonate results API', version: toolVersion(), description: 'Read-only: every image a Detonate results store judged.' }, paths };
}
