/**
 * GitHub Security Advisories as github/advisory-database publishes them: one OSV JSON file per advisory
 * (`advisories/github-reviewed/2023/04/GHSA-32qq-m9fh-f74w/GHSA-32qq-m9fh-f74w.json`). The records are OSV, read by
 * the shared converter, with GitHub's additions: `database_specific.severity` (LOW, MODERATE, HIGH, CRITICAL) as the
 * rating and `last_known_affected_version_range: "<= x"` closing a range that has no fix.
 */
import type { FeedImporter } from '../model.js';
import { baseName } from './common.js';
import { resolveFeedLimits, type FeedLimits } from './limits.js';
import { createOsvImporter } from './osv.js';

const GHSA_FILE = /^GHSA(?:-[a-z0-9]{4}){3}\.json$/i;
const GHSA_ID_IN_HEAD = /"id"\s*:\s*"GHSA-/;

export function createGhsaImporter(overrides: Partial<FeedLimits> = {}): FeedImporter {
  const osv = createOsvImporter(resolveFeedLimits(overrides), 'ghsa', 'ghsa');
  return {
    name: 'ghsa',
    detect(path: string, head: Buffer): boolean {
      if (GHSA_FILE.test(baseName(path))) return true;
      return path.toLowerCase().endsWith('.json') && GHSA_ID_IN_HEAD.test(head.toString('utf8', 0, Math.min(head.length, 512)));
    },
    read: (path, notice) => osv.read(path, notice),
  };
}

export const ghsaImporter: FeedImporter = createGhsaImporter();
