-- Rematching by match fingerprint (src/vuln/fingerprint.ts, src/rematch/).
--
-- A done scan keeps its packages' match keys (ecosystem, name, version, as JSON text, sorted) and the fingerprint
-- of what matching found for them and what it was judged by. A rematch reads only these: an image whose fingerprint
-- under the new advisory DB is the same would be matched and judged to the same result, so its report is not read
-- and no new scan is made; a scan_checks row records that its scan was checked against that DB build. Scans stored
-- before this migration have neither (null): a rematch matches them in full, and its new scan has both.
ALTER TABLE scans ADD COLUMN match_keys text[];
ALTER TABLE scans ADD COLUMN match_fingerprint text;
DO $$
BEGIN
  ALTER TABLE scans ALTER COLUMN match_keys SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value OR syntax_error THEN
  NULL;
END $$;

-- A done scan found to stand unchanged against another advisory DB build: its result is that build's result too.
CREATE TABLE scan_checks (
  scan_id               bigint NOT NULL REFERENCES scans (id) ON DELETE CASCADE,
  advisory_db_built_at  timestamptz NOT NULL,
  checked_at            timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scan_id, advisory_db_built_at)
);
