-- Per-registry rate limits, shared by every worker of a store (src/store/registry-limits.ts). The scan queue
-- itself is pg-boss's, in its own schema `pgboss` (src/store/queue.ts), in this same database.
--
-- A token bucket per registry: one token per image a worker starts to pull. `tokens` may go below zero: a worker
-- that takes a token then waits until the refill covers it, so workers queue for a registry instead of racing.
-- `paused_until` stops every worker from starting images of the registry: after a 429, an exhausted Docker Hub
-- quota (`ratelimit-remaining: 0`), or a run of failures; jobs of other registries go on.
CREATE TABLE registry_limits (
  registry              text PRIMARY KEY,
  capacity              double precision NOT NULL CHECK (capacity >= 1),
  refill_per_second     double precision NOT NULL CHECK (refill_per_second > 0),
  tokens                double precision NOT NULL,
  refilled_at           timestamptz NOT NULL DEFAULT now(),
  -- set by `worker --rate-limit`: the defaults no longer apply to this registry
  configured            boolean NOT NULL DEFAULT false,
  paused_until          timestamptz,
  pause_reason          text,
  consecutive_failures  integer NOT NULL DEFAULT 0
);
