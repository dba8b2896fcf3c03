/**
 * Versioned migrations: `migrations/NNN-name.sql`, applied in order, all pending ones in one transaction under an
 * advisory lock (so Detonate processes opening one store at once apply each exactly once), each recorded in
 * `schema_migrations`. A store whose schema is newer than this Detonate knows is refused, never written to.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { StoreError } from './errors.js';
import { LOCK_SPACE, MIGRATION_LOCK } from './locks.js';
import { toolVersion } from '../version.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const FILE_NAME = /^(\d{3})-([a-z0-9-]+)\.sql$/;

/**
 * The shipped migrations' directory, found relative to this module: `src/store/migrations` from source (tsx), and
 * from `dist/src/store/` and the `dist/bin/` bundle, which do not copy it. `DETONATE_MIGRATIONS_DIR` overrides it.
 */
export function migrationsDir(): string {
  const override = process.env.DETONATE_MIGRATIONS_DIR;
  if (override) return override;
  for (const rel of ['./migrations/', '../../../src/store/migrations/', '../../src/store/migrations/']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(join(dir, '001-initial.sql'))) return dir;
  }
  throw new StoreError('the store migrations (src/store/migrations) were not found next to the program', 'reinstall, or set DETONATE_MIGRATIONS_DIR');
}

/** The migrations in `dir`, in order; numbered 1, 2, 3 … without gaps or repeats. */
export function loadMigrations(dir: string = migrationsDir()): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const m = FILE_NAME.exec(file);
      if (!m) throw new StoreError(`${join(dir, file)}: a migration is named NNN-name.sql`);
      return { version: Number(m[1]), name: m[2]!, sql: readFileSync(join(dir, file), 'utf8') };
    })
    .sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new StoreError(`${dir}: migration ${i + 1} is missing or numbered twice (found ${m.version}-${m.name})`);
  });
  return migrations;
}

export interface MigrationResult {
  /** Versions this call applied (empty when the store was up to date). */
  applied: number[];
  /** The store's schema version now. */
  version: number;
}

/** Brings the store's schema up to the newest migration. */
export async function migrate(pool: pg.Pool, migrations: readonly Migration[] = loadMigrations()): Promise<MigrationResult> {
  const newest = migrations.at(-1)?.version ?? 0;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, $2)', [LOCK_SPACE, MIGRATION_LOCK]);
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY,
      name text NOT NULL,
      tool_version text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await client.query<{ version: number; tool_version: string }>('SELECT version, tool_version FROM schema_migrations ORDER BY version');
    const current = rows.at(-1);
    if (current && current.version > newest) {
      throw new StoreError(
        `the store's schema is version ${current.version} (written by detonate ${current.tool_version}), newer than this detonate ${toolVersion()} knows (${newest})`,
        'upgrade Detonate to use this store, or point --store at another one',
      );
    }
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    for (const m of migrations) {
      if (done.has(m.version)) continue;
      try {
        await client.query(m.sql);
      } catch (err) {
        throw new StoreError(`migration ${String(m.version).padStart(3, '0')}-${m.name} failed: ${(err as Error).message}`);
      }
      await client.query('INSERT INTO schema_migrations (version, name, tool_version) VALUES ($1, $2, $3)', [m.version, m.name, toolVersion()]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return { applied, version: Math.max(newest, current?.version ?? 0) };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
