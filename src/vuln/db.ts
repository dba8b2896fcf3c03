import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { promises as fs, existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { AdvisoryRecord, AffectedPackage, Ecosystem } from './model.js';
import { MAX_MEMOIZED_MATCHES } from './limits.js';

const require = createRequire(import.meta.url);

/** Bump on any change of the tables below; an older DB is then rebuilt, never misread. */
export const ADVISORY_DB_SCHEMA = 1;

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (name TEXT PRIMARY KEY, origin TEXT NOT NULL, records INTEGER NOT NULL, imported_at TEXT NOT NULL);
CREATE TABLE advisories (
  pk INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  source TEXT NOT NULL,
  source_id TEXT NOT NULL,
  aliases TEXT NOT NULL,
  summary TEXT,
  published TEXT,
  modified TEXT,
  severity TEXT,
  malicious INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE affected (
  advisory INTEGER NOT NULL REFERENCES advisories(pk),
  ecosystem TEXT NOT NULL,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  ranges TEXT NOT NULL,
  versions TEXT,
  severity TEXT
);
`;
const INDEXES = `
CREATE INDEX affected_by_package ON affected(ecosystem, name);
CREATE INDEX advisories_by_id ON advisories(id);
`;

export interface AdvisoryDbStatus {
  path: string;
  schema: number;
  builtAt: string;
  toolVersion: string;
  sources: { name: string; origin: string; records: number; importedAt: string }[];
  advisories: number;
  affectedPackages: number;
}

/** One affected-package row with its advisory, as the matcher sees it. */
export interface AdvisoryHit {
  advisory: Omit<AdvisoryRecord, 'affected'>;
  affected: AffectedPackage;
}

function openSqlite(path: string, readonly: boolean): Database.Database {
  const Sqlite = require('better-sqlite3') as typeof Database;
  return new Sqlite(path, { readonly, fileMustExist: readonly });
}

/** The default DB location: `<cache root>/db/advisories.sqlite`. */
export function defaultDbPath(cacheRoot: string): string {
  return join(cacheRoot, 'db', 'advisories.sqlite');
}

/**
 * Writes a new advisory DB beside the old one and swaps it in atomically when complete, so a scan never sees a
 * half-built DB and a failed update leaves the previous DB in place.
 */
export class AdvisoryDbWriter {
  private readonly db: Database.Database;
  private readonly tmpPath: string;
  private readonly insertAdvisory: Database.Statement;
  private readonly insertAffected: Database.Statement;
  private pending = 0;
  private count = 0;

  constructor(readonly path: string, private readonly toolVersion: string) {
    this.tmpPath = `${path}.${randomBytes(6).toString('hex')}.building`;
    this.db = openSqlite(this.tmpPath, false);
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.exec(SCHEMA);
    this.insertAdvisory = this.db.prepare(
      'INSERT INTO advisories (id, source, source_id, aliases, summary, published, modified, severity, malicious) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.insertAffected = this.db.prepare('INSERT INTO affected (advisory, ecosystem, name, status, ranges, versions, severity) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.db.exec('BEGIN');
  }

  static async create(path: string, toolVersion: string): Promise<AdvisoryDbWriter> {
    await fs.mkdir(join(path, '..'), { recursive: true });
    return new AdvisoryDbWriter(path, toolVersion);
  }

  add(record: AdvisoryRecord): void {
    const { lastInsertRowid } = this.insertAdvisory.run(
      record.id,
      record.source,
      record.sourceId,
      JSON.stringify(record.aliases),
      record.summary ?? null,
      record.published ?? null,
      record.modified ?? null,
      record.severity ? JSON.stringify(record.severity) : null,
      record.malicious ? 1 : 0,
    );
    for (const a of record.affected) {
      this.insertAffected.run(lastInsertRowid, a.ecosystem, a.name, a.status, JSON.stringify(a.ranges), a.versions?.length ? JSON.stringify(a.versions) : null, a.severity ?? null);
    }
    this.count++;
    // commit in batches: one huge transaction holds every page in memory
    if (++this.pending >= 20_000) {
      this.db.exec('COMMIT; BEGIN');
      this.pending = 0;
    }
  }

  addSource(name: string, origin: string, records: number): void {
    this.db.prepare('INSERT OR REPLACE INTO sources (name, origin, records, imported_at) VALUES (?, ?, ?, ?)').run(name, origin, records, new Date().toISOString());
  }

  get records(): number {
    return this.count;
  }

  /** Indexes, stamps and atomically replaces the DB at `path`. */
  async finish(): Promise<void> {
    this.db.exec('COMMIT');
    this.db.exec(INDEXES);
    const meta = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
    meta.run('schema', String(ADVISORY_DB_SCHEMA));
    meta.run('built_at', new Date().toISOString());
    meta.run('tool_version', this.toolVersion);
    this.db.exec('ANALYZE');
    this.db.close();
    await fs.rename(this.tmpPath, this.path);
  }

  async abort(): Promise<void> {
    try {
      this.db.close();
    } finally {
      await fs.rm(this.tmpPath, { force: true });
    }
  }
}

export class AdvisoryDbError extends Error {}

/** A built advisory DB opened read-only for matching. */
export class AdvisoryDb {
  private readonly lookup: Database.Statement;
  private readonly cache = new Map<string, AdvisoryHit[]>();
  /** Derived results per key (what matching makes of one package version), bounded: cleared when full. */
  private readonly memoized = new Map<string, unknown>();
  private statusRead: AdvisoryDbStatus | undefined;

  private constructor(private readonly db: Database.Database, readonly path: string) {
    this.lookup = db.prepare(
      `SELECT a.id, a.source, a.source_id, a.aliases, a.summary, a.published, a.modified, a.severity, a.malicious,
              f.ecosystem, f.name, f.status, f.ranges, f.versions, f.severity AS pkg_severity
         FROM affected f JOIN advisories a ON a.pk = f.advisory
        WHERE f.ecosystem = ? AND f.name = ?`,
    );
  }

  /** Opens the DB, or throws `AdvisoryDbError` saying how to build one. */
  static open(path: string): AdvisoryDb {
    if (!existsSync(path)) {
      throw new AdvisoryDbError(`no advisory database at ${path}; run \`detonate db update\` (or \`detonate db update --from DIR\` offline) first, or scan with --no-vulns`);
    }
    let db: Database.Database;
    try {
      db = openSqlite(path, true);
    } catch (err) {
      throw new AdvisoryDbError(`the advisory database at ${path} cannot be opened (${(err as Error).message}); rebuild it with \`detonate db update\``);
    }
    let schema: string | undefined;
    try {
      schema = (db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined)?.value;
    } catch (err) {
      db.close();
      throw new AdvisoryDbError(`${path} is not an advisory database (${(err as Error).message}); rebuild it with \`detonate db update\``);
    }
    if (schema !== String(ADVISORY_DB_SCHEMA)) {
      db.close();
      throw new AdvisoryDbError(`the advisory database at ${path} has schema ${schema ?? 'unknown'}, this Detonate needs ${ADVISORY_DB_SCHEMA}; rebuild it with \`detonate db update\``);
    }
    return new AdvisoryDb(db, path);
  }

  /** The DB's identity and counts (read once: an opened DB never changes, `db update` swaps in a new file). */
  status(): AdvisoryDbStatus {
    this.statusRead ??= this.readStatus();
    return this.statusRead;
  }

  private readStatus(): AdvisoryDbStatus {
    const meta = Object.fromEntries((this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    const sources = (this.db.prepare('SELECT name, origin, records, imported_at AS importedAt FROM sources ORDER BY name').all() as AdvisoryDbStatus['sources']);
    const count = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      path: this.path,
      schema: Number(meta.schema),
      builtAt: meta.built_at ?? '',
      toolVersion: meta.tool_version ?? '',
      sources,
      advisories: count('SELECT count(*) AS n FROM advisories'),
      affectedPackages: count('SELECT count(*) AS n FROM affected'),
    };
  }

  /** Every advisory row naming this package in this ecosystem. */
  /**
   * `make()`'s result for `key`, made once per open DB (the DB is read-only, so a result derived from it stays true).
   * At most MAX_MEMOIZED_MATCHES keys are kept; past that the memo starts again.
   */
  memo<T>(key: string, make: () => T): T {
    if (this.memoized.has(key)) return this.memoized.get(key) as T;
    const value = make();
    if (this.memoized.size >= MAX_MEMOIZED_MATCHES) this.memoized.clear();
    this.memoized.set(key, value);
    return value;
  }

  find(ecosystem: Ecosystem, name: string): AdvisoryHit[] {
    const key = `${ecosystem}\u0000${name}`;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const rows = this.lookup.all(ecosystem, name) as {
      id: string; source: string; source_id: string; aliases: string; summary: string | null; published: string | null; modified: string | null;
      severity: string | null; malicious: number; ecosystem: string; name: string; status: AffectedPackage['status']; ranges: string; versions: string | null; pkg_severity: string | null;
    }[];
    const hits = rows.map((r) => ({
      advisory: {
        id: r.id,
        source: r.source,
        sourceId: r.source_id,
        aliases: JSON.parse(r.aliases) as string[],
        ...(r.summary ? { summary: r.summary } : {}),
        ...(r.published ? { published: r.published } : {}),
        ...(r.modified ? { modified: r.modified } : {}),
        ...(r.severity ? { severity: JSON.parse(r.severity) as AdvisoryRecord['severity'] } : {}),
        ...(r.malicious ? { malicious: true } : {}),
      },
      affected: {
        ecosystem: r.ecosystem,
        name: r.name,
        status: r.status,
        ranges: JSON.parse(r.ranges) as AffectedPackage['ranges'],
        ...(r.versions ? { versions: JSON.parse(r.versions) as string[] } : {}),
        ...(r.pkg_severity ? { severity: r.pkg_severity } : {}),
      },
    }));
    this.cache.set(key, hits);
    return hits;
  }

  close(): void {
    this.db.close();
  }
}
