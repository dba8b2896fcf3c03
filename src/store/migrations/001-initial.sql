-- The results store, first schema. Applied in one transaction by src/store/migrate.ts.
--
-- Reports and per-layer results are `json`, not `jsonb`: json keeps the text exactly as written, and a hostile
-- image can put a \u0000 or a lone surrogate into a report (a string a sample printed, a package name), which
-- jsonb refuses. What search needs is in the normalised tables below, as text.

-- What a registry (or a crawl of it) names: one row per tag and platform, pointing at the digest seen last.
CREATE TABLE images (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- `docker.io`, `ghcr.io`, `localhost:5000`; for local archives the transport (`oci-archive`, …)
  registry    text NOT NULL,
  -- `library/nginx`; for local archives the path (and selector) as scanned
  repository  text NOT NULL,
  -- '' when the image was named by digest only
  tag         text NOT NULL DEFAULT '',
  platform    text NOT NULL,
  digest      text NOT NULL,
  -- when the source knows it (Docker Hub's listing); null otherwise
  pull_count  bigint,
  first_seen  timestamptz NOT NULL DEFAULT now(),
  last_seen   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (registry, repository, tag, platform)
);
CREATE INDEX images_digest ON images (digest, platform);

-- One attempt to judge one image. `done` rows carry the report and the verdict; `failed` and `skipped` rows say
-- why there is none, and carry no verdict, so a failed scan can never pass for a clean one.
CREATE TABLE scans (
  id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- the image as scanned; digest and platform are unknown for a scan that failed before the image was resolved
  reference             text NOT NULL,
  image_digest          text,
  platform              text,
  tool_version          text NOT NULL,
  -- what the verdict rests on besides the image: analyzers, image checks, verdict rules, ignore entries
  rules_digest          text NOT NULL,
  -- the advisory DB matched against; null when vulnerabilities were not checked
  advisory_db_built_at  timestamptz,
  -- gvisor | runc; null when the image was not run (static only)
  sandbox               text,
  status                text NOT NULL CHECK (status IN ('done', 'failed', 'skipped')),
  failed_stage          text,
  reason                text,
  -- milliseconds per step, as the scanner measured them
  timings               jsonb NOT NULL DEFAULT '{}'::jsonb,
  started_at            timestamptz,
  finished_at           timestamptz NOT NULL DEFAULT now(),
  -- the verdict (done only)
  malicious             boolean,
  categories            text[],
  vulnerability_counts  jsonb,
  -- the report, as the JSON contract writes it (done only)
  report                json,
  CHECK (status <> 'done' OR (image_digest IS NOT NULL AND platform IS NOT NULL AND report IS NOT NULL AND malicious IS NOT NULL)),
  CHECK (status = 'done' OR (report IS NULL AND malicious IS NULL AND categories IS NULL)),
  CHECK (status <> 'failed' OR (failed_stage IS NOT NULL AND reason IS NOT NULL)),
  CHECK (status <> 'skipped' OR reason IS NOT NULL)
);
-- One done scan per image and set of versions: recording it again replaces it (idempotent retries).
CREATE UNIQUE INDEX scans_done_once ON scans
  (image_digest, platform, tool_version, rules_digest, (COALESCE(advisory_db_built_at, '-infinity'::timestamptz)))
  WHERE status = 'done';
CREATE INDEX scans_image ON scans (image_digest, platform, finished_at DESC);
CREATE INDEX scans_status ON scans (status, finished_at DESC);
CREATE INDEX scans_malicious ON scans (finished_at DESC) WHERE status = 'done' AND malicious;

-- Per-layer static results by (layer diffID, analyzer versions): a layer analysed by any worker is never
-- analysed again. `analyzer_key_digest` is sha256(format + analyzer key), the key itself is kept for reading.
CREATE TABLE layer_results (
  diff_id              text NOT NULL,
  analyzer_key_digest  text NOT NULL,
  analyzer_key         text NOT NULL,
  format               integer NOT NULL,
  result               json NOT NULL,
  created_at           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (diff_id, analyzer_key_digest)
);

-- Normalised rows of done scans, for search (issue 14's site) and re-matching. Strings are as in the report,
-- except that a NUL or a lone surrogate (which text cannot hold) becomes U+FFFD.
CREATE TABLE scan_packages (
  scan_id  bigint NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
  name     text NOT NULL,
  version  text NOT NULL,
  type     text NOT NULL,
  purl     text NOT NULL,
  layer    integer NOT NULL
);
CREATE INDEX scan_packages_scan ON scan_packages (scan_id);
CREATE INDEX scan_packages_name ON scan_packages (type, name, version);
CREATE INDEX scan_packages_purl ON scan_packages (purl);

CREATE TABLE scan_vulnerabilities (
  scan_id            bigint NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
  id                 text NOT NULL,
  aliases            text[] NOT NULL DEFAULT '{}',
  package            text NOT NULL,
  installed_version  text NOT NULL,
  fixed_version      text,
  severity           text NOT NULL,
  purl               text NOT NULL
);
CREATE INDEX scan_vulnerabilities_scan ON scan_vulnerabilities (scan_id);
CREATE INDEX scan_vulnerabilities_id ON scan_vulnerabilities (id);
CREATE INDEX scan_vulnerabilities_aliases ON scan_vulnerabilities USING gin (aliases);

CREATE TABLE scan_findings (
  scan_id   bigint NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
  category  text NOT NULL,
  severity  text NOT NULL,
  source    text NOT NULL,
  rule      text NOT NULL,
  title     text NOT NULL,
  path      text,
  sha256    text
);
CREATE INDEX scan_findings_scan ON scan_findings (scan_id);
CREATE INDEX scan_findings_category ON scan_findings (category, severity);
CREATE INDEX scan_findings_rule ON scan_findings (rule);
CREATE INDEX scan_findings_sha256 ON scan_findings (sha256) WHERE sha256 IS NOT NULL;

-- What a scan saw that can be looked up elsewhere: names looked up and hosts contacted, addresses connected to,
-- mining pools, wallets, file hashes.
CREATE TABLE scan_indicators (
  scan_id  bigint NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
  kind     text NOT NULL CHECK (kind IN ('domain', 'ip', 'pool', 'wallet', 'sha256')),
  value    text NOT NULL,
  PRIMARY KEY (scan_id, kind, value)
);
CREATE INDEX scan_indicators_value ON scan_indicators (kind, value);
