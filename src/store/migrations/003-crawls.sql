-- Crawls (`detonate crawl`): one row per pass of one source with one plan (the options that decide which images
-- come in which order). `cursor` is the position after the last target whose job is committed, written in the same
-- transaction as those jobs (and the skipped scans), so a crawl stopped at any moment and started again goes on
-- exactly there: nothing enqueued twice, nothing lost. The cursor's shape is the crawl's (src/crawl/types.ts); the
-- store keeps it as written.
CREATE TABLE crawls (
  id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- `registry:HOST`, `dockerhub:NAMESPACE`, `dockerhub:search:TERM`, `file:PATH`, as given
  source          text NOT NULL,
  plan            text NOT NULL,
  -- null until the first target is committed
  cursor          json,
  -- what the crawl's jobs carry: static only, detonation timeout, platform, size limit
  job_options     jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- running | stopped (interrupted or failed: started again, it resumes) | done | abandoned (--restart)
  status          text NOT NULL CHECK (status IN ('running', 'stopped', 'done', 'abandoned')),
  error           text,
  targets         bigint NOT NULL DEFAULT 0,
  enqueued        bigint NOT NULL DEFAULT 0,
  already_queued  bigint NOT NULL DEFAULT 0,
  skipped         bigint NOT NULL DEFAULT 0,
  -- the crawl's notices (bad lines, repositories that could not be listed), the first few
  notices         text[] NOT NULL DEFAULT '{}',
  notice_count    integer NOT NULL DEFAULT 0,
  started_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz,
  CHECK ((status IN ('done', 'abandoned')) = (finished_at IS NOT NULL))
);
-- At most one unfinished pass per source and plan: that is the one a crawl resumes.
CREATE UNIQUE INDEX crawls_unfinished ON crawls (source, plan) WHERE finished_at IS NULL;
CREATE INDEX crawls_recent ON crawls (started_at DESC);
