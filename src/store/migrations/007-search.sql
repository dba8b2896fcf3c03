-- Search for the results site (src/store/search.ts, src/web/).
--
-- Repository and tag search matches any part of `registry/repository:tag`, case-insensitively: a trigram index
-- (pg_trgm, a trusted extension any database owner may create) serves `ILIKE '%…%'`. On a server where it cannot be
-- created (no contrib package, no right to create it) search still works, by reading the images table through.
-- Packages are found by name (and version) without their type, and indicators by value without their kind.
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS pg_trgm;
  CREATE INDEX images_name_trgm ON images USING gin ((registry || '/' || repository || ':' || tag) gin_trgm_ops);
EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
  RAISE NOTICE 'pg_trgm is not available: repository search reads the images table through';
END $$;
CREATE INDEX scan_packages_name_version ON scan_packages (name, version);
CREATE INDEX scan_indicators_any_value ON scan_indicators (value);

-- Each image's current result: its latest done scan (newest finished_at, then id, as getLatestReport reads it),
-- with what lists and figures show of it. Kept by a trigger on scans, so that every way a done scan is written
-- (a scan, a worker, a rematch) keeps it true; the site's searches and listings and the aggregate figures read it
-- instead of finding the latest scan of each image again.
CREATE TABLE image_results (
  image_digest          text NOT NULL,
  platform              text NOT NULL,
  scan_id               bigint NOT NULL UNIQUE REFERENCES scans (id) ON DELETE CASCADE,
  finished_at           timestamptz NOT NULL,
  malicious             boolean NOT NULL,
  categories            text[] NOT NULL,
  vulnerability_counts  jsonb,
  advisory_db_built_at  timestamptz,
  detonated             boolean NOT NULL,
  PRIMARY KEY (image_digest, platform)
);
CREATE INDEX image_results_recent ON image_results (finished_at DESC, scan_id DESC);
CREATE INDEX image_results_malicious ON image_results (finished_at DESC, scan_id DESC) WHERE malicious;

CREATE FUNCTION keep_image_result() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO image_results AS r (image_digest, platform, scan_id, finished_at, malicious, categories, vulnerability_counts, advisory_db_built_at, detonated)
  VALUES (NEW.image_digest, NEW.platform, NEW.id, COALESCE(NEW.finished_at, now()), NEW.malicious, COALESCE(NEW.categories, '{}'),
          NEW.vulnerability_counts, NEW.advisory_db_built_at, NEW.sandbox IS NOT NULL)
  ON CONFLICT (image_digest, platform) DO UPDATE
    SET scan_id = EXCLUDED.scan_id, finished_at = EXCLUDED.finished_at, malicious = EXCLUDED.malicious, categories = EXCLUDED.categories,
        vulnerability_counts = EXCLUDED.vulnerability_counts, advisory_db_built_at = EXCLUDED.advisory_db_built_at, detonated = EXCLUDED.detonated
    WHERE r.scan_id = EXCLUDED.scan_id OR EXCLUDED.finished_at > r.finished_at OR (EXCLUDED.finished_at = r.finished_at AND EXCLUDED.scan_id > r.scan_id);
  RETURN NULL;
END $$;
CREATE TRIGGER scans_keep_image_result AFTER INSERT OR UPDATE ON scans
  FOR EACH ROW WHEN (NEW.status = 'done') EXECUTE FUNCTION keep_image_result();

INSERT INTO image_results (image_digest, platform, scan_id, finished_at, malicious, categories, vulnerability_counts, advisory_db_built_at, detonated)
SELECT DISTINCT ON (image_digest, platform) image_digest, platform, id, COALESCE(finished_at, now()), malicious, COALESCE(categories, '{}'),
       vulnerability_counts, advisory_db_built_at, sandbox IS NOT NULL
  FROM scans WHERE status = 'done'
 ORDER BY image_digest, platform, finished_at DESC, id DESC;

-- The layers of each analysed scan (a rematch's scan shares those of the scan it re-used, as with packages), and
-- which hold strong evidence of a malicious category: an image's page lists the other images built on its
-- malicious layers.
CREATE TABLE scan_layers (
  scan_id    bigint NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
  layer      integer NOT NULL,
  diff_id    text NOT NULL,
  malicious  boolean NOT NULL,
  PRIMARY KEY (scan_id, layer)
);
CREATE INDEX scan_layers_diff_id ON scan_layers (diff_id);

-- Scans stored before: their layers from their reports (the categories are MALICIOUS_CATEGORIES, src/model/categories.ts).
INSERT INTO scan_layers (scan_id, layer, diff_id, malicious)
SELECT s.id, (l->>'index')::int, l->>'diffId',
       EXISTS (SELECT 1 FROM json_array_elements(CASE WHEN json_typeof(s.report->'findings') = 'array' THEN s.report->'findings' ELSE '[]'::json END) f
                WHERE f->>'category' IN ('cryptominer', 'backdoor', 'windows-malware', 'malware', 'malicious-package')
                  AND f->>'severity' IN ('high', 'critical') AND (f->>'layer') = (l->>'index'))
  FROM scans s, json_array_elements(CASE WHEN json_typeof(s.report->'image'->'layers') = 'array' THEN s.report->'image'->'layers' ELSE '[]'::json END) l
 WHERE s.status = 'done' AND s.inventory_of IS NULL AND (l->>'index') ~ '^[0-9]{1,9}$' AND l->>'diffId' IS NOT NULL
ON CONFLICT DO NOTHING;
