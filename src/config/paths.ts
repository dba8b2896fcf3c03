import { existsSync } from 'node:fs';
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
