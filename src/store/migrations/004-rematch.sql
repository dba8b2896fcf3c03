-- Re-matching stored images after `detonate db update` (src/rematch/).
--
-- A rematch of a done scan is a new done scan of the same image: the same inventory, static findings and run record,
-- matched against a newer advisory DB and judged again. It keeps the tool version and rules digest of the scan it
-- re-used (those say what the image was analysed with), and has its own advisory_db_built_at, so the scans_done_once
-- index makes it idempotent: rematching twice against one DB build records nothing twice.
ALTER TABLE scans ADD COLUMN rematch_of bigint REFERENCES scans (id) ON DELETE SET NULL;
CREATE INDEX scans_rematch_of ON scans (rematch_of) WHERE rematch_of IS NOT NULL;
-- Reports are written and read whole, by every scan and every rematch: lz4 compresses and decompresses them several
-- times faster than the default pglz (PostgreSQL 14+, built with lz4 as Debian's is; a server without it keeps pglz).
DO $$
BEGIN
  ALTER TABLE scans ALTER COLUMN report SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value OR syntax_error THEN
  NULL;
END $$;

-- The latest done scan per image, walked in id order by a rematch.
CREATE INDEX scans_done_id ON scans (id) WHERE status = 'done';

-- What a rematch changed for one image, one row per image whose result changed: the verdict before and after, and
-- how many vulnerabilities and malicious-package findings came and went (the items are in scan_change_items).
CREATE TABLE scan_changes (
  scan_id                       bigint PRIMARY KEY REFERENCES scans (id) ON DELETE CASCADE,
  previous_scan_id              bigint REFERENCES scans (id) ON DELETE SET NULL,
  image_digest                  text NOT NULL,
  platform                      text NOT NULL,
  reference                     text NOT NULL,
  advisory_db_built_at          timestamptz NOT NULL,
  previous_advisory_db_built_at timestamptz,
  malicious_before              boolean NOT NULL,
  malicious_after               boolean NOT NULL,
  categories_before             text[] NOT NULL,
  categories_after              text[] NOT NULL,
  summary_before                text NOT NULL,
  summary_after                 text NOT NULL,
  added                         integer NOT NULL,
  removed                       integer NOT NULL,
  recorded_at                   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scan_changes_db ON scan_changes (advisory_db_built_at DESC, scan_id);

-- The vulnerabilities (and malicious-package advisories) a rematch added to an image or found no longer applying.
CREATE TABLE scan_change_items (
  scan_id            bigint NOT NULL REFERENCES scan_changes (scan_id) ON DELETE CASCADE,
  change             text NOT NULL CHECK (change IN ('added', 'removed')),
  kind               text NOT NULL CHECK (kind IN ('vulnerability', 'malicious-package')),
  id                 text NOT NULL,
  package            text NOT NULL,
  installed_version  text NOT NULL,
  severity           text NOT NULL,
  fixed_version      text
);
CREATE INDEX scan_change_items_scan ON scan_change_items (scan_id);
CREATE INDEX scan_change_items_id ON scan_change_items (id);
