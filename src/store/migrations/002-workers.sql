-- What workers share besides the queue (the queue itself is pg-boss's, in its own schema `pgboss`, in this same
-- database: src/store/queue.ts).

-- Which diffID each layer blob has, as a worker's walk of the blob established it (the bytes verified against the
-- blob's digest, the uncompressed stream hashed). A layer's stored result (layer_results, by diffID) stands for a
-- layer of another image, on any machine, when that image's blob digest is recorded here with the diffID its
-- config claims: blobs are content-addressed, so the blob need not even be downloaded again.
CREATE TABLE layer_blobs (
  blob_digest  text PRIMARY KEY,
  diff_id      text NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);

-- Per-registry rate limits, shared by every worker of a store (src/store/registry-limits.ts).
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

-- Which job is scanning an image (digest and platform) right now: a job for another tag of the same image waits
-- for that scan and then links its tag to it, instead of scanning the image a second time at the same moment.
-- A claim holds only while its job is active with the same retry count (that worker's lease, see
-- src/store/queue.ts), so the claims of a killed worker lapse with its jobs.
CREATE TABLE scan_claims (
  image_digest     text NOT NULL,
  platform         text NOT NULL,
  job_id           uuid NOT NULL,
  job_retry_count  integer NOT NULL,
  claimed_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (image_digest, platform)
);
CREATE INDEX scan_claims_job ON scan_claims (job_id);
