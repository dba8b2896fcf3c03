import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRulesDir: string | undefined;

/**
 * The `rules/` directory Detonate ships (its own YARA rules, IOC lists, secret patterns, behaviour rules), found
 * relative to this module so it works from `src/` under tsx, from `dist/src/` and from the `dist/bin/` bundle.
 * `DETONATE_RULES_DIR` overrides it (packagers who install data elsewhere).
 */
export function bundledRulesDir(): string {
  const override = process.env.DETONATE_RULES_DIR;
  if (override) return override;
  if (cachedRulesDir) return cachedRulesDir;
  for (const rel of ['../../rules/', '../../../rules/', '../rules/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}PROVENANCE.md`)) return (cachedRulesDir = dir.replace(/\/$/, ''));
  }
  throw new Error('the rules/ directory that ships with Detonate was not found next to the program; reinstall, or set DETONATE_RULES_DIR');
}

const dataDigests = new Map<string, string>();

/**
 * First 16 hex digits of the SHA-256 of a shipped data file (`rules/<name>`): a detector's `configKey`, so cached
 * results follow edits of its data. Hashing the bytes is far cheaper than parsing them, and a cached re-scan needs
 * only the key.
 */
export function dataFileDigest(name: string): string {
  let digest = dataDigests.get(name);
  if (digest === undefined) {
    digest = createHash('sha256').update(readFileSync(join(bundledRulesDir(), name))).digest('hex').slice(0, 16);
    dataDigests.set(name, digest);
  }
  return digest;
}
