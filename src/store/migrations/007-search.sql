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
